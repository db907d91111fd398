/// What one sweep step did.
package struct SweepResult: Sendable, Equatable {
    /// Keys whose expiry had passed and that were removed.
    package var expired = 0
    /// Cells unlinked from the index (expired keys, deleted keys and old placeholders).
    package var unlinked = 0
    /// Shards visited.
    package var shards = 0

    package init() {}
}

extension Worker {
    /// One step of the active expiry and clean-up sweep: visits the next `shards` shards of database `index`.
    ///
    /// Removes keys whose expiry has passed, and unlinks absent cells (deleted keys, placeholders) that no
    /// transaction has touched for two epochs and nobody watches. A watched cell that expires is kept and made
    /// absent (`expiredWord`), so that a WATCH taken while it was live fails. Runs under each shard's lock in turn;
    /// never waits for a cell lock. Call it from a timer; expired keys are also invisible to every read before the
    /// sweep reaches them, and a read removes the ones it finds (`removeExpiredOnAccess`).
    @discardableResult
    package func sweep(database index: Int, shards: Int = 16) -> SweepResult {
        precondition(self.pinDepth == 0, "sweep inside a transaction")
        self.pin()
        defer { self.unpin() }
        let database = self.database(at: index)
        let now = self.clock.nowMilliseconds()
        let epoch = self.engine.epoch.load(ordering: .sequentiallyConsistent)
        var result = SweepResult()
        if self.sweepCursors.count <= index {
            self.sweepCursors += repeatElement(0, count: index + 1 - self.sweepCursors.count)
        }
        for _ in 0..<min(shards, Database.shardCount) {
            let shard = database.shard(at: self.sweepCursors[index] & (Database.shardCount - 1))
            self.sweepCursors[index] &+= 1
            result.shards += 1
            var unlinked: [Cell] = []
            shard.withLock { counts, table in
                table.forEachCell { cell in
                    let word = cell.loadWord()
                    if CellWord.isLocked(word) || CellWord.isDead(word) { return }
                    let tidEpoch = CellWord.tid(word) >> TransactionEngine.tidSequenceBits
                    if CellWord.isAbsent(word) {
                        guard tidEpoch + 2 < epoch else { return }
                    } else {
                        let expiresAt = cell.pointer.pointee.expiresAt.load(ordering: .relaxed)
                        guard Expiry.hasPassed(expiresAt, now: now) else { return }
                    }
                    guard let locked = cell.tryLock() else { return }
                    // Re-read under the lock: the decision above may be stale.
                    let expiresAt = cell.expiresAtUnderLock
                    let absent = CellWord.isAbsent(locked)
                    if !absent && !Expiry.hasPassed(expiresAt, now: now) {
                        cell.unlock(word: locked)
                        return
                    }
                    if !absent && self.removeExpiredValue(cell, database: database) {
                        result.expired += 1
                    }
                    let unwatched = cell.pointer.pointee.watchers.load(ordering: .sequentiallyConsistent) == 0
                    // A cell is unlinked only once its TID is two epochs old: a new cell for the key then starts
                    // above it (placeholders take the current epoch), so the key's TIDs never go backwards.
                    let old = tidEpoch + 2 < epoch
                    if unwatched && old {
                        cell.unlock(word: CellWord.lockBit | CellWord.deadBit | CellWord.absentBit)
                        if cell.pointer.pointee.watchers.load(ordering: .sequentiallyConsistent) == 0,
                            table.unlink(cell)
                        {
                            counts.live -= 1
                            counts.tombstones += 1
                            unlinked.append(cell)
                            return
                        }
                        // A watcher arrived: it waits for the dead word; give the cell back as it was.
                    }
                    if absent {
                        // Nothing changed: an absent cell that stays keeps its word (a WATCH on it stays valid).
                        cell.unlock(word: locked)
                    } else {
                        cell.unlock(word: Worker.expiredWord(locked))
                    }
                }
            }
            for cell in unlinked {
                self.retire(.cell(cell))
            }
            result.unlinked += unlinked.count
        }
        return result
    }

