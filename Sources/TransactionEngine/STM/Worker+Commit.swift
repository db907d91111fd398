import Synchronization

/// Reads, buffered writes, validation, commit and rollback of the running transaction.
extension Worker {
    // MARK: Reads and writes (called through `Transaction`)

    /// Reads `key` as of the transaction: its own writes first, then a consistent snapshot of the cell, recorded in
    /// the read set (or, if the key is missing, its shard's insert count in the miss set). A value found expired is
    /// removed (noted for the end of the pin, or made a delete if it is this transaction's own) unless
    /// `removingExpired` is false (KEYS, which only hides it, as Redis's does).
    func transactionRead(_ key: KeyBytes, removingExpired: Bool = true) -> Entry? {
        let hash = self.hash(key)
        let shard = self.database.shard(for: hash)
        while true {
            let version = shard.version
            guard let found = shard.find(key, hash: hash) ?? (self.holdsLocks ? self.findOrInsertLive(key) : nil)
            else {
                self.missSet.append(MissEntry(shard: shard, version: version))
                return nil
            }
            // (A transaction holding locks reads a missing key through a placeholder cell, so that a re-run
            // learns and locks it: misses alone could abort a locked run without bound.)
            let cell = found
            if let index = self.writeEntryIndex(of: cell) {
                let entry = self.writeSet[index]
                guard entry.value != 0 else { return nil }
                // This transaction's own write, given a time already past (SET ... PXAT 1): gone from here on, as
                // Redis deletes it when a later command of the same EXEC looks it up (and counts it expired).
                if Expiry.hasPassed(entry.expiresAt, now: self.transactionNow()) {
                    guard removingExpired else { return nil }
                    self.discardOwnedValue(of: index)
                    self.writeSet[index].clearPatch()
                    self.writeSet[index].value = 0
                    self.writeSet[index].expiresAt = 0
                    self.expiredOwnWrites += 1
                    return nil
                }
                return Entry(value: Value(bits: entry.value)!, expiresAt: entry.expiresAt)
            }
            guard let snapshot = self.snapshotForBody(cell) else { return nil }
            if CellWord.isDead(snapshot.word) { continue }
            self.readSet.append(ReadEntry(cell: cell, word: snapshot.word))
            if CellWord.isAbsent(snapshot.word) { return nil }
            if Expiry.hasPassed(snapshot.expiresAt, now: self.transactionNow()) {
                if removingExpired { self.noteExpiredOnAccess(cell, database: self.databaseIndex) }
                return nil
            }
            return Entry(value: Value(bits: snapshot.value)!, expiresAt: snapshot.expiresAt)
        }
    }

    /// The write-set entry of `key`, created from a snapshot of its cell (inserted as absent if missing).
    func transactionWriteEntry(_ key: KeyBytes) -> Int {
        while true {
            let cell = self.findOrInsertLive(key)
            if let index = self.writeEntryIndex(of: cell) { return index }
            // A doomed attempt still gets an entry (it is never installed); its base word matches no cell.
            let snapshot = self.snapshotForBody(cell) ?? CellSnapshot(word: 0, value: 0, expiresAt: 0)
            if CellWord.isDead(snapshot.word) { continue }
            let absent = CellWord.isAbsent(snapshot.word) || snapshot.word == 0
            var entry = WriteEntry(cell: cell, databaseIndex: self.databaseIndex)
            entry.baseWord = snapshot.word
            entry.baseValue = absent ? 0 : snapshot.value
            entry.baseExpiresAt = absent ? 0 : snapshot.expiresAt
            self.resetToBase(&entry)
            self.addWriteEntry(entry)
            return self.writeSet.count - 1
        }
    }

    /// Reads a cell for the body. A transaction holding locks waits only briefly for another's lock; then the
    /// attempt is doomed (it will abort at commit, and its locked re-run locks this key too) and this returns nil.
    @inline(__always) private func snapshotForBody(_ cell: Cell) -> CellSnapshot? {
        guard self.holdsLocks else { return cell.snapshot() }
        if let snapshot = cell.snapshot(spinLimit: 256) { return snapshot }
        self.doomed = true
        self.declared.append(cell.key)
        return nil
    }

