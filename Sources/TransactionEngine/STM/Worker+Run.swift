/// Running transactions: the attempt loop, the fallback to locking, and the outcome.
extension Worker {
    /// Runs a single-key body with that key locked: the path of GET-and-SET style commands (SET, INCR, APPEND).
    ///
    /// Locks the key's cell (inserting it if missing), runs `body`, installs its writes with a new TID and unlocks.
    /// It never aborts, so `body` runs exactly once. A body that throws leaves the key unchanged.
    /// - Complexity: O(1) plus the body.
    @discardableResult
    package func run<R, E: Error>(
        database: Int,
        key: KeyBytes,
        _ body: (Transaction) throws(E) -> R
    ) throws(E) -> Committed<R> {
        self._declare(key)
        return try self.runGeneric(database: database, mode: .locked, watching: false, body)!
    }

    /// Runs a body over several keys, optimistically (or `.locked` up front when `mode` says so).
    ///
    /// - Parameters:
    ///   - keys: the keys the body will touch, as Redis's key positions give them; used when the transaction
    ///     falls back to locking. A body may touch other keys too; they are validated at commit.
    ///   - body: may run more than once; it must keep its effects inside the transaction (see `attempt`).
    /// - Throws: what `body` throws; nothing is installed then.
    @discardableResult
    package func run<R, E: Error>(
        database: Int,
        keys: [KeyBytes],
        mode: TransactionMode = .optimistic,
        _ body: (Transaction) throws(E) -> R
    ) throws(E) -> Committed<R> {
        self._declare(keys, watching: [])
        return try self.runGeneric(database: database, mode: mode, watching: false, body)!
    }

    /// Like `run(database:keys:mode:_:)`, but the commit also checks `watches` (WATCH): if any watched key was
    /// written since its token was taken, nothing is installed and the result is nil (EXEC's nil reply).
    @discardableResult
    package func run<R, E: Error>(
        database: Int,
        keys: [KeyBytes],
        watching watches: [WatchToken],
        _ body: (Transaction) throws(E) -> R
    ) throws(E) -> Committed<R>? {
        self._declare(keys, watching: watches)
        defer { self._forgetWatches() }
        return try self.runGeneric(database: database, mode: .optimistic, watching: !watches.isEmpty, body)
    }

    /// Declares the one key of a single-key transaction, for `_runAttempts`.
    package func _declare(_ key: KeyBytes) {
        self.declared.removeAll(keepingCapacity: true)
        self.declared.append(key)
    }

    /// Declares the keys and the WATCH tokens of a multi-key transaction, for `_runAttempts`.
    package func _declare(_ keys: [KeyBytes], watching watches: [WatchToken]) {
        self.declared.removeAll(keepingCapacity: true)
        self.declared.append(contentsOf: keys)
        self.watches.removeAll(keepingCapacity: true)
        self.watches.append(contentsOf: watches)
    }

    /// Drops the WATCH tokens `_declare` took, after `_runAttempts`.
    package func _forgetWatches() {
        self.watches.removeAll(keepingCapacity: true)
    }

    /// The generic side of the attempt loop: it wraps `body` in a closure of one fixed type for `_runAttempts`,
    /// which is therefore compiled once, and keeps the body's result and error in its own frame. Returns nil only
    /// when a watch failed.
    func runGeneric<R, E: Error>(
        database index: Int,
        mode: TransactionMode,
        watching: Bool,
        _ body: (Transaction) throws(E) -> R
    ) throws(E) -> Committed<R>? {
        var result: R? = nil
        var failure: E? = nil
        let outcome = self._runAttempts(database: index, mode: mode, watching: watching) { transaction in
            do throws(E) {
                result = try body(transaction)
                return true
            } catch {
                failure = error
                return false
            }
        }
        switch outcome {
        case .committed(let tid, let record):
            return Committed(result: result!, tid: tid, record: record)
        case .threw:
            throw failure!
        case .watchFailed:
            return nil
        }
    }

    /// Brings the declared keys' index entries into cache before the body looks them up one by one, so that their
    /// cache misses overlap instead of following each other (MSET's ten keys, a transfer's two). Only hints: a key
    /// that moved meanwhile is simply found later at the usual cost. Runs pinned.
    func prefetchDeclared() {
        self.prefetchHashes.removeAll(keepingCapacity: true)
        for key in self.declared {
            self.prefetchHashes.append(self.hash(key))
        }
        self.prefetchStages(in: self.database)
    }

