import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// COMMAND DOCS: Redis 7.0's documentation of every command, as redis-cli reads it for its hints; byte for byte
/// what redis-server 7.0.15 answers, but for the order of a container's subcommands (Redis writes its hash order,
/// which changes at every start; Weft writes name order).
@Suite("COMMAND DOCS")
struct CommandDocsTests {
    /// The values of a flattened RESP2 map by key.
    func fields(_ reply: Reply) -> [String: Reply] {
        guard case .array(let items?) = reply else { return [:] }
        var fields: [String: Reply] = [:]
        for index in stride(from: 0, to: items.count - 1, by: 2) {
            if case .bulk(let key?) = items[index] { fields[String(decoding: key, as: UTF8.self)] = items[index + 1] }
        }
        return fields
    }

    /// The argument maps of an `arguments` array, by name.
    func arguments(_ reply: Reply?) -> [String: [String: Reply]] {
        guard case .array(let items?) = reply else { return [:] }
        var byName: [String: [String: Reply]] = [:]
        for item in items {
            let fields = self.fields(item)
            if case .bulk(let name?) = fields["name"] { byName[String(decoding: name, as: UTF8.self)] = fields }
        }
        return byName
    }

    @Test("SET's documentation: summary, since, group, complexity, history and its argument tree")
    func set() throws {
        let server = try TestServer()
        let c = try server.client()
        guard case .array(let pair?) = try c.call("COMMAND", "DOCS", "SET"), pair.count == 2 else {
            Issue.record("COMMAND DOCS SET is not a map of one command")
            return
        }
        #expect(pair[0] == .bulk("set"))
        let doc = self.fields(pair[1])
        #expect(doc["summary"] == .bulk("Set the string value of a key"))
        #expect(doc["since"] == .bulk("1.0.0"))
        #expect(doc["group"] == .bulk("string"))
        #expect(doc["complexity"] == .bulk("O(1)"))
        if case .array(let history?) = doc["history"] {
            #expect(history.first == .array([.bulk("2.6.12"), .bulk("Added the `EX`, `PX`, `NX` and `XX` options.")]))
            #expect(history.count == 4)
        } else {
            Issue.record("no history")
        }
        let arguments = self.arguments(doc["arguments"])
        #expect(arguments["key"]?["type"] == .bulk("key") && arguments["key"]?["key_spec_index"] == .integer(0))
        #expect(arguments["value"]?["type"] == .bulk("string"))
        #expect(
            arguments["get"]?["token"] == .bulk("GET") && arguments["get"]?["flags"] == .array([.simple("optional")])
        )
        let expiration = arguments["expiration"]
        #expect(expiration?["type"] == .bulk("oneof") && expiration?["flags"] == .array([.simple("optional")]))
        let choices = self.arguments(expiration?["arguments"])
        #expect(choices["seconds"]?["token"] == .bulk("EX") && choices["seconds"]?["type"] == .bulk("integer"))
        #expect(choices["unix-time-milliseconds"]?["type"] == .bulk("unix-time"))
        #expect(choices["keepttl"]?["type"] == .bulk("pure-token"))
    }

    @Test("every command has a documentation; unknown names are left out; parent|sub names a subcommand")
    func everyCommand() throws {
        let server = try TestServer()
        let c = try server.client()
        guard case .array(let list?) = try c.call("COMMAND", "LIST"), !list.isEmpty else {
            Issue.record("COMMAND LIST")
            return
        }
        guard case .array(let all?) = try c.call("COMMAND", "DOCS") else {
            Issue.record("COMMAND DOCS")
            return
        }
        // COMMAND LIST names subcommands too (client|list); COMMAND DOCS documents the commands, with their
        // subcommands inside.
        let commands = list.filter { if case .bulk(let name?) = $0 { !name.contains(UInt8(ascii: "|")) } else { false } }
        #expect(commands.count < list.count)
        #expect(try c.call("COMMAND", "COUNT") == .integer(Int64(commands.count)))
        #expect(all.count == 2 * commands.count)
        for index in stride(from: 0, to: all.count - 1, by: 2) {
            let doc = self.fields(all[index + 1])
            for field in ["summary", "since", "group"] {
                #expect(doc[field] != nil, "\(all[index]) has no \(field)")
            }
        }
        #expect(try c.call("COMMAND", "DOCS", "nosuch") == .array([]))
        guard case .array(let some?) = try c.call("COMMAND", "DOCS", "get", "nosuch", "Client|List", "client|nope")
        else {
            Issue.record("COMMAND DOCS get nosuch Client|List client|nope")
            return
        }
        #expect(some.count == 4 && some[0] == .bulk("get") && some[2] == .bulk("client|list"))
        guard case .array(let client?) = try c.call("COMMAND", "DOCS", "client"), client.count == 2 else {
            Issue.record("COMMAND DOCS client")
            return
        }
        let subcommands = self.fields(self.fields(client[1])["subcommands"] ?? .null)
        #expect(subcommands["client|kill"] != nil && subcommands["client|setname"] != nil)
        // Deprecated commands carry doc_flags, deprecated_since and replaced_by.
        guard case .array(let getset?) = try c.call("COMMAND", "DOCS", "getset"), getset.count == 2 else {
            Issue.record("COMMAND DOCS getset")
            return
        }
        let doc = self.fields(getset[1])
        #expect(doc["doc_flags"] == .array([.simple("deprecated")]) && doc["deprecated_since"] == .bulk("6.2.0"))
        #expect(doc["replaced_by"] == .bulk("`SET` with the `!GET` argument"))
    }

    @Test(
        "byte for byte what redis-server 7.0.15 answers, in RESP2 and RESP3",
        .enabled(if: RedisServerProcess.binary != nil, "redis-server is not installed")
    )
    func sameAsRedis() throws {
        let redis = try RedisServerProcess()
        let server = try TestServer()
        guard case .array(let list?) = try server.client().call("COMMAND", "LIST") else {
            Issue.record("COMMAND LIST")
            return
        }
        let names = list.compactMap { reply -> String? in
            if case .bulk(let name?) = reply { return String(decoding: name, as: UTF8.self) }
            return nil
        }
        let handful = ["set", "get", "expire", "scan", "multi", "client", "mset"]
        #expect(Set(handful).isSubset(of: names))
        for version in [2, 3] {
            let weft = try RawRESPConnection(port: server.port)
            let real = try RawRESPConnection(port: redis.port)
            if version == 3 {
                _ = try weft.call(["HELLO", "3"])
                _ = try real.call(["HELLO", "3"])
            }
            var compared = 0
            for name in names + ["client|list", "CONFIG|get", "get nosuch set"] {
                let arguments = ["COMMAND", "DOCS"] + name.split(separator: " ").map(String.init)
                let expected = try real.call(arguments)
                // A command Redis 7.0 lacks: Redis answers an empty map.
                if expected.bytes() == Array((version == 3 ? "%0\r\n" : "*0\r\n").utf8) { continue }
                let answered = try weft.call(arguments)
                #expect(
                    answered.normalized().bytes() == expected.normalized().bytes(),
                    "COMMAND DOCS \(name) in RESP\(version): \(String(decoding: answered.bytes(), as: UTF8.self))"
                )
                compared += 1
            }
            #expect(compared >= handful.count)
        }
    }
}