    /// Buffers a write of `value` to `key`. With `patch`, the value is the key's current value (as this transaction
    /// reads it) with only those bytes rewritten (and zeros past its end); see `WriteEntry.patchStart`.
    func transactionWrite(_ key: KeyBytes, value: UInt, owned: Bool, expiry: Expiry, patch: Range<Int>? = nil) {
        let index = self.transactionWriteEntry(key)
        let current = self.writeSet[index]
        if let patch {
            if current.value != 0 && current.value == current.baseValue {
                // The first change of the committed value.
                self.writeSet[index].patchStart = UInt32(patch.lowerBound)
                self.writeSet[index].patchEnd = UInt32(patch.upperBound)
            } else if current.value != 0 && current.isPatch && current.ownsValue {
                // A change of this transaction's own patch of it: the patch covers both.
                self.writeSet[index].patchStart = min(current.patchStart, UInt32(patch.lowerBound))
                self.writeSet[index].patchEnd = max(current.patchEnd, UInt32(patch.upperBound))
            } else {
                self.writeSet[index].clearPatch()
            }
        } else {
            self.writeSet[index].clearPatch()
        }
        var owned = owned
        if !owned {
            self.movedValues = true
            // Moving a value this transaction made: the destination takes over its ownership, so that deleting
            // the source does not free it.
            for j in self.writeSet.indices where j != index && self.writeSet[j].value == value {
                if self.writeSet[j].ownsValue {
                    self.writeSet[j].ownsValue = false
                    owned = true
                }
            }
        }
        if current.value != value {
            self.discardOwnedValue(of: index)
        }
        let expiresAt: Int64
        switch expiry {
        case .none: expiresAt = 0
        case .keep:
            let live = current.value != 0 && !Expiry.hasPassed(current.expiresAt, now: self.transactionNow())
            expiresAt = live ? current.expiresAt : 0
        case .at(let time): expiresAt = time
        }
        self.writeSet[index].value = value
        self.writeSet[index].expiresAt = expiresAt
        self.writeSet[index].ownsValue = owned || (current.value == value && current.ownsValue)
        self.writeSet[index].written = true
    }

    func transactionDelete(_ key: KeyBytes) -> Bool {
        guard self.transactionRead(key) != nil else { return false }
        let index = self.transactionWriteEntry(key)
        self.discardOwnedValue(of: index)
        self.writeSet[index].clearPatch()
        self.writeSet[index].value = 0
        self.writeSet[index].expiresAt = 0
        self.writeSet[index].ownsValue = false
        self.writeSet[index].written = true
        return true
    }

    func transactionSetExpiry(_ key: KeyBytes, _ expiry: Expiry) -> Bool {
        guard self.transactionRead(key) != nil else { return false }
        let index = self.transactionWriteEntry(key)
        switch expiry {
        case .none: self.writeSet[index].expiresAt = 0
        case .keep: break
        case .at(let time): self.writeSet[index].expiresAt = time
        }
        self.writeSet[index].written = true
        return true
    }

    /// Frees a value this transaction made for entry `index` and is about to replace.
    private func discardOwnedValue(of index: Int) {
        let entry = self.writeSet[index]
        if entry.ownsValue, let value = Value(bits: entry.value) {
            self.accountAllocation(-value.deallocate())
            self.writeSet[index].ownsValue = false
        }
    }

    // MARK: Commit

    enum CommitOutcome {
        case committed(UInt64?)
        case conflict
        case watchFailed
    }

    enum WatchCheck {
        case valid
        case changed
        case busy
    }

