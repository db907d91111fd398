import CommitLog
import Synchronization

/// Bytes of a key, as the caller holds them. They must stay valid until the call that received them returns.
package typealias KeyBytes = UnsafeRawBufferPointer

/// A thread's handle on the engine: it runs transactions, pins epochs and reclaims memory.
///
/// One worker per thread (an event loop, a tool's thread, a test thread); a worker must never be used by two
/// threads at once. It owns everything a transaction needs on the hot path, reused from one transaction to the
/// next so that the steady state allocates nothing: the read, miss and write sets, the commit-record buffer, the
/// list of retired memory, and a slot in the engine for its pin state and counters.
package final class Worker: @unchecked Sendable {
    /// Keeps the engine alive; the hot path uses `engine`, which costs no reference counting.
    let engineOwner: TransactionEngine
    unowned(unsafe) let engine: TransactionEngine
    let slotIndex: Int
    let slot: UnsafeMutablePointer<_WorkerSlot>
    let seed: UInt64
    let clock: any EngineClock
    /// Logical databases in the engine (`SELECT 0..<databaseCount`).
    package let databaseCount: Int
    let optimisticAttempts: Int

    /// The commit log this worker appends to, if any (see `useLog`).
    var log: LogWriter?
    /// The highest epoch of a record this worker appended since `takeCommittedEpoch()` (0: none).
    var committedEpoch: UInt64 = 0

    /// While recovery replays a record: the TID its commits get (`Worker.restore`).
    var restoringTID: UInt64? = nil

    var pinDepth = 0
    /// The engine's `recordsEffects`: whether commits build their record.
    let recordsEffects: Bool
    var isExclusiveOwner = false
    var lastTID: UInt64 = 0
    var limbo: [Retired] = []
    var unpinsSinceCollect = 0
    /// Memory allocated minus freed since the last flush into the slot.
    var memoryDelta = 0
    /// The next shard the sweep visits, per database (one cursor for all would visit the same shards of each
    /// database forever when the housekeeper sweeps every database by the same number of shards).
    var sweepCursors: [Int] = []
    /// Cells whose value a read in the current pin found expired, with their database's handle (not its number: an
    /// exclusive EXEC's FLUSHDB or SWAPDB may give the number to another database before the pin ends): removed
    /// when the pin ends (`removeExpiredOnAccess`), as Redis deletes an expired key the moment a command touches it.
    var expiredOnAccess: [(cell: Cell, database: Database)] = []
    /// True while `expiredOnAccess` is not empty (one load for `unpin` to test).
    var hasExpiredOnAccess = false
    /// Where the running transaction's entries in `expiredOnAccess` start: an attempt that runs again drops only
    /// its own, not those of the commands an exclusive EXEC ran before it in the same pin.
    var expiredOnAccessMark = 0
    /// This transaction's own writes read back after their expiry had passed (made deletes): expired keys.
    var expiredOwnWrites: UInt64 = 0

    // The state of the running transaction, reused across transactions.
    var readSet: [ReadEntry] = []
    var missSet: [MissEntry] = []
    var writeSet: [WriteEntry] = []
    var writeIndex: [UInt: Int] = [:]
    var declared: [KeyBytes] = []
    /// The hashes of the keys being prefetched (`prefetch(database:keys:)`, `prefetchDeclared`).
    var prefetchHashes: [UInt64] = []
    var watches: [WatchToken] = []
    var record = RecordBuffer(capacity: 256)
    /// Where the running transaction's effects start in `record`: 0, except for transactions run inside an
    /// exclusive one, whose effects all go into the exclusive transaction's single record, in order.
    var recordBase = 0
    var attempt = 0
    /// True while the attempt holds cell locks taken up front (`.locked` mode).
    var holdsLocks = false
    /// True when the attempt met a cell it could not wait for; it will abort at commit.
    var doomed = false
    /// True once the attempt has moved a value from one key to another (`Transaction.setMoving`). Until then every
    /// value it writes is a fresh allocation, so no two entries can share one and install skips that check.
    var movedValues = false
    var now: Int64 = -1
    var databaseIndex = 0
    /// The current transaction's database, loaded while pinned (`Database.unloaded` before the first).
    var database: Database
    /// The engine's database table (the pointer is fixed; its entries may be read only while pinned). Kept here so
    /// that a read does not touch the engine object, which would cost a retain and a release.
    let databaseTable: UnsafeMutablePointer<Database>

    init(engine: TransactionEngine, slotIndex: Int) {
        self.engineOwner = engine
        self.engine = engine
        self.slotIndex = slotIndex
        self.slot = engine.slots[slotIndex]
        self.seed = engine.configuration.hashSeed
        self.clock = engine.configuration.clock
        self.databaseCount = engine.configuration.databases
        self.optimisticAttempts = engine.configuration.optimisticAttempts
        self.recordsEffects = engine.configuration.recordsEffects
        // Not `engine.databases[0]`: the table may be read only while pinned, since SWAPDB and FLUSHDB change it.
        self.database = .unloaded
        self.databaseTable = engine.databases
        self.log = engine.log
        self.readSet.reserveCapacity(16)
        self.missSet.reserveCapacity(16)
        self.writeSet.reserveCapacity(16)
        self.declared.reserveCapacity(16)
        self.prefetchHashes.reserveCapacity(64)
        self.limbo.reserveCapacity(256)
    }

    deinit {
        precondition(self.pinDepth == 0, "a worker was released while pinned")
        self.flushMemoryDelta()
        self.engine.releaseSlot(self.slotIndex, limbo: self.limbo)
        self.record.deallocate()
    }

    /// The slot number of this worker (also its stripe for striped counters).
    package var id: Int { self.slotIndex }

    /// The database for `SELECT` number `index`. Valid while pinned.
    @inline(__always) func database(at index: Int) -> Database {
        precondition(index >= 0 && index < self.databaseCount, "database index out of range")
        return self.databaseTable[index]
    }

    // MARK: Hashing

    /// The hash of `key` under this engine's seed.
    @inline(__always) package func hash(_ key: KeyBytes) -> UInt64 {
        KeyHash.hash(key, seed: self.seed)
    }

    // MARK: Epochs

    /// Pins the current epoch: until `unpin`, nothing this worker can reach is freed.
    ///
    /// Waits while an exclusive transaction holds the gate. Pins nest.
    @inline(__always) package func pin() {
        if self.pinDepth > 0 {
            self.pinDepth += 1
            return
        }
        while true {
            let epoch = self.engine.epoch.load(ordering: .relaxed)
            self.slot.pointee.state.store(epoch << 1 | 1, ordering: .sequentiallyConsistent)
            #if !arch(x86_64)
            // The pin must be visible before any load that follows (on x86-64 the store above is already a full
            // barrier); weaker architectures need the fence.
            atomicMemoryFence(ordering: .sequentiallyConsistent)
            #endif
            if self.isExclusiveOwner || self.engine.exclusive.load(ordering: .sequentiallyConsistent) == 0 {
                break
            }
            self.slot.pointee.state.store(0, ordering: .sequentiallyConsistent)
            var spins = 0
            while self.engine.exclusive.load(ordering: .sequentiallyConsistent) != 0 {
                Backoff.pause(&spins)
            }
        }
        self.pinDepth = 1
    }

    /// Ends a pin; on the outermost one, publishes counters and now and then reclaims memory.
    @inline(__always) package func unpin() {
        precondition(self.pinDepth > 0, "unpin without pin")
        self.pinDepth -= 1
        if self.pinDepth > 0 { return }
        // Still pinned in the slot: the cells the reads found are not yet reclaimed, and no exclusive transaction
        // (FLUSHDB, SWAPDB) can have moved them.
        if self.hasExpiredOnAccess {
            if self.engine.keepsExpiredValues.load(ordering: .relaxed) {
                self.forgetExpiredOnAccess()
            } else {
                self.removeExpiredOnAccess()
            }
        }
        self.slot.pointee.state.store(0, ordering: .releasing)
        self.unpinsSinceCollect += 1
        if self.limbo.count >= 256 || (self.unpinsSinceCollect >= 1024 && !self.limbo.isEmpty) {
            self.collect()
        }
        if self.memoryDelta != 0 && self.unpinsSinceCollect & 63 == 0 {
            self.flushMemoryDelta()
        }
    }

    /// Runs `body` pinned.
    @inline(__always) package func pinned<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        self.pin()
        defer { self.unpin() }
        return try body()
    }

    /// Hands `item` to reclamation: it is freed once no worker can still read it.
    @inline(__always) func retire(_ item: RetiredItem) {
        let epoch = self.engine.epoch.load(ordering: .sequentiallyConsistent)
        self.limbo.append(Retired(epoch: epoch, item: item))
    }

    /// Tries to advance the epoch and frees what has become safe. Call while not pinned.
    package func collect() {
        self.unpinsSinceCollect = 0
        let global = self.engine.tryAdvanceEpoch()
        var freed = 0
        var ready = 0
        while ready < self.limbo.count && self.limbo[ready].epoch + 2 <= global {
            ready += 1
        }
        // Retired memory is usually out of cache by now: load it all first, then free it.
        for index in 0..<ready {
            self.limbo[index].item.prefetch()
        }
        for index in 0..<ready {
            freed += self.limbo[index].item.free()
        }
        if ready > 0 {
            self.limbo.removeFirst(ready)
        }
        freed += self.engine.collectOrphans(globalEpoch: global)
        self.memoryDelta -= freed
        self.flushMemoryDelta()
    }

    /// Items retired by this worker and not yet freed.
    package var retiredCount: Int { self.limbo.count }

    // MARK: Memory accounting

    /// Counts an allocation (negative: a free) in this worker's unpublished delta, which reaches INFO's
    /// used_memory and maxmemory's check at the next reclamation, or at once past 64 KiB either way, so a run of
    /// large values cannot pass maxmemory by more than that per worker.
    @inline(__always) func accountAllocation(_ bytes: Int) {
        self.memoryDelta += bytes
        if self.memoryDelta >= 1 << 16 || self.memoryDelta <= -(1 << 16) { self.flushMemoryDelta() }
    }

    func flushMemoryDelta() {
        if self.memoryDelta != 0 {
            self.slot.pointee.memory.add(self.memoryDelta, ordering: .relaxed)
            self.memoryDelta = 0
        }
    }

    // MARK: Statistics

    /// Engine-wide counters and per-database key counts.
    package func statistics() -> EngineStatistics {
        self.flushMemoryDelta()
        var stats = self.engine.slotStatistics()
        stats.keysPerDatabase = self.pinned {
            (0..<self.databaseCount).map { self.engine.databases[$0].keyCount }
        }
        return stats
    }

    /// Keys in database `index` (Redis's DBSIZE).
    package func keyCount(database index: Int) -> Int {
        self.pinned { self.database(at: index).keyCount }
    }

    /// Keys with an expiry in database `index` (INFO keyspace's `expires`).
    package func expiresCount(database index: Int) -> Int {
        self.pinned { self.database(at: index).expiresCount }
    }

    /// Bytes a key occupies (cell, key and value), or nil if it has no live value. Like `MEMORY USAGE`.
    package func memoryUsage(database index: Int, key: KeyBytes) -> Int? {
        self.get(database: index, key: key) { entry in
            entry.map { Cell.allocationSize(keyCount: key.count) + $0.value.allocatedBytes }
        }
    }

    // MARK: Lock-free single-key read

    /// Reads one key without a transaction's bookkeeping: the path of GET, STRLEN, EXISTS of one key.
    ///
    /// `body` sees the value (valid only inside it) or nil. A read is linearizable on its own; it never locks and
    /// never aborts.
    ///
    /// The command layer's GET path calls `pin`, `_lookup` and `unpin` itself, without this generic wrapper (see
    /// `_runAttempts` for why).
    @inline(__always)
    package func get<R>(database index: Int, key: KeyBytes, _ body: (Entry?) throws -> R) rethrows -> R {
        self.pin()
        defer { self.unpin() }
        return try body(self._lookup(database: index, key: key))
    }

    /// The live entry of `key` in database `index`, or nil: `get` without its pin. The caller must be pinned.
    package func _lookup(database index: Int, key: KeyBytes) -> Entry? {
        let database = self.database(at: index)
        let hash = self.hash(key)
        let shard = database.shard(for: hash)
        while true {
            guard let cell = shard.find(key, hash: hash) else {
                return nil
            }
            let snapshot = cell.snapshot()
            if CellWord.isDead(snapshot.word) { continue }
            if CellWord.isAbsent(snapshot.word) { return nil }
            if Expiry.hasPassed(snapshot.expiresAt, now: self.clock.nowMilliseconds()) {
                self.noteExpiredOnAccess(cell, database: index)
                return nil
            }
            return Entry(value: Value(bits: snapshot.value)!, expiresAt: snapshot.expiresAt)
        }
    }
}

