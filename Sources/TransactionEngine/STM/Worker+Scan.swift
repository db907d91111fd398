/// Walking a database's keys: SCAN and KEYS (`scan`), SCAN and KEYS inside a transaction (`scanKeys`), RANDOMKEY
/// (`randomKey`).
///
/// The walk goes in increasing order of the keys' 64-bit hashes. The shard is the hash's top byte, so shards are
/// visited in order; inside a shard, the cells at or above the cursor are ordered by hash. A cursor is a hash: the
/// next call starts at the first hash above the last one returned. Because growth only rebuilds a shard's table and
/// never changes a key's hash, a key that is present during a whole iteration is returned at least once, however
/// the shards grow meanwhile (Redis's SCAN guarantee); a key added or removed meanwhile may or may not be.
extension Worker {
    /// Calls `body` with live keys (present, not expired) of database `index` in increasing order of their hash,
    /// starting at the first hash at or above `cursor`, until at least `count` keys have been given (and every
    /// further key with the same hash as the last one).
    ///
    /// `body` sees each key with its value and expiry, valid only inside it; it must not run transactions. Called
    /// outside a transaction, the walk waits for locked cells like `get`; inside one (this worker pinned), it waits
    /// only briefly and skips a cell that stays locked, which may be its own (use `scanKeys` there).
    ///
    /// - Parameters:
    ///   - cursor: 0 to start an iteration, else the value a previous call returned.
    ///   - count: the least number of keys to give before stopping (fewer when the iteration ends); at least 1.
    ///   - removingExpired: which of the expired values the walk passes are removed when it ends (SCAN's: those
    ///     its pattern matches, as Redis's deletes them; KEYS leaves them all).
    /// - Returns: the cursor of the next call: the last hash given plus one, or 0 when the iteration is complete.
    /// - Complexity: O(s + k log k) per shard visited, for s the shard's table size and k the keys given from it.
    @discardableResult
    package func scan(
        database index: Int,
        cursor: UInt64,
        count: Int,
        removingExpired: (KeyBytes) -> Bool = { _ in false },
        _ body: (KeyBytes, Entry) -> Void
    ) -> UInt64 {
        let now = self.clock.nowMilliseconds()
        return self.walk(
            database: index,
            cursor: cursor,
            count: count,
            liveAt: now,
            removingExpired: removingExpired
        ) { cell, snapshot in
            body(cell.key, Entry(value: Value(bits: snapshot.value)!, expiresAt: snapshot.expiresAt))
        }
    }

    /// Like `scan`, and gives each key's TID too (the TID of the commit that installed what `body` sees): the walk
    /// of a checkpoint. Unlike `scan` it also gives values whose expiry has passed but that are still in their
    /// cells: a transaction whose time was fixed before that expiry may still change such a value (a patch, an
    /// EXPIRE) in a commit logged after the checkpoint, which replay must apply to it. Replay then removes what is
    /// still expired (`finishRestore`).
    @discardableResult
    package func scanWithTIDs(
        database index: Int,
        cursor: UInt64,
        count: Int,
        _ body: (KeyBytes, Entry, UInt64) -> Void
    ) -> UInt64 {
        self.walk(database: index, cursor: cursor, count: count, liveAt: .min) { cell, snapshot in
            body(
                cell.key,
                Entry(value: Value(bits: snapshot.value)!, expiresAt: snapshot.expiresAt),
                CellWord.tid(snapshot.word)
            )
        }
    }

    /// Like `scan`, but gives every key that has a cell, present or not, without reading its value: the walk of a
    /// transaction body, which then decides with `Transaction.get` which keys it sees (its own writes included).
    ///
    /// It never waits for a cell's lock, so it is safe while this worker holds locks. `count` counts cells.
    @discardableResult
    package func scanKeys(database index: Int, cursor: UInt64, count: Int, _ body: (KeyBytes) -> Void) -> UInt64 {
        self.walk(database: index, cursor: cursor, count: count, liveAt: nil) { cell, _ in body(cell.key) }
    }

    /// A live key of database `index` chosen at random, or nil when it has none (RANDOMKEY).
    ///
    /// Picks a shard with probability in proportion to its cells, then a uniformly chosen live key in it (or in
    /// the next shard that has one), so every key is about equally likely.
    /// - Complexity: O(s) for the table sizes s of the shards visited (usually one).
    package func randomKey(database index: Int) -> [UInt8]? {
        var generator = SystemRandomNumberGenerator()
        return self.randomKey(database: index, using: &generator)
    }

