import Foundation
import Synchronization
import TestSupport
import Testing

@testable import TransactionEngine

@Suite("Exclusive transactions, WATCH, expiry and reclamation")
struct ExclusiveWatchExpiryTests {
    /// EXEC's engine side: a transaction that writes "out" if the tokens still hold; true when it committed.
    static func exec(_ worker: Worker, _ tokens: [WatchToken]) -> Bool {
        withKeyBytes([bytes("out")]) { keys in
            worker.run(database: 0, keys: keys, watching: tokens) { tx in tx.set("out", "done") }
        } != nil
    }

    /// `exec` with one token, then released, as EXEC releases its watches.
    func execOnce(_ worker: Worker, _ token: WatchToken) -> Bool {
        defer { worker.unwatch(token) }
        return ExclusiveWatchExpiryTests.exec(worker, [token])
    }

    @Test("FLUSHDB empties one database, FLUSHALL all, SWAPDB exchanges two; each is recorded with a TID")
    func exclusiveOperations() throws {
        let engine = TransactionEngine(configuration: testConfiguration())
        let worker = engine.makeWorker()
        worker.set("a", "0", database: 0)
        worker.set("b", "1", database: 1)
        worker.set("c", "2", database: 2)
        let before = try #require(worker.set(bytes("z"), bytes("z"), database: 2))
        let swap = worker.runExclusive { ex in ex.swapDatabases(0, 1) }
        #expect(try swap.record.effects() == [.swapDatabases(0, 1)])
        #expect(try #require(swap.tid) > before)
        #expect(worker.getString("a", database: 1) == "0")
        #expect(worker.getString("b", database: 0) == "1")
        #expect(worker.keyCount(database: 0) == 1)
        let flush = worker.runExclusive { ex in ex.flushDatabase(2) }
        #expect(try flush.record.effects() == [.flushDatabase(2)])
        #expect(worker.keyCount(database: 2) == 0)
        #expect(worker.getString("c", database: 2) == nil)
        // Every TID after an exclusive transaction is above it.
        let after = try #require(worker.set(bytes("c"), bytes("3"), database: 2))
        #expect(after > flush.tid!)
        worker.runExclusive { ex in ex.flushAll() }
        #expect((0..<16).allSatisfy { worker.keyCount(database: $0) == 0 })
        #expect(worker.statistics().exclusiveRuns == 3)
    }

    @Test("an exclusive transaction waits for running transactions and runs alone")
    func exclusiveDrains() {
        let engine = TransactionEngine(configuration: testConfiguration())
        let setup = engine.makeWorker()
        for i in 0..<100 { setup.set("k\(i)", "v") }
        let stop = Atomic<Bool>(false)
        let torn = Atomic<Int>(0)
        let progress = Atomic<Int>(0)
        runOnThreads(3) { index in
            let worker = engine.makeWorker()
            if index == 0 {
                for round in 0..<scaled(40) {
                    // Let the other threads commit between exclusive runs, so that they overlap for real.
                    let target = progress.load(ordering: .relaxed) + 20
                    let committed = waitUntil("20 more commits", pause: { sched_yield() }) {
                        progress.load(ordering: .relaxed) >= target
                    }
                    guard committed else { break }
                    worker.runExclusive { ex in
                        if round % 2 == 0 { ex.swapDatabases(0, 1) } else { ex.flushDatabase(1) }
                    }
                }
                stop.store(true, ordering: .releasing)
                return
            }
            // This thread alone writes its group of keys, always all four with one value, so every database
            // holds the group whole or not at all, unless a swap or flush lands inside a transaction.
            let keys = (0..<4).map { bytes("g\(index):\($0)") }
            var counter = 0
            while !stop.load(ordering: .acquiring) {
                counter += 1
                worker.run(keys: keys) { tx in
                    for key in keys { tx.set(key, bytes("\(counter)")) }
                }
                let values = worker.run(keys: keys) { tx in keys.map { tx.get($0) } }
                if Set(values).count != 1 { torn.add(1, ordering: .relaxed) }
                progress.add(1, ordering: .relaxed)
            }
        }
        #expect(torn.load(ordering: .relaxed) == 0)
        #expect(progress.load(ordering: .relaxed) >= scaled(40) * 20)
    }

