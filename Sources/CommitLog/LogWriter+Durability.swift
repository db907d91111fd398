#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension LogWriter {
    /// The durable point published by the latest successful flush.
    package var durable: DurablePoint {
        self.progress.withLock { $0.durable }
    }

    /// The durable epoch, read without a lock (for polling from event loops).
    package var durableEpoch: UInt64 {
        self.durableEpochValue.load(ordering: .acquiring)
    }

    /// Starts the background flusher thread (a pthread): it flushes every `flushInterval`, and at once when woken
    /// by `requestFlush()`, by a waiter, or (under `.always`) by an append to an empty lane; it syncs unless the
    /// policy is `.no`, and flushes through `closedEpoch`. A second call does nothing.
    ///
    /// - Throws: `LogError.io(.startThread…)` when the thread cannot be created; `LogError.writerClosed`.
    package func startFlusher() throws(LogError) {
        guard !self.isClosed.load(ordering: .acquiring) else { throw .writerClosed }
        try self.flusherThread.withLock { (thread) throws(LogError) in
            guard thread == nil else { return }
            self.progress.withLock { $0.stopping = false }
            switch POSIXThread.start({ [self] in self.runFlusher() }) {
            case .success(let started): thread = started
            case .failure(let error): throw .io(.startThread, path: self.directory, errno: error.errno)
            }
            self.flusherRunning.store(true, ordering: .releasing)
        }
    }

    /// Wakes the flusher thread for a flush now (no effect without one). The engine calls it when it closes an
    /// epoch that has waiters.
    package func requestFlush() {
        self.progress.withLockBroadcasting { $0.flushRequested = true }
    }

    /// Blocks the calling thread until every record of `epoch` and below is durable (contract item 4): group
    /// commit, as every appender waiting meanwhile shares the same write and sync.
    ///
    /// With the flusher thread running it wakes it once and sleeps; without it, it flushes itself (waiters take
    /// turns, and a waiter whose records an earlier flush took finds nothing to do). While `epoch` is not closed
    /// yet it keeps waiting: the engine's closing of the epoch, and the next flush, let it through.
    ///
    /// - Parameters:
    ///   - epoch: the epoch to wait for.
    ///   - timeout: how long to wait at most; nil waits without limit.
    /// - Returns: the durable point, at or past `epoch`.
    /// - Throws: the `LogError` of a flush that failed while waiting; `LogError.timedOut` after `timeout`.
    @discardableResult
    package func waitUntilDurable(epoch: UInt64, timeout: Duration? = nil) throws(LogError) -> DurablePoint {
        let deadline = timeout.map { MonotonicClock.deadline(after: $0) }
        if self.flusherRunning.load(ordering: .acquiring) {
            return try self.waitForFlusher(epoch: epoch, deadline: deadline)
        }
        while true {
            let point = self.durable
            if point.epoch >= epoch { return point }
            let reached = try self.flush(
                fsync: self.policy != .no,
                through: self.configuration.closedEpoch?() ?? .max
            )
            if reached.epoch >= epoch { return reached }
            // The epoch is still open: sleep until another flush moves the point, or a millisecond.
            let now = MonotonicClock.now()
            if let deadline, now >= deadline { throw .timedOut(epoch: epoch) }
            _ = self.progress.wait(until: min(deadline ?? .max, now + 1_000_000)) { progress in
                progress.durable.epoch >= epoch ? true : nil
            }
        }
    }

    /// The waiting side of group commit with the flusher thread running.
    private func waitForFlusher(epoch: UInt64, deadline: UInt64?) throws(LogError) -> DurablePoint {
        var asked: UInt64? = nil
        let outcome = self.progress.wait(until: deadline) { progress -> Result<DurablePoint, LogError>? in
            if progress.durable.epoch >= epoch { return .success(progress.durable) }
            if let asked, progress.attempts > asked, let failure = progress.lastFailure { return .failure(failure) }
            if asked == nil {
                asked = progress.attempts
                progress.flushRequested = true
                self.progress.broadcast()
            }
            return nil
        }
        guard let outcome else { throw .timedOut(epoch: epoch) }
        return try outcome.get()
    }

    /// Bytes appended and not yet durable (contract item 8): INFO persistence's `aof_buffer_length`.
    package var backlogBytes: Int {
        self.backlog.load(ordering: .relaxed)
    }

    /// Whether the backlog is past `backlogLimit`: one relaxed load, for a check before every batch of commands.
    @inline(__always) package var isOverBacklog: Bool {
        self.backlogBytes > self.configuration.backlogLimit
    }

    /// Holds the calling thread while the backlog is past `backlogLimit` (contract item 8), as a Redis event loop
    /// is held in `write(2)` when its disk falls behind: the flusher is asked to flush (and, under `.everysec`, to
    /// sync, which lets it drop the blocks it keeps until then) until the backlog is back under the limit.
    ///
    /// Call it between transactions, never inside one: the flusher takes only records of epochs that every worker
    /// has left. It returns at once under the limit, and at once while the last flush failed (a full disk: the
    /// records stay queued, the server refuses writes until a flush succeeds, and the flusher retries on its own
    /// schedule); it also returns when a flush fails while it waits, when the writer closes or
    /// `releaseBacklogWaiters()` was called, and after about a second of flushes that moved nothing (records of an
    /// epoch a long transaction keeps open): the next batch waits again. Between two flushes that moved nothing it
    /// waits a millisecond before asking again, so that neither it nor the flusher spins. Without the flusher thread,
    /// it flushes once itself.
    ///
    /// - Returns: whether it waited.
    @discardableResult
    package func waitForBacklog() -> Bool {
        guard self.isOverBacklog, !self.backlogReleased.load(ordering: .relaxed) else { return false }
        guard self.progress.withLock({ $0.lastFailure == nil }) else { return false }
        let started = MonotonicClock.now()
        defer {
            self.backlogWaits.add(1, ordering: .relaxed)
            self.backlogWaitNanoseconds.add(Int(MonotonicClock.now() &- started), ordering: .relaxed)
        }
        guard self.flusherRunning.load(ordering: .acquiring) else {
            _ = try? self.flush(fsync: self.policy != .no, through: self.configuration.closedEpoch?() ?? .max)
            return true
        }
        var asked: (attempts: UInt64, backlog: Int)? = nil
        var idleFlushes = 0
        while !self.isClosed.load(ordering: .acquiring) && !self.backlogReleased.load(ordering: .relaxed) {
            var pause = false
            let done = self.progress.wait(until: MonotonicClock.deadline(after: .milliseconds(10))) {
                progress -> Bool? in
                if !self.isOverBacklog || progress.stopping || self.backlogReleased.load(ordering: .relaxed) {
                    return true
                }
                if let last = asked, progress.attempts > last.attempts {
                    if progress.lastFailure != nil { return true }
                    // A flush finished and the backlog is still past the limit.
                    if self.backlogBytes >= last.backlog {
                        idleFlushes += 1
                        if idleFlushes >= 1_000 { return true }
                        pause = true
                        return false
                    }
                    idleFlushes = 0
                }
                if asked.map({ progress.attempts > $0.attempts }) ?? true {
                    asked = (progress.attempts, self.backlogBytes)
                    progress.flushRequested = true
                    self.progress.broadcast()
                }
                return nil
            }
            if done == true { break }
            if pause {
                // The last flush moved nothing (records of an epoch still open): ask again a millisecond later.
                usleep(1_000)
                asked = nil
            }
        }
        return true
    }

    /// Lets every caller of `waitForBacklog` go on, now and from now on: called at shutdown, before the server
    /// waits for its event loops, which may be held there by a stalled disk.
    package func releaseBacklogWaiters() {
        self.backlogReleased.store(true, ordering: .relaxed)
        self.progress.broadcast()
    }

    /// Stops the flusher thread, flushes and syncs what is left (whatever the policy), and closes the files.
    /// Appends fail from the moment it is called. If the last flush fails, it throws and the files stay open, so
    /// that `close()` can be called again.
    ///
    /// - Throws: the final flush's `LogError`.
    package func close() throws(LogError) {
        self.isClosed.store(true, ordering: .releasing)
        self.stopFlusher()
        guard !self.withIO({ $0.closed }) else { return }
        try self.flush(fsync: true)
        self.withIO { io in
            if io.fd >= 0 { POSIX.close(io.fd) }
            POSIX.close(io.directoryFD)
            io.fd = -1
            io.directoryFD = -1
            io.closed = true
        }
    }

    /// Asks the flusher thread to stop and joins it.
    private func stopFlusher() {
        let thread = self.flusherThread.withLock { thread -> pthread_t? in
            defer { thread = nil }
            return thread
        }
        guard let thread else { return }
        self.progress.withLockBroadcasting { $0.stopping = true }
        pthread_join(thread, nil)
        self.flusherRunning.store(false, ordering: .releasing)
    }

    /// The flusher thread's loop: sleep until woken or the interval passes, flush, repeat until stopped.
    ///
    /// With a `writeInterval`, `.everysec` and `.no` hand records to the kernel that often (a crash of the process
    /// alone then loses at most that much), and `.everysec` syncs once `flushInterval` has passed since its last
    /// sync or when a waiter asks.
    private func runFlusher() {
        var waiting = false
        var lastSync = MonotonicClock.now()
        let syncEvery = UInt64(MonotonicClock.nanoseconds(self.configuration.flushInterval))
        while true {
            // Under `.always`, records that wait for their epoch to close are retried soon, not a second later.
            let interval =
                waiting
                ? self.configuration.closeRetryInterval
                : (self.configuration.writeInterval ?? self.configuration.flushInterval)
            let deadline = MonotonicClock.deadline(after: interval)
            var requested = false
            let stop =
                self.progress.wait(until: deadline) { progress -> Bool? in
                    if progress.stopping { return true }
                    if progress.flushRequested {
                        progress.flushRequested = false
                        requested = true
                        return false
                    }
                    return nil
                } ?? false
            if stop { return }
            let now = MonotonicClock.now()
            let fsync: Bool
            switch self.policy {
            case .always: fsync = true
            case .everysec: fsync = requested || now &- lastSync >= syncEvery
            case .no: fsync = false
            }
            do {
                try self.flushOnFlusher(fsync: fsync, through: self.configuration.closedEpoch?() ?? .max)
                if fsync { lastSync = now }
                waiting = self.policy == .always && self.hasBufferedRecords
            } catch {
                waiting = false
                self.configuration.onFlushError?(error)
            }
        }
    }
}

/// A plain pthread, not a Swift task or a dispatch queue's thread: for loops that block in system calls (the log's
/// `fdatasync`, the server's `sigwait`) without occupying a shared pool.
package enum POSIXThread {
    /// Starts a joinable thread running `body`.
    ///
    /// - Returns: the thread, or `pthread_create`'s error number.
    package static func start(_ body: @escaping @Sendable () -> Void) -> Result<pthread_t, POSIXThreadError> {
        let box = Unmanaged.passRetained(Box(body))
        var thread = pthread_t()
        let result = pthread_create(
            &thread,
            nil,
            { raw in
                let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
                box.body()
                return nil
            },
            box.toOpaque()
        )
        guard result == 0 else {
            box.release()
            return .failure(POSIXThreadError(errno: result))
        }
        return .success(thread)
    }

    final class Box: Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
}

/// Why `POSIXThread.start` failed: `pthread_create`'s error number.
package struct POSIXThreadError: Error {
    package var errno: Int32
}
