/// How a transaction runs.
package enum TransactionMode: Sendable {
    /// Lock the declared keys up front, run, install, unlock: never aborts while the body touches only declared
    /// keys. The path of single-key commands.
    case locked
    /// Run against a private read set and a buffered write set, validate at commit, re-run on conflict; after
    /// `Configuration.optimisticAttempts` conflicts, run `.locked`. The path of multi-key commands and MULTI/EXEC.
    case optimistic
}

/// The expiry a write leaves on a key.
package enum Expiry: Sendable, Equatable {
    /// No expiry (a plain SET removes any TTL).
    case none
    /// Keep the key's current expiry (SET ... KEEPTTL, APPEND, INCR).
    case keep
    /// Expire at this absolute time in Unix milliseconds.
    case at(Int64)

    /// Whether a value with absolute expiry `expiresAt` (0: none) has expired at `now`: the engine's one rule, as
    /// Redis's `keyIsExpired` (`now > when`), so a key lives through its last millisecond and PTTL may answer 0.
    @inline(__always) package static func hasPassed(_ expiresAt: Int64, now: Int64) -> Bool {
        expiresAt != 0 && expiresAt < now
    }
}

/// What a transaction body uses to read and write keys. Valid only inside the body it was passed to.
///
/// Reads see the transaction's own writes. Every read is at the transaction's fixed time `now`, so an expiry
/// decision is the same on every read. Values returned are valid until the body returns.
package struct Transaction {
    /// Unmanaged, not `unowned(unsafe)`: Swift turns each load of an `unowned(unsafe)` reference into a retain and a
    /// release that the optimizer must keep, and a command's transaction reaches its worker several times.
    @usableFromInline let workerReference: Unmanaged<Worker>

    init(worker: Worker) {
        self.workerReference = Unmanaged.passUnretained(worker)
    }

    /// Calls `body` with the worker, borrowed without reference counting (the worker outlives its transactions).
    @inline(__always) func withWorker<R>(_ body: (Worker) -> R) -> R {
        self.workerReference._withUnsafeGuaranteedRef(body)
    }

    /// The database this transaction runs in.
    package var database: Int { self.withWorker { $0.databaseIndex } }

    /// Moves the transaction to database `index` for the reads and writes that follow (SELECT inside MULTI).
    /// Writes already buffered stay in their databases.
    package func select(database index: Int) {
        self.withWorker { worker in
            precondition(index >= 0 && index < worker.databaseCount, "database index out of range")
            worker.databaseIndex = index
            worker.database = worker.database(at: index)
        }
    }

    /// The transaction's time in Unix milliseconds, fixed at its first use.
    package var now: Int64 { self.withWorker { $0.transactionNow() } }

    /// Which attempt this is (0 for the first); a body that writes outside the transaction resets on a re-run.
    package var attempt: Int { self.withWorker { $0.attempt } }

    /// The key's live value and expiry, or nil if it has none.
    package func get(_ key: KeyBytes) -> Entry? {
        self.withWorker { $0.transactionRead(key) }
    }

    /// `get`, leaving a value it finds expired where it is (KEYS hides such keys without deleting them).
    package func peek(_ key: KeyBytes) -> Entry? {
        self.withWorker { $0.transactionRead(key, removingExpired: false) }
    }

    /// True when the key has a live value.
    package func exists(_ key: KeyBytes) -> Bool {
        self.get(key) != nil
    }

    /// Sets the key to a string holding a copy of `bytes`.
    package func setString(_ key: KeyBytes, _ bytes: UnsafeRawBufferPointer, expiry: Expiry = .none) {
        // (No defaulted `encoding` here: a default argument is a call of its own on SET's path.)
        self.setString(key, bytes, expiry: expiry, encoding: .fromContent)
    }

    /// Sets the key to a string holding a copy of `bytes`; `encoding` says how the command made it.
    package func setString(
        _ key: KeyBytes,
        _ bytes: UnsafeRawBufferPointer,
        expiry: Expiry,
        encoding: StringEncoding
    ) {
        let value = Value.makeString(copying: bytes, encoding: encoding)
        self.withWorker { worker in
            worker.accountAllocation(value.allocatedBytes)
            worker.transactionWrite(key, value: value.bits, owned: true, expiry: expiry)
        }
    }

    /// Sets the key to a new string of `count` bytes that `fill` writes.
    package func setString(
        _ key: KeyBytes,
        count: Int,
        expiry: Expiry = .none,
        encoding: StringEncoding,
        _ fill: (UnsafeMutableRawBufferPointer) -> Void
    ) {
        let value = Value.makeString(count: count, encoding: encoding, fill)
        self.withWorker { worker in
            worker.accountAllocation(value.allocatedBytes)
            worker.transactionWrite(key, value: value.bits, owned: true, expiry: expiry)
        }
    }

    /// Sets the key to its string `current` (what `get` just returned for it; nil: none) with bytes `changed`
    /// rewritten by `fill`, grown with zero bytes to `count` (APPEND, SETRANGE, SETBIT, BITFIELD). `fill` gets the
    /// bytes of `changed` as they are before it runs. A long string is chunked, so this costs the bytes changed
    /// rather than the string's length, and the log gets the changed bytes only (see `Value.makeChanged`).
    package func changeString(
        _ key: KeyBytes,
        current: Value?,
        count: Int,
        changed: Range<Int>,
        expiry: Expiry,
        encoding: StringEncoding,
        _ fill: (UnsafeMutableRawBufferPointer) -> Void
    ) {
        let (value, allocated) = Value.makeChanged(
            from: current,
            count: count,
            changed: changed,
            encoding: encoding,
            fill
        )
        self.withWorker { worker in
            worker.accountAllocation(allocated)
            worker.transactionWrite(key, value: value.bits, owned: true, expiry: expiry, patch: changed)
        }
    }

    /// Sets the key to a copy of `value`, a value this transaction read (COPY): a chunked string shares its chunks.
    package func setCopy(_ key: KeyBytes, of value: Value, expiry: Expiry, encoding: StringEncoding) {
        let (copy, allocated) = Value.makeCopy(of: value, encoding: encoding)
        self.withWorker { worker in
            worker.accountAllocation(allocated)
            worker.transactionWrite(key, value: copy.bits, owned: true, expiry: expiry)
        }
    }

    /// Moves a value this transaction read from another key to `key` (RENAME, MOVE): O(1), no copy.
    ///
    /// The transaction must also delete or overwrite the key it read `value` from; commit checks it.
    package func setMoving(_ key: KeyBytes, value: Value, expiry: Expiry) {
        self.withWorker { $0.transactionWrite(key, value: value.bits, owned: false, expiry: expiry) }
    }

    /// How many keys this transaction's buffered writes add to (or, negative, remove from) database `index`: what
    /// DBSIZE inside EXEC adds to the committed count.
    /// - Complexity: O(w) in the write set.
    package func pendingKeyCountChange(database index: Int) -> Int {
        self.withWorker { worker in
            var change = 0
            for entry in worker.writeSet where entry.written && entry.databaseIndex == index {
                if entry.baseValue == 0 && entry.value != 0 { change += 1 }
                if entry.baseValue != 0 && entry.value == 0 { change -= 1 }
            }
            return change
        }
    }

    /// How many keys with an expiry this transaction's buffered writes add to (or remove from) database `index`:
    /// what INFO keyspace's `expires` inside EXEC adds to the committed count.
    /// - Complexity: O(w) in the write set.
    package func pendingExpiresCountChange(database index: Int) -> Int {
        self.withWorker { worker in
            var change = 0
            for entry in worker.writeSet where entry.written && entry.databaseIndex == index {
                if entry.baseValue != 0 && entry.baseExpiresAt != 0 { change -= 1 }
                if entry.value != 0 && entry.expiresAt != 0 { change += 1 }
            }
            return change
        }
    }

    /// Deletes the key. Returns true if it had a live value.
    @discardableResult
    package func delete(_ key: KeyBytes) -> Bool {
        self.withWorker { $0.transactionDelete(key) }
    }

    /// Sets (or with `.none` removes) the expiry of a key with a live value, keeping its value.
    ///
    /// - Returns: false if the key has no live value (nothing changes).
    @discardableResult
    package func setExpiry(_ key: KeyBytes, _ expiry: Expiry) -> Bool {
        self.withWorker { $0.transactionSetExpiry(key, expiry) }
    }
}

/// The result of a committed transaction.
package struct Committed<R> {
    /// What the body returned.
    package var result: R
    /// The transaction's TID, or nil for a transaction that wrote nothing.
    package var tid: UInt64?
    /// The effects for the log, valid until this worker's next transaction; empty when nothing was written.
    package var record: CommitRecord
}