    @Test("WATCH fails on any write to the key: same value, own write, delete, expiry, FLUSHDB")
    func watchFailures() {
        let clock = ManualClock()
        let engine = TransactionEngine(configuration: testConfiguration(clock: clock))
        let worker = engine.makeWorker()
        worker.set("w", "1")

        func exec(_ tokens: [WatchToken]) -> Bool { ExclusiveWatchExpiryTests.exec(worker, tokens) }

        // Untouched: EXEC runs.
        var token = worker.watch(bytes("w"))
        #expect(exec([token]))
        worker.unwatch(token)
        // Same value written again: fails.
        token = worker.watch(bytes("w"))
        worker.set("w", "1")
        #expect(!exec([token]))
        worker.unwatch(token)
        // Deleted: fails.
        token = worker.watch(bytes("w"))
        worker.delete(bytes("w"))
        #expect(!exec([token]))
        worker.unwatch(token)
        // Watched while missing, then created: fails; untouched missing key: runs.
        token = worker.watch(bytes("w"))
        #expect(exec([token]))
        worker.set("w", "2")
        #expect(!exec([token]))
        worker.unwatch(token)
        // Expired between WATCH and EXEC: fails (Redis 7).
        worker.set("w", "3", expiry: .at(clock.nowMilliseconds() + 1000))
        token = worker.watch(bytes("w"))
        clock.advance(by: 2000)
        #expect(!exec([token]))
        worker.unwatch(token)
        // FLUSHDB: fails, and unwatching afterwards is safe.
        worker.set("w", "4")
        token = worker.watch(bytes("w"))
        worker.runExclusive { ex in ex.flushDatabase(0) }
        #expect(!exec([token]))
        worker.unwatch(token)
        // A write to another key does not fail it.
        worker.set("w", "5")
        token = worker.watch(bytes("w"))
        worker.set("other", "x")
        #expect(exec([token]))
        worker.unwatch(token)
        #expect(worker.statistics().watchFailures == 5)
    }

    @Test("the sweep keeps a WATCH on a missing key valid, and SWAPDB does not leak watch counts")
    func sweepAndWatch() {
        let engine = TransactionEngine(configuration: testConfiguration())
        let worker = engine.makeWorker()
        let token = worker.watch(bytes("lock"))
        for _ in 0..<6 {
            worker.collect()
            for _ in 0..<(Database.shardCount / 16) { worker.sweep(database: 0) }
        }
        let ran = withKeyBytes([bytes("lock")]) { keys in
            worker.run(database: 0, keys: keys, watching: [token]) { tx in tx.set("lock", "mine") }
        }
        #expect(ran != nil)
        worker.unwatch(token)
        // Watched across SWAPDB: EXEC fails, and unwatching still releases the cell for the sweep.
        let swapped = worker.watch(bytes("gone"))
        worker.runExclusive { ex in ex.swapDatabases(0, 1) }
        worker.unwatch(swapped)
        for _ in 0..<6 {
            worker.collect()
            for _ in 0..<(Database.shardCount / 16) { worker.sweep(database: 1) }
        }
        let cells = worker.pinned { () -> Int in
            var count = 0
            engine.databases[1].forEachCell { _ in count += 1 }
            return count
        }
        #expect(cells == 1)  // only "lock", which has a value
    }

    @Test("expiry is decided at the transaction's fixed time; KEEPTTL keeps it; the sweep removes expired keys")
    func expiry() throws {
        let clock = ManualClock()
        let engine = TransactionEngine(configuration: testConfiguration(clock: clock))
        let worker = engine.makeWorker()
        let now = clock.nowMilliseconds()
        worker.set("short", "s", expiry: .at(now + 100))
        worker.set("long", "l", expiry: .at(now + 10_000))
        worker.set("kept", "k", expiry: .at(now + 500))
        worker.run(keys: [bytes("kept")]) { tx in tx.set("kept", "k2", expiry: .keep) }
        let keptEntry = worker.run(keys: [bytes("kept")]) { tx in tx.entry(bytes("kept")) }
        #expect(keptEntry?.expiresAt == now + 500)
        #expect(keptEntry?.value == bytes("k2"))
        #expect(worker.getString("short") == "s")
        clock.advance(by: 200)
        #expect(worker.getString("short") == nil)
        #expect(worker.run(keys: [bytes("short")]) { tx in tx.getString("short") } == nil)
        // Writing over an expired key starts fresh: KEEPTTL has nothing to keep.
        worker.run(keys: [bytes("short")]) { tx in tx.set("short", "new", expiry: .keep) }
        #expect(worker.run(keys: [bytes("short")]) { tx in tx.entry(bytes("short"))?.expiresAt } == 0)
        clock.advance(by: 1000)
        #expect(worker.keyCount(database: 0) == 3)  // "kept" expired but not yet reclaimed, as in Redis
        var total = SweepResult()
        for _ in 0..<(Database.shardCount / 16) {
            let step = worker.sweep(database: 0)
            total.expired += step.expired
        }
        #expect(total.expired == 1)
        #expect(worker.keyCount(database: 0) == 2)
        #expect(worker.getString("long") == "l")
    }

