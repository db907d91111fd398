import CommitLog
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where MONITOR's lines for one connection go; the server gives one per connection in MONITOR mode.
package protocol MonitorSink: AnyObject, Sendable {
    /// Sends `line`, a whole RESP simple string, to the monitoring client. Called from any event loop.
    func deliver(_ line: [UInt8])
}

/// The connections in MONITOR mode, and the feed of every command that ran to them: Redis's `server.monitors` and
/// `replicationFeedMonitors`.
///
/// A command is fed after it ran (so its database is the one it left, as SELECT's line shows), whether it succeeded
/// or answered an error; a command refused before it ran (unknown, wrong arity, NOAUTH, OOM, queued by MULTI) is
/// not. Commands flagged `admin` (CONFIG, CLIENT LIST, SLOWLOG, MONITOR itself) are never shown. The commands of an
/// EXEC are fed once it has committed, then EXEC itself.
package final class MonitorFeed: Sendable {
    /// How many connections monitor. The command path reads it (relaxed) after each command and formats nothing
    /// while it is 0.
    package let count = Atomic<Int>(0)
    private let sinks = Locked<[(id: Int64, sink: any MonitorSink)]>([])

    package init() {}

    /// Starts feeding client `id` (MONITOR).
    package func add(id: Int64, sink: any MonitorSink) {
        self.sinks.withLock { sinks in
            sinks.append((id, sink))
            self.count.store(sinks.count, ordering: .relaxed)
        }
    }

    /// Stops feeding client `id` (RESET, or the connection closed); nothing if it was not monitoring.
    package func remove(id: Int64) {
        self.sinks.withLock { sinks in
            sinks.removeAll { $0.id == id }
            self.count.store(sinks.count, ordering: .relaxed)
        }
    }

    /// Sends one command's line to every monitor but `caller`, and returns it (nil when nobody else monitors and
    /// `callerMonitors` is false): a caller that monitors gets its line after its own reply, in its reply buffer
    /// (also before its handler has joined the feed, for commands pipelined after its MONITOR).
    func feed(
        _ arguments: CommandArguments,
        database: Int,
        address: String,
        caller: Int64,
        callerMonitors: Bool
    ) -> [UInt8]? {
        let sinks = self.sinks.withLock { $0 }
        guard callerMonitors || sinks.contains(where: { $0.id != caller }) else { return nil }
        let line = MonitorFeed.line(arguments, database: database, address: address)
        for target in sinks where target.id != caller {
            target.sink.deliver(line)
        }
        return line
    }

    /// One MONITOR line: `+<seconds>.<microseconds> [<database> <address>] "name" "argument" ...` and CRLF, each
    /// argument quoted as Redis's `sdscatrepr` quotes it. AUTH's arguments and HELLO's AUTH user and password show as
    /// "(redacted)", as Redis 7 shows them.
    static func line(_ arguments: CommandArguments, database: Int, address: String) -> [UInt8] {
        var now = timeval()
        gettimeofday(&now, nil)
        let micros = String(now.tv_usec)
        var line = Array("+\(now.tv_sec).\(String(repeating: "0", count: max(0, 6 - micros.count)))\(micros) ".utf8)
        line.append(contentsOf: "[\(database) \(address)]".utf8)
        let redacted = MonitorFeed.redactedArguments(arguments)
        for index in arguments.indices {
            line.append(UInt8(ascii: " "))
            if redacted.contains(index) {
                line.append(contentsOf: "\"(redacted)\"".utf8)
            } else {
                MonitorFeed.appendQuoted(arguments.bytes(index), to: &line)
            }
        }
        line.append(contentsOf: "\r\n".utf8)
        return line
    }

    /// The arguments Redis 7.0 hides from monitors, as its commands redact them while they parse: AUTH's password
    /// (and user) in its two forms; the user and password of each of HELLO's AUTH options, walked as HELLO walks
    /// them after a valid protocol version, up to the first bad option.
    private static func redactedArguments(_ arguments: CommandArguments) -> Set<Int> {
        func isWord(_ index: Int, _ word: String) -> Bool {
            CommandTable.equalsLowercased(arguments.bytes(index), Array(word.utf8))
        }
        if isWord(0, "auth") {
            return arguments.count <= 3 ? Set(1..<arguments.count) : []
        }
        guard isWord(0, "hello"), arguments.count >= 2 else { return [] }
        guard let version = RedisInteger.parse(arguments.bytes(1)), version == 2 || version == 3 else { return [] }
        var redacted = Set<Int>()
        var index = 2
        while index < arguments.count {
            let more = arguments.count - 1 - index
            if isWord(index, "auth") && more >= 2 {
                redacted.formUnion([index + 1, index + 2])
                index += 3
            } else if isWord(index, "setname") && more >= 1 {
                index += 2
            } else {
                break
            }
        }
        return redacted
    }

    /// `bytes` in double quotes, as Redis's `sdscatrepr`: `\\`, `\"`, `\n`, `\r`, `\t`, `\a`, `\b` escaped,
    /// printable ASCII as it is, any other byte as `\xhh`.
    static func appendQuoted(_ bytes: UnsafeRawBufferPointer, to line: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        line.append(UInt8(ascii: "\""))
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\\"), UInt8(ascii: "\""): line.append(contentsOf: [UInt8(ascii: "\\"), byte])
            case 0x0a: line.append(contentsOf: Array("\\n".utf8))
            case 0x0d: line.append(contentsOf: Array("\\r".utf8))
            case 0x09: line.append(contentsOf: Array("\\t".utf8))
            case 0x07: line.append(contentsOf: Array("\\a".utf8))
            case 0x08: line.append(contentsOf: Array("\\b".utf8))
            case 0x20...0x7e: line.append(byte)
            default:
                line.append(contentsOf: Array("\\x".utf8))
                line.append(contentsOf: [hex[Int(byte >> 4)], hex[Int(byte & 15)]])
            }
        }
        line.append(UInt8(ascii: "\""))
    }
}

/// MONITOR: the connection is fed every command the server runs, until RESET or until it closes.
enum MonitorCommands {
    static let all: [CommandSpec] = [
        CommandSpec("monitor", arity: 1, flags: [.admin]) { context, reply throws(CommandError) in
            // Inside EXEC a client expects one reply per command (Redis's DENY BLOCKING).
            if context.transaction != nil || context.exclusive != nil {
                throw CommandError("MONITOR isn't allowed for DENY BLOCKING client")
            }
            // A second MONITOR is ignored, without a reply, as in Redis.
            guard !context.session.monitoring else { return }
            // The connection's handler sees the flag after the command and adds itself to the feed.
            context.session.monitoring = true
            reply.simple("OK")
        }
    ]
}