    /// The attempt loop, the same for every body: runs `body` until an attempt commits, the body's answer is an
    /// error (seen on a consistent snapshot), or a watch fails. `body` returns false when the body threw.
    ///
    /// Not generic, so that callers in other modules reach it without run-time generic metadata: Swift does not
    /// specialize or inline this package's generic methods across modules (an `@inlinable` member of a `package`
    /// class stays an unspecialized call there), and an unspecialized `run<R, E>` looked up the metadata of
    /// `Committed<R>` on every command, about a tenth of SET's time. The command layer's hot paths
    /// (`CommandContext.write`, `transact`) call `_declare` and this directly.
    ///
    /// - Parameters:
    ///   - index: the database (`SELECT` number).
    ///   - mode: `.locked` for a single-key body that never aborts, `.optimistic` otherwise.
    ///   - watching: whether the commit checks the tokens given to `_declare`.
    ///   - body: runs the transaction's body once per attempt; false when it threw.
    package func _runAttempts(
        database index: Int,
        mode: TransactionMode,
        watching: Bool,
        _ body: (Transaction) -> Bool
    ) -> RunOutcome {
        // Inside an exclusive transaction a normal one may run too: nobody else runs, so it is trivially isolated.
        self.pin()
        defer { self.unpin() }
        // Inside an exclusive transaction, this one's effects append to the exclusive record (logged once, by
        // `runExclusive`, in order with its own effects).
        self.recordBase = self.isExclusiveOwner ? self.record.count : 0
        self.databaseIndex = index
        self.database = self.database(at: index)
        if self.declared.count > 1 { self.prefetchDeclared() }
        var locked = mode == .locked
        self.attempt = 0
        self.expiredOnAccessMark = self.expiredOnAccess.count
        while true {
            self.beginAttempt()
            if locked {
                self.lockDeclaredKeys()
            }
            if watching && self.validateWatches() == .changed {
                self.rollback()
                self.record.truncate(to: self.recordBase)
                self.slot.pointee.watchFailures.add(1, ordering: .relaxed)
                return .watchFailed
            }
            guard body(Transaction(worker: self)) else {
                // An error seen on an inconsistent snapshot is a conflict, not the body's answer.
                if self.validateReads() {
                    self.rollback()
                    self.record.truncate(to: self.recordBase)
                    return .threw
                }
                self.noteConflict(locked: &locked)
                continue
            }
            switch self.commit(watching: watching) {
            case .committed(let tid):
                self.slot.pointee.commits.add(1, ordering: .relaxed)
                if let tid, !self.isExclusiveOwner { self.logCommit(tid: tid) }
                return .committed(tid: tid, record: CommitRecord(bytes: self.record.bytes))
            case .conflict:
                self.noteConflict(locked: &locked)
            case .watchFailed:
                self.rollback()
                self.record.truncate(to: self.recordBase)
                self.slot.pointee.watchFailures.add(1, ordering: .relaxed)
                return .watchFailed
            }
        }
    }

    /// Counts an aborted attempt, rolls it back, and decides whether the next one runs locked. A locked re-run
    /// also locks every key the aborted attempt touched.
    private func noteConflict(locked: inout Bool) {
        self.slot.pointee.aborts.add(1, ordering: .relaxed)
        self.slot.pointee.retries.add(1, ordering: .relaxed)
        self.attempt += 1
        if !locked && self.attempt >= self.optimisticAttempts {
            locked = true
            self.slot.pointee.fallbacks.add(1, ordering: .relaxed)
        }
        if locked {
            self.learnFootprint()
        }
        self.rollback()
    }

    private func beginAttempt() {
        // Emptying an array costs a call and a uniqueness check even when it is already empty, as these mostly are.
        if !self.readSet.isEmpty { self.readSet.removeAll(keepingCapacity: true) }
        if !self.missSet.isEmpty { self.missSet.removeAll(keepingCapacity: true) }
        if !self.writeSet.isEmpty { self.writeSet.removeAll(keepingCapacity: true) }
        if !self.writeIndex.isEmpty { self.writeIndex.removeAll(keepingCapacity: true) }
        // An earlier attempt's expired keys are met again by this one, if it still reads them.
        if self.hasExpiredOnAccess { self.forgetAttemptsExpiredOnAccess() }
        self.expiredOwnWrites = 0
        self.record.truncate(to: self.recordBase)
        self.now = -1
        self.holdsLocks = false
        self.doomed = false
        self.movedValues = false
    }

    /// Locks the cells of the declared keys in address order (so lockers never deadlock), inserting missing ones.
    private func lockDeclaredKeys() {
        if self.declared.count == 1 {
            let key = self.declared[0]
            let hash = self.hash(key)
            let shard = self.database.shard(for: hash)
            while true {
                let fresh = CellWord.lockBit | CellWord.absentBit | self.placeholderTID()
                let (cell, inserted, _) = shard.findOrInsert(key, hash: hash, word: fresh, worker: self)
                let before: UInt64
                if inserted {
                    before = fresh & ~CellWord.lockBit
                } else {
                    guard let word = cell.lock() else { continue }
                    before = word
                }
                self.appendLockedEntry(cell: cell, word: before)
                self.holdsLocks = true
                return
            }
        }
        retry: while true {
            for key in self.declared {
                let cell = self.findOrInsertLive(key)
                if self.writeEntryIndex(of: cell) == nil {
                    self.addWriteEntry(WriteEntry(cell: cell, databaseIndex: self.databaseIndex))
                }
            }
            self.writeSet.sort { $0.cell.bits < $1.cell.bits }
            self.rebuildWriteIndex()
            for i in self.writeSet.indices {
                guard let word = self.writeSet[i].cell.lock() else {
                    // A sweep removed this cell after we found it: let go and look the keys up again.
                    for j in 0..<i { self.writeSet[j].cell.unlock(word: self.writeSet[j].baseWord) }
                    self.writeSet.removeAll(keepingCapacity: true)
                    self.writeIndex.removeAll(keepingCapacity: true)
                    continue retry
                }
                self.fillBase(&self.writeSet[i], word: word)
                self.writeSet[i].locked = true
            }
            self.holdsLocks = !self.writeSet.isEmpty
            return
        }
    }

