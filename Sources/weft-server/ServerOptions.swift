import CommitLog
import RESPCodec
import RESPServer

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The server's settings, read the way redis-server reads them: an optional config file, then `--directive value`
/// overrides on the command line.
struct ServerOptions {
    var server = RESPServer.Configuration()
    var durability = Durability.Configuration()
    var logLevel = ServerLog.Level.notice
    var logFile = ""
    var databases = 16

    /// Why the configuration could not be read: the file, the line and the reason, as redis-server reports it.
    struct Failure: Error {
        var message: String
    }

    init(arguments: [String]) throws(Failure) {
        var rest = arguments[...]
        if let first = rest.first, !first.hasPrefix("--") {
            rest = rest.dropFirst()
            try self.readFile(first)
            self.server.configFile = first
        }
        while let name = rest.first {
            guard name.hasPrefix("--"), name.count > 2 else {
                throw Failure(message: "unexpected argument '\(name)'; use --directive value")
            }
            rest = rest.dropFirst()
            var values: [String] = []
            while let value = rest.first, !value.hasPrefix("--") {
                values.append(value)
                rest = rest.dropFirst()
            }
            try self.apply(String(name.dropFirst(2)), values, origin: "command line")
        }
    }

    private mutating func readFile(_ path: String, depth: Int = 0) throws(Failure) {
        guard depth < 16 else { throw Failure(message: "\(path): include nested more than 16 deep") }
        guard let file = fopen(path, "r") else {
            throw Failure(message: "cannot open config file '\(path)'")
        }
        defer { fclose(file) }
        var number = 0
        var line: UnsafeMutablePointer<CChar>? = nil
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) >= 0 {
            number += 1
            let text = String(cString: line!)
            let trimmed = text.drop { $0 == " " || $0 == "\t" }
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.allSatisfy({ $0 == "\n" || $0 == "\r" }) { continue }
            guard let words = ConfigLine.split(text) else {
                throw Failure(message: "\(path):\(number): unbalanced quotes in configuration line")
            }
            guard let directive = words.first else { continue }
            if directive.lowercased() == "include" {
                guard words.count == 2 else { throw Failure(message: "\(path):\(number): 'include' needs one path") }
                try self.readFile(words[1], depth: depth + 1)
                continue
            }
            try self.apply(directive, Array(words.dropFirst()), origin: "\(path):\(number)")
        }
    }

    private mutating func apply(_ directive: String, _ values: [String], origin: String) throws(Failure) {
        func integer(_ range: ClosedRange<Int>) throws(Failure) -> Int {
            guard values.count == 1, let value = Int(values[0]), range.contains(value) else {
                throw Failure(message: "\(origin): bad value for '\(directive)': \(values.joined(separator: " "))")
            }
            return value
        }
        func yesNo() throws(Failure) -> Bool {
            guard values.count == 1, ["yes", "no"].contains(values[0].lowercased()) else {
                throw Failure(message: "\(origin): argument must be 'yes' or 'no' for '\(directive)'")
            }
            return values[0].lowercased() == "yes"
        }
        switch directive.lowercased() {
        case "port": self.server.port = try integer(0...65535)
        case "bind":
            guard !values.isEmpty else { throw Failure(message: "\(origin): 'bind' needs an address") }
            self.server.bind = values
        case "io-threads": self.server.ioThreads = try integer(1...1024)
        case "databases":
            self.databases = try integer(1...1_000_000)
            self.server.databases = self.databases
        case "proto-max-bulk-len":
            guard values.count == 1, let bytes = OutputBufferLimits.memory(values[0]),
                (RESPLimits.minimumBulkLength...RESPLimits.maximumBulkLength).contains(bytes)
            else {
                throw Failure(message: "\(origin): bad value for '\(directive)': \(values.joined(separator: " "))")
            }
            self.server.limits.maxBulkLength = bytes
        case "maxclients": self.server.maxClients = try integer(1...1_000_000)
        case "client-output-buffer-limit":
            do throws(OutputBufferLimits.Invalid) {
                self.server.outputBufferLimits = try self.server.outputBufferLimits.applying(values)
            } catch {
                throw Failure(message: "\(origin): bad value for '\(directive)': \(error.message)")
            }
        case "dir":
            guard values.count == 1 else { throw Failure(message: "\(origin): 'dir' needs one path") }
            self.server.dir = values[0]
        case "timeout": self.server.timeout = try integer(0...Int(Int32.max))
        case "slowlog-log-slower-than": self.server.slowlogLogSlowerThan = Int64(try integer(-1...Int.max))
        case "slowlog-max-len": self.server.slowlogMaxLength = try integer(0...Int.max)
        case "client-query-buffer-limit":
            guard values.count == 1, let bytes = OutputBufferLimits.memory(values[0]), bytes >= 1 << 20 else {
                throw Failure(message: "\(origin): bad value for 'client-query-buffer-limit' (at least 1mb): \(values.joined(separator: " "))")
            }
            self.server.queryBufferLimit = bytes
        case "loglevel":
            guard values.count == 1, let level = ServerLog.Level(name: values[0]) else {
                throw Failure(message: "\(origin): argument(s) must be one of the following: debug, verbose, notice, warning, nothing")
            }
            self.logLevel = level
        case "logfile":
            guard values.count <= 1 else { throw Failure(message: "\(origin): 'logfile' takes one path") }
            self.logFile = values.first ?? ""
            self.server.logFile = self.logFile
        case "requirepass":
            guard values.count <= 1 else { throw Failure(message: "\(origin): 'requirepass' takes one password") }
            self.server.requirePass = values.first ?? ""
        case "protected-mode": self.server.protectedMode = try yesNo()
        case "appendonly": self.durability.enabled = try yesNo()
        case "appendfsync":
            guard values.count == 1, let policy = LogWriter.FsyncPolicy(rawValue: values[0].lowercased()) else {
                throw Failure(message: "\(origin): bad value for 'appendfsync' (always, everysec or no): \(values.joined(separator: " "))")
            }
            self.durability.policy = policy
        case "appenddirname":
            guard values.count == 1, !values[0].isEmpty, !values[0].contains("/") else {
                throw Failure(message: "\(origin): 'appenddirname' needs one directory name without '/'")
            }
            self.durability.directoryName = values[0]
        case "appendfilename":
            guard values.count == 1, !values[0].isEmpty, !values[0].contains("/") else {
                throw Failure(message: "\(origin): 'appendfilename' needs one file name without '/'")
            }
            self.durability.fileName = values[0]
        case "aof-load-truncated": self.durability.loadTruncated = try yesNo()
        case "aof-load-corrupt": self.durability.loadCorrupt = try yesNo()
        case "auto-aof-rewrite-percentage": self.durability.rewritePercentage = try integer(0...Int(Int32.max))
        case "auto-aof-rewrite-min-size":
            guard values.count == 1, let bytes = OutputBufferLimits.memory(values[0]) else {
                throw Failure(message: "\(origin): bad value for '\(directive)': \(values.joined(separator: " "))")
            }
            self.durability.rewriteMinSize = Int64(bytes)
        case "maxmemory":
            guard values.count == 1, let bytes = OutputBufferLimits.memory(values[0]) else {
                throw Failure(message: "\(origin): bad value for '\(directive)': \(values.joined(separator: " "))")
            }
            self.server.maxMemory = bytes
        case "maxmemory-policy":
            guard values.count == 1 else { throw Failure(message: "\(origin): 'maxmemory-policy' takes one policy") }
            if let problem = RESPServer.maxMemoryPolicyProblem(values[0]) {
                throw Failure(message: "\(origin): \(problem)")
            }
        case "aof-backlog-limit":
            guard values.count == 1, let bytes = OutputBufferLimits.memory(values[0]), bytes > 0 else {
                throw Failure(message: "\(origin): bad value for '\(directive)': \(values.joined(separator: " "))")
            }
            self.durability.backlogLimit = bytes
        case "save":
            // `save ""` (redis-server's way to turn snapshots off) is what Weft always does; save points it cannot keep.
            guard values.allSatisfy(\.isEmpty) else {
                throw Failure(message: "\(origin): Weft takes no snapshots (its log is its persistence): use save \"\"")
            }
        case "daemonize":
            guard !(try yesNo()) else {
                throw Failure(message: "\(origin): weft-server does not daemonize; run it under a service manager")
            }
        default:
            throw Failure(message: "\(origin): unknown directive '\(directive)'")
        }
    }
}