    @Test("FLUSHDB and FLUSHALL fail only the WATCHes of keys that existed; a write after the flush fails the rest")
    func flushAndWatch() {
        let clock = ManualClock()
        let engine = TransactionEngine(configuration: testConfiguration(clock: clock))
        let worker = engine.makeWorker()

        // A missing key, flushed: no change (Redis 7), and the key stays missing.
        worker.set("other", "x")
        var token = worker.watch(bytes("missing"))
        worker.runExclusive { ex in ex.flushDatabase(0) }
        #expect(worker.keyCount(database: 0) == 0)
        #expect(execOnce(worker, token))
        // A missing key, flushed, then written in the new database: fails.
        token = worker.watch(bytes("later"))
        worker.runExclusive { ex in ex.flushAll() }
        worker.set("later", "1")
        #expect(!execOnce(worker, token))
        #expect(worker.getString("later") == "1")
        // A live key, flushed: fails, and its value is gone.
        token = worker.watch(bytes("later"))
        worker.runExclusive { ex in ex.flushDatabase(0) }
        #expect(worker.getString("later") == nil)
        #expect(!execOnce(worker, token))
        // A key that had expired when watched, flushed: no change.
        worker.set("old", "1", expiry: .at(clock.nowMilliseconds() + 100))
        clock.advance(by: 200)
        token = worker.watch(bytes("old"))
        worker.runExclusive { ex in ex.flushAll() }
        #expect(execOnce(worker, token))
        // Two tokens on one key across two flushes: each release is counted once, and the carried cells are then
        // unlinked by the sweep like any other absent cell.
        let first = worker.watch(bytes("twice"))
        let second = worker.watch(bytes("twice"))
        worker.runExclusive { ex in ex.flushDatabase(0) }
        worker.runExclusive { ex in ex.flushDatabase(0) }
        #expect(execOnce(worker, first))
        #expect(execOnce(worker, second))
        #expect(engine.watchCount() == 0)
        worker.delete(bytes("out"))
        for _ in 0..<6 {
            worker.collect()
            for _ in 0..<(Database.shardCount / 16) { worker.sweep(database: 0) }
        }
        let cells = worker.pinned { () -> Int in
            var count = 0
            engine.databases[0].forEachCell { _ in count += 1 }
            return count
        }
        #expect(cells == 0)
    }

    @Test("a read that finds a key expired removes it; a WATCH taken after the expiry survives the removal")
    func expiryOnAccess() {
        let clock = ManualClock()
        let engine = TransactionEngine(configuration: testConfiguration(clock: clock))
        let worker = engine.makeWorker()

        for key in ["a", "b", "c"] {
            worker.set(key, "1", expiry: .at(clock.nowMilliseconds() + 100))
        }
        worker.set("live", "x")
        clock.advance(by: 200)
        #expect(worker.keyCount(database: 0) == 4)  // expired, not yet removed
        // The lock-free read (GET) removes the key it finds expired...
        #expect(worker.getString("a") == nil)
        #expect(worker.keyCount(database: 0) == 3)
        // ...and so does a read inside a transaction.
        #expect(worker.run(keys: [bytes("b")]) { tx in tx.getString("b") } == nil)
        #expect(worker.keyCount(database: 0) == 2)
        #expect(worker.expiresCount(database: 0) == 1)
        #expect(worker.statistics().expiredOnAccess == 2)
        // Watched after it expired, then removed by a read: no change, EXEC runs (Redis 7).
        var token = worker.watch(bytes("c"))
        #expect(worker.getString("c") == nil)
        #expect(worker.keyCount(database: 0) == 1)
        #expect(execOnce(worker, token))
        // Watched after it expired, then written: fails.
        worker.set("e", "1", expiry: .at(clock.nowMilliseconds() + 100))
        clock.advance(by: 200)
        token = worker.watch(bytes("e"))
        worker.set("e", "2")
        #expect(!execOnce(worker, token))
        // Watched while live, then expired and removed by a read: fails.
        worker.set("d", "1", expiry: .at(clock.nowMilliseconds() + 100))
        token = worker.watch(bytes("d"))
        clock.advance(by: 200)
        #expect(worker.getString("d") == nil)
        #expect(!execOnce(worker, token))
        // a, b, c, d removed; e written over after its expiry (Redis deletes it before the write, and counts it).
        #expect(worker.statistics().expiredOnAccess == 5)
        #expect(worker.getString("live") == "x")
    }

