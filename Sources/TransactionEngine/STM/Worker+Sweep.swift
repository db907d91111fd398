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
    /// transaction has touched for two epochs and nobody watches. A watched cell that expires is kept, made absent
    /// with a new TID, so that its WATCH fails. Runs under each shard's lock in turn; never waits for a cell lock.
    /// Call it from a timer; expired keys are also invisible to every read before the sweep reaches them.
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
                        guard expiresAt != 0 && expiresAt <= now else { return }
                    }
                    guard let locked = cell.tryLock() else { return }
                    // Re-read under the lock: the decision above may be stale.
                    let expiresAt = cell.expiresAtUnderLock
                    let absent = CellWord.isAbsent(locked)
                    if !absent && !(expiresAt != 0 && expiresAt <= now) {
                        cell.unlock(word: locked)
                        return
                    }
                    if let value = Value(bits: cell.valueBitsUnderLock), !absent {
                        cell.store(valueBits: 0, expiresAt: 0)
                        database.adjustKeyCount(by: -1, stripe: self.slotIndex)
                        database.adjustExpiresCount(by: -1, stripe: self.slotIndex)
                        self.retire(.value(value))
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
                        // The expired value was removed: a new TID, so that a WATCH on the key fails.
                        let tid = max(CellWord.tid(locked) + 1, epoch << TransactionEngine.tidSequenceBits)
                        cell.unlock(word: tid | CellWord.absentBit | (locked & CellWord.waitersBit))
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
}
