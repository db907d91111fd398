#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A failure of the commit log: a system call, damage found while reading, or a misuse.
///
/// Every case describes itself in one line (`description`) for the operator.
package enum LogError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A system call failed with `errno` (ENOSPC, EIO, EBADF…). When the writer reports it, it has cut any partial
    /// write off the file; the records stay queued and the next flush retries them.
    case io(LogIOOperation, path: String, errno: Int32)
    /// The log is damaged before its tail, or was written by a newer version.
    case corruption(LogCorruption)
    /// A record longer than `LogFormat.maxRecordLength` was appended.
    case recordTooLarge(length: Int, limit: Int)
    /// A writer was opened on a log whose last segment ends in a torn tail: run `LogReader` and
    /// `truncateTornTail()` first (recovery does), or the next segment would turn that tail into corruption.
    case tornTailNotCut(file: String, offset: Int64)
    /// The writer was closed.
    case writerClosed
    /// `truncateTornTail()` was called before the reader reached the end of the log.
    case scanNotFinished
    /// `waitUntilDurable` gave up: `epoch` was not durable in time.
    case timedOut(epoch: UInt64)
    /// Another process holds the log directory's lock (`LogDirectoryLock`).
    case directoryInUse(path: String)

    /// One line for the operator.
    package var description: String {
        switch self {
        case .io(let operation, let path, let code):
            return "\(operation.rawValue) \(path): \(LogError.message(forErrno: code)) (errno \(code))"
        case .corruption(let corruption):
            return corruption.description
        case .recordTooLarge(let length, let limit):
            return "a log record of \(length) bytes is over the limit of \(limit) bytes"
        case .tornTailNotCut(let file, let offset):
            return "\(file) ends in a torn block at offset \(offset); recover (cut the torn tail) before writing"
        case .writerClosed:
            return "the log writer is closed"
        case .scanNotFinished:
            return "the log reader has not reached the end of the log"
        case .timedOut(let epoch):
            return "epoch \(epoch) did not become durable in time"
        case .directoryInUse(let path):
            return "\(path) is locked by another process (is another weft-server using this directory?)"
        }
    }

    /// The C library's text for `code`.
    static func message(forErrno code: Int32) -> String {
        guard let text = strerror(code) else { return "unknown error" }
        return String(cString: text)
    }
}

/// The system call behind a `LogError.io`.
package enum LogIOOperation: String, Hashable, Sendable {
    /// `mkdir(2)` of the log directory.
    case createDirectory = "mkdir"
    /// `open(2)` of a segment or the directory.
    case open = "open"
    /// `pread(2)` of a segment.
    case read = "read"
    /// `write(2)` of blocks.
    case write = "write"
    /// `fdatasync(2)` of a segment.
    case sync = "fdatasync"
    /// `fsync(2)` of the directory, after a segment was created or removed.
    case syncDirectory = "fsync"
    /// `ftruncate(2)`: cutting a partial write or a torn tail.
    case truncate = "ftruncate"
    /// `lseek(2)` back to the end of the good bytes.
    case seek = "lseek"
    /// `fstat(2)`/`stat(2)` for a file's size.
    case stat = "stat"
    /// `opendir(3)` of the log directory.
    case listDirectory = "opendir"
    /// `unlink(2)` of a dropped segment.
    case remove = "unlink"
    /// `pthread_create(3)` of the flusher thread.
    case startThread = "pthread_create"
    /// `flock(2)` of the directory's lock file.
    case lock = "flock"
    /// `rename(2)` of a finished checkpoint into place.
    case rename = "rename"
}

/// Where the log is damaged and how: the file, the byte offset of the bad block (0 for a missing segment), the
/// reason.
package struct LogCorruption: Hashable, Sendable, CustomStringConvertible {
    /// The segment file's path.
    package var file: String
    /// The offset in that file of the block that is bad.
    package var offset: Int64
    /// What is wrong.
    package var reason: CorruptionReason

    /// A corruption report from its parts.
    package init(file: String, offset: Int64, reason: CorruptionReason) {
        self.file = file
        self.offset = offset
        self.reason = reason
    }

    /// "file at offset N: reason".
    package var description: String {
        "commit log corrupt: \(self.file) at offset \(self.offset): \(self.reason)"
    }
}