    /// Sorts a write set into lock order (cell address): an insertion sort in place for the few entries most
    /// commands write (an MSET's ten), the standard sort past 16.
    @inline(__always) static func sortByCell(_ entries: inout [WriteEntry]) {
        guard entries.count <= 16 else {
            entries.sort { $0.cell.bits < $1.cell.bits }
            return
        }
        entries.withUnsafeMutableBufferPointer { buffer in
            for i in stride(from: 1, to: buffer.count, by: 1) {
                let bits = buffer[i].cell.bits
                guard buffer[i - 1].cell.bits > bits else { continue }
                let entry = buffer[i]
                var j = i
                while j > 0 && buffer[j - 1].cell.bits > bits {
                    buffer[j] = buffer[j - 1]
                    j -= 1
                }
                buffer[j] = entry
            }
        }
    }

    @inline(__always) private func changes(_ entry: WriteEntry) -> Bool {
        entry.written && (entry.value != entry.baseValue || entry.expiresAt != entry.baseExpiresAt)
    }

    /// Commits the running attempt: lock the write set in address order, validate, stamp a TID, install, unlock.
    ///
    /// On `.conflict` and `.watchFailed` the attempt's state is left for the caller, which learns its footprint
    /// and rolls it back.
    func commit(watching: Bool) -> CommitOutcome {
        if self.doomed { return .conflict }
        var writes = 0
        var heldUpFront = false
        for entry in self.writeSet {
            if self.changes(entry) { writes += 1 }
            if entry.locked { heldUpFront = true }
        }
        if writes == 0 {
            // Read-only: validate in place. Locks held up front are released unchanged.
            let readsValid =
                self.readSet.count + self.missSet.count <= 1 && self.writeSet.isEmpty || self.validateReads()
            guard readsValid else { return .conflict }
            switch watching ? self.validateWatches() : .valid {
            case .valid:
                self.rollback()
                self.countExpiredOnAccess(self.expiredOwnWrites)
                self.expiredOwnWrites = 0
                return .committed(nil)
            case .changed: return .watchFailed
            case .busy: return .conflict
            }
        }
        if self.writeSet.count > 1 {
            Worker.sortByCell(&self.writeSet)
            self.rebuildWriteIndex()
        }
        for i in self.writeSet.indices where !self.writeSet[i].locked && self.changes(self.writeSet[i]) {
            let cell = self.writeSet[i].cell
            let word: UInt64?
            if heldUpFront {
                word = self.tryLockBriefly(cell)
            } else {
                word = cell.lock()
            }
            guard let word else { return .conflict }
            if word != self.writeSet[i].baseWord {
                cell.unlock(word: word)
                return .conflict
            }
            self.writeSet[i].locked = true
        }
        // The serialization point: every lock is held; the epoch read now goes into the TID.
        let epoch = self.engine.epoch.load(ordering: .sequentiallyConsistent)
        guard self.validateReads() else { return .conflict }
        if watching {
            switch self.validateWatches() {
            case .valid: break
            case .changed: return .watchFailed
            case .busy: return .conflict
            }
        }
        let tid = self.stampTID(epoch: epoch)
        self.install(tid: tid)
        return .committed(tid)
    }

    private func tryLockBriefly(_ cell: Cell) -> UInt64? {
        for _ in 0..<64 {
            if let word = cell.tryLock() { return word }
            if CellWord.isDead(cell.loadWord()) { return nil }
        }
        return nil
    }

    /// Silo's rule: above every TID read or overwritten, above this worker's last, and in the current epoch.
    private func stampTID(epoch: UInt64) -> UInt64 {
        if let forced = self.restoringTID {
            // Recovery re-installs a logged commit under the TID it had.
            self.lastTID = max(self.lastTID, forced)
            self.slot.pointee.lastTID.store(self.lastTID, ordering: .relaxed)
            return forced
        }
        var highest = self.lastTID
        for entry in self.readSet {
            highest = max(highest, CellWord.tid(entry.word))
        }
        for entry in self.writeSet {
            highest = max(highest, CellWord.tid(entry.baseWord))
        }
        let tid = max(highest + 1, epoch << TransactionEngine.tidSequenceBits)
        precondition(tid <= CellWord.tidMask, "TID space exhausted")
        self.lastTID = tid
        self.slot.pointee.lastTID.store(tid, ordering: .relaxed)
        return tid
    }