    private func appendLockedEntry(cell: Cell, word: UInt64) {
        var entry = WriteEntry(cell: cell, databaseIndex: self.databaseIndex)
        entry.locked = true
        self.fillBase(&entry, word: word)
        self.addWriteEntry(entry)
    }

    /// Reads a locked cell's state into `entry` as its base and its (unwritten) new state.
    @inline(__always) func fillBase(_ entry: inout WriteEntry, word: UInt64) {
        entry.baseWord = word
        entry.baseValue = CellWord.isAbsent(word) ? 0 : entry.cell.valueBitsUnderLock
        entry.baseExpiresAt = entry.baseValue == 0 ? 0 : entry.cell.expiresAtUnderLock
        self.resetToBase(&entry)
    }

    /// Sets the entry's new state to its base as seen at the transaction's time (an expired value reads absent, and
    /// is removed when the pin ends if nothing replaces it, as a write's lookup removes it in Redis).
    @inline(__always) func resetToBase(_ entry: inout WriteEntry) {
        if entry.baseValue != 0 && Expiry.hasPassed(entry.baseExpiresAt, now: self.transactionNow()) {
            entry.value = 0
            entry.expiresAt = 0
            self.noteExpiredOnAccess(entry.cell, database: entry.databaseIndex)
        } else {
            entry.value = entry.baseValue
            entry.expiresAt = entry.baseExpiresAt
        }
    }

    /// A TID for a fresh placeholder cell: below every TID a commit can stamp from now on.
    @inline(__always) func placeholderTID() -> UInt64 {
        self.engine.epoch.load(ordering: .relaxed) << TransactionEngine.tidSequenceBits
    }

    /// Finds or inserts the (absent) cell of `key` in the current database, skipping dead cells.
    @inline(__always) func findOrInsertLive(_ key: KeyBytes) -> Cell {
        let hash = self.hash(key)
        let shard = self.database.shard(for: hash)
        while true {
            let (cell, inserted, before) = shard.findOrInsert(
                key,
                hash: hash,
                word: CellWord.absentBit | self.placeholderTID(),
                worker: self
            )
            if inserted {
                // Our own placeholder is not a phantom: carry our misses in this shard past our insert.
                for i in self.missSet.indices
                where self.missSet[i].shard.pointer == shard.pointer && self.missSet[i].version == before {
                    self.missSet[i].version = before + 1
                }
            }
            if !CellWord.isDead(cell.loadWord()) { return cell }
        }
    }

    /// Past this many entries the write set keeps a dictionary from cell to entry; below it a linear scan of the
    /// entries (pointer compares) is cheaper than hashing (MSET's ten keys were a tenth slower with the dictionary).
    static let writeIndexThreshold = 32

    @inline(__always) func addWriteEntry(_ entry: WriteEntry) {
        self.writeSet.append(entry)
        if self.writeSet.count > Worker.writeIndexThreshold {
            if self.writeIndex.isEmpty {
                self.rebuildWriteIndex()
            } else {
                self.writeIndex[entry.cell.bits] = self.writeSet.count - 1
            }
        }
    }

    func rebuildWriteIndex() {
        self.writeIndex.removeAll(keepingCapacity: true)
        guard self.writeSet.count > Worker.writeIndexThreshold else { return }
        for (i, entry) in self.writeSet.enumerated() {
            self.writeIndex[entry.cell.bits] = i
        }
    }

    @inline(__always) func writeEntryIndex(of cell: Cell) -> Int? {
        if self.writeSet.count > Worker.writeIndexThreshold {
            return self.writeIndex[cell.bits]
        }
        for i in self.writeSet.indices where self.writeSet[i].cell == cell {
            return i
        }
        return nil
    }

    /// Fixes the transaction's time on first use.
    @inline(__always) func transactionNow() -> Int64 {
        if self.now < 0 {
            // Replay sees no key as expired: a later effect may still change an expiry that has passed.
            self.now = self.restoringTID != nil ? 0 : self.clock.nowMilliseconds()
        }
        return self.now
    }
}

/// How `Worker._runAttempts` ended.
package enum RunOutcome {
    /// An attempt committed; `tid` is nil when it wrote nothing.
    case committed(tid: UInt64?, record: CommitRecord)
    /// The body threw on a consistent snapshot; nothing was installed.
    case threw
    /// A watched key changed; nothing was installed.
    case watchFailed
}
