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

    private mutating func readFile(_ path: String) throws(Failure) {
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
            let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
                .map(String.init)
            guard let directive = words.first, !directive.hasPrefix("#") else { continue }
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
        case "proto-max-bulk-len": self.server.limits.maxBulkLength = try integer(1024...Int(Int32.max) * 256)
        case "maxclients": self.server.maxClients = try integer(1...1_000_000)
        case "client-output-buffer-limit":
            guard let limits = self.server.outputBufferLimits.applying(values) else {
                throw Failure(message: "\(origin): bad value for '\(directive)': \(values.joined(separator: " "))")
            }
            self.server.outputBufferLimits = limits
        case "dir":
            guard values.count == 1 else { throw Failure(message: "\(origin): 'dir' needs one path") }
            self.server.dir = values[0]
        case "timeout": self.server.timeout = try integer(0...Int(Int32.max))
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
        default:
            throw Failure(message: "\(origin): unknown directive '\(directive)'")
        }
    }
}
