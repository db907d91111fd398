/// A version check taken by WATCH: the key's cell and word now, checked again inside a later commit.
///
/// The token keeps its cell from being unlinked by the sweep (a watcher count on the cell) until `unwatch`.
/// FLUSHDB, FLUSHALL and SWAPDB bump the database's generation, which fails every token taken before.
package struct WatchToken: Sendable {
    package let database: Int
    let generation: UInt64
    /// The engine's flush count when taken: while unchanged, the cell has not been freed by FLUSHDB/FLUSHALL
    /// (SWAPDB moves cells without freeing them), so `unwatch` may touch it.
    let flushes: UInt64
    let cell: Cell
    let word: UInt64
    /// The key had a live value when watched: it must not have expired by the commit (Redis 7).
    let wasLive: Bool
}

extension Worker {
    /// Records `key`'s version for a later `run(database:keys:watching:_:)`. Pair with `unwatch`.
    package func watch(database index: Int, key: KeyBytes) -> WatchToken {
        self.pin()
        defer { self.unpin() }
        let previous = (self.databaseIndex, self.database)
        defer { (self.databaseIndex, self.database) = previous }
        self.databaseIndex = index
        self.database = self.database(at: index)
        let generation = self.engine.generations[index].load(ordering: .acquiring)
        let flushes = self.engine.flushes.load(ordering: .acquiring)
        while true {
            let cell = self.findOrInsertLive(key)
            cell.pointer.pointee.watchers.add(1, ordering: .sequentiallyConsistent)
            #if !arch(x86_64)
            atomicMemoryFence(ordering: .sequentiallyConsistent)
            #endif
            let snapshot = cell.snapshot()
            if CellWord.isDead(snapshot.word) {
                cell.pointer.pointee.watchers.subtract(1, ordering: .sequentiallyConsistent)
                continue
            }
            return WatchToken(
                database: index,
                generation: generation,
                flushes: flushes,
                cell: cell,
                word: snapshot.word,
                wasLive: snapshot.isLive(now: self.clock.nowMilliseconds())
            )
        }
    }

    /// Releases a token (UNWATCH, EXEC, DISCARD, a closed connection).
    package func unwatch(_ token: WatchToken) {
        self.pin()
        defer { self.unpin() }
        // After FLUSHDB/FLUSHALL the cell may be freed; the flush count says so.
        guard self.engine.flushes.load(ordering: .acquiring) == token.flushes else { return }
        token.cell.pointer.pointee.watchers.subtract(1, ordering: .sequentiallyConsistent)
    }
}