/// One reply as raw RESP2/RESP3 bytes: its header line, a bulk's payload, an aggregate's elements.
struct RawReply {
    var header: [UInt8]
    var payload: [UInt8]? = nil
    var elements: [RawReply] = []

    /// The reply's bytes as they came.
    func bytes() -> [UInt8] {
        var out = self.header + [13, 10]
        if let payload = self.payload { out += payload + [13, 10] }
        for element in self.elements { out += element.bytes() }
        return out
    }

    /// The same reply with each `subcommands` map's pairs in name order (Redis writes them in hash order).
    func normalized() -> RawReply {
        var copy = self
        copy.elements = self.elements.map { $0.normalized() }
        var index = 0
        while index + 1 < copy.elements.count {
            if copy.elements[index].payload == Array("subcommands".utf8) {
                let pairs = stride(from: 0, to: copy.elements[index + 1].elements.count - 1, by: 2).map {
                    (copy.elements[index + 1].elements[$0], copy.elements[index + 1].elements[$0 + 1])
                }
                let sorted = pairs.sorted { $0.0.payload!.lexicographicallyPrecedes($1.0.payload!) }
                copy.elements[index + 1].elements = sorted.flatMap { [$0.0, $0.1] }
            }
            index += 2
        }
        return copy
    }
}

/// A blocking client that keeps each reply's bytes, for byte-for-byte comparisons in RESP2 and RESP3.
final class RawRESPConnection {
    private let descriptor: Int32
    private var buffer: [UInt8] = []