    /// `randomKey(database:)` with a given source of randomness (for tests).
    package func randomKey(database index: Int, using generator: inout some RandomNumberGenerator) -> [UInt8]? {
        let bounded = self.pinDepth > 0
        self.pin()
        defer { self.unpin() }
        let database = self.database(at: index)
        guard database.keyCount > 0 else { return nil }
        var first = Int.random(in: 0..<Database.shardCount, using: &generator)
        var cells = 0
        for i in 0..<Database.shardCount {
            cells += database.shard(at: i).pointer.pointee.live.load(ordering: .relaxed)
        }
        if cells > 0 {
            var position = Int.random(in: 0..<cells, using: &generator)
            for i in 0..<Database.shardCount {
                position -= database.shard(at: i).pointer.pointee.live.load(ordering: .relaxed)
                if position < 0 {
                    first = i
                    break
                }
            }
        }
        let now = self.clock.nowMilliseconds()
        for step in 0..<Database.shardCount {
            let table = database.shard(at: (first + step) & (Database.shardCount - 1)).table
            // Count the live keys, pick one by its position, and find it again (or, if keys went away meanwhile,
            // the last live one before the end).
            var live = 0
            table.forEachCell { cell in
                guard let snapshot = Worker.snapshot(cell, bounded: bounded) else { return }
                if snapshot.isLive(now: now) {
                    live += 1
                } else {
                    self.noteIfExpired(cell, snapshot, now: now, database: index)
                }
            }
            guard live > 0 else { continue }
            var position = Int.random(in: 0..<live, using: &generator)
            var chosen: Cell? = nil
            table.forEachCell { cell in
                guard position >= 0, let snapshot = Worker.snapshot(cell, bounded: bounded), snapshot.isLive(now: now)
                else { return }
                chosen = cell
                position -= 1
            }
            if let chosen { return Array(chosen.key) }
        }
        return nil
    }

    /// A snapshot of `cell`; a worker that may hold locks (one inside a transaction) waits only briefly for another's
    /// lock, and gets nil instead of waiting for ever for its own.
    @inline(__always) private static func snapshot(_ cell: Cell, bounded: Bool) -> CellSnapshot? {
        bounded ? cell.snapshot(spinLimit: 256) : cell.snapshot()
    }

    /// The walk behind `scan` and `scanKeys`: with a time, the cells live at that time count; with nil, every cell
    /// that is not dead counts, and none is read. The expired values it passes that `removingExpired` wants are
    /// noted for removal (`noteIfExpired`).
    private func walk(
        database index: Int,
        cursor: UInt64,
        count: Int,
        liveAt now: Int64?,
        removingExpired: (KeyBytes) -> Bool = { _ in false },
        _ body: (Cell, CellSnapshot) -> Void
    ) -> UInt64 {
        precondition(count > 0, "scan count must be positive")
        let bounded = self.pinDepth > 0
        self.pin()
        defer { self.unpin() }
        let database = self.database(at: index)
        var remaining = count
        var lower = cursor
        var shardIndex = Int(truncatingIfNeeded: cursor >> 56)
        var bound = BoundedHashes()
        var picked: [(hash: UInt64, cell: Cell, snapshot: CellSnapshot)] = []
        // The state of a cell as this walk counts it, or nil to skip it.
        func inspect(_ cell: Cell) -> CellSnapshot? {
            guard let now else {
                let word = cell.loadWord()
                return CellWord.isDead(word) ? nil : CellSnapshot(word: word, value: 0, expiresAt: 0)
            }
            guard let snapshot = Worker.snapshot(cell, bounded: bounded) else { return nil }
            guard snapshot.isLive(now: now) else {
                self.noteIfExpired(cell, snapshot, now: now, database: index, wanted: removingExpired)
                return nil
            }
            return snapshot
        }
        while shardIndex < Database.shardCount {
            // One table for both passes: it holds every cell that existed when it was loaded, and stays readable
            // while this worker is pinned even if the shard grows meanwhile.
            let table = database.shard(at: shardIndex).table
            // First pass (only when the shard may hold more keys than are wanted): the remaining-th smallest hash
            // at or above `lower`. Every key up to it is given, so keys with equal hashes go together.
            var highest = UInt64.max
            var filled = false
            if remaining < table.capacity {
                bound.reset(limit: remaining)
                // Tags order like hashes (see `forEachCell`): once enough are kept, a cell whose tag is above the
                // largest kept is not read at all.
                let lowTag = IndexTable.tag(lower)
                var highTag = IndexTable.tag(UInt64.max)
                let slots = table.slots
                for i in 0..<table.capacity {
                    let slot = (slots + i).pointee.load(ordering: .acquiring)
                    guard let cell = IndexTable.cell(inSlot: slot) else { continue }
                    let tag = slot & ~IndexTable.pointerMask
                    guard tag >= lowTag && tag <= highTag else { continue }
                    let hash = cell.hash
                    guard hash >= lower, bound.admits(hash), inspect(cell) != nil else { continue }
                    bound.insert(hash)
                    if bound.isFull { highTag = IndexTable.tag(bound.largest) }
                }
                if bound.isFull {
                    highest = bound.largest
                    filled = true
                }
            }
            // Second pass: the cells in [lower, highest], in hash order.
            picked.removeAll(keepingCapacity: true)
            Worker.forEachCell(in: table, from: lower, through: highest) { cell, hash in
                guard let snapshot = inspect(cell) else { return }
                picked.append((hash, cell, snapshot))
            }
            picked.sort { $0.hash < $1.hash }
            for item in picked {
                body(item.cell, item.snapshot)
            }
            remaining -= picked.count
            if filled || remaining <= 0, let last = filled ? highest : picked.last?.hash {
                // The next call starts above the last hash given (0 past the end of the hash space).
                let (next, overflow) = last.addingReportingOverflow(1)
                return overflow ? 0 : next
            }
            shardIndex += 1
            lower = UInt64(shardIndex) << 56
        }
        return 0
    }
}

