import Synchronization

/// One worker's shared state: its pin word and its counters, alone on its cache lines.
///
/// Only the owning worker writes a slot (except `state`, which the exclusive gate and epoch advance read); anyone
/// may read the counters, which are summed for `INFO`.
package struct _WorkerSlot: ~Copyable {
    /// `epoch << 1 | 1` while pinned, 0 while not.
    let state: Atomic<UInt64>
    /// True while a worker owns the slot.
    let active: Atomic<Bool>
    let commits: Atomic<UInt64>
    let aborts: Atomic<UInt64>
    let retries: Atomic<UInt64>
    let fallbacks: Atomic<UInt64>
    let exclusiveRuns: Atomic<UInt64>
    let watchFailures: Atomic<UInt64>
    /// Expired values removed because a read found them (the sweep's are counted by its caller).
    let expiredOnAccess: Atomic<UInt64>
    /// WATCH tokens taken by this worker and not yet released (another worker may release them).
    let watches: Atomic<Int>
    /// Bytes allocated minus bytes freed by this worker.
    let memory: Atomic<Int>
    /// The worker's last TID, read by exclusive transactions to stamp theirs above every other.
    let lastTID: Atomic<UInt64>
}

/// The array of worker slots, each on its own 128-byte stride so that workers never share a cache line.
struct WorkerSlots: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let count: Int
    static let stride = max(128, (MemoryLayout<_WorkerSlot>.stride + 63) & ~63)
    /// One past the highest slot ever activated: scans stop there.
    let highWater: UnsafeMutablePointer<Atomic<Int>>

    init(count: Int) {
        self.count = count
        self.base = UnsafeMutableRawPointer.allocate(byteCount: count * WorkerSlots.stride, alignment: 128)
        for i in 0..<count {
            (self.base + i * WorkerSlots.stride).bindMemory(to: _WorkerSlot.self, capacity: 1).initialize(
                to: _WorkerSlot(
                    state: Atomic(0),
                    active: Atomic(false),
                    commits: Atomic(0),
                    aborts: Atomic(0),
                    retries: Atomic(0),
                    fallbacks: Atomic(0),
                    exclusiveRuns: Atomic(0),
                    watchFailures: Atomic(0),
                    expiredOnAccess: Atomic(0),
                    watches: Atomic(0),
                    memory: Atomic(0),
                    lastTID: Atomic(0)
                )
            )
        }
        self.highWater = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: 1)
        self.highWater.initialize(to: Atomic(0))
    }

    func deallocate() {
        for i in 0..<self.count {
            _ = self[i].move()
        }
        self.base.deallocate()
        _ = self.highWater.move()
        self.highWater.deallocate()
    }

    @inline(__always) subscript(index: Int) -> UnsafeMutablePointer<_WorkerSlot> {
        (self.base + index * WorkerSlots.stride).assumingMemoryBound(to: _WorkerSlot.self)
    }

    func activate(_ index: Int) {
        self[index].pointee.active.store(true, ordering: .sequentiallyConsistent)
        var high = self.highWater.pointee.load(ordering: .relaxed)
        while high < index + 1 {
            let (done, actual) = self.highWater.pointee.compareExchange(
                expected: high,
                desired: index + 1,
                ordering: .sequentiallyConsistent
            )
            if done { break }
            high = actual
        }
    }

    func deactivate(_ index: Int) {
        self[index].pointee.state.store(0, ordering: .sequentiallyConsistent)
        self[index].pointee.active.store(false, ordering: .sequentiallyConsistent)
    }

    /// True when every pinned worker is pinned at `epoch`.
    func allPinnedAt(_ epoch: UInt64) -> Bool {
        let high = self.highWater.pointee.load(ordering: .sequentiallyConsistent)
        for i in 0..<high {
            let state = self[i].pointee.state.load(ordering: .sequentiallyConsistent)
            if state & 1 == 1 && state >> 1 != epoch { return false }
        }
        return true
    }

    /// The lowest epoch any worker is pinned at, or `.max` when none is pinned.
    func lowestPinnedEpoch() -> UInt64 {
        let high = self.highWater.pointee.load(ordering: .sequentiallyConsistent)
        var lowest = UInt64.max
        for i in 0..<high {
            let state = self[i].pointee.state.load(ordering: .sequentiallyConsistent)
            if state & 1 == 1 { lowest = min(lowest, state >> 1) }
        }
        return lowest
    }

    /// Waits until no worker but `except` is pinned (the exclusive gate's drain).
    func waitUntilUnpinned(except: Int) {
        let high = self.highWater.pointee.load(ordering: .sequentiallyConsistent)
        for i in 0..<high where i != except {
            var spins = 0
            while self[i].pointee.state.load(ordering: .sequentiallyConsistent) & 1 == 1 {
                Backoff.pause(&spins)
            }
        }
    }

    /// The largest TID any worker has committed.
    func maxLastTID() -> UInt64 {
        let high = self.highWater.pointee.load(ordering: .sequentiallyConsistent)
        var result: UInt64 = 0
        for i in 0..<high {
            result = max(result, self[i].pointee.lastTID.load(ordering: .relaxed))
        }
        return result
    }

    /// The counters of every slot, summed.
    func sum() -> EngineStatistics {
        var stats = EngineStatistics()
        for i in 0..<self.count {
            let slot = self[i]
            stats.commits += slot.pointee.commits.load(ordering: .relaxed)
            stats.aborts += slot.pointee.aborts.load(ordering: .relaxed)
            stats.retries += slot.pointee.retries.load(ordering: .relaxed)
            stats.fallbacks += slot.pointee.fallbacks.load(ordering: .relaxed)
            stats.exclusiveRuns += slot.pointee.exclusiveRuns.load(ordering: .relaxed)
            stats.watchFailures += slot.pointee.watchFailures.load(ordering: .relaxed)
            stats.expiredOnAccess += slot.pointee.expiredOnAccess.load(ordering: .relaxed)
            stats.usedMemory += slot.pointee.memory.load(ordering: .relaxed)
        }
        return stats
    }
}

/// The engine's counters, as `INFO` will report them.
package struct EngineStatistics: Sendable, Equatable {
    /// Transactions committed (read-only ones included).
    package var commits: UInt64 = 0
    /// Attempts that failed validation or met a removed cell; each is re-run invisibly.
    package var aborts: UInt64 = 0
    /// Re-runs of a transaction body.
    package var retries: UInt64 = 0
    /// Transactions that gave up optimism and locked their declared keys up front.
    package var fallbacks: UInt64 = 0
    /// Exclusive transactions (FLUSHDB, FLUSHALL, SWAPDB).
    package var exclusiveRuns: UInt64 = 0
    /// Transactions refused because a watched key changed.
    package var watchFailures: UInt64 = 0
    /// Expired keys removed because a command read them (Redis's lazy expiry).
    package var expiredOnAccess: UInt64 = 0
    /// Bytes allocated for cells, values and index tables, not yet freed.
    package var usedMemory: Int = 0
    /// Keys per database.
    package var keysPerDatabase: [Int] = []
    /// The global epoch.
    package var epoch: UInt64 = 0

    package init() {}
}
