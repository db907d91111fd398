#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How a finished scan of the log ended.
package enum LogEnd: Hashable, Sendable {
    /// Every byte of every segment was a good block.
    case clean
    /// The log ends in a torn tail (`LogFormat`, item 8): an interrupted write, safe to cut.
    case tornTail(DroppedTail)
    /// The reader met corruption before the tail and, as the caller allowed truncation, stopped there.
    case truncated(DroppedTail)
}

/// What a scan left unread from the point where it stopped: the rest of one segment and every later segment.
package struct DroppedTail: Hashable, Sendable {
    /// The segment file where reading stopped.
    package var file: String
    /// That segment's number.
    package var segment: UInt64
    /// The offset where reading stopped: the start of the first bad block (or the file's end, for a missing
    /// segment).
    package var offset: Int64
    /// Bytes from `offset` to the end of that segment.
    package var byteCount: Int64
    /// Later segments, dropped whole.
    package var laterSegments: [SegmentFile]
    /// Why reading stopped.
    package var reason: CorruptionReason

    /// A report from its parts.
    package init(
        file: String,
        segment: UInt64,
        offset: Int64,
        byteCount: Int64,
        laterSegments: [SegmentFile],
        reason: CorruptionReason
    ) {
        self.file = file
        self.segment = segment
        self.offset = offset
        self.byteCount = byteCount
        self.laterSegments = laterSegments
        self.reason = reason
    }

    /// Every byte dropped, this segment's rest and the later segments together.
    package var totalBytes: Int64 {
        self.byteCount + self.laterSegments.reduce(0) { $0 + $1.size }
    }
}