extension Worker {
    /// Calls `body` with each cell of `table` (one shard's) whose hash lies in [lower, upper], with its hash. The
    /// slot's tag (the hash's bits 40 to 55, beside the pointer) is checked first, so most cells outside the range
    /// are skipped without being read.
    @inline(__always) fileprivate static func forEachCell(
        in table: IndexTable,
        from lower: UInt64,
        through upper: UInt64,
        _ body: (Cell, UInt64) -> Void
    ) {
        // Every hash in this table has the same top byte (the shard), so within it tags order like hashes.
        let lowTag = IndexTable.tag(lower)
        let highTag = upper >> 56 == lower >> 56 ? IndexTable.tag(upper) : IndexTable.tag(UInt64.max)
        let slots = table.slots
        for i in 0..<table.capacity {
            let slot = (slots + i).pointee.load(ordering: .acquiring)
            guard let cell = IndexTable.cell(inSlot: slot) else { continue }
            let tag = slot & ~IndexTable.pointerMask
            guard tag >= lowTag && tag <= highTag else { continue }
            let hash = cell.hash
            guard hash >= lower && hash <= upper else { continue }
            body(cell, hash)
        }
    }
}

/// The `limit` smallest hashes seen so far, as a max-heap: what the first pass of a scan keeps.
private struct BoundedHashes {
    private var heap: [UInt64] = []
    private var limit = 0

    mutating func reset(limit: Int) {
        self.heap.removeAll(keepingCapacity: true)
        self.limit = limit
    }

    var isFull: Bool { self.heap.count >= self.limit }

    /// The largest hash kept.
    var largest: UInt64 { self.heap[0] }

    /// True when `hash` would be kept (checked before the cell is read, which costs more).
    @inline(__always) func admits(_ hash: UInt64) -> Bool {
        self.heap.count < self.limit || hash < self.heap[0]
    }

    mutating func insert(_ hash: UInt64) {
        if self.heap.count < self.limit {
            self.heap.append(hash)
            var child = self.heap.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard self.heap[parent] < self.heap[child] else { break }
                self.heap.swapAt(parent, child)
                child = parent
            }
            return
        }
        // Replace the largest and sift it down.
        self.heap[0] = hash
        var parent = 0
        while true {
            let left = 2 * parent + 1
            guard left < self.heap.count else { break }
            let right = left + 1
            let larger = right < self.heap.count && self.heap[right] > self.heap[left] ? right : left
            guard self.heap[larger] > self.heap[parent] else { break }
            self.heap.swapAt(parent, larger)
            parent = larger
        }
    }
}