    /// Whether a change of `changed` bytes of a string now `count` long is logged as a patch rather than a put: for
    /// strings of 4 KiB or more, when the bytes changed are under half of it.
    @inline(__always) static func logsPatch(_ changed: Int, of count: Int) -> Bool {
        count >= 4096 && changed < count / 2
    }

    /// Installs every changed entry with `tid` and unlocks every held cell; encodes the commit record.
    private func install(tid: UInt64) {
        // Values this commit replaces (or deletes) after their expiry: expired keys, as Redis counts the ones a
        // write's lookup deletes before it writes (expired_keys).
        var replacedExpired: UInt64 = 0
        for i in self.writeSet.indices {
            let entry = self.writeSet[i]
            guard entry.locked else { continue }
            guard self.changes(entry) else {
                entry.cell.unlock(word: entry.baseWord)
                continue
            }
            if self.movedValues && entry.value != 0 && entry.value != entry.baseValue {
                precondition(
                    (entry.ownsValue || self.isMovedAway(entry.value, except: i))
                        && !self.isInstalledElsewhere(entry.value, except: i),
                    "a value may be moved, not shared"
                )
            }
            let expiresAt = entry.value == 0 ? 0 : entry.expiresAt
            entry.cell.store(valueBits: entry.value, expiresAt: expiresAt)
            let word = tid | (entry.value == 0 ? CellWord.absentBit : 0) | (entry.baseWord & CellWord.waitersBit)
            entry.cell.unlock(word: word)
            let database = self.databaseTable[entry.databaseIndex]
            if entry.baseValue == 0 && entry.value != 0 {
                database.adjustKeyCount(by: 1, stripe: self.slotIndex)
            } else if entry.baseValue != 0 && entry.value == 0 {
                database.adjustKeyCount(by: -1, stripe: self.slotIndex)
            }
            let wasExpiring = entry.baseValue != 0 && entry.baseExpiresAt != 0
            let isExpiring = entry.value != 0 && expiresAt != 0
            if wasExpiring != isExpiring {
                database.adjustExpiresCount(by: isExpiring ? 1 : -1, stripe: self.slotIndex)
            }
            if self.recordsEffects {
                let key = entry.cell.key
                if entry.value == 0 {
                    self.record.appendDelete(database: entry.databaseIndex, key: key)
                } else if entry.value != entry.baseValue && entry.isPatch
                    && Worker.logsPatch(Int(entry.patchEnd - entry.patchStart), of: Value(bits: entry.value)!.count)
                {
                    self.record.appendPatch(
                        database: entry.databaseIndex,
                        key: key,
                        value: Value(bits: entry.value)!,
                        range: Int(entry.patchStart)..<Int(entry.patchEnd),
                        expiresAt: expiresAt
                    )
                } else if entry.value != entry.baseValue {
                    self.record.appendPut(
                        database: entry.databaseIndex,
                        key: key,
                        value: Value(bits: entry.value)!,
                        expiresAt: expiresAt
                    )
                } else {
                    self.record.appendExpire(database: entry.databaseIndex, key: key, expiresAt: expiresAt)
                }
            }
            if let old = Value(bits: entry.baseValue), entry.baseValue != entry.value,
                !self.movedValues || !self.isInstalledElsewhere(entry.baseValue, except: i)
            {
                self.retire(.value(old))
            }
            if entry.baseValue != 0 && Expiry.hasPassed(entry.baseExpiresAt, now: self.transactionNow()) {
                replacedExpired += 1
            }
        }
        self.countExpiredOnAccess(replacedExpired + self.expiredOwnWrites)
        self.expiredOwnWrites = 0
        self.writeSet.removeAll(keepingCapacity: true)
    }

