import Synchronization

/// What an exclusive body may do: whole-keyspace changes, while no other transaction runs.
package struct ExclusiveTransaction {
    unowned(unsafe) let worker: Worker

    /// Empties database `index` (FLUSHDB).
    package func flushDatabase(_ index: Int) {
        self.worker.replaceDatabase(index)
        self.worker.record.append(byte: Effect.Opcode.flushDatabase.rawValue)
        self.worker.record.append(varint: index)
    }

    /// Empties every database (FLUSHALL).
    package func flushAll() {
        for index in 0..<self.worker.databaseCount {
            self.worker.replaceDatabase(index)
        }
        self.worker.record.append(byte: Effect.Opcode.flushAll.rawValue)
    }

    /// Exchanges the contents of two databases (SWAPDB).
    package func swapDatabases(_ first: Int, _ second: Int) {
        let engine = self.worker.engine
        precondition(first >= 0 && first < self.worker.databaseCount, "database index out of range")
        precondition(second >= 0 && second < self.worker.databaseCount, "database index out of range")
        let saved = engine.databases[first]
        engine.databases[first] = engine.databases[second]
        engine.databases[second] = saved
        engine.generations[first].add(1, ordering: .releasing)
        engine.generations[second].add(1, ordering: .releasing)
        self.worker.record.append(byte: Effect.Opcode.swapDatabases.rawValue)
        self.worker.record.append(varint: first)
        self.worker.record.append(varint: second)
    }

    /// Keys in database `index`.
    package func keyCount(database index: Int) -> Int {
        self.worker.engine.databases[index].keyCount
    }
}

extension Worker {
    /// Runs `body` alone: waits for every other worker's transactions to drain, runs, stamps a TID above every
    /// TID committed so far, and moves the epoch past it so that every later TID is larger.
    ///
    /// The path of FLUSHDB, FLUSHALL and SWAPDB (PyPy's "inevitable" transaction). Must not be called from
    /// inside another transaction or pin of this worker.
    @discardableResult
    package func runExclusive<R>(_ body: (ExclusiveTransaction) throws -> R) rethrows -> Committed<R> {
        precondition(self.pinDepth == 0, "an exclusive transaction inside a pin")
        var spins = 0
        while true {
            // A checkpoint that kept being disturbed holds exclusive transactions off until its scan ends.
            if self.engine.exclusiveBlockers.load(ordering: .sequentiallyConsistent) > 0 {
                Backoff.pause(&spins)
                continue
            }
            let (won, _) = self.engine.exclusive.compareExchange(
                expected: 0,
                desired: 1,
                ordering: .sequentiallyConsistent
            )
            if won {
                if self.engine.exclusiveBlockers.load(ordering: .sequentiallyConsistent) == 0 { break }
                self.engine.exclusive.store(0, ordering: .sequentiallyConsistent)
            }
            Backoff.pause(&spins)
        }
        self.isExclusiveOwner = true
        self.pin()
        self.engine.slots.waitUntilUnpinned(except: self.slotIndex)
        defer {
            self.isExclusiveOwner = false
            self.unpin()
            self.engine.exclusive.store(0, ordering: .sequentiallyConsistent)
        }
        self.record.reset()
        let result = try body(ExclusiveTransaction(worker: self))
        let epoch = self.engine.epoch.load(ordering: .sequentiallyConsistent)
        let tid = max(
            max(self.engine.slots.maxLastTID(), self.lastTID) + 1,
            epoch << TransactionEngine.tidSequenceBits
        )
        self.lastTID = tid
        self.slot.pointee.lastTID.store(tid, ordering: .relaxed)
        // Every other worker is drained, so the epoch may jump: later TIDs start above this one.
        let next = max(epoch + 1, (tid >> TransactionEngine.tidSequenceBits) + 1)
        self.engine.epoch.store(next, ordering: .sequentiallyConsistent)
        self.slot.pointee.exclusiveRuns.add(1, ordering: .relaxed)
        self.slot.pointee.commits.add(1, ordering: .relaxed)
        self.logCommit(tid: tid)
        return Committed(result: result, tid: tid, record: CommitRecord(bytes: self.record.bytes))
    }

    /// Puts a new, empty database at `index` and retires the old one whole, but for the cells that WATCH tokens
    /// hold, which move into the new database (see `carryWatchedCells`).
    func replaceDatabase(_ index: Int) {
        precondition(index >= 0 && index < self.databaseCount, "database index out of range")
        let old = self.engine.databases[index]
        let new = Database.allocate()
        self.accountAllocation(Database.emptyAllocationSize)
        if self.engine.watchCount() > 0 {
            self.carryWatchedCells(from: old, to: new)
        }
        self.engine.databases[index] = new
        self.retire(.database(old))
    }

    /// Moves every watched cell of a flushed database into its replacement, as Redis's touchAllWatchedKeysInDb
    /// fails only the WATCHes of keys that existed: a cell's value is removed as an expiry removes it (same TID,
    /// absent bit), which fails a WATCH taken while the key was live and no other; a WATCH on a missing key stays
    /// valid, and a later write to the key, which finds the same cell in the new database, fails it. The tokens'
    /// cells are never freed by a flush, so `unwatch` may always release them.
    ///
    /// Runs inside an exclusive transaction: no other worker is pinned.
    private func carryWatchedCells(from old: Database, to new: Database) {
        for index in 0..<Database.shardCount {
            var watched: [Cell] = []
            old.shard(at: index).withLock { counts, table in
                table.forEachCell { cell in
                    if cell.pointer.pointee.watchers.load(ordering: .sequentiallyConsistent) > 0 {
                        watched.append(cell)
                    }
                }
                for cell in watched where table.unlink(cell) {
                    counts.live -= 1
                    counts.tombstones += 1
                }
            }
            for cell in watched {
                if let locked = cell.lock() {
                    if !CellWord.isAbsent(locked), let value = Value(bits: cell.valueBitsUnderLock) {
                        cell.store(valueBits: 0, expiresAt: 0)
                        self.retire(.value(value))
                        cell.unlock(word: Worker.expiredWord(locked))
                    } else {
                        cell.unlock(word: locked)
                    }
                }
                new.shard(for: cell.hash).insertExisting(cell, worker: self)
            }
            // A cell an earlier command of this exclusive EXEC noted as expired now belongs to `new`: its removal
            // at the end of the pin must count there (a later command may have written it meanwhile).
            if self.hasExpiredOnAccess && !watched.isEmpty {
                for i in self.expiredOnAccess.indices where watched.contains(self.expiredOnAccess[i].cell) {
                    self.expiredOnAccess[i].database = new
                }
            }
        }
    }
}
