import Synchronization
import TestSupport
import Testing

@testable import TransactionEngine

@Suite("Scan and random keys")
struct ScanTests {
    /// One step of a scan: the keys and hashes given, and the next cursor.
    struct Step {
        var keys: [[UInt8]] = []
        var hashes: [UInt64] = []
        var next: UInt64 = 0
    }

    static func step(_ worker: Worker, database: Int = 0, cursor: UInt64, count: Int) -> Step {
        var step = Step()
        step.next = worker.scan(database: database, cursor: cursor, count: count) { key, entry in
            step.keys.append(Array(key))
            step.hashes.append(worker.hash(key))
            #expect(entry.value.count > 0)
        }
        return step
    }

    /// Every key of a whole iteration, checking each step's contract on the way.
    static func iterate(_ worker: Worker, database: Int = 0, count: Int, between: (Int) -> Void = { _ in })
        -> [[UInt8]]
    {
        var cursor: UInt64 = 0
        var all: [[UInt8]] = []
        var previous: UInt64? = nil
        var calls = 0
        repeat {
            let step = ScanTests.step(worker, database: database, cursor: cursor, count: count)
            // Hashes increase within a step and across steps, and start at the cursor.
            for hash in step.hashes {
                #expect(hash >= cursor)
                if let previous { #expect(hash >= previous) }
                previous = hash
            }
            if step.next != 0 {
                #expect(step.keys.count >= count)
                #expect(step.next == step.hashes.last! + 1)
            }
            all += step.keys
            cursor = step.next
            calls += 1
            between(calls)
        } while cursor != 0
        return all
    }

    @Test("a whole iteration gives every key once, in hash order, at least COUNT keys per step")
    func wholeIteration() {
        let engine = TransactionEngine(configuration: testConfiguration())
        let worker = engine.makeWorker()
        let keys = (0..<3_000).map { bytes("key:\($0)") }
        for key in keys { worker.set(key, bytes("v")) }
        for count in [1, 7, 100, 5_000] {
            let seen = ScanTests.iterate(worker, count: count)
            #expect(seen.count == keys.count)
            #expect(Set(seen) == Set(keys))
        }
        // An empty database, and another database, are separate.
        #expect(ScanTests.step(worker, database: 1, cursor: 0, count: 10).keys.isEmpty)
        #expect(ScanTests.step(worker, database: 1, cursor: 0, count: 10).next == 0)
    }

    @Test("a scan starts at the cursor's hash, inside a shard too")
    func startsAtCursor() {
        let engine = TransactionEngine(configuration: testConfiguration())
        let worker = engine.makeWorker()
        let keys = (0..<500).map { bytes("k\($0)") }
        for key in keys { worker.set(key, bytes("v")) }
        let hashes = keys.map { key in key.withUnsafeBytes { worker.hash($0) } }.sorted()
        let middle = hashes[250]
        let step = ScanTests.step(worker, cursor: middle, count: 1)
        #expect(step.hashes.first == middle)
        #expect(step.next == middle + 1)
        let rest = ScanTests.step(worker, cursor: middle, count: 10_000)
        #expect(rest.hashes == Array(hashes[250...]))
        #expect(rest.next == 0)
    }

    @Test("deleted and expired keys are skipped")
    func skipsDeadKeys() {
        let clock = ManualClock()
        let engine = TransactionEngine(configuration: testConfiguration(clock: clock))
        let worker = engine.makeWorker()
        for i in 0..<300 {
            let expiry: Expiry = i % 3 == 0 ? .at(clock.nowMilliseconds() + 1_000) : .none
            worker.set(bytes("k\(i)"), bytes("v"), expiry: expiry)
        }
        for i in 0..<300 where i % 3 == 1 {
            worker.delete(bytes("k\(i)"))
        }
        #expect(ScanTests.iterate(worker, count: 10).count == 200)
        clock.advance(by: 1_000)
        // Still there in their last millisecond (Redis's `now > when`).
        #expect(ScanTests.iterate(worker, count: 10).count == 200)
        clock.advance(by: 1)
        let live = Set(ScanTests.iterate(worker, count: 10))
        #expect(live == Set((0..<300).filter { $0 % 3 == 2 }.map { bytes("k\($0)") }))
    }

    @Test("keys inserted and removed between steps, growing every shard, never hide a key present throughout")
    func insertsBetweenSteps() {
        let engine = TransactionEngine(configuration: testConfiguration())
        let worker = engine.makeWorker()
        let stable = (0..<2_000).map { bytes("stable:\($0)") }
        for key in stable { worker.set(key, bytes("s")) }
        var added = 0
        let capacityBefore = worker.pinned { engine.databases[0].shard(at: 0).table.capacity }
        let seen = ScanTests.iterate(worker, count: 20) { call in
            // Between steps: 30 new keys (the shards grow several times over) and some of them removed again.
            for _ in 0..<30 {
                worker.set(bytes("new:\(added)"), bytes("n"))
                added += 1
            }
            if call % 2 == 0 { worker.delete(bytes("new:\(added - 15)")) }
        }
        let capacityAfter = worker.pinned { engine.databases[0].shard(at: 0).table.capacity }
        #expect(capacityAfter > capacityBefore)
        #expect(Set(stable).isSubset(of: Set(seen)))
    }

    @Test("while another thread inserts and deletes other keys, every key present throughout is found")
    func concurrentWriters() {
        let engine = TransactionEngine(configuration: testConfiguration())
        let setup = engine.makeWorker()
        let stable = (0..<3_000).map { bytes("stable:\($0)") }
        for key in stable { setup.set(key, bytes("s")) }
        let done = Atomic<Bool>(false)
        let missing = Atomic<Int>(0)
        runOnThreads(2) { index in
            let worker = engine.makeWorker()
            if index == 0 {
                for _ in 0..<scaled(4) {
                    var found = Set<[UInt8]>()
                    var cursor: UInt64 = 0
                    repeat {
                        cursor = worker.scan(database: 0, cursor: cursor, count: 16) { key, _ in
                            found.insert(Array(key))
                        }
                    } while cursor != 0
                    missing.add(stable.filter { !found.contains($0) }.count, ordering: .relaxed)
                }
                done.store(true, ordering: .releasing)
            } else {
                var i = 0
                while !done.load(ordering: .acquiring) {
                    worker.set(bytes("churn:\(i)"), bytes("c"))
                    if i >= 100 { worker.delete(bytes("churn:\(i - 100)")) }
                    i += 1
                    if i % 256 == 0 { worker.collect() }
                }
            }
        }
        #expect(missing.load(ordering: .relaxed) == 0)
    }

    /// Inserts a live key with a chosen hash directly into the index (to force full-hash collisions).
    static func insert(_ worker: Worker, _ engine: TransactionEngine, key: [UInt8], hash: UInt64) {
        worker.pinned {
            let shard = engine.databases[0].shard(for: hash)
            let (cell, inserted, _) = key.withUnsafeBytes {
                shard.findOrInsert($0, hash: hash, word: CellWord.lockBit | CellWord.absentBit, worker: worker)
            }
            precondition(inserted)
            let value = key.withUnsafeBytes { Value.makeString(copying: $0) }
            cell.store(valueBits: value.bits, expiresAt: 0)
            cell.unlock(word: 1)
            engine.databases[0].adjustKeyCount(by: 1, stripe: 0)
        }
    }

    @Test("keys with the same hash come in the same step, and the last hash of the space ends the iteration")
    func equalHashesAndOverflow() {
        let engine = TransactionEngine(configuration: testConfiguration())
        let worker = engine.makeWorker()
        let shared: UInt64 = 0x4200_0000_0000_0010
        for i in 0..<5 {
            ScanTests.insert(worker, engine, key: bytes("twin\(i)"), hash: shared)
        }
        ScanTests.insert(worker, engine, key: bytes("before"), hash: shared - 1)
        ScanTests.insert(worker, engine, key: bytes("after"), hash: shared + 1)
        ScanTests.insert(worker, engine, key: bytes("last"), hash: UInt64.max)
        var keys: [[UInt8]] = []
        var next = worker.scan(database: 0, cursor: shared, count: 1) { key, _ in keys.append(Array(key)) }
        #expect(Set(keys) == Set((0..<5).map { bytes("twin\($0)") }))
        #expect(next == shared + 1)
        keys = []
        next = worker.scan(database: 0, cursor: shared - 1, count: 2) { key, _ in keys.append(Array(key)) }
        #expect(keys.count == 6 && keys[0] == bytes("before"))
        #expect(next == shared + 1)
        keys = []
        next = worker.scan(database: 0, cursor: UInt64.max, count: 1) { key, _ in keys.append(Array(key)) }
        #expect(keys == [bytes("last")])
        #expect(next == 0)
        // Across the empty shards between, in one step.
        keys = []
        next = worker.scan(database: 0, cursor: shared + 2, count: 1) { key, _ in keys.append(Array(key)) }
        #expect(keys == [bytes("last")])
        #expect(next == 0)
    }

    @Test("scanKeys gives placeholders too and never waits for a lock this worker holds")
    func scanInsideTransaction() {
        let engine = TransactionEngine(configuration: testConfiguration())
        let worker = engine.makeWorker()
        for i in 0..<50 { worker.set(bytes("k\(i)"), bytes("v")) }
        let (cells, live) = withKeyBytes([bytes("k0"), bytes("fresh")]) { keys in
            // Locked up front: "k0" and the placeholder "fresh" are held by this worker while the body scans.
            worker.run(database: 0, keys: keys, mode: .locked) { tx -> (Int, Int) in
                tx.set("fresh", "x")
                var cells = 0
                worker.scanKeys(database: 0, cursor: 0, count: Int.max) { _ in cells += 1 }
                var live = 0
                worker.scan(database: 0, cursor: 0, count: Int.max) { _, _ in live += 1 }
                return (cells, live)
            }.result
        }
        #expect(cells == 51)
        #expect(live == 49)  // its own locked cells are skipped, not waited for
        #expect(ScanTests.iterate(worker, count: 1_000).count == 51)
    }

    @Test("randomKey: nil when empty, only live keys, and every key in time")
    func randomKeys() {
        let clock = ManualClock()
        let engine = TransactionEngine(configuration: testConfiguration(clock: clock))
        let worker = engine.makeWorker()
        #expect(worker.randomKey(database: 0) == nil)
        let keys = (0..<20).map { bytes("r\($0)") }
        for key in keys { worker.set(key, bytes("v")) }
        worker.set(bytes("soon"), bytes("v"), expiry: .at(clock.nowMilliseconds() + 10))
        clock.advance(by: 11)
        var generator = SeededRandom(seed: 42)
        var seen = Set<[UInt8]>()
        for _ in 0..<2_000 {
            guard let key = worker.randomKey(database: 0, using: &generator) else {
                Issue.record("no key")
                return
            }
            seen.insert(key)
        }
        #expect(seen == Set(keys))
        for key in keys { worker.delete(key) }
        #expect(worker.randomKey(database: 0) == nil)
    }
}
