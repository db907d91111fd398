import NIOCore
import CommitLog
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The slow log (redis `src/slowlog.c`): the latest commands that took at least `slowlog-log-slower-than`
/// microseconds, newest first, at most `slowlog-max-len` of them.
///
/// Contract: the dispatcher compares each command's duration with `thresholdNanoseconds` (one relaxed load); only a
/// slow command builds an entry and takes the lock. A threshold of -1 or a length of 0 turns logging off; 0 logs
/// every command. Entries keep at most 32 arguments, each cut to 128 bytes, and hide passwords ("(redacted)").
package final class SlowLog: Sendable {
    /// One logged command, as SLOWLOG GET returns it.
    package struct Entry: Sendable {
        /// Increasing from 0 over the server's life; SLOWLOG RESET does not restart it.
        package var id: Int64 = 0
        /// Unix time in seconds when the command was logged.
        package let time: Int64
        /// How long the command ran.
        package let microseconds: UInt64
        /// The command and its arguments, shortened as Redis shortens them.
        package let arguments: [[UInt8]]
        /// The client's `ip:port`.
        package let address: String
        /// The client's name (CLIENT SETNAME), empty when it has none.
        package let name: String

        /// Redis's limits on what an entry keeps.
        static let maximumArguments = 32
        static let maximumArgumentBytes = 128

        /// An entry for `arguments` (the name first), with the last kept place saying how many arguments were left
        /// out, long arguments cut with how many bytes were left out, and secrets redacted.
        package init(arguments: CommandArguments, microseconds: UInt64, address: String, name: String) {
            let count = arguments.count
            let kept = min(count, Entry.maximumArguments)
            var shown: [[UInt8]] = []
            shown.reserveCapacity(kept)
            let redacted = Entry.redactedPositions(arguments)
            for index in 0..<kept {
                if kept != count && index == kept - 1 {
                    shown.append(Array("... (\(count - kept + 1) more arguments)".utf8))
                } else if redacted.contains(index) {
                    shown.append(Array("(redacted)".utf8))
                } else {
                    // Only what is kept is copied: a long value is cut here, not copied whole first.
                    let bytes = arguments.bytes(index)
                    if bytes.count > Entry.maximumArgumentBytes {
                        let more = bytes.count - Entry.maximumArgumentBytes
                        let cut = Array(bytes.prefix(Entry.maximumArgumentBytes))
                        shown.append(cut + Array("... (\(more) more bytes)".utf8))
                    } else {
                        shown.append(Array(bytes))
                    }
                }
            }
            self.time = SlowLog.unixTime()
            self.microseconds = microseconds
            self.arguments = shown
            self.address = address
            self.name = name
        }

        /// The arguments Redis hides: AUTH's, HELLO's AUTH user and password, CONFIG SET's value of a password.
        static func redactedPositions(_ arguments: CommandArguments) -> Set<Int> {
            func word(_ index: Int) -> String { String(decoding: arguments.bytes(index), as: UTF8.self).lowercased() }
            switch word(0) {
            case "auth":
                return Set(1..<arguments.count)
            case "hello":
                var positions = Set<Int>()
                var index = 2
                while index < arguments.count {
                    if word(index) == "auth" && index + 2 < arguments.count {
                        positions.formUnion([index + 1, index + 2])
                        index += 3
                    } else {
                        index += 1
                    }
                }
                return positions
            case "config" where arguments.count >= 4 && word(1) == "set":
                let secrets: Set<String> = ["requirepass", "masterauth", "masteruser"]
                let names = stride(from: 2, to: arguments.count - 1, by: 2)
                return Set(names.filter { secrets.contains(word($0)) }.map { $0 + 1 })
            default:
                return []
            }
        }
    }

    private struct State {
        /// Oldest first; the live entries start at `head` (dropped ones are compacted away now and then).
        var entries: [Entry] = []
        var head = 0
        var nextID: Int64 = 0
        var slowerThan: Int64
        var maxLength: Int

        var count: Int { self.entries.count - self.head }
    }

    private let state: Locked<State>
    private let threshold: Atomic<UInt64>

    static func unixTime() -> Int64 {
        Int64(time(nil))
    }

    /// A slow log with `slowlog-log-slower-than` (µs) and `slowlog-max-len`.
    package init(slowerThan: Int64 = 10_000, maxLength: Int = 128) {
        self.state = Locked(State(slowerThan: slowerThan, maxLength: maxLength))
        self.threshold = Atomic(SlowLog.threshold(slowerThan: slowerThan, maxLength: maxLength))
    }

    /// The duration from which a command is logged, in nanoseconds; `.max` while logging is off.
    @inline(__always) package var thresholdNanoseconds: UInt64 {
        self.threshold.load(ordering: .relaxed)
    }

    private static func threshold(slowerThan: Int64, maxLength: Int) -> UInt64 {
        guard slowerThan >= 0, maxLength > 0 else { return .max }
        let (nanoseconds, overflow) = UInt64(slowerThan).multipliedReportingOverflow(by: 1000)
        return overflow ? .max : nanoseconds
    }

    /// `slowlog-log-slower-than`, in microseconds (-1: off).
    package var slowerThan: Int64 { self.state.withLock { $0.slowerThan } }

    /// `slowlog-max-len`.
    package var maxLength: Int { self.state.withLock { $0.maxLength } }

    /// Changes the directives (CONFIG SET). A shorter length takes effect at the next entry, as in Redis.
    package func configure(slowerThan: Int64? = nil, maxLength: Int? = nil) {
        self.state.withLock { state in
            if let slowerThan { state.slowerThan = slowerThan }
            if let maxLength { state.maxLength = maxLength }
            self.threshold.store(
                SlowLog.threshold(slowerThan: state.slowerThan, maxLength: state.maxLength),
                ordering: .relaxed
            )
        }
    }

    /// Logs `entry` with the next id, dropping the oldest entries past the maximum length.
    func add(_ entry: Entry) {
        self.state.withLock { state in
            guard state.slowerThan >= 0, state.maxLength > 0 else { return }
            var entry = entry
            entry.id = state.nextID
            state.nextID += 1
            state.entries.append(entry)
            if state.count > state.maxLength { state.head += state.count - state.maxLength }
            if state.head > 64 && state.head * 2 > state.entries.count {
                state.entries.removeFirst(state.head)
                state.head = 0
            }
        }
    }

    /// The newest `count` entries, newest first (SLOWLOG GET).
    package func newest(_ count: Int) -> [Entry] {
        self.state.withLock { state in
            Array(state.entries[state.head...].reversed().prefix(max(0, count)))
        }
    }

    /// Entries logged (SLOWLOG LEN).
    package var count: Int { self.state.withLock { $0.count } }

    /// Forgets every entry (SLOWLOG RESET); ids keep increasing.
    package func reset() {
        self.state.withLock { state in
            state.entries.removeAll()
            state.head = 0
        }
    }
}
