#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A checkpoint of a log directory: one file of blocks (`LogFormat`, items 3 to 6) that stands for every segment
/// numbered below its own number.
///
/// Contract:
/// 1. **Names.** `weft-<16 lowercase hex digits>.checkpoint`, the digits being the number of the first segment it
///    does not cover. While it is written it is `….checkpoint.tmp`; `finish()` syncs it, renames it into place and
///    syncs the directory, so a file with the final name is always whole. A `.tmp` file is an interrupted
///    checkpoint, which recovery removes.
/// 2. **Records.** What the records mean is the caller's (the engine writes one per key, tagged with the key's TID);
///    every block carries epoch 0.
/// 3. **Covering.** Once a checkpoint is in place, the segments below its number and older checkpoints may be
///    removed (`removeCovered`); recovery reads the newest checkpoint and then the segments from its number on.
package final class CheckpointWriter {
    /// The final path.
    package let path: String
    /// The number of the first segment it does not cover.
    package let number: UInt64
    /// Records appended so far.
    package private(set) var recordCount = 0
    /// Bytes written so far.
    package private(set) var bytesWritten: Int64 = 0

    private let directory: String
    private let temporaryPath: String
    private let compression: Bool
    private let maxBlockPayload: Int
    private var fd: Int32
    private var encoder = BlockEncoder(epoch: 0)
    private var output: [UInt8] = []

    /// Creates `….checkpoint.tmp` for checkpoint `number` in `directory` (replacing an old temporary file).
    ///
    /// - Throws: `LogError.io` when the file cannot be created.
    package init(directory: String, number: UInt64, compression: Bool = true, maxBlockPayload: Int = 1 << 20)
        throws(LogError)
    {
        self.directory = directory
        self.number = number
        self.path = CheckpointFiles.path(directory: directory, number: number)
        self.temporaryPath = self.path + ".tmp"
        self.compression = compression
        self.maxBlockPayload = maxBlockPayload
        self.fd = try POSIX.open(self.temporaryPath, flags: O_WRONLY | O_CREAT | O_TRUNC)
    }

    deinit {
        if self.fd >= 0 {
            POSIX.close(self.fd)
            try? POSIX.remove(self.temporaryPath)
        }
    }

    /// Adds one record; writes a block whenever the payload reaches the block size.
    ///
    /// - Throws: `LogError.io` when a write fails.
    /// - Complexity: amortized O(n) in the record's length.
    package func append(tid: UInt64, record: UnsafeRawBufferPointer) throws(LogError) {
        if !self.encoder.isEmpty,
            self.encoder.payload.count + LogFormat.encodedSize(ofRecordLength: record.count) > self.maxBlockPayload
        {
            try self.writeBlock()
        }
        self.encoder.append(tid: tid, record: record)
        self.recordCount += 1
    }

    /// Writes what is left, syncs, renames the file into place and syncs the directory.
    ///
    /// - Throws: `LogError.io`; the temporary file is removed then.
    package func finish() throws(LogError) {
        do throws(LogError) {
            if !self.encoder.isEmpty { try self.writeBlock() }
            try POSIX.syncData(self.fd, path: self.temporaryPath, faults: nil)
            POSIX.close(self.fd)
            self.fd = -1
            if rename(self.temporaryPath, self.path) != 0 {
                throw .io(.rename, path: self.path, errno: errno)
            }
            let directoryFD = try POSIX.open(self.directory, flags: O_RDONLY | O_DIRECTORY)
            defer { POSIX.close(directoryFD) }
            try POSIX.syncDirectory(directoryFD, path: self.directory)
        } catch {
            self.abandon()
            throw error
        }
    }

    /// Stops and removes the temporary file.
    package func abandon() {
        if self.fd >= 0 {
            POSIX.close(self.fd)
            self.fd = -1
        }
        try? POSIX.remove(self.temporaryPath)
    }

    private func writeBlock() throws(LogError) {
        self.output.removeAll(keepingCapacity: true)
        _ = self.encoder.encode(compress: self.compression, into: &self.output)
        self.encoder.reset(epoch: 0)
        let (fd, path) = (self.fd, self.temporaryPath)
        let failure = self.output.withUnsafeBytes { bytes -> LogError? in
            do throws(LogError) {
                try POSIX.writeAll(fd, bytes, path: path, faults: nil)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
        self.bytesWritten += Int64(self.output.count)
    }
}

/// Names, lists, reads and removes checkpoint files (`CheckpointWriter`, contract).
package enum CheckpointFiles {
    /// `weft-<16 lowercase hex digits>.checkpoint`.
    package static func fileName(number: UInt64) -> String {
        let digits = String(number, radix: 16)
        return "weft-" + String(repeating: "0", count: 16 - digits.count) + digits + ".checkpoint"
    }

    /// The path of checkpoint `number` in `directory`.
    package static func path(directory: String, number: UInt64) -> String {
        directory + "/" + CheckpointFiles.fileName(number: number)
    }

    /// The finished checkpoints in `directory`, by increasing number (none if the directory does not exist).
    ///
    /// - Throws: `LogError.io` when the directory cannot be read.
    package static func list(_ directory: String) throws(LogError) -> [SegmentFile] {
        var found: [SegmentFile] = []
        for name in try POSIX.entryNames(directory) {
            guard name.count == 32, name.hasPrefix("weft-"), name.hasSuffix(".checkpoint"),
                let number = UInt64(name.dropFirst(5).prefix(16), radix: 16)
            else { continue }
            let path = directory + "/" + name
            found.append(SegmentFile(number: number, path: path, size: try POSIX.size(path: path)))
        }
        return found.sorted { $0.number < $1.number }
    }

    /// Removes interrupted checkpoints (`.tmp` files).
    ///
    /// - Throws: `LogError.io` when the directory cannot be read or a file cannot be removed.
    package static func removeInterrupted(_ directory: String) throws(LogError) {
        for name in try POSIX.entryNames(directory) where name.hasPrefix("weft-") && name.hasSuffix(".checkpoint.tmp") {
            try POSIX.remove(directory + "/" + name)
        }
    }

    /// Removes every segment below `number` and every checkpoint below `number`, then syncs the directory: what a
    /// finished checkpoint `number` covers.
    ///
    /// - Returns: the bytes removed.
    /// - Throws: `LogError.io`.
    @discardableResult
    package static func removeCovered(directory: String, below number: UInt64) throws(LogError) -> Int64 {
        var removed: Int64 = 0
        for segment in try SegmentDirectory.list(directory) where segment.number < number {
            try POSIX.remove(segment.path)
            removed += segment.size
        }
        for checkpoint in try Self.list(directory) where checkpoint.number < number {
            try POSIX.remove(checkpoint.path)
            removed += checkpoint.size
        }
        let directoryFD = try POSIX.open(directory, flags: O_RDONLY | O_DIRECTORY)
        defer { POSIX.close(directoryFD) }
        try POSIX.syncDirectory(directoryFD, path: directory)
        return removed
    }

    /// Reads every record of a finished checkpoint, in order. Any bad block, a cut-short end included, is
    /// corruption: a checkpoint is synced before it gets its name.
    ///
    /// - Throws: `LogError.corruption` with the file and offset; `LogError.io`; what `body` throws.
    package static func read(
        _ checkpoint: SegmentFile,
        directory: String,
        _ body: (UInt64, UnsafeRawBufferPointer) throws(LogError) -> Void
    ) throws(LogError) {
        let reader = try LogReader(directory: directory, segments: [checkpoint], allowTruncation: false)
        while let block = try reader.next() {
            try block.forEachRecord { (tid, bytes) throws(LogError) in try body(tid, bytes) }
        }
        if case .tornTail(let tail) = reader.end {
            throw .corruption(LogCorruption(file: tail.file, offset: tail.offset, reason: tail.reason))
        }
    }
}
