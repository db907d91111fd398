import CommitLog
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A source of wall-clock time in Unix milliseconds, injectable so that tests can drive expiry by hand.
package protocol EngineClock: Sendable {
    /// The current time in Unix milliseconds.
    func nowMilliseconds() -> Int64
}

/// The system's real-time clock.
package struct SystemClock: EngineClock {
    package init() {}

    package func nowMilliseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }
}

/// The software-transactional-memory engine: the databases, their key indexes, the workers and the epochs.
///
/// Command code runs every command as a transaction on a `Worker` (one per thread). The engine itself holds what
/// the workers share: the database table (changed only by exclusive transactions), the global epoch that both
/// stamps TIDs and drives reclamation, the exclusive gate, and one slot per worker for its pin state and counters.
/// Nothing here is a global lock on the command path: a transaction touches only the cells of its keys, its
/// worker's slot, and (to insert or remove a key) one index shard's lock.
package final class TransactionEngine: @unchecked Sendable {
    /// What the engine is built with.
    package struct Configuration: Sendable {
        /// Logical databases (`SELECT 0..databases-1`).
        package var databases: Int = 16
        /// Workers that may exist at once (event loops, tool threads, test threads).
        package var maxWorkers: Int = 256
        /// Optimistic runs of a multi-key body before it takes its declared keys' locks up front.
        package var optimisticAttempts: Int = 3
        /// The source of time for expiry.
        package var clock: any EngineClock = SystemClock()
        /// The hash seed; fixed for reproducible tests, random otherwise.
        package var hashSeed: UInt64 = UInt64.random(in: .min ... .max)
        /// Whether commits build their record of effects (`Committed.record`, what the log appends). A server
        /// without a log turns it off, as Redis builds no AOF buffer when `appendonly` is `no`.
        package var recordsEffects = true

        package init() {}
    }

    package let configuration: Configuration
    /// `SELECT` number to database. Written only inside an exclusive transaction.
    let databases: UnsafeMutablePointer<Database>
    /// Bumped for both database numbers by SWAPDB, so WATCH tokens on them fail.
    let generations: UnsafeMutablePointer<Atomic<UInt64>>
    /// The global epoch: stamps TIDs (high bits) and orders reclamation.
    let epoch = Atomic<UInt64>(1)
    /// 1 while an exclusive transaction runs or waits for the others to drain.
    let exclusive = Atomic<Int>(0)
    /// Checkpoints holding exclusive transactions off (a Dekker pair with `exclusive`: an exclusive transaction
    /// sets `exclusive`, then backs off if it sees a blocker; a blocker is set, then waits for `exclusive` to clear).
    let exclusiveBlockers = Atomic<Int>(0)
    let slots: WorkerSlots
    let freeSlots: LockedValue<[Int]>
    /// Retired items of workers that went away, freed by whichever worker collects next.
    let orphans = LockedValue<[Retired]>([])
    let orphanCount = Atomic<Int>(0)
    /// Bytes allocated by the engine itself (empty databases), outside any worker.
    let baseMemory = Atomic<Int>(0)
    /// While true, a read that finds a value expired treats it as absent but leaves it in place (the server sets
    /// it during CLIENT PAUSE, as Redis's `expireIfNeeded` deletes nothing while clients are paused).
    package let keepsExpiredValues = Atomic<Bool>(false)

    /// The commit log every commit's record is appended to; nil when persistence is off. Set by `attach(log:)`
    /// before any worker is made.
    private(set) var log: LogWriter? = nil
    /// Records the log refused (it was closed, or a record was too large); the commits themselves stand.
    let logAppendFailures = Atomic<Int>(0)

    /// Low bits of a TID that count commits within an epoch.
    package static let tidSequenceBits: UInt64 = 20

    package init(configuration: Configuration = Configuration()) {
        precondition(configuration.databases > 0, "at least one database")
        self.configuration = configuration
        self.databases = UnsafeMutablePointer<Database>.allocate(capacity: configuration.databases)
        self.generations = UnsafeMutablePointer<Atomic<UInt64>>.allocate(capacity: configuration.databases)
        for i in 0..<configuration.databases {
            (self.databases + i).initialize(to: Database.allocate())
            (self.generations + i).initialize(to: Atomic(0))
        }
        self.slots = WorkerSlots(count: configuration.maxWorkers)
        self.freeSlots = LockedValue(Array((0..<configuration.maxWorkers).reversed()))
        self.baseMemory.store(configuration.databases * Database.emptyAllocationSize, ordering: .relaxed)
    }

    deinit {
        for item in self.orphans.withLock({ $0 }) {
            _ = item.item.free()
        }
        for i in 0..<self.configuration.databases {
            _ = self.databases[i].deallocateAll()
            _ = (self.generations + i).move()
        }
        self.databases.deallocate()
        self.generations.deallocate()
        self.slots.deallocate()
    }

    /// A new worker for the calling thread. Each thread that runs transactions needs its own.
    package func makeWorker() -> Worker {
        guard let index = self.freeSlots.withLock({ $0.popLast() }) else {
            preconditionFailure("more than \(self.configuration.maxWorkers) workers")
        }
        self.slots.activate(index)
        return Worker(engine: self, slotIndex: index)
    }

    func releaseSlot(_ index: Int, limbo: [Retired]) {
        if !limbo.isEmpty {
            self.orphans.withLock { $0.append(contentsOf: limbo) }
            self.orphanCount.add(limbo.count, ordering: .relaxed)
        }
        self.slots.deactivate(index)
        self.freeSlots.withLock { $0.append(index) }
    }

    /// Sends every later commit's record to `log`, tagged with its TID and the epoch in the TID's high bits.
    ///
    /// Call it once. Workers read the log when they are made: one made before must be handed it with
    /// `Worker.useLog` on its own thread (the server's loop workers are, once recovery is done), and must commit
    /// nothing meanwhile that the log should hold. The writer's `closedEpoch` should be this engine's
    /// `closedEpoch()`.
    package func attach(log: LogWriter) {
        precondition(self.log == nil, "a log is attached already")
        self.log = log
    }

    /// The highest epoch no record will be appended to any more: the log writer flushes through it.
    ///
    /// Workers append a commit's record before they unpin, with the epoch of its TID, which is at least the epoch
    /// they pinned. So an epoch is closed once the global epoch has passed it and no worker is still pinned at it or
    /// below. The call also tries to advance the epoch, so that a writer waiting for an epoch moves it along.
    /// - Complexity: O(w) in the workers.
    package func closedEpoch() -> UInt64 {
        self.tryAdvanceEpoch()
        let global = self.epoch.load(ordering: .sequentiallyConsistent)
        let pinned = self.slots.lowestPinnedEpoch()
        return min(global, pinned) - 1
    }

    /// Exclusive transactions run so far (a checkpoint starts again when one ran during its scan).
    package var exclusiveRunCount: UInt64 {
        self.slots.sum().exclusiveRuns
    }

    /// Records the log refused since start.
    package var logFailures: Int { self.logAppendFailures.load(ordering: .relaxed) }

    /// The current global epoch.
    package var currentEpoch: UInt64 { self.epoch.load(ordering: .sequentiallyConsistent) }

    /// Advances the global epoch if every pinned worker has seen the current one.
    ///
    /// Workers call this as they retire memory; a timer (or the log writer) may call it too.
    /// - Returns: the epoch after the call.
    @discardableResult
    package func tryAdvanceEpoch() -> UInt64 {
        let current = self.epoch.load(ordering: .sequentiallyConsistent)
        if !self.slots.allPinnedAt(current) { return current }
        let (done, actual) = self.epoch.compareExchange(
            expected: current,
            desired: current + 1,
            ordering: .sequentiallyConsistent
        )
        return done ? current + 1 : actual
    }

    /// Frees orphaned retired items whose grace period has passed. Returns the bytes freed.
    func collectOrphans(globalEpoch: UInt64) -> Int {
        guard self.orphanCount.load(ordering: .relaxed) > 0 else { return 0 }
        let ready: [Retired] = self.orphans.withLock { list in
            let split = list.partition { $0.epoch + 2 <= globalEpoch }
            let ready = Array(list[split...])
            list.removeSubrange(split...)
            return ready
        }
        self.orphanCount.subtract(ready.count, ordering: .relaxed)
        var freed = 0
        for item in ready {
            freed += item.item.free()
        }
        return freed
    }

    /// WATCH tokens held, over all workers; exact while no worker is pinned (inside an exclusive transaction).
    func watchCount() -> Int {
        var count = 0
        for i in 0..<self.slots.count {
            count += self.slots[i].pointee.watches.load(ordering: .relaxed)
        }
        return count
    }

    /// Expired keys that reads have removed, over all workers (INFO's `expired_keys` adds the sweep's).
    package var expiredOnAccess: UInt64 { self.slots.sum().expiredOnAccess }

    /// Bytes allocated for cells, values and index tables (INFO's used_memory), summed over the workers: exact but
    /// for what each worker has not yet published (at most 64 of its commands' worth).
    package var usedMemory: Int {
        var total = self.baseMemory.load(ordering: .relaxed)
        for i in 0..<self.slots.count { total += self.slots[i].pointee.memory.load(ordering: .relaxed) }
        return total
    }

    /// Engine-wide counters, summed over the workers' slots (key counts come from `Worker.statistics()`).
    func slotStatistics() -> EngineStatistics {
        var stats = self.slots.sum()
        stats.usedMemory += self.baseMemory.load(ordering: .relaxed)
        stats.epoch = self.currentEpoch
        return stats
    }
}
