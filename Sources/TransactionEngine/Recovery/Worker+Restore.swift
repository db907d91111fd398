/// Applying logged records to the engine: the replay half of recovery.
///
/// A record is applied effect by effect, each as a locked single-key transaction (or an exclusive one) that
/// installs under the record's own TID, so that a key's TID after replay is the TID of the commit that last wrote
/// it. An effect on a key that already holds a newer TID (loaded from a checkpoint that saw a later state) is
/// skipped: replaying a record twice, or a record older than the checkpoint, changes nothing.
extension Worker {
    /// Applies every effect of `record`, a logged commit with TID `tid`.
    ///
    /// - Parameters:
    ///   - exclusiveBound: exclusive effects (FLUSHDB, FLUSHALL, SWAPDB) with a TID at or below it are already in
    ///     the checkpoint and are skipped; 0 without a checkpoint.
    /// - Throws: `CommitRecordError` when the record does not decode (nothing of it is applied past that point).
    /// - Complexity: O(n) in the record's size.
    package func restore(
        record: UnsafeRawBufferPointer,
        tid: UInt64,
        exclusiveBound: UInt64
    ) throws(CommitRecordError) {
        var reader = RecordReader(bytes: record)
        while !reader.isAtEnd {
            guard let opcode = Effect.Opcode(rawValue: try reader.byte()) else {
                throw .unknownOpcode(offset: reader.offset - 1)
            }
            switch opcode {
            case .put:
                let database = try self.restoredDatabase(try reader.varint(), offset: reader.offset)
                let key = try reader.lengthPrefixedBytes()
                guard let kind = ValueKind(rawValue: try reader.byte()) else {
                    throw .unknownValueKind(offset: reader.offset - 1)
                }
                let value = try reader.lengthPrefixedBytes()
                let expiresAt = try reader.int64()
                self.restorePut(database: database, key: key, kind: kind, value: value, expiresAt: expiresAt, tid: tid)
            case .delete:
                let database = try self.restoredDatabase(try reader.varint(), offset: reader.offset)
                let key = try reader.lengthPrefixedBytes()
                self.restoreDelete(database: database, key: key, tid: tid)
            case .expire:
                let database = try self.restoredDatabase(try reader.varint(), offset: reader.offset)
                let key = try reader.lengthPrefixedBytes()
                let expiresAt = try reader.int64()
                self.restoreExpire(database: database, key: key, expiresAt: expiresAt, tid: tid)
            case .flushDatabase:
                let database = try self.restoredDatabase(try reader.varint(), offset: reader.offset)
                if tid > exclusiveBound { self.runExclusive { $0.flushDatabase(database) } }
            case .flushAll:
                if tid > exclusiveBound { self.runExclusive { $0.flushAll() } }
            case .swapDatabases:
                let first = try self.restoredDatabase(try reader.varint(), offset: reader.offset)
                let second = try self.restoredDatabase(try reader.varint(), offset: reader.offset)
                if tid > exclusiveBound { self.runExclusive { $0.swapDatabases(first, second) } }
            case .checkpoint:
                _ = try reader.varint()
            case .patch:
                let patch = try reader.patch()
                let database = try self.restoredDatabase(patch.database, offset: reader.offset)
                self.restorePatch(database: database, patch, tid: tid)
            }
        }
    }

    /// Ends a replay: removes every key whose expiry has passed (by the engine's clock), and moves the epoch past
    /// `lastTID` (the largest TID in the checkpoint and the log), so that new commits stamp larger TIDs and the
    /// log stays in TID order. Call once, after the last `restore`.
    package func finishRestore(lastTID: UInt64) {
        for database in 0..<self.databaseCount {
            self.sweep(database: database, shards: Database.shardCount)
        }
        self.lastTID = max(self.lastTID, lastTID)
        self.slot.pointee.lastTID.store(self.lastTID, ordering: .relaxed)
        self.runExclusive { _ in }
    }

    /// A logged database number, checked against this engine's count (`databases` may have shrunk).
    private func restoredDatabase(_ index: Int, offset: Int) throws(CommitRecordError) -> Int {
        guard index >= 0 && index < self.databaseCount else { throw .databaseOutOfRange(index, offset: offset) }
        return index
    }

    /// True when the locked key of the running restore holds a value newer than `tid` (keep it).
    ///
    /// Strictly newer: one record may hold several effects on a key (an exclusive EXEC's commands), and replaying
    /// a whole record in order ends in its final state even over a checkpoint that saw that state.
    private func holdsNewer(than tid: UInt64) -> Bool {
        let entry = self.writeSet[0]
        return !CellWord.isAbsent(entry.baseWord) && entry.baseValue != 0 && CellWord.tid(entry.baseWord) > tid
    }

    private func restorePut(
        database: Int,
        key: KeyBytes,
        kind: ValueKind,
        value: UnsafeRawBufferPointer,
        expiresAt: Int64,
        tid: UInt64
    ) {
        // Installed even when its expiry has passed: a later effect (PERSIST, EXPIRE) may keep the value alive.
        // `finishRestore` drops what is still expired at the end.
        self.restoringTID = tid
        defer { self.restoringTID = nil }
        self.run(database: database, key: key) { transaction in
            if transaction.withWorker({ $0.holdsNewer(than: tid) }) { return }
            switch kind {
            case .string:
                transaction.setString(key, value, expiry: expiresAt == 0 ? .none : .at(expiresAt))
            }
        }
    }

    /// A patch applies to the string the key holds at this point of the replay: the one its commit changed, or
    /// (over a checkpoint that saw a later state) a later one that later effects bring to the final state, as
    /// each effect sets the length and the bytes it names. A key with no string is taken as an empty one.
    private func restorePatch(database: Int, _ patch: PatchFields, tid: UInt64) {
        self.restoringTID = tid
        defer { self.restoringTID = nil }
        self.run(database: database, key: patch.key) { transaction in
            if transaction.withWorker({ $0.holdsNewer(than: tid) }) { return }
            switch patch.kind {
            case .string:
                // (Cut to the logged length if the string is longer.)
                transaction.changeString(
                    patch.key,
                    current: transaction.get(patch.key)?.value,
                    count: patch.count,
                    changed: patch.offset..<patch.offset + patch.bytes.count,
                    expiry: patch.expiresAt == 0 ? .none : .at(patch.expiresAt),
                    encoding: .raw
                ) { out in
                    if !patch.bytes.isEmpty { out.copyMemory(from: patch.bytes) }
                }
            }
        }
    }

    private func restoreDelete(database: Int, key: KeyBytes, tid: UInt64) {
        self.restoringTID = tid
        defer { self.restoringTID = nil }
        self.run(database: database, key: key) { transaction in
            if transaction.withWorker({ $0.holdsNewer(than: tid) }) { return }
            transaction.delete(key)
        }
    }

    private func restoreExpire(database: Int, key: KeyBytes, expiresAt: Int64, tid: UInt64) {
        self.restoringTID = tid
        defer { self.restoringTID = nil }
        self.run(database: database, key: key) { transaction in
            if transaction.withWorker({ $0.holdsNewer(than: tid) }) { return }
            transaction.setExpiry(key, expiresAt == 0 ? .none : .at(expiresAt))
        }
    }
}