    @Test("a key lives through its last millisecond; a write, SCAN or RANDOMKEY that meets it expired removes it")
    func expiryBoundaryAndRemoval() {
        let clock = ManualClock()
        let engine = TransactionEngine(configuration: testConfiguration(clock: clock))
        let worker = engine.makeWorker()
        worker.set("k", "v", expiry: .at(clock.nowMilliseconds() + 10))
        clock.advance(by: 10)
        // Now is its time: still there (Redis's keyIsExpired is `now > when`).
        #expect(worker.getString("k") == "v")
        #expect(worker.run(keys: [bytes("k")]) { tx in tx.entry(bytes("k"))?.value } == bytes("v"))
        #expect(worker.keyCount(database: 0) == 1)
        clock.advance(by: 1)
        #expect(worker.getString("k") == nil)
        #expect(worker.keyCount(database: 0) == 0)

        // A write that finds its key expired removes it, though it writes nothing (DEL, EXPIRE of an expired key).
        for key in ["d", "e", "s1", "s2", "x"] {
            worker.set(key, "1", expiry: .at(clock.nowMilliseconds() + 5))
        }
        clock.advance(by: 10)
        #expect(worker.keyCount(database: 0) == 5)
        #expect(!worker.delete(bytes("d")))
        let persisted = worker.run(keys: [bytes("e")]) { tx in bytes("e").withUnsafeBytes { tx.setExpiry($0, .none) } }
        #expect(!persisted)
        #expect(worker.keyCount(database: 0) == 3)
        // SCAN removes the expired keys its caller wants; those it leaves stay until something meets them.
        var given = 0
        worker.scan(
            database: 0,
            cursor: 0,
            count: 100,
            removingExpired: { $0.first == UInt8(ascii: "s") },
            { _, _ in given += 1 }
        )
        #expect(given == 0)
        #expect(worker.keyCount(database: 0) == 1)
        // RANDOMKEY finds no live key, and removes the expired ones it passed.
        #expect(worker.randomKey(database: 0) == nil)
        #expect(worker.keyCount(database: 0) == 0)
        #expect(worker.statistics().expiredOnAccess == 6)
        // A peek (KEYS inside EXEC) hides an expired key and leaves it; a read removes it.
        worker.set("p", "1", expiry: .at(clock.nowMilliseconds() + 5))
        clock.advance(by: 10)
        #expect(worker.run(keys: [bytes("p")]) { tx in bytes("p").withUnsafeBytes { tx.peek($0) } } == nil)
        #expect(worker.keyCount(database: 0) == 1)
        #expect(worker.run(keys: [bytes("p")]) { tx in bytes("p").withUnsafeBytes { tx.get($0) } } == nil)
        #expect(worker.keyCount(database: 0) == 0)
        #expect(worker.statistics().expiredOnAccess == 7)
    }

    @Test("replaced values, deleted keys and placeholders are reclaimed: memory returns to where it started")
    func reclamation() {
        let engine = TransactionEngine(configuration: testConfiguration())
        let worker = engine.makeWorker()
        let baseline = worker.statistics().usedMemory
        for round in 0..<5 {
            for i in 0..<1000 { worker.set("k\(i)", String(repeating: "v", count: 100 + round)) }
        }
        let loaded = worker.statistics().usedMemory
        #expect(loaded > baseline + 1000 * 100)
        for i in 0..<1000 { worker.delete(bytes("k\(i)")) }
        // Reads of missing keys inside transactions insert nothing.
        for i in 0..<100 { _ = worker.run(keys: [bytes("miss\(i)")]) { tx in tx.getString("miss\(i)") } }
        for _ in 0..<8 {
            worker.collect()
            for _ in 0..<(Database.shardCount / 16) { worker.sweep(database: 0) }
        }
        worker.collect()
        worker.collect()
        #expect(worker.retiredCount == 0)
        let stats = worker.statistics()
        // Shard tables grew and stay grown; everything else is back.
        let tables = (0..<Database.shardCount).reduce(0) { total, index in
            total + IndexTable.allocationSize(capacity: engine.databases[0].shard(at: index).table.capacity)
                - IndexTable.allocationSize(capacity: IndexShard.initialCapacity)
        }
        #expect(stats.usedMemory == baseline + tables)
        #expect(stats.keysPerDatabase[0] == 0)
    }

    @Test("memory usage of a key counts its cell, key and value")
    func memoryUsage() {
        let engine = TransactionEngine(configuration: testConfiguration())
        let worker = engine.makeWorker()
        worker.set("key", String(repeating: "x", count: 1000))
        let usage = bytes("key").withUnsafeBytes { worker.memoryUsage(database: 0, key: $0) }
        #expect(usage == Cell.allocationSize(keyCount: 3) + Value.allocationSize(count: 1000))
        #expect(bytes("none").withUnsafeBytes { worker.memoryUsage(database: 0, key: $0) } == nil)
    }
}
