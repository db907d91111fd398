import CWeftSupport

extension Worker {
    /// Starts loading, for every key `enumerate` passes to its sink, the index slot, the cell and the value that a
    /// command on that key will read: the server calls this for a batch of pipelined commands just before it runs
    /// them, so that their cache misses overlap instead of coming one after another (as Dragonfly and Garnet batch
    /// their lookups).
    ///
    /// Only hints: nothing is locked or validated, a guess that turns out wrong (another database after a
    /// SELECT, a key written meanwhile) costs one wasted load, and the commands look their keys up as usual. The
    /// stages run over the whole batch in turn (table headers, then home slots, then cells, then values), each
    /// reading what the previous one asked for, so that by the time a stage reads a line it has usually arrived.
    ///
    /// - Parameters:
    ///   - index: the database the keys are expected in (`SELECT` number).
    ///   - enumerate: calls its argument once with each key's bytes, valid during that call.
    /// - Complexity: O(*k*) in the keys, with no allocation once the worker's scratch array has grown.
    package func prefetch(database index: Int, keys enumerate: ((KeyBytes) -> Void) -> Void) {
        self.prefetchHashes.removeAll(keepingCapacity: true)
        enumerate { key in
            self.prefetchHashes.append(self.hash(key))
        }
        guard !self.prefetchHashes.isEmpty else { return }
        self.pin()
        defer { self.unpin() }
        self.prefetchStages(in: self.database(at: index))
    }

    /// The stages behind `prefetch(database:keys:)` and `prefetchDeclared`, over the hashes in `prefetchHashes`.
    /// The caller must be pinned.
    func prefetchStages(in database: Database) {
        for hash in self.prefetchHashes {
            weft_prefetch(database.shard(for: hash).table.base)
        }
        for hash in self.prefetchHashes {
            database.shard(for: hash).table.prefetchHome(hash)
        }
        for hash in self.prefetchHashes {
            database.shard(for: hash).table.prefetchHomeCell(hash)
        }
        for hash in self.prefetchHashes {
            database.shard(for: hash).table.prefetchHomeValue(hash)
        }
    }
}
