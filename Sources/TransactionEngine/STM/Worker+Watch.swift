/// A version check taken by WATCH: the key's cell and word now, checked again inside a later commit.
///
/// The token keeps its cell from being unlinked by the sweep, or freed by FLUSHDB and FLUSHALL (which carry it into
/// the new database), through a watcher count on the cell, until `unwatch`. SWAPDB bumps both databases'
/// generations, which fails every token taken before.
package struct WatchToken: Sendable {
    package let database: Int
    let generation: UInt64
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
            self.slot.pointee.watches.add(1, ordering: .relaxed)
            return WatchToken(
                database: index,
                generation: generation,
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
        token.cell.pointer.pointee.watchers.subtract(1, ordering: .sequentiallyConsistent)
        self.slot.pointee.watches.subtract(1, ordering: .relaxed)
    }
}
