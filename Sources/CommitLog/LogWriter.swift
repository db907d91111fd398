import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How far the log is durable.
package struct DurablePoint: Hashable, Sendable {
    /// Every record appended with an epoch at or below this one is durable (`LogWriter`, contract item 4); 0 when
    /// nothing is.
    package var epoch: UInt64
    /// The largest TID among durable records; 0 when none is.
    package var tid: UInt64

    /// A point from its parts.
    package init(epoch: UInt64, tid: UInt64) {
        self.epoch = epoch
        self.tid = tid
    }
}

/// Appends records to a log directory: buffers them per lane, frames them into blocks, writes and syncs them, and
/// publishes how far the log is durable.
///
/// Contract:
/// 1. **Appends** come from any thread. A record goes into one of `laneCount` lanes (chosen by the calling thread,
///    or by `lane:`, which the engine sets to its worker's index), each behind its own lock, so appenders on
///    different lanes never contend. An append copies the bytes and does no I/O.
/// 2. **Flushes** run one at a time (`flush(fsync:through:)`, from the flusher thread, from a waiter, or from the
///    caller). A flush takes every buffered record whose epoch is at or below `through`, orders them by epoch then
///    TID, frames them into blocks (one epoch per block, at most `maxBlockPayload` bytes of records unless a single
///    record is larger, LZ4 when that is smaller) and writes them with `write(2)`, then syncs when asked.
/// 3. **Failures.** When a write fails (ENOSPC, EIO…), the flush cuts the partial write back off the file, keeps
///    the framed blocks, and throws `LogError.io`; the next flush writes them again, so no record is lost or
///    written twice. When `fdatasync` fails, the kernel may already have dropped the dirty pages, so the flush also
///    cuts the unsynced blocks off and writes them again next time. If even the cut fails, the next flush retries
///    it before anything else; a crash meanwhile leaves a torn tail, which recovery cuts.
/// 4. **Durability.** After a flush that wrote and synced everything it took, the durable epoch becomes `through`
///    (when flushing everything, the highest epoch written), but never reaches an epoch that some lane still holds
///    records of. A record appended later with an epoch at or below the durable epoch is still written by the next
///    flush, but waiters on its epoch are not held for it: callers must append to an epoch only while it is open.
///    The engine keeps this rule by flushing only through epochs every worker has left (`closedEpoch`). Under the
///    `.no` policy "durable" means handed to the kernel.
/// 5. **Segments.** The writer never appends to an existing segment: its first write creates the next number.
///    It starts another segment when the next block would take the current one past `segmentSize`, syncing the old
///    one first, and syncs the directory before the first sync of a new segment. Open a writer only on a recovered
///    log: `init` refuses a last segment with a torn tail.
/// 6. **Group commit.** `waitUntilDurable(epoch:)` returns once the epoch is durable; all the records buffered
///    meanwhile share one write and one sync. With the flusher thread running, waiters only wake it; without it,
///    waiters take turns flushing.
/// 7. **Shutdown.** `close()` stops the flusher thread, then flushes and syncs what is left. A writer dropped
///    without `close()` loses its buffered records (and a running flusher thread keeps it alive).
/// 8. **Backpressure.** The backlog is the bytes appended and not yet durable: records in the lanes, and blocks
///    framed but not yet written or synced. Appends never wait; `waitForBacklog()`, called by appenders between
///    transactions, holds them while the backlog is past `backlogLimit`, so that a disk slower than the commits
///    slows the commits down instead of filling memory.
package final class LogWriter: Sendable {
    /// When the log is synced to disk, as Redis's `appendfsync`.
    package enum FsyncPolicy: String, Hashable, Sendable, CaseIterable {
        /// Sync every flush; replies wait for their epoch to be durable. Appending to an empty lane wakes the
        /// flusher thread.
        case always
        /// The flusher thread writes and syncs every `flushInterval` (one second by default); replies do not wait.
        case everysec
        /// The flusher thread writes every `flushInterval` and never syncs (except when a segment is finished and at
        /// `close()`); the kernel decides when data reaches the disk.
        case no
    }

    /// How a writer behaves.
    package struct Configuration: Sendable {
        /// When to sync.
        package var policy: FsyncPolicy = .everysec
        /// The size past which the writer starts a new segment (64 MiB).
        package var segmentSize = 64 << 20
        /// The most record bytes in one block's payload (1 MiB); a larger record gets a block of its own.
        package var maxBlockPayload = 1 << 20
        /// Whether to try LZ4 on each block's payload.
        package var compression = true
        /// How many append buffers; appenders contend only within a lane.
        package var laneCount = 16
        /// How often the flusher thread flushes when nothing wakes it earlier.
        package var flushInterval: Duration = .seconds(1)
        /// Under `.everysec` and `.no`: how often the flusher thread writes to the kernel between syncs; nil writes
        /// only every `flushInterval`.
        package var writeInterval: Duration? = nil
        /// The highest epoch no record will be appended to any more; the flusher thread and waiters flush through
        /// it. Nil means "every buffered record" (for tools and tests whose appends are finished before they flush).
        package var closedEpoch: (@Sendable () -> UInt64)? = nil
        /// Called after a flush moves the durable point, on the flushing thread, in order. It must not call
        /// `flush`, `waitUntilDurable` or `close`.
        package var onDurable: (@Sendable (DurablePoint) -> Void)? = nil
        /// Called when a flush of the flusher thread fails (it retries at its next turn).
        package var onFlushError: (@Sendable (LogError) -> Void)? = nil
        /// The lowest number the next segment may get: after a checkpoint covering segments below `n` (whose
        /// segments may all be gone), the log goes on at `n` at least.
        package var firstSegment: UInt64 = 1
        /// Under `.always`, how soon the flusher thread tries again while records wait for their epoch to close.
        package var closeRetryInterval: Duration = .microseconds(100)
        /// The backlog past which `waitForBacklog()` holds its caller (contract item 8): 256 MiB, the records of
        /// about a second of a fast server's commits.
        package var backlogLimit = 256 << 20
        /// Test hook: system calls to fail on purpose.
        package var _faults: _LogFaults? = nil

        /// The defaults: `everysec`, 64 MiB segments, 1 MiB blocks, LZ4, 16 lanes.
        package init() {}
    }

    /// Counters since the writer was opened.
    package struct Statistics: Hashable, Sendable {
        /// Calls to `flush`, failed ones included.
        package var flushes = 0
        /// Flushes that threw.
        package var failedFlushes = 0
        /// Records written (a record written again after a failure counts again).
        package var recordsWritten = 0
        /// Blocks written.
        package var blocksWritten = 0
        /// Bytes written.
        package var bytesWritten = 0
        /// Successful `fdatasync` calls on segments.
        package var syncs = 0
        /// Segment files created.
        package var segmentsCreated = 0
        /// Record bytes framed into blocks, before compression, and the payload bytes stored for them.
        package var payloadBytes = 0
        package var storedPayloadBytes = 0
        /// Calls of `waitForBacklog()` that had to wait, and the seconds they waited in all.
        package var backlogWaits = 0
        package var backlogWaitSeconds = 0.0

        /// All zero.
        package init() {}
    }

    /// The log directory.
    package let directory: String
    /// The configuration it was opened with.
    package let configuration: Configuration

    let lanes: [Lane]
    /// The I/O state. Take it through `withIO`, except on the flusher thread.
    let io: Locked<WriterIO>
    /// Threads other than the flusher inside `withIO`: waiting for the I/O lock or holding it.
    let ioCallers = Atomic<Int>(0)
    let progress: ConditionLock<Progress>
    let isClosed = Atomic<Bool>(false)
    /// The fsync policy in force (`configuration.policy` at open, changed by `setPolicy`), as its index in
    /// `FsyncPolicy.allCases`.
    let policyIndex: Atomic<Int>
    let flusherRunning = Atomic<Bool>(false)
    let durableEpochValue = Atomic<UInt64>(0)
    let flusherThread = Locked<pthread_t?>(nil)
    /// The backlog (contract item 8): record bytes in the lanes plus the bytes of `io.output` (blocks framed and
    /// not yet retired). One counter, so that a reader never sees records half moved from the lanes to a block.
    let backlog = Atomic<Int>(0)
    /// `waitForBacklog()`'s counters: calls that waited, and nanoseconds waited.
    let backlogWaits = Atomic<Int>(0)
    let backlogWaitNanoseconds = Atomic<Int>(0)
    /// Set by `releaseBacklogWaiters()`: `waitForBacklog` holds no one any more (shutdown).
    let backlogReleased = Atomic<Bool>(false)

    /// Opens the log in `directory` for appending, creating the directory if needed.
    ///
    /// It checks the last segment (reading it whole) and starts no thread; call `startFlusher()` for the
    /// background flusher.
    ///
    /// - Throws: `LogError.tornTailNotCut` when the last segment ends in a torn tail; `LogError.corruption` when it
    ///   is damaged; `LogError.io` when the directory cannot be created or read.
    /// - Complexity: O(n) in the last segment's size.
    package init(directory: String, configuration: Configuration = Configuration()) throws(LogError) {
        precondition(configuration.segmentSize > 0, "segmentSize must be positive")
        precondition(
            configuration.maxBlockPayload > 0 && configuration.maxBlockPayload <= LogFormat.maxRecordLength,
            "maxBlockPayload must be positive and at most LogFormat.maxRecordLength"
        )
        precondition(configuration.laneCount > 0, "laneCount must be positive")
        try POSIX.makeDirectory(directory)
        let segments = try SegmentDirectory.list(directory)
        if let last = segments.last, last.size > 0 {
            let reader = try LogReader(directory: directory, segments: [last], allowTruncation: false)
            while try reader.next() != nil {}
            if case .tornTail(let tail) = reader.end {
                throw .tornTailNotCut(file: tail.file, offset: tail.offset)
            }
        }
        let directoryFD = try POSIX.open(directory, flags: O_RDONLY | O_DIRECTORY)
        self.directory = directory
        self.configuration = configuration
        self.lanes = (0..<configuration.laneCount).map { _ in Lane() }
        let next = max((segments.last?.number ?? 0) &+ 1, configuration.firstSegment)
        self.io = Locked(WriterIO(directoryFD: directoryFD, nextSegment: next))
        self.progress = ConditionLock(Progress())
        self.policyIndex = Atomic(FsyncPolicy.allCases.firstIndex(of: configuration.policy)!)
    }

    deinit {
        self.io.withLock { io in
            if io.fd >= 0 { POSIX.close(io.fd) }
            if io.directoryFD >= 0 { POSIX.close(io.directoryFD) }
            io.fd = -1
            io.directoryFD = -1
        }
    }

    /// Buffers one record; no I/O. The next flush whose bound covers `epoch` writes it.
    ///
    /// - Parameters:
    ///   - record: the record's bytes, copied.
    ///   - tid: its transaction id.
    ///   - epoch: its epoch, which must still be open (contract item 4).
    ///   - lane: the buffer to use (the engine passes its worker's index); nil picks one by the calling thread.
    /// - Throws: `LogError.recordTooLarge` past `LogFormat.maxRecordLength`; `LogError.writerClosed` after `close()`.
    /// - Complexity: amortized O(n) in the record's length.
    package func append(
        record: UnsafeRawBufferPointer,
        tid: UInt64,
        epoch: UInt64,
        lane: Int? = nil
    ) throws(LogError) {
        guard record.count <= LogFormat.maxRecordLength else {
            throw .recordTooLarge(length: record.count, limit: LogFormat.maxRecordLength)
        }
        guard !self.isClosed.load(ordering: .acquiring) else { throw .writerClosed }
        let count = self.lanes.count
        let index = lane.map { ($0 % count + count) % count } ?? LogWriter.threadLane(count: count)
        let wasEmpty = self.lanes[index].buffer.withLock { buffer in
            // Counted under the lane's lock, so that no flush can take (and subtract) the record first.
            self.backlog.add(record.count, ordering: .relaxed)
            return buffer.append(record, tid: tid, epoch: epoch)
        }
        if wasEmpty, self.policy == .always, self.flusherRunning.load(ordering: .relaxed) {
            self.requestFlush()
        }
    }

    /// Buffers one record; see `append(record:tid:epoch:lane:)`.
    ///
    /// - Complexity: amortized O(n) in the record's length.
    package func append(record: [UInt8], tid: UInt64, epoch: UInt64, lane: Int? = nil) throws(LogError) {
        let failure = record.withUnsafeBytes { bytes -> LogError? in
            do throws(LogError) {
                try self.append(record: bytes, tid: tid, epoch: epoch, lane: lane)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }

    /// The fsync policy in force.
    package var policy: FsyncPolicy {
        FsyncPolicy.allCases[self.policyIndex.load(ordering: .relaxed)]
    }

    /// Changes the fsync policy from the next flush on (CONFIG SET appendfsync). Switching to `.always` wakes the
    /// flusher, so that records already buffered are synced soon.
    package func setPolicy(_ policy: FsyncPolicy) {
        self.policyIndex.store(FsyncPolicy.allCases.firstIndex(of: policy)!, ordering: .relaxed)
        self.requestFlush()
    }

    /// The counters so far (waits for a running flush).
    package var statistics: Statistics {
        var statistics = self.withIO { $0.statistics }
        statistics.backlogWaits = self.backlogWaits.load(ordering: .relaxed)
        statistics.backlogWaitSeconds = Double(self.backlogWaitNanoseconds.load(ordering: .relaxed)) / 1e9
        return statistics
    }

    /// The lane of the calling thread: a hash of its pthread id.
    private static func threadLane(count: Int) -> Int {
        let id = UInt64(truncatingIfNeeded: pthread_self())
        return Int((id &* 0x9E37_79B9_7F4A_7C15) >> 33) % count
    }
}

/// One append buffer and its lock.
final class Lane: Sendable {
    let buffer = Locked(LaneBuffer())
}

/// The records of one lane not yet taken by a flush: their bytes back to back, and where each lies.
struct LaneBuffer {
    struct Entry {
        var tid: UInt64
        var epoch: UInt64
        var start: Int
        var count: Int
    }

    var bytes: [UInt8] = []
    var entries: [Entry] = []
    /// The smallest and largest epoch buffered (`.max` and 0 when empty).
    var minEpoch = UInt64.max
    var maxEpoch: UInt64 = 0

    /// Adds a record; returns whether the lane was empty before.
    mutating func append(_ record: UnsafeRawBufferPointer, tid: UInt64, epoch: UInt64) -> Bool {
        let wasEmpty = self.entries.isEmpty
        self.entries.append(Entry(tid: tid, epoch: epoch, start: self.bytes.count, count: record.count))
        self.bytes.append(contentsOf: record)
        self.minEpoch = min(self.minEpoch, epoch)
        self.maxEpoch = max(self.maxEpoch, epoch)
        return wasEmpty
    }

    /// Removes and returns the records whose epoch is at most `bound`.
    ///
    /// - Complexity: O(1) when all or none qualify, else O(n) in the buffered bytes.
    mutating func take(through bound: UInt64) -> LaneBuffer {
        if self.entries.isEmpty || self.minEpoch > bound { return LaneBuffer() }
        if self.maxEpoch <= bound {
            defer { self = LaneBuffer() }
            return self
        }
        var taken = LaneBuffer()
        var kept = LaneBuffer()
        self.bytes.withUnsafeBytes { bytes in
            for entry in self.entries {
                let record = UnsafeRawBufferPointer(rebasing: bytes[entry.start..<(entry.start + entry.count)])
                if entry.epoch <= bound {
                    _ = taken.append(record, tid: entry.tid, epoch: entry.epoch)
                } else {
                    _ = kept.append(record, tid: entry.tid, epoch: entry.epoch)
                }
            }
        }
        self = kept
        return taken
    }
}

/// The writer's file state and the blocks it has framed but not yet made durable; guarded by `LogWriter.io`.
struct WriterIO {
    /// A framed block in `output`.
    struct PendingBlock {
        var start: Int
        var length: Int
        var epoch: UInt64
        var lastTID: UInt64
        var records: Int
    }

    var directoryFD: Int32
    /// The current segment, or -1 before the first write.
    var fd: Int32 = -1
    var path = ""
    var nextSegment: UInt64
    /// The current segment's size as far as the writer knows (the file offset).
    var segmentBytes: Int64 = 0
    /// Bytes were written to the current segment since its last `fdatasync`.
    var needsSync = false
    /// A segment was created since the directory's last `fsync`.
    var directoryNeedsSync = false
    /// A failed cut left bytes past this offset; cut them before writing anything.
    var repairOffset: Int64? = nil
    /// Framed blocks, back to back from offset 0.
    var output: [UInt8] = []
    var blocks: [PendingBlock] = []
    /// `blocks[0..<written]` are in the current segment, ending at `segmentBytes`, not yet synced.
    var written = 0
    /// The highest epoch and TID among blocks made durable (synced, or written under `.no`).
    var doneEpoch: UInt64 = 0
    var doneTID: UInt64 = 0
    var encoder = BlockEncoder(epoch: 0)
    var statistics = LogWriter.Statistics()
    var closed = false

    init(directoryFD: Int32, nextSegment: UInt64) {
        self.directoryFD = directoryFD
        self.nextSegment = nextSegment
    }
}

/// What waiters and the flusher thread share; guarded by `LogWriter.progress`.
struct Progress {
    var durable = DurablePoint(epoch: 0, tid: 0)
    /// Flushes finished, successful or not.
    var attempts: UInt64 = 0
    /// The error of the latest finished flush; nil if it succeeded.
    var lastFailure: LogError? = nil
    var flushRequested = false
    var stopping = false
}