/// Why a block, or the sequence of segments, is bad.
package enum CorruptionReason: Error, Hashable, Sendable, CustomStringConvertible {
    /// Fewer than a header's bytes remain in the file.
    case truncatedHeader(available: Int)
    /// The block does not start with "WEFTLOG1".
    case badMagic
    /// The header says a version above ours: a newer Weft wrote it.
    case newerFormatVersion(UInt16)
    /// The header's CRC matches but its version is one no Weft wrote (0).
    case unknownVersion(UInt16)
    /// The header's CRC32C does not match its bytes.
    case badHeaderChecksum(stored: UInt32, computed: UInt32)
    /// The flags have a bit this version does not know.
    case unknownFlags(UInt16)
    /// The file ends before the block's payload does.
    case truncatedPayload(expected: Int, available: Int)
    /// The payload's CRC32C does not match.
    case badPayloadChecksum(stored: UInt32, computed: UInt32)
    /// The payload is not a valid LZ4 block.
    case decompressionFailed
    /// The payload's length differs from the header's uncompressed length.
    case uncompressedLengthMismatch(header: Int, actual: Int)
    /// Record `record` (counting from 0) runs past the payload's end.
    case badRecordFraming(record: Int)
    /// The payload holds a different number of records than the header says.
    case recordCountMismatch(header: Int, actual: Int)
    /// A record's TID lies outside the header's first and last TID.
    case tidOutOfRange(record: Int, tid: UInt64)
    /// The header says zero records.
    case emptyBlock
    /// A segment number is missing from the sequence.
    case missingSegment(expected: UInt64, found: UInt64)
    /// A checkpoint file ends before its last block is whole (checkpoints are synced before they are named, so
    /// this is damage, not an interrupted write).
    case truncatedCheckpoint

    /// One phrase for the operator.
    package var description: String {
        switch self {
        case .truncatedHeader(let available):
            return "block header cut short (\(available) of \(LogFormat.headerSize) bytes)"
        case .badMagic:
            return "no block header (bad magic)"
        case .newerFormatVersion(let version):
            return "format version \(version) is newer than this server's \(LogFormat.version)"
        case .unknownVersion(let version):
            return "unknown format version \(version)"
        case .badHeaderChecksum(let stored, let computed):
            return "header checksum mismatch (stored \(hex(stored)), computed \(hex(computed)))"
        case .unknownFlags(let flags):
            return "unknown block flags \(hex(UInt32(flags)))"
        case .truncatedPayload(let expected, let available):
            return "payload cut short (\(available) of \(expected) bytes)"
        case .badPayloadChecksum(let stored, let computed):
            return "payload checksum mismatch (stored \(hex(stored)), computed \(hex(computed)))"
        case .decompressionFailed:
            return "payload is not a valid LZ4 block"
        case .uncompressedLengthMismatch(let header, let actual):
            return "payload is \(actual) bytes uncompressed, the header says \(header)"
        case .badRecordFraming(let record):
            return "record \(record) runs past the end of the payload"
        case .recordCountMismatch(let header, let actual):
            return "payload holds \(actual) records, the header says \(header)"
        case .tidOutOfRange(let record, let tid):
            return "record \(record) has TID \(tid), outside the block's TID range"
        case .emptyBlock:
            return "block holds no records"
        case .truncatedCheckpoint:
            return "checkpoint ends in an incomplete block"
        case .missingSegment(let expected, let found):
            return "segment \(SegmentDirectory.fileName(number: expected)) is missing "
                + "(next is \(SegmentDirectory.fileName(number: found)))"
        }
    }
}

/// `0x` and eight hex digits.
private func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}
