import Synchronization

/// What a shard's lock guards: its counts of live cells and tombstones.
package struct _ShardCounts {
    package var live: Int = 0
    package var tombstones: Int = 0
}

/// One shard of a database's key index.
///
/// Lookups load `table` and probe it without a lock. Inserts, removals and growth take `lock`; growth builds a new
/// table for this shard alone and publishes it, so no operation ever waits for the whole index to resize.
/// `version` counts inserts: a transaction that reads a key as missing records it and checks at commit that no
/// insert happened since (the phantom check).
package struct _ShardHeader: ~Copyable {
    package let table: Atomic<UInt>
    package let version: Atomic<UInt64>
    package let lock: SpinLock
    /// Live cells and tombstones; changed only under `lock` (atomic so that statistics may read them).
    package let live: Atomic<Int>
    package let tombstones: Atomic<Int>
}

/// A handle to one shard.
package struct IndexShard: @unchecked Sendable {
    package let pointer: UnsafeMutablePointer<_ShardHeader>

    /// The capacity of a new shard's table.
    package static let initialCapacity = 8

    @inline(__always) package var table: IndexTable {
        IndexTable(bits: self.pointer.pointee.table.load(ordering: .acquiring))!
    }

    /// The insert count, read before a lookup that may miss.
    @inline(__always) package var version: UInt64 {
        self.pointer.pointee.version.load(ordering: .acquiring)
    }

    /// Finds the live (not dead) cell of `key`, without a lock.
    @inline(__always) package func find(_ key: UnsafeRawBufferPointer, hash: UInt64) -> Cell? {
        self.table.find(key, hash: hash)
    }

    /// Finds the cell of `key`, or inserts one with `word` (typically absent, possibly locked).
    ///
    /// - Returns: the cell, whether this call inserted it, and (if it did) the shard's insert count just before
    ///   its insert, so that the caller can tell its own insert from others' in its phantom checks. The cell may
    ///   turn out dead by the time the caller uses it; the caller then calls again.
    /// - Complexity: O(1) expected; O(n) in the shard's size when it grows.
    package func findOrInsert(
        _ key: UnsafeRawBufferPointer,
        hash: UInt64,
        word: UInt64,
        worker: Worker
    ) -> (cell: Cell, inserted: Bool, versionBefore: UInt64) {
        if let cell = self.find(key, hash: hash), !CellWord.isDead(cell.loadWord()) {
            return (cell, false, 0)
        }
        return self.withLock { counts, _ in
            var table = self.table
            if let cell = table.find(key, hash: hash) {
                return (cell, false, 0)
            }
            if (counts.live + counts.tombstones + 1) * 4 > table.capacity * 3 {
                table = self.rebuild(from: table, counts: &counts, worker: worker)
            }
            let cell = Cell.allocate(key: key, hash: hash, word: word)
            worker.accountAllocation(Cell.allocationSize(keyCount: key.count))
            if table.place(cell) {
                counts.tombstones -= 1
            }
            counts.live += 1
            let before = self.pointer.pointee.version.add(1, ordering: .releasing).oldValue
            return (cell, true, before)
        }
    }

    /// Links `cell`, which no table holds, into this shard: FLUSHDB carries a watched cell into the new database.
    /// The caller has checked that the key is not present.
    package func insertExisting(_ cell: Cell, worker: Worker) {
        self.withLock { counts, _ in
            var table = self.table
            if (counts.live + counts.tombstones + 1) * 4 > table.capacity * 3 {
                table = self.rebuild(from: table, counts: &counts, worker: worker)
            }
            if table.place(cell) {
                counts.tombstones -= 1
            }
            counts.live += 1
            self.pointer.pointee.version.add(1, ordering: .releasing)
        }
    }

    /// Replaces `old` by a table sized for the live cells, publishes it and retires `old`.
    private func rebuild(from old: IndexTable, counts: inout _ShardCounts, worker: Worker) -> IndexTable {
        var capacity = IndexShard.initialCapacity
        while capacity < (counts.live + 1) * 2 {
            capacity *= 2
        }
        let table = IndexTable.allocate(capacity: capacity)
        worker.accountAllocation(IndexTable.allocationSize(capacity: capacity))
        old.forEachCell { cell in
            table.place(cell)
        }
        self.pointer.pointee.table.store(table.bits, ordering: .releasing)
        counts.tombstones = 0
        worker.retire(.table(old))
        return table
    }

    /// Unlinks a cell that its caller has already marked dead, and retires it.
    package func remove(_ cell: Cell, worker: Worker) {
        self.withLock { counts, table in
            if table.unlink(cell) {
                counts.live -= 1
                counts.tombstones += 1
            }
        }
        worker.retire(.cell(cell))
    }

    /// Runs `body` under the shard lock (for the sweep, which decides removals while holding it).
    package func withLock<R>(_ body: (inout _ShardCounts, IndexTable) throws -> R) rethrows -> R {
        self.pointer.pointee.lock.lock()
        defer { self.pointer.pointee.lock.unlock() }
        var counts = _ShardCounts(
            live: self.pointer.pointee.live.load(ordering: .relaxed),
            tombstones: self.pointer.pointee.tombstones.load(ordering: .relaxed)
        )
        defer {
            self.pointer.pointee.live.store(counts.live, ordering: .relaxed)
            self.pointer.pointee.tombstones.store(counts.tombstones, ordering: .relaxed)
        }
        return try body(&counts, self.table)
    }

    /// Live cells (including absent placeholders not yet swept), for statistics.
    package var cellCount: Int {
        self.withLock { counts, _ in counts.live }
    }
}
