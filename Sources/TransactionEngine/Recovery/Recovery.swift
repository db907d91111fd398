import CommitLog

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Rebuilds the engine's state from a log directory at start-up, before the log is opened for writing.
///
/// The steps, in order (ARCHITECTURE.md numbers them the same way):
/// 1. Remove interrupted checkpoints (`.tmp` files).
/// 2. Load the newest checkpoint, if any: every key with its value, expiry and TID. Its first record names the
///    first segment it does not cover and, by its TID, the exclusive effects it already holds.
/// 3. Check that the segments go on from that number without a gap (a missing segment is corruption).
/// 4. Replay the segments in file order, which is TID order; an effect on a key that holds a newer TID is skipped,
///    and values whose expiry has passed are dropped.
/// 5. At the end: a torn tail is cut (when `allowTornTail`), with its size reported; corruption before the tail
///    stops recovery with the file, offset and reason, unless `allowCorruption`, which cuts the log there.
/// 6. Remove segments and checkpoints the newest checkpoint covers (left by a compaction that crashed).
/// 7. Move the epoch past every restored TID.
package enum Recovery {
    /// What recovery may cut.
    package struct Options: Sendable {
        /// Cut a torn tail (an interrupted last write) and go on; Redis's `aof-load-truncated yes`.
        package var allowTornTail = true
        /// Cut the log at corruption before its tail, losing what follows, instead of refusing to start.
        package var allowCorruption = false

        /// Torn tails are cut, corruption is refused.
        package init() {}
    }

    /// What recovery did.
    package struct Report: Sendable {
        /// The checkpoint loaded, if any.
        package var checkpoint: SegmentFile? = nil
        /// Keys loaded from the checkpoint.
        package var checkpointKeys = 0
        /// Segments replayed.
        package var segments = 0
        /// Blocks and records replayed.
        package var blocks = 0
        package var records = 0
        /// Bytes of log read (checkpoint and segments).
        package var bytes: Int64 = 0
        /// The largest TID restored (0 for an empty log).
        package var lastTID: UInt64 = 0
        /// The first segment the checkpoint does not cover (1 without one): the writer's `firstSegment`.
        package var firstSegment: UInt64 = 1
        /// A torn tail that was cut.
        package var tornTail: DroppedTail? = nil
        /// Corruption that was cut because `allowCorruption` was set.
        package var truncated: DroppedTail? = nil
        /// Seconds spent.
        package var seconds: Double = 0

        package init() {}
    }

    /// Why recovery stopped.
    package enum Failure: Error, CustomStringConvertible {
        /// The log could not be read, or is corrupt before its tail.
        case log(LogError)
        /// The log ends in a torn tail and `allowTornTail` is off.
        case tornTailRefused(DroppedTail)
        /// A record passed its checksums but does not decode (written by another program, or a bug).
        case badRecord(file: String, tid: UInt64, CommitRecordError)

        /// One line for the operator.
        package var description: String {
            switch self {
            case .log(let error):
                return "\(error)"
            case .tornTailRefused(let tail):
                return "the log ends in a torn tail: \(tail.file) at offset \(tail.offset), \(tail.totalBytes) bytes "
                    + "(\(tail.reason)); start with aof-load-truncated yes to cut it, or run weft-log repair"
            case .badRecord(let file, let tid, let error):
                return "\(file): record with TID \(tid) does not decode (\(error))"
            }
        }
    }

    /// Restores `directory` into `engine` (which should be empty) on a worker of the calling thread.
    ///
    /// - Parameters:
    ///   - progress: called now and then with the fraction of bytes replayed (0 to 1).
    /// - Returns: what was restored and cut.
    /// - Throws: `Failure`; the engine then holds part of the log.
    package static func restore(
        engine: TransactionEngine,
        directory: String,
        options: Options = Options(),
        progress: (Double) -> Void = { _ in }
    ) throws(Failure) -> Report {
        let started = MonotonicSeconds.now()
        var report = Report()
        let worker = engine.makeWorker()
        try Self.log { () throws(LogError) in try CheckpointFiles.removeInterrupted(directory) }
        let checkpoint = try Self.log { () throws(LogError) in try CheckpointFiles.list(directory).last }
        let segments = try Self.log { () throws(LogError) in try SegmentDirectory.list(directory) }
        var first: UInt64 = 1
        var exclusiveBound: UInt64 = 0
        if let checkpoint {
            first = checkpoint.number
            report.checkpoint = checkpoint
            (exclusiveBound, report.lastTID, report.checkpointKeys) = try Self.loadCheckpoint(
                checkpoint, directory: directory, worker: worker
            )
            report.bytes += checkpoint.size
        }
        report.firstSegment = first
        let replayed = segments.filter { $0.number >= first }
        if let lowest = replayed.first, lowest.number != first {
            // Refused even with allowCorruption: the loss is at the start, so nothing after it can be replayed
            // on a state that existed.
            // The log must go on from the checkpoint (or from segment 1 without one).
            let reason = CorruptionReason.missingSegment(expected: first, found: lowest.number)
            throw .log(.corruption(LogCorruption(file: lowest.path, offset: 0, reason: reason)))
        }
        let total = replayed.reduce(Int64(0)) { $0 + $1.size }
        let reader = try Self.log { () throws(LogError) in
            try LogReader(directory: directory, from: replayed.first?.number ?? first, allowTruncation: options.allowCorruption)
        }
        var lastSegment = UInt64.max
        var before: Int64 = 0
        while let block = try Self.log({ () throws(LogError) in try reader.next() }) {
            if block.segment != lastSegment {
                lastSegment = block.segment
                report.segments += 1
                before = replayed.filter { $0.number < block.segment }.reduce(0) { $0 + $1.size }
            }
            try block.forEachRecord { (tid, bytes) throws(Failure) in
                do throws(CommitRecordError) {
                    try worker.restore(record: bytes, tid: tid, exclusiveBound: exclusiveBound)
                } catch {
                    throw .badRecord(file: SegmentDirectory.path(directory: directory, number: block.segment), tid: tid, error)
                }
                report.lastTID = max(report.lastTID, tid)
            }
            report.blocks += 1
            report.records += block.count
            if report.blocks & 255 == 0 {
                progress(Double(before + block.offset + Int64(block.header.blockSize)) / Double(max(1, total)))
            }
        }
        report.bytes += total
        switch reader.end ?? .clean {
        case .clean:
            break
        case .tornTail(let tail):
            guard options.allowTornTail else { throw .tornTailRefused(tail) }
            report.tornTail = try Self.log { () throws(LogError) in try reader.truncateTornTail() }
        case .truncated:
            report.truncated = try Self.log { () throws(LogError) in try reader.truncateTornTail() }
        }
        if checkpoint != nil {
            try Self.log { () throws(LogError) in try CheckpointFiles.removeCovered(directory: directory, below: first) }
        }
        worker.finishRestore(lastTID: report.lastTID)
        progress(1)
        report.seconds = MonotonicSeconds.now() - started
        return report
    }

    /// Runs a log operation, turning its error into `Failure.log`.
    @discardableResult
    private static func log<T>(_ body: () throws(LogError) -> T) throws(Failure) -> T {
        do throws(LogError) {
            return try body()
        } catch {
            throw .log(error)
        }
    }

    /// Loads a checkpoint; returns its exclusive bound (the TID of its first record), its largest TID and its keys.
    private static func loadCheckpoint(
        _ checkpoint: SegmentFile,
        directory: String,
        worker: Worker
    ) throws(Failure) -> (bound: UInt64, lastTID: UInt64, keys: Int) {
        var bound: UInt64? = nil
        var lastTID: UInt64 = 0
        var keys = 0
        var failure: Failure? = nil
        try Self.log { () throws(LogError) in
            try CheckpointFiles.read(checkpoint, directory: directory) { (tid, bytes) throws(LogError) in
                guard failure == nil else { return }
                if bound == nil { bound = tid } else { keys += 1 }
                lastTID = max(lastTID, tid)
                do throws(CommitRecordError) {
                    try worker.restore(record: bytes, tid: tid, exclusiveBound: .max)
                } catch {
                    failure = .badRecord(file: checkpoint.path, tid: tid, error)
                }
            }
        }
        if let failure { throw failure }
        return (bound ?? 0, lastTID, keys)
    }
}

/// Seconds on the monotonic clock.
enum MonotonicSeconds {
    static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}