    init(port: Int) throws {
        self.descriptor = try RESPTestClient.connectLoopback(port: port)
    }

    deinit {
        close(self.descriptor)
    }

    /// Sends one command and reads its reply.
    func call(_ arguments: [String]) throws -> RawReply {
        try RESPTestClient.sendAll(RESPTestClient.encode(arguments.map { Array($0.utf8) }), to: self.descriptor)
        return try self.read()
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(self.descriptor, $0.baseAddress!, $0.count, 0) }
        guard n > 0 else { throw POSIXError(.ECONNRESET) }
        self.buffer += chunk[0..<n]
    }

    private func take(_ count: Int) throws -> [UInt8] {
        while self.buffer.count < count { try self.fill() }
        defer { self.buffer.removeFirst(count) }
        return Array(self.buffer[0..<count])
    }

    private func line() throws -> [UInt8] {
        while true {
            if let end = self.buffer.firstIndex(of: 10), end > 0, self.buffer[end - 1] == 13 {
                let line = Array(self.buffer[0..<(end - 1)])
                self.buffer.removeFirst(end + 1)
                return line
            }
            try self.fill()
        }
    }

    private func read() throws -> RawReply {
        var reply = RawReply(header: try self.line())
        let count = Int(String(decoding: reply.header.dropFirst(), as: UTF8.self)) ?? 0
        switch reply.header.first {
        case UInt8(ascii: "$") where count >= 0:
            reply.payload = Array(try self.take(count + 2).dropLast(2))
        case UInt8(ascii: "*"), UInt8(ascii: "~"):
            reply.elements = try (0..<max(count, 0)).map { _ in try self.read() }
        case UInt8(ascii: "%"):
            reply.elements = try (0..<(2 * count)).map { _ in try self.read() }
        default:
            break
        }
        return reply
    }
}

/// A redis-server on a free port for one test, stopped when released.
final class RedisServerProcess {
    /// The redis-server binary on PATH, if any.
    static let binary: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/redis-server" }.first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }()

    let process: Process
    let port: Int

    /// Starts redis-server on a free port. The port is free when chosen but may be taken before redis-server binds
    /// it, so a start whose server exits, or whose port answers from another process, is retried on a new port.
    /// - Throws: `POSIXError(.ETIMEDOUT)` when five starts fail.
    init() throws {
        for _ in 0..<5 {
            let port = RedisServerProcess.freePort()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: RedisServerProcess.binary ?? "redis-server")
            process.arguments = [
                "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--daemonize", "no", "--dir", FileManager.default.temporaryDirectory.path,
            ]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            if RedisServerProcess.answers(process, on: port) {
                self.process = process
                self.port = port
                return
            }
            RedisServerProcess.stop(process)
        }
        throw POSIXError(.ETIMEDOUT)
    }

    deinit {
        RedisServerProcess.stop(self.process)
    }

    /// A port that was free a moment ago: bound to port 0, read back and given back.
    private static func freePort() -> Int {
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(probe) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                _ = bind(probe, $0, length)
                _ = getsockname(probe, $0, &length)
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether `process` answers on `port` within 5 s: a connection whose INFO gives `process`'s id, not another
    /// process's that took the port first.
    private static func answers(_ process: Process, on port: Int) -> Bool {
        for _ in 0..<500 {
            guard process.isRunning else { return false }
            if let connection = try? RawRESPConnection(port: port) {
                let info = (try? connection.call(["INFO", "server"]))?.payload ?? []
                return String(decoding: info, as: UTF8.self).contains("process_id:\(process.processIdentifier)\r\n")
            }
            usleep(10_000)
        }
        return false
    }

    /// Kills `process` and waits at most 10 s for it to exit; past that, records an issue and leaves it.
    private static func stop(_ process: Process) {
        // Not started (pid 0 would signal the whole process group): nothing to stop.
        guard process.processIdentifier > 0 else { return }
        // SIGKILL: a child of the test process starts with SIGTERM blocked (the spawning thread's mask), so a
        // SIGTERM would only wait out a grace period.
        kill(process.processIdentifier, SIGKILL)
        for _ in 0..<1_000 where process.isRunning { usleep(10_000) }
        if process.isRunning {
            Issue.record("redis-server (pid \(process.processIdentifier)) did not exit within 10 s of SIGKILL")
        }
    }
}