/// Redis's `sdssplitargs`: a config line split into words. Double-quoted words take the escapes `\n`, `\r`, `\t`,
/// `\b`, `\a`, `\xHH` and a backslash before any other character; single-quoted words take only `\'`. A closing
/// quote must be followed by a space or the end of the line.
enum ConfigLine {
    /// The words of `line`, or nil when its quotes do not balance.
    static func split(_ line: String) -> [String]? {
        let bytes = Array(line.utf8)
        var words: [String] = []
        var index = 0
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
        while true {
            while index < bytes.count && isSpace(bytes[index]) { index += 1 }
            guard index < bytes.count else { return words }
            var word: [UInt8] = []
            var inDouble = false
            var inSingle = false
            var done = false
            while !done {
                if inDouble {
                    guard index < bytes.count else { return nil }
                    let byte = bytes[index]
                    if byte == UInt8(ascii: "\\") && index + 3 < bytes.count && bytes[index + 1] == UInt8(ascii: "x"),
                        let high = hexValue(bytes[index + 2]), let low = hexValue(bytes[index + 3])
                    {
                        word.append(high << 4 | low)
                        index += 3
                    } else if byte == UInt8(ascii: "\\") && index + 1 < bytes.count {
                        index += 1
                        switch bytes[index] {
                        case UInt8(ascii: "n"): word.append(0x0A)
                        case UInt8(ascii: "r"): word.append(0x0D)
                        case UInt8(ascii: "t"): word.append(0x09)
                        case UInt8(ascii: "b"): word.append(0x08)
                        case UInt8(ascii: "a"): word.append(0x07)
                        default: word.append(bytes[index])
                        }
                    } else if byte == UInt8(ascii: "\"") {
                        // The closing quote must end the word.
                        if index + 1 < bytes.count && !isSpace(bytes[index + 1]) { return nil }
                        done = true
                    } else {
                        word.append(byte)
                    }
                } else if inSingle {
                    guard index < bytes.count else { return nil }
                    let byte = bytes[index]
                    if byte == UInt8(ascii: "\\") && index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "'") {
                        index += 1
                        word.append(UInt8(ascii: "'"))
                    } else if byte == UInt8(ascii: "'") {
                        if index + 1 < bytes.count && !isSpace(bytes[index + 1]) { return nil }
                        done = true
                    } else {
                        word.append(byte)
                    }
                } else {
                    guard index < bytes.count else { break }
                    let byte = bytes[index]
                    if isSpace(byte) {
                        done = true
                    } else if byte == UInt8(ascii: "\"") {
                        inDouble = true
                    } else if byte == UInt8(ascii: "'") {
                        inSingle = true
                    } else {
                        word.append(byte)
                    }
                }
                if index < bytes.count { index += 1 }
            }
            words.append(String(decoding: word, as: UTF8.self))
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
