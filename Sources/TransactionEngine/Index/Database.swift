import Synchronization

/// The storage of one logical database (Redis's `SELECT n`): its shards and its striped key count.
package struct _DatabaseHeader: ~Copyable {
    package let shards: UnsafeMutablePointer<_ShardHeader>
    /// `Database.keyCountStripes` counters, 8 words apart so that workers do not share a cache line.
    package let keyCounts: UnsafeMutablePointer<Atomic<Int>>
    /// The same for keys with an expiry (INFO keyspace's `expires`).
    package let expiresCounts: UnsafeMutablePointer<Atomic<Int>>
}

/// A handle to one database's key index.
///
/// The index maps binary-safe keys to cells. It has `Database.shardCount` shards chosen by the top bits of the
/// key's hash; see `IndexShard` for what takes a lock. Handles are plain pointers; the engine's database table maps
/// `SELECT` numbers to them and only exclusive transactions (FLUSHDB, SWAPDB) change that table.
package struct Database: @unchecked Sendable {
    package let pointer: UnsafeMutablePointer<_DatabaseHeader>

    package static let shardCount = 256
    package static let keyCountStripes = 16
    static let stripeSpacing = 8

    /// A handle to no database: what a worker holds until its first transaction loads one while pinned. Its
    /// pointer is not null but invalid, so a use without that load faults at once.
    static let unloaded = Database(
        pointer: UnsafeMutablePointer(bitPattern: MemoryLayout<_DatabaseHeader>.alignment)!
    )

    /// A new, empty database.
    package static func allocate() -> Database {
        let shards = UnsafeMutablePointer<_ShardHeader>.allocate(capacity: Database.shardCount)
        for i in 0..<Database.shardCount {
            let table = IndexTable.allocate(capacity: IndexShard.initialCapacity)
            (shards + i).initialize(
                to: _ShardHeader(table: Atomic(table.bits), version: Atomic(0), lock: SpinLock(), live: Atomic(0), tombstones: Atomic(0))
            )
        }
        let counters = Database.keyCountStripes * Database.stripeSpacing
        let keyCounts = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: counters)
        let expiresCounts = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: counters)
        for i in 0..<counters {
            (keyCounts + i).initialize(to: Atomic(0))
            (expiresCounts + i).initialize(to: Atomic(0))
        }
        let header = UnsafeMutablePointer<_DatabaseHeader>.allocate(capacity: 1)
        header.initialize(to: _DatabaseHeader(shards: shards, keyCounts: keyCounts, expiresCounts: expiresCounts))
        return Database(pointer: header)
    }

    /// Bytes a new, empty database allocates for its index.
    package static var emptyAllocationSize: Int {
        Database.shardCount
            * (MemoryLayout<_ShardHeader>.stride + IndexTable.allocationSize(capacity: IndexShard.initialCapacity))
    }

    /// Frees the database with every cell and value in it.
    ///
    /// Called by reclamation after FLUSHDB/FLUSHALL replaced it, when no reader can still hold any of it.
    /// - Returns: the bytes freed.
    package func deallocateAll() -> Int {
        var freed = 0
        for i in 0..<Database.shardCount {
            let shard = IndexShard(pointer: self.pointer.pointee.shards + i)
            let table = shard.table
            table.forEachCell { cell in
                if let value = Value(bits: cell.valueBitsUnderLock) {
                    freed += value.deallocate()
                }
                freed += Cell.allocationSize(keyCount: cell.key.count)
                cell.deallocate()
            }
            freed += IndexTable.allocationSize(capacity: table.capacity)
            table.deallocate()
            _ = (self.pointer.pointee.shards + i).move()
        }
        freed += Database.shardCount * MemoryLayout<_ShardHeader>.stride
        self.pointer.pointee.shards.deallocate()
        self.pointer.pointee.keyCounts.deallocate()
        self.pointer.pointee.expiresCounts.deallocate()
        _ = self.pointer.move()
        self.pointer.deallocate()
        return freed
    }

    @inline(__always) package func shard(for hash: UInt64) -> IndexShard {
        IndexShard(pointer: self.pointer.pointee.shards + Int(truncatingIfNeeded: hash >> 56))
    }

    @inline(__always) package func shard(at index: Int) -> IndexShard {
        IndexShard(pointer: self.pointer.pointee.shards + index)
    }

    /// Adds `delta` to the key count, on the stripe of worker `stripe`.
    @inline(__always) package func adjustKeyCount(by delta: Int, stripe: Int) {
        let index = (stripe & (Database.keyCountStripes - 1)) * Database.stripeSpacing
        (self.pointer.pointee.keyCounts + index).pointee.add(delta, ordering: .relaxed)
    }

    /// Adds `delta` to the count of keys with an expiry, on the stripe of worker `stripe`.
    @inline(__always) package func adjustExpiresCount(by delta: Int, stripe: Int) {
        let index = (stripe & (Database.keyCountStripes - 1)) * Database.stripeSpacing
        (self.pointer.pointee.expiresCounts + index).pointee.add(delta, ordering: .relaxed)
    }

    /// Keys with an expiry (INFO keyspace's `expires`).
    package var expiresCount: Int {
        var total = 0
        for stripe in 0..<Database.keyCountStripes {
            total += (self.pointer.pointee.expiresCounts + stripe * Database.stripeSpacing).pointee.load(
                ordering: .relaxed
            )
        }
        return total
    }

    /// Keys with a value (including expired keys not yet reclaimed, as Redis's DBSIZE counts them).
    package var keyCount: Int {
        var total = 0
        for stripe in 0..<Database.keyCountStripes {
            total += (self.pointer.pointee.keyCounts + stripe * Database.stripeSpacing).pointee.load(
                ordering: .relaxed
            )
        }
        return total
    }

    /// Calls `body` for every cell in the database, shard by shard, without locks (weakly consistent).
    package func forEachCell(_ body: (Cell) throws -> Void) rethrows {
        for i in 0..<Database.shardCount {
            try self.shard(at: i).table.forEachCell(body)
        }
    }
}