    /// Takes the expired value out of a cell the caller has locked: the value goes to reclamation and the key and
    /// expiry counts drop. Returns false when the cell held no value. The caller unlocks with `expiredWord`.
    @inline(__always) func removeExpiredValue(_ cell: Cell, database: Database) -> Bool {
        guard let value = Value(bits: cell.valueBitsUnderLock) else { return false }
        cell.store(valueBits: 0, expiresAt: 0)
        database.adjustKeyCount(by: -1, stripe: self.slotIndex)
        database.adjustExpiresCount(by: -1, stripe: self.slotIndex)
        self.retire(.value(value))
        return true
    }

    /// The word of a cell whose expired value is gone: absent, with the same TID and waiters bit.
    ///
    /// The changed word fails every reader and every WATCH that saw the value while it was live; a WATCH taken
    /// when the value had already expired compares the word without the absent bit, so the removal is no change
    /// to it (Redis 7: deleting an already expired key is no logical change).
    @inline(__always) static func expiredWord(_ locked: UInt64) -> UInt64 {
        (locked & ~CellWord.lockBit) | CellWord.absentBit
    }

    // MARK: Expiry on access

    /// Records that a read found `cell`'s value expired; `unpin` removes it when the pin ends. (Each attempt of a
    /// transaction starts the list again, so a re-run does not add the same cells twice.)
    @inline(never) func noteExpiredOnAccess(_ cell: Cell, database: Int) {
        self.expiredOnAccess.append((cell, self.database(at: database)))
        self.hasExpiredOnAccess = true
    }

    /// Notes `cell` for removal as `noteExpiredOnAccess` does when `snapshot` is a value expired at `now` and
    /// `wanted` says so: for the walks that pass over such keys (SCAN, RANDOMKEY), which Redis's `expireIfNeeded`
    /// deletes as they are met.
    @inline(__always) func noteIfExpired(
        _ cell: Cell,
        _ snapshot: CellSnapshot,
        now: Int64,
        database: Int,
        wanted: (KeyBytes) -> Bool = { _ in true }
    ) {
        if snapshot.hasExpired(now: now) && wanted(cell.key) {
            self.noteExpiredOnAccess(cell, database: database)
        }
    }

    /// Empties the list of cells found expired; a list grown large by one command gives its memory back.
    @inline(never) func forgetExpiredOnAccess() {
        self.expiredOnAccess.removeAll(keepingCapacity: self.expiredOnAccess.count <= 1024)
        self.hasExpiredOnAccess = false
    }

    /// Drops the cells the running transaction's earlier attempt noted (those from `expiredOnAccessMark` on).
    @inline(never) func forgetAttemptsExpiredOnAccess() {
        guard self.expiredOnAccessMark > 0 else { return self.forgetExpiredOnAccess() }
        self.expiredOnAccess.removeSubrange(self.expiredOnAccessMark...)
        self.hasExpiredOnAccess = !self.expiredOnAccess.isEmpty
    }

    /// Removes the values that reads in the ending pin found expired, as Redis's `expireIfNeeded` deletes a key a
    /// command touched after its time. Called by `unpin` while the slot is still pinned. Never waits: a cell that
    /// is locked, or no longer holds an expired value, is left to its writer or to the sweep.
    @inline(never) func removeExpiredOnAccess() {
        var found: [(cell: Cell, database: Database)] = []
        swap(&found, &self.expiredOnAccess)
        self.hasExpiredOnAccess = false
        defer {
            // Give the list's storage back for the next time (unless one command made it large).
            found.removeAll(keepingCapacity: found.count <= 1024)
            swap(&found, &self.expiredOnAccess)
        }
        let now = self.clock.nowMilliseconds()
        var removed: UInt64 = 0
        for (cell, database) in found {
            guard let locked = cell.tryLock() else { continue }
            let expiresAt = cell.expiresAtUnderLock
            guard !CellWord.isDead(locked), !CellWord.isAbsent(locked), Expiry.hasPassed(expiresAt, now: now),
                self.removeExpiredValue(cell, database: database)
            else {
                cell.unlock(word: locked)
                continue
            }
            cell.unlock(word: Worker.expiredWord(locked))
            removed += 1
        }
        self.countExpiredOnAccess(removed)
    }

    /// Adds to the worker's count of expired keys removed by the commands that met them (INFO's expired_keys).
    @inline(__always) func countExpiredOnAccess(_ count: UInt64) {
        if count > 0 { self.slot.pointee.expiredOnAccess.add(count, ordering: .relaxed) }
    }
}
