#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What `weft-log verify` reports about a log directory.
package struct LogVerification: Sendable {
    /// Segment files found.
    package var segments = 0
    /// Good blocks and the records in them.
    package var blocks = 0
    package var records = 0
    /// The TID range of the good records (nil for an empty log).
    package var firstTID: UInt64?
    package var lastTID: UInt64?
    /// Payload bytes as stored and before compression, with the 56-byte headers counted in `storedBytes`.
    package var storedBytes: Int64 = 0
    package var uncompressedBytes: Int64 = 0
    /// How the scan ended.
    package var end: LogEnd = .clean

    /// Stored bytes over uncompressed record bytes (1.0 for an empty log).
    package var compressionRatio: Double {
        self.uncompressedBytes == 0 ? 1 : Double(self.storedBytes) / Double(self.uncompressedBytes)
    }
}

/// The checks behind the `weft-log` tool (like `redis-check-aof`): verify a log, and repair a torn tail after a
/// backup. Dumping records as text is the tool's own part, since only the engine can decode a record.
package enum LogInspection {
    /// Reads the whole log and reports what is there and how it ends.
    ///
    /// - Throws: `LogError.corruption` for damage before the tail when `allowTruncation` is false; `LogError.io`.
    package static func verify(directory: String, allowTruncation: Bool = false) throws(LogError) -> LogVerification {
        let reader = try LogReader(directory: directory, allowTruncation: allowTruncation)
        var report = LogVerification()
        report.segments = reader.segments.count
        while let block = try reader.next() {
            report.blocks += 1
            report.records += block.count
            report.firstTID = min(report.firstTID ?? block.header.firstTID, block.header.firstTID)
            report.lastTID = max(report.lastTID ?? block.header.lastTID, block.header.lastTID)
            report.storedBytes += Int64(block.header.storedLength) + Int64(LogFormat.headerSize)
            report.uncompressedBytes += Int64(block.header.uncompressedLength)
        }
        report.end = reader.end ?? .clean
        return report
    }

    /// Copies every segment file into `backup` (created if missing), then cuts the torn tail (and, when
    /// `allowTruncation` is true, everything from the first corruption on).
    ///
    /// - Returns: what was dropped, or nil when the log was clean and nothing changed.
    /// - Throws: `LogError.corruption` for damage before the tail when truncation is not allowed (nothing is
    ///   changed then); `LogError.io` when the backup or the cut fails.
    package static func repair(
        directory: String,
        backup: String,
        allowTruncation: Bool = false
    ) throws(LogError) -> DroppedTail? {
        let reader = try LogReader(directory: directory, allowTruncation: allowTruncation)
        while try reader.next() != nil {}
        guard let end = reader.end, end != .clean else { return nil }
        if mkdir(backup, 0o755) != 0 && errno != EEXIST {
            throw .io(.createDirectory, path: backup, errno: errno)
        }
        for segment in reader.segments {
            let name = segment.path.split(separator: "/").last.map(String.init) ?? segment.path
            try LogInspection.copy(segment.path, to: backup + "/" + name)
        }
        return try reader.truncateTornTail()
    }

    private static func copy(_ source: String, to destination: String) throws(LogError) {
        let input = open(source, O_RDONLY)
        guard input >= 0 else { throw .io(.open, path: source, errno: errno) }
        defer { close(input) }
        let output = open(destination, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard output >= 0 else { throw .io(.open, path: destination, errno: errno) }
        defer { close(output) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress!, $0.count) }
            if count < 0 { throw .io(.read, path: source, errno: errno) }
            if count == 0 { break }
            let written = buffer.withUnsafeBytes { write(output, $0.baseAddress!, count) }
            if written != count { throw .io(.write, path: destination, errno: errno) }
        }
        if fsync(output) != 0 { throw .io(.sync, path: destination, errno: errno) }
    }
}
