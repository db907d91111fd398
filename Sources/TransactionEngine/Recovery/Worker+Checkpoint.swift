import CommitLog

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a checkpoint wrote.
package struct CheckpointReport: Sendable {
    /// The checkpoint file.
    package var path = ""
    /// The first segment it does not cover; the segments below it were removed.
    package var firstSegment: UInt64 = 0
    /// Keys written.
    package var keys = 0
    /// The checkpoint's size in bytes.
    package var bytes: Int64 = 0
    /// Bytes of segments and older checkpoints removed.
    package var removedBytes: Int64 = 0
    /// Scans started again because an exclusive transaction ran during one.
    package var restarts = 0

    package init() {}
}

/// Why a checkpoint was not written.
package enum CheckpointFailure: Error, CustomStringConvertible {
    /// Writing or syncing failed.
    case log(LogError)
    /// Exclusive transactions (FLUSHDB, FLUSHALL, SWAPDB) kept running during every scan.
    case keptChanging(attempts: Int)

    package var description: String {
        switch self {
        case .log(let error): return "\(error)"
        case .keptChanging(let attempts): return "the keyspace was flushed or swapped during each of \(attempts) scans"
        }
    }
}

/// Compaction: a checkpoint of the whole keyspace, written while serving, after which the log segments it covers
/// are removed.
///
/// 1. Note the count of exclusive transactions, then wait until the current epoch is closed and flush the log
///    through it: every commit made before the checkpoint began is now in a segment.
/// 2. Rotate the log: the segments below the new one's number `n` hold only commits made before the scan began.
/// 3. Write a header record whose TID is the largest TID committed so far, then walk every database with SCAN's
///    guarantee (a key present throughout is seen at least once), writing each live key with its value, expiry
///    and TID. Other transactions go on meanwhile; what they commit lands in segments `n` and above.
/// 4. If an exclusive transaction ran meanwhile, the walk may have seen two different keyspaces: start again. The
///    last attempt holds exclusive transactions off for its whole scan (they wait), so a checkpoint always ends.
/// 5. Sync the file and rename it into place, then remove the segments below `n` and older checkpoints.
///
/// Recovery loads the checkpoint, then replays segments `n` and above, skipping any effect on a key that holds a
/// newer TID. A crash before step 5's rename leaves the old checkpoint and every segment; after it, the new one
/// covers what it removes.
extension Worker {
    /// Writes a checkpoint of every database into `log`'s directory and removes what it covers. Call it on a
    /// thread of its own, with a worker of its own, not pinned.
    ///
    /// - Throws: `CheckpointFailure`; the log is unchanged then (a temporary file is removed).
    /// - Complexity: O(n) in the keys, plus the writes.
    package func writeCheckpoint(log: LogWriter, maxAttempts: Int = 3) throws(CheckpointFailure) -> CheckpointReport {
        precondition(self.pinDepth == 0, "a checkpoint inside a pin")
        var report = CheckpointReport()
        precondition(maxAttempts > 0, "at least one attempt")
        for attempt in 0..<maxAttempts {
            report.restarts = attempt
            let holdingOff = attempt == maxAttempts - 1
            if holdingOff {
                self.engine.exclusiveBlockers.add(1, ordering: .sequentiallyConsistent)
                while self.engine.exclusive.load(ordering: .sequentiallyConsistent) != 0 {
                    usleep(100)
                }
            }
            defer {
                if holdingOff { self.engine.exclusiveBlockers.subtract(1, ordering: .sequentiallyConsistent) }
            }
            let exclusiveRuns = self.engine.exclusiveRunCount
            let epoch = self.engine.currentEpoch
            while self.engine.closedEpoch() < epoch {
                usleep(100)
            }
            let number: UInt64
            do throws(LogError) {
                try log.flush(fsync: log.policy != .no, through: epoch)
                number = try log.rotate()
            } catch {
                throw .log(error)
            }
            let bound = self.engine.slots.maxLastTID()
            let writer: CheckpointWriter
            do throws(LogError) {
                writer = try CheckpointWriter(directory: log.directory, number: number)
            } catch {
                throw .log(error)
            }
            var buffer = RecordBuffer(capacity: 4096)
            defer { buffer.deallocate() }
            var failure: LogError? = nil
            buffer.appendCheckpoint(firstSegment: number)
            do throws(LogError) {
                try writer.append(tid: bound, record: buffer.bytes)
            } catch {
                writer.abandon()
                throw .log(error)
            }
            var keys = 0
            for database in 0..<self.databaseCount where failure == nil {
                var cursor: UInt64 = 0
                repeat {
                    cursor = self.scanWithTIDs(database: database, cursor: cursor, count: 512) { key, entry, tid in
                        guard failure == nil else { return }
                        buffer.reset()
                        buffer.appendPut(database: database, key: key, value: entry.value, expiresAt: entry.expiresAt)
                        do throws(LogError) {
                            try writer.append(tid: tid, record: buffer.bytes)
                            keys += 1
                        } catch {
                            failure = error
                        }
                    }
                } while cursor != 0 && failure == nil
            }
            if let failure {
                writer.abandon()
                throw .log(failure)
            }
            if self.engine.exclusiveRunCount != exclusiveRuns {
                writer.abandon()
                continue
            }
            do throws(LogError) {
                try writer.finish()
                report.removedBytes = try CheckpointFiles.removeCovered(directory: log.directory, below: number)
            } catch {
                throw .log(error)
            }
            report.path = writer.path
            report.firstSegment = number
            report.keys = keys
            report.bytes = writer.bytesWritten
            return report
        }
        throw .keptChanging(attempts: maxAttempts)
    }
}