    /// True when `bits` was the base value of another entry that no longer holds it (a move).
    private func isMovedAway(_ bits: UInt, except index: Int) -> Bool {
        for j in self.writeSet.indices where j != index {
            let other = self.writeSet[j]
            if other.baseValue == bits && other.value != bits && other.written { return true }
        }
        return false
    }

    /// True when another entry installs `bits` (the old value moved, so it must not be retired).
    private func isInstalledElsewhere(_ bits: UInt, except index: Int) -> Bool {
        for j in self.writeSet.indices where j != index {
            let other = self.writeSet[j]
            if other.written && other.value == bits { return true }
        }
        return false
    }

    /// Checks that every cell read is unchanged (or locked by this transaction with the word it read), that every
    /// write entry not locked still has its base (a write that ends unchanged is still a read of its base), and
    /// that no key read as missing has been inserted since.
    func validateReads() -> Bool {
        if self.doomed { return false }
        for index in self.writeSet.indices where !self.writeSet[index].locked {
            if self.writeSet[index].cell.loadWord() != self.writeSet[index].baseWord { return false }
        }
        // Each loop is guarded: iterating a property copies the array (a reference count), even an empty one.
        if !self.readSet.isEmpty {
            guard self.validateReadSet() else { return false }
        }
        if !self.missSet.isEmpty {
            for miss in self.missSet where miss.shard.version != miss.version {
                return false
            }
        }
        return true
    }

    private func validateReadSet() -> Bool {
        for entry in self.readSet {
            let word = entry.cell.loadWord()
            if word == entry.word { continue }
            if CellWord.isLocked(word) && word & ~CellWord.lockBit == entry.word,
                let index = self.writeEntryIndex(of: entry.cell), self.writeSet[index].locked
            {
                continue
            }
            return false
        }
        return true
    }

    /// Checks every WATCH token: same database generation, same word, and not expired if it was live.
    func validateWatches() -> WatchCheck {
        for token in self.watches {
            if self.engine.generations[token.database].load(ordering: .acquiring) != token.generation {
                return .changed
            }
            var word = token.cell.loadWord()
            if CellWord.isDead(word) { return .changed }
            if CellWord.isLocked(word) {
                guard let index = self.writeEntryIndex(of: token.cell), self.writeSet[index].locked else {
                    return .busy
                }
                word &= ~CellWord.lockBit
            }
            // A value already expired when watched may since have been removed (on access or by the sweep),
            // which keeps the TID: that is no change, as Redis 7 clears `wk->expired` when it deletes such a key.
            let ignored = CellWord.waitersBit | (token.wasLive ? 0 : CellWord.absentBit)
            if word & ~ignored != token.word & ~ignored { return .changed }
            if token.wasLive {
                let expiresAt = token.cell.expiresAtUnderLock
                if Expiry.hasPassed(expiresAt, now: self.transactionNow()) { return .changed }
            }
        }
        return .valid
    }

    /// Adds every key the attempt touched to the declared keys, so that a locked re-run locks them up front.
    /// The key bytes live in the cells, which stay valid while this worker is pinned across attempts.
    func learnFootprint() {
        for entry in self.readSet {
            self.declared.append(entry.cell.key)
        }
        for entry in self.writeSet where !entry.locked || entry.written {
            self.declared.append(entry.cell.key)
        }
    }

    /// Undoes the attempt: releases held locks unchanged and frees values that were never published.
    func rollback() {
        for entry in self.writeSet {
            if entry.locked {
                entry.cell.unlock(word: entry.baseWord)
            }
            if entry.ownsValue, let value = Value(bits: entry.value) {
                self.accountAllocation(-value.deallocate())
            }
        }
        if !self.writeSet.isEmpty { self.writeSet.removeAll(keepingCapacity: true) }
        if !self.writeIndex.isEmpty { self.writeIndex.removeAll(keepingCapacity: true) }
        if !self.readSet.isEmpty { self.readSet.removeAll(keepingCapacity: true) }
        if !self.missSet.isEmpty { self.missSet.removeAll(keepingCapacity: true) }
    }
}