/// A key's live value and its absolute expiry (Unix ms, 0 for none), as a transaction sees it.
///
/// The value is valid while the worker that read it is pinned: inside the transaction body or `get`'s closure.
package struct Entry {
    package let value: Value
    package let expiresAt: Int64
}

/// A cell read but not written, with the word seen.
struct ReadEntry {
    let cell: Cell
    let word: UInt64
}

/// A key read as missing: its shard and the shard's insert count before the lookup.
struct MissEntry {
    let shard: IndexShard
    var version: UInt64
}

/// A cell the transaction writes or holds locked: its base state and its buffered new state.
struct WriteEntry {
    let cell: Cell
    /// The database the key is in (a transaction may SELECT between commands).
    let databaseIndex: Int
    /// The word the new state is based on, without the lock bit.
    var baseWord: UInt64
    var baseValue: UInt
    var baseExpiresAt: Int64
    /// The new value's bits, 0 for absent.
    var value: UInt
    var expiresAt: Int64
    /// The new value was made by this transaction and is not yet published.
    var ownsValue: Bool
    var written: Bool
    var locked: Bool
    /// When `value` is `baseValue` with only bytes `patchStart..<patchEnd` rewritten (and zeros past its end), the
    /// log gets those bytes rather than the whole string; `patchStart > patchEnd` when it is not.
    var patchStart: UInt32
    var patchEnd: UInt32

    /// True when the new value is a patch of the base value (see `patchStart`).
    var isPatch: Bool { self.patchStart <= self.patchEnd }

    mutating func clearPatch() {
        self.patchStart = .max
        self.patchEnd = 0
    }

    /// An entry for `cell` with an empty base and no write yet; the caller fills the base.
    init(cell: Cell, databaseIndex: Int) {
        self.cell = cell
        self.databaseIndex = databaseIndex
        self.baseWord = 0
        self.baseValue = 0
        self.baseExpiresAt = 0
        self.value = 0
        self.expiresAt = 0
        self.ownsValue = false
        self.written = false
        self.locked = false
        self.patchStart = .max
        self.patchEnd = 0
    }
}