/// Reads a log directory back, block by block, in segment order, verifying everything (`LogFormat`, item 6).
///
/// Contract:
/// 1. `next()` yields good blocks in file order, then nil; `end` then says how the log ended.
/// 2. A torn tail (a bad region that no block header follows) ends the scan normally with `.tornTail`, giving the
///    offset and the bytes to drop; `truncateTornTail()` cuts it.
/// 3. Anything else bad — a bad block followed by more blocks, a gap in the segment numbers, a newer format
///    version — throws `LogError.corruption` with the file, offset and reason. With `allowTruncation` the scan
///    instead stops there with `.truncated`, and `truncateTornTail()` cuts everything from that point on.
/// 4. A directory with no segment (or no directory at all) is an empty, clean log.
///
/// Recovery runs it once at start-up, before any `LogWriter` opens the directory. It is not thread-safe.
package final class LogReader {
    /// The log directory.
    package let directory: String
    /// Whether corruption before the tail stops the scan (`true`) instead of throwing.
    package let allowTruncation: Bool
    /// The segments found, by number.
    package let segments: [SegmentFile]
    /// How the scan ended; nil until `next()` returned nil.
    package private(set) var end: LogEnd?
    /// Blocks yielded so far.
    package private(set) var blockCount = 0
    /// Records yielded so far.
    package private(set) var recordCount = 0

    /// Segments before the first gap in the numbers (all of them without one).
    private let readable: Int
    private var index = 0
    private var fd: Int32 = -1
    private var fileSize: Int64 = 0
    private var offset: Int64 = 0

    /// Opens the log in `directory`.
    ///
    /// - Parameter allowTruncation: stop at corruption before the tail, reporting what is dropped, instead of
    ///   throwing.
    /// - Throws: `LogError.io` when the directory cannot be listed; `LogError.corruption` with
    ///   `.missingSegment` when the segment numbers have a gap and truncation is not allowed.
    /// - Complexity: O(n log n) in the directory's entries.
    package convenience init(directory: String, allowTruncation: Bool = false) throws(LogError) {
        try self.init(
            directory: directory,
            segments: SegmentDirectory.list(directory),
            allowTruncation: allowTruncation
        )
    }

    /// Opens the segments of `directory` numbered `first` and above (those a checkpoint does not cover).
    ///
    /// - Throws: as `init(directory:allowTruncation:)`.
    package convenience init(directory: String, from first: UInt64, allowTruncation: Bool = false) throws(LogError) {
        try self.init(
            directory: directory,
            segments: SegmentDirectory.list(directory).filter { $0.number >= first },
            allowTruncation: allowTruncation
        )
    }

    /// Opens the given segments of `directory`, which must be sorted by number. The writer checks only the last.
    init(directory: String, segments: [SegmentFile], allowTruncation: Bool) throws(LogError) {
        self.directory = directory
        self.allowTruncation = allowTruncation
        self.segments = segments
        var readable = segments.count
        for position in segments.indices.dropFirst()
        where segments[position].number != segments[position - 1].number &+ 1 {
            let reason = CorruptionReason.missingSegment(
                expected: segments[position - 1].number &+ 1,
                found: segments[position].number
            )
            guard allowTruncation else {
                throw .corruption(LogCorruption(file: segments[position].path, offset: 0, reason: reason))
            }
            readable = position
            break
        }
        self.readable = readable
    }

    deinit {
        if self.fd >= 0 { POSIX.close(self.fd) }
    }

    /// The next good block, or nil at the end of the log (then see `end`).
    ///
    /// - Throws: `LogError.corruption` for damage before the tail (unless truncation is allowed) or a newer format
    ///   version; `LogError.io` when a segment cannot be read.
    /// - Complexity: O(n) in the block's size.
    package func next() throws(LogError) -> LogBlock? {
        guard self.end == nil else { return nil }
        while true {
            guard self.index < self.readable else {
                self.finish(self.gapEnd())
                return nil
            }
            let segment = self.segments[self.index]
            if self.fd < 0 {
                self.fd = try POSIX.open(segment.path, flags: O_RDONLY)
                self.fileSize = try POSIX.size(fd: self.fd, path: segment.path)
                self.offset = 0
            }
            if self.offset >= self.fileSize {
                self.closeSegment()
                self.index += 1
                continue
            }
            switch try self.readBlock(segment: segment) {
            case .success(let block):
                self.offset += Int64(block.header.blockSize)
                self.blockCount += 1
                self.recordCount += block.count
                return block
            case .failure(let reason):
                let dropped = DroppedTail(
                    file: segment.path,
                    segment: segment.number,
                    offset: self.offset,
                    byteCount: self.fileSize - self.offset,
                    laterSegments: Array(self.segments[(self.index + 1)...]),
                    reason: reason
                )
                if case .newerFormatVersion = reason, try self.headerChecksumMatches(segment: segment) {
                    // Never a torn tail: a newer writer made it (one flipped bit cannot keep the CRC matching).
                } else if try !self.blockFollows() {
                    self.finish(.tornTail(dropped))
                    return nil
                }
                if self.allowTruncation {
                    self.finish(.truncated(dropped))
                    return nil
                }
                throw .corruption(LogCorruption(file: segment.path, offset: self.offset, reason: reason))
            }
        }
    }

    /// Reads the whole log: every good block, then how it ended.
    ///
    /// - Throws: what `next()` throws.
    /// - Complexity: O(n) in the log's size; holds every block in memory (for tests and tools).
    package func readAll() throws(LogError) -> (blocks: [LogBlock], end: LogEnd) {
        var blocks: [LogBlock] = []
        while let block = try self.next() {
            blocks.append(block)
        }
        return (blocks, self.end ?? .clean)
    }

    /// Cuts what the finished scan dropped: truncates the segment at the offset where reading stopped, removes every
    /// later segment, and syncs the files and the directory. Recovery calls it after a `.tornTail` end (and, when
    /// the operator allowed truncation, after a `.truncated` one) so that the writer can append after good blocks.
    ///
    /// - Returns: what was cut, or nil for a clean log.
    /// - Throws: `LogError.scanNotFinished` before `next()` returned nil; `LogError.io` when a file cannot be cut.
    /// - Complexity: O(n) in the later segments.
    @discardableResult
    package func truncateTornTail() throws(LogError) -> DroppedTail? {
        guard let end = self.end else { throw .scanNotFinished }
        let dropped: DroppedTail
        switch end {
        case .clean:
            return nil
        case .tornTail(let tail), .truncated(let tail):
            dropped = tail
        }
        let fd = try POSIX.open(dropped.file, flags: O_WRONLY)
        defer { POSIX.close(fd) }
        try POSIX.truncate(fd, to: dropped.offset, path: dropped.file, faults: nil)
        try POSIX.syncData(fd, path: dropped.file, faults: nil)
        for segment in dropped.laterSegments.reversed() {
            try POSIX.remove(segment.path)
        }
        let directoryFD = try POSIX.open(self.directory, flags: O_RDONLY | O_DIRECTORY)
        defer { POSIX.close(directoryFD) }
        try POSIX.syncDirectory(directoryFD, path: self.directory)
        return dropped
    }

    /// Reads and verifies the block at `offset` of the open segment.
    private func readBlock(segment: SegmentFile) throws(LogError) -> Result<LogBlock, CorruptionReason> {
        let available = self.fileSize - self.offset
        let headerBytes = try POSIX.read(
            self.fd,
            count: Int(min(Int64(LogFormat.headerSize), available)),
            at: self.offset,
            path: segment.path
        )
        let decoded = headerBytes.withUnsafeBytes { BlockHeader.decode($0) }
        let header: BlockHeader
        switch decoded {
        case .failure(let reason): return .failure(reason)
        case .success(let value): header = value
        }
        let stored = Int64(header.storedLength)
        guard stored <= available - Int64(LogFormat.headerSize) else {
            return .failure(
                .truncatedPayload(expected: Int(stored), available: Int(available) - LogFormat.headerSize)
            )
        }
        let payload = try POSIX.read(
            self.fd,
            count: Int(stored),
            at: self.offset + Int64(LogFormat.headerSize),
            path: segment.path
        )
        guard payload.count == Int(stored) else {
            return .failure(.truncatedPayload(expected: Int(stored), available: payload.count))
        }
        return payload.withUnsafeBytes { bytes in
            LogBlock.decode(header: header, stored: bytes, segment: segment.number, offset: self.offset)
        }
    }

    /// Whether the header at `offset` has a matching CRC at the place version 1 keeps it.
    private func headerChecksumMatches(segment: SegmentFile) throws(LogError) -> Bool {
        let bytes = try POSIX.read(self.fd, count: LogFormat.headerSize, at: self.offset, path: segment.path)
        return bytes.withUnsafeBytes { BlockHeader.checksumMatches($0) }
    }

    /// Whether a block header starts anywhere after the bad block at `offset`: later in its segment, or in any later
    /// segment. If none does, the bad region is a torn tail (`LogFormat`, item 8).
    ///
    /// Reads the rest of the segment and the later ones whole; this runs once, on the error path.
    private func blockFollows() throws(LogError) -> Bool {
        let segment = self.segments[self.index]
        let rest = try POSIX.read(
            self.fd,
            count: Int(self.fileSize - self.offset),
            at: self.offset,
            path: segment.path
        )
        if LogReader.containsHeader(rest, from: 1) { return true }
        for later in self.segments[(self.index + 1)...] {
            let size = try POSIX.size(path: later.path)
            guard size > 0 else { continue }
            let fd = try POSIX.open(later.path, flags: O_RDONLY)
            defer { POSIX.close(fd) }
            if LogReader.containsHeader(try POSIX.read(fd, count: Int(size), at: 0, path: later.path), from: 0) {
                return true
            }
        }
        return false
    }

    /// Whether `BlockHeader.startsHeader` holds at any offset from `start` on.
    private static func containsHeader(_ bytes: [UInt8], from start: Int) -> Bool {
        bytes.withUnsafeBytes { buffer in
            var position = start
            let first = LogFormat.magic[0]
            while position + LogFormat.headerSize <= buffer.count {
                if buffer[position] == first, BlockHeader.startsHeader(buffer, at: position) { return true }
                position += 1
            }
            return false
        }
    }

    /// The end of a scan that read every readable segment: clean, or truncated at a gap in the numbers.
    private func gapEnd() -> LogEnd {
        guard self.readable < self.segments.count else { return .clean }
        let last = self.segments[self.readable - 1]
        let next = self.segments[self.readable]
        return .truncated(
            DroppedTail(
                file: last.path,
                segment: last.number,
                offset: self.fileSize(of: last),
                byteCount: 0,
                laterSegments: Array(self.segments[self.readable...]),
                reason: .missingSegment(expected: last.number &+ 1, found: next.number)
            )
        )
    }

    private func fileSize(of segment: SegmentFile) -> Int64 {
        (try? POSIX.size(path: segment.path)) ?? segment.size
    }

    private func finish(_ end: LogEnd) {
        self.closeSegment()
        self.end = end
    }

    private func closeSegment() {
        if self.fd >= 0 {
            POSIX.close(self.fd)
            self.fd = -1
        }
    }
}
