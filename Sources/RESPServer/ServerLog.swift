import Logging
import CommitLog
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The server's own log, through swift-log, in redis-server's line format: `pid:M 25 Nov 2026 01:29:57.123 * text`,
/// where the mark is `.` debug, `-` verbose, `*` notice, `#` warning.
///
/// `loglevel` (debug, verbose, notice, warning, nothing) filters lines and may change at run time (CONFIG SET);
/// `logfile` is fixed at start: empty for standard output, else a file opened for appending.
package enum ServerLog {
    /// Redis's log levels, from the most to the least verbose.
    package enum Level: Int, Sendable, CaseIterable {
        case debug, verbose, notice, warning, nothing

        /// The level a directive's value names, or nil.
        package init?(name: String) {
            switch name.lowercased() {
            case "debug": self = .debug
            case "verbose": self = .verbose
            case "notice": self = .notice
            case "warning": self = .warning
            case "nothing": self = .nothing
            default: return nil
            }
        }

        /// The directive's value.
        package var name: String {
            switch self {
            case .debug: return "debug"
            case .verbose: return "verbose"
            case .notice: return "notice"
            case .warning: return "warning"
            case .nothing: return "nothing"
            }
        }
    }

    /// Where the lines go, and the current level.
    static let level = Atomic<Int>(Level.notice.rawValue)
    static let descriptor = Atomic<Int32>(1)
    private static let bootstrapped = Locked<Bool>(false)

    /// The logger the server writes through.
    package static let logger = Logger(label: "weft-server") { _ in RedisLogHandler() }

    /// Sets the level and the destination (empty path: standard output). Call once at start.
    ///
    /// - Returns: nil, or why the file could not be opened.
    package static func configure(level: Level, file: String) -> String? {
        ServerLog.level.store(level.rawValue, ordering: .relaxed)
        guard !file.isEmpty else { return nil }
        let fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return "Can't open the log file: \(String(cString: strerror(errno)))" }
        ServerLog.descriptor.store(fd, ordering: .relaxed)
        return nil
    }

    /// Changes the level (CONFIG SET loglevel).
    package static func setLevel(_ level: Level) {
        ServerLog.level.store(level.rawValue, ordering: .relaxed)
    }

    /// The current level.
    package static var currentLevel: Level { Level(rawValue: ServerLog.level.load(ordering: .relaxed)) ?? .notice }

    /// A notice line (Redis's `*`).
    package static func say(_ message: String) {
        ServerLog.logger.notice("\(message)")
    }

    /// A warning line (Redis's `#`).
    package static func warn(_ message: String) {
        ServerLog.logger.warning("\(message)")
    }

    /// A verbose line (Redis's `-`).
    package static func verbose(_ message: String) {
        ServerLog.logger.info("\(message)")
    }
}

/// Writes swift-log records as redis-server's log lines, filtered by `ServerLog.level`.
struct RedisLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    /// Always `.trace` here: the filtering is `ServerLog.level`'s, which CONFIG SET changes for every logger.
    var logLevel: Logger.Level {
        get { .trace }
        set {}
    }

    func log(event: LogEvent) {
        let (level, mark): (ServerLog.Level, String)
        switch event.level {
        case .trace, .debug: (level, mark) = (.debug, ".")
        case .info: (level, mark) = (.verbose, "-")
        case .notice: (level, mark) = (.notice, "*")
        case .warning, .error, .critical: (level, mark) = (.warning, "#")
        }
        guard level.rawValue >= ServerLog.level.load(ordering: .relaxed) else { return }
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        var seconds = spec.tv_sec
        var parts = tm()
        localtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        strftime(&buffer, 32, "%d %b %Y %H:%M:%S", &parts)
        let stamp = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let milliseconds = Int(spec.tv_nsec / 1_000_000)
        let fraction = milliseconds < 10 ? "00\(milliseconds)" : milliseconds < 100 ? "0\(milliseconds)" : "\(milliseconds)"
        let line = "\(getpid()):M \(stamp).\(fraction) \(mark) \(event.message)\n"
        let fd = ServerLog.descriptor.load(ordering: .relaxed)
        _ = line.withCString { write(fd, $0, strlen($0)) }
    }
}
