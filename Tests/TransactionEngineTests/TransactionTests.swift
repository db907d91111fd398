import Foundation
import Synchronization
import TestSupport
import Testing

@testable import TransactionEngine

struct BodyFailure: Error, Equatable {}

@Suite("Transactions")
struct TransactionTests {
    @Test("single-key: set, read back, overwrite, delete; TIDs grow")
    func singleKey() throws {
        let engine = TransactionEngine(configuration: testConfiguration())
        let worker = engine.makeWorker()
        let first = try #require(worker.set(bytes("k"), bytes("one")))
        #expect(worker.getString("k") == "one")
        let second = try #require(worker.set(bytes("k"), bytes("two")))
        #expect(second > first)
        #expect(worker.getString("k") == "two")
        #expect(worker.delete(bytes("k")))
        #expect(worker.getString("k") == nil)
        #expect(!worker.delete(bytes("k")))
        #expect(worker.keyCount(database: 0) == 0)
    }

    @Test("single-key: read-your-writes inside the body, and a body that throws changes nothing")
    func readYourWritesAndRollback() throws {
        let engine = TransactionEngine(configuration: testConfiguration())
        let worker = engine.makeWorker()
        worker.set("k", "base")
        let key = bytes("k")
        let seen = key.withUnsafeBytes { raw in
            worker.run(database: 0, key: raw) { tx -> [String?] in
                let before = tx.getString("k")
                tx.set("k", "mid")
                let mid = tx.getString("k")
                tx.delete(key)
                let gone = tx.getString("k")
                tx.set("k", "end")
                return [before, mid, gone, tx.getString("k")]
            }.result
        }
        #expect(seen == ["base", "mid", nil, "end"])
        #expect(worker.getString("k") == "end")
        let memoryBefore = worker.statistics().usedMemory
        #expect(throws: BodyFailure.self) {
            try key.withUnsafeBytes { raw in
                try worker.run(database: 0, key: raw) { tx throws(BodyFailure) in
                    tx.set("k", String(repeating: "x", count: 10_000))
                    throw BodyFailure()
                }
            }
        }
        #expect(worker.getString("k") == "end")
        #expect(worker.statistics().usedMemory == memoryBefore)
    }

    @Test("a write set sorts into cell-address order, whatever its size and order: the lock order")
    func writeSetSort() {
        var random = SeededRandom(seed: 7)
        let cells = (0..<40).map { i in
            bytes("k\(i)").withUnsafeBytes { Cell.allocate(key: $0, hash: UInt64(i), word: 0) }
        }
        defer { cells.forEach { $0.deallocate() } }
        for count in 0...40 {
            for _ in 0..<20 {
                var entries = cells.shuffled(using: &random).prefix(count).enumerated().map { index, cell in
                    WriteEntry(cell: cell, databaseIndex: index)
                }
                let before = Set(entries.map { "\($0.cell.bits)/\($0.databaseIndex)" })
                Worker.sortByCell(&entries)
                #expect(zip(entries, entries.dropFirst()).allSatisfy { $0.cell.bits < $1.cell.bits })
                #expect(Set(entries.map { "\($0.cell.bits)/\($0.databaseIndex)" }) == before)
            }
        }
    }

    @Test("without records (a server with no log) commits build none, and change the keys and counts alike")
    func noRecords() {
        var configuration = testConfiguration()
        configuration.recordsEffects = false
        let engine = TransactionEngine(configuration: configuration)
        let worker = engine.makeWorker()
        let committed = withKeyBytes([bytes("a"), bytes("b")]) { keys in
            worker.run(database: 0, keys: keys) { tx in
                tx.set("a", "1", expiry: .at(9_000_000_000_000))
                tx.set("b", "2")
            }
        }
        #expect(committed.tid != nil)
        #expect(committed.record.bytes.isEmpty)
        worker.delete(bytes("b"))
        #expect(worker.getString("a") == "1")
        #expect(worker.getString("b") == nil)
        #expect(worker.keyCount(database: 0) == 1)
        #expect(worker.expiresCount(database: 0) == 1)
    }

    @Test("a transaction that writes nothing gets no TID and no record; one that does gets both")
    func commitRecords() throws {
        let engine = TransactionEngine(configuration: testConfiguration())
        let worker = engine.makeWorker()
        worker.set("a", "1")
        let readOnly = withKeyBytes([bytes("a")]) { keys in
            worker.run(database: 0, keys: keys) { tx in tx.getString("a") }
        }
        #expect(readOnly.result == "1")
        #expect(readOnly.tid == nil)
        #expect(readOnly.record.bytes.isEmpty)

        let effects = try withKeyBytes([bytes("a"), bytes("b"), bytes("c")]) { keys in
            let committed = worker.run(database: 3, keys: keys) { tx in
                tx.set("a", "x", expiry: .at(9_000_000_000_000))
                tx.set("b", "y")
                tx.delete(bytes("c"))  // absent: no effect
            }
            #expect(committed.tid != nil)
            return try committed.record.effects()
        }
        #expect(
            Set(effects.map { "\($0)" })
                == Set([
                    Effect.put(
                        database: 3,
                        key: bytes("a"),
                        kind: .string,
                        value: bytes("x"),
                        expiresAt: 9_000_000_000_000
                    ),
                    Effect.put(database: 3, key: bytes("b"), kind: .string, value: bytes("y"), expiresAt: 0),
                ].map { "\($0)" })
        )
        let deletion = try bytes("b").withUnsafeBytes { raw in
            try worker.run(database: 3, key: raw) { tx in tx.delete(raw) }.record.effects()
        }
        #expect(deletion == [.delete(database: 3, key: bytes("b"))])
        let expiry = try bytes("a").withUnsafeBytes { raw in
            try worker.run(database: 3, key: raw) { tx in tx.setExpiry(raw, .none) }.record.effects()
        }
        #expect(expiry == [.expire(database: 3, key: bytes("a"), expiresAt: 0)])
    }

    @Test("optimistic: a conflicting commit during the body makes it re-run, invisibly")
    func optimisticConflictRetries() throws {
        let engine = TransactionEngine(configuration: testConfiguration(optimisticAttempts: 10))
        let worker = engine.makeWorker()
        let intruder = engine.makeWorker()
        worker.set("x", "0")
        worker.set("y", "0")
        let runs = Atomic<Int>(0)
        let result = worker.run(keys: [bytes("x"), bytes("y")]) { tx -> Int in
            let count = runs.add(1, ordering: .relaxed).newValue
            let x = Int(tx.getString("x")!)!
            if count <= 2 {
                // Another thread's commit lands between our read and our commit.
                runOnThread("the intruding commit") { intruder.set("x", "\(x + 100)") }
            }
            tx.set("y", "\(x)")
            return x
        }
        #expect(runs.load(ordering: .relaxed) == 3)
        #expect(result == 200)
        #expect(worker.getString("y") == "200")
        let stats = worker.statistics()
        #expect(stats.aborts == 2)
        #expect(stats.retries == 2)
        #expect(stats.fallbacks == 0)
    }

    @Test("optimistic: after the allowed aborts the body runs with its keys locked, and then cannot lose")
    func fallbackToLocking() throws {
        let engine = TransactionEngine(configuration: testConfiguration(optimisticAttempts: 2))
        let worker = engine.makeWorker()
        let intruder = engine.makeWorker()
        worker.set("x", "0")
        let runs = Atomic<Int>(0)
        let blockedWrites = Atomic<Int>(0)
        worker.run(keys: [bytes("x"), bytes("y")]) { tx in
            runs.add(1, ordering: .relaxed)
            let x = Int(tx.getString("x")!)!
            if runs.load(ordering: .relaxed) <= 2 {
                runOnThread("the intruding commit") { intruder.set("x", "\(x + 1)") }
            } else {
                // Locked mode: the intruder cannot commit until we do.
                startThread {
                    intruder.set("x", "999")
                    blockedWrites.add(1, ordering: .relaxed)
                }
                usleep(50_000)
                #expect(blockedWrites.load(ordering: .relaxed) == 0)
            }
            tx.set("y", "\(x)")
        }
        #expect(runs.load(ordering: .relaxed) == 3)
        #expect(worker.getString("y") == "2")
        waitUntil("the blocked write to commit after the locked transaction", pause: { usleep(1000) }) {
            blockedWrites.load(ordering: .relaxed) != 0
        }
        #expect(worker.getString("x") == "999")
        let stats = worker.statistics()
        #expect(stats.fallbacks == 1)
        #expect(stats.aborts == 2)
    }

    @Test("a key read as missing that another transaction creates meanwhile aborts the reader (phantom)")
    func phantomMiss() {
        let engine = TransactionEngine(configuration: testConfiguration(optimisticAttempts: 5))
        let worker = engine.makeWorker()
        let intruder = engine.makeWorker()
        let runs = Atomic<Int>(0)
        let sawMissing = worker.run(keys: [bytes("new"), bytes("flag")]) { tx -> Bool in
            let count = runs.add(1, ordering: .relaxed).newValue
            let missing = tx.getString("new") == nil
            if count == 1 {
                runOnThread("the intruding commit") { intruder.set("new", "here") }
            }
            if missing { tx.set("flag", "was-missing") }
            return missing
        }
        #expect(!sawMissing)
        #expect(runs.load(ordering: .relaxed) == 2)
        #expect(worker.getString("flag") == nil)
    }

    @Test("a body error on a consistent snapshot rolls back and propagates")
    func bodyErrorPropagates() {
        let engine = TransactionEngine(configuration: testConfiguration())
        let worker = engine.makeWorker()
        worker.set("a", "1")
        #expect(throws: BodyFailure.self) {
            try withKeyBytes([bytes("a"), bytes("b")]) { keys in
                try worker.run(database: 0, keys: keys) { tx throws(BodyFailure) in
                    tx.set("b", "2")
                    throw BodyFailure()
                }
            }
        }
        #expect(worker.getString("b") == nil)
        #expect(worker.keyCount(database: 0) == 1)
    }

    @Test("moving a value (RENAME) installs the same value without a copy")
    func moveValue() throws {
        let engine = TransactionEngine(configuration: testConfiguration())
        let worker = engine.makeWorker()
        worker.set("src", "payload")
        worker.run(keys: [bytes("src"), bytes("dst")]) { tx in
            let entry = bytes("src").withUnsafeBytes { tx.get($0)! }
            bytes("dst").withUnsafeBytes { tx.setMoving($0, value: entry.value, expiry: .at(entry.expiresAt)) }
            tx.delete(bytes("src"))
        }
        #expect(worker.getString("src") == nil)
        #expect(worker.getString("dst") == "payload")
        #expect(worker.keyCount(database: 0) == 1)
    }

    @Test("moving a value this transaction made keeps it alive (SET a; RENAME a b in one EXEC)")
    func moveOwnValue() {
        let engine = TransactionEngine(configuration: testConfiguration())
        let worker = engine.makeWorker()
        let baseline = worker.statistics().usedMemory
        worker.run(keys: [bytes("a"), bytes("b")]) { tx in
            tx.set("a", "fresh")
            let entry = bytes("a").withUnsafeBytes { tx.get($0)! }
            bytes("b").withUnsafeBytes { tx.setMoving($0, value: entry.value, expiry: .none) }
            tx.delete(bytes("a"))
            #expect(tx.getString("b") == "fresh")
        }
        #expect(worker.getString("a") == nil)
        #expect(worker.getString("b") == "fresh")
        worker.delete(bytes("b"))
        for _ in 0..<4 { worker.collect() }
        let tables = worker.statistics().usedMemory - baseline
        #expect(tables >= 0)
    }

    @Test("a write that ends where it began is still validated: no lost update through it")
    func unchangedWriteIsValidated() {
        let engine = TransactionEngine(configuration: testConfiguration(optimisticAttempts: 5))
        let worker = engine.makeWorker()
        let intruder = engine.makeWorker()
        let runs = Atomic<Int>(0)
        worker.run(keys: [bytes("A"), bytes("K")]) { tx in
            let count = runs.add(1, ordering: .relaxed).newValue
            tx.set("K", "x")
            if count == 1 {
                runOnThread("the intruding commit") {
                    intruder.run(keys: [bytes("A"), bytes("K")]) { other in
                        other.set("A", "1")
                        other.set("K", "y")
                    }
                }
            }
            _ = tx.getString("A")
            tx.delete(bytes("K"))
        }
        // The first run saw A=1 (after the intruder) but based K on the state before it: it must re-run, and the
        // re-run deletes the intruder's K.
        #expect(runs.load(ordering: .relaxed) == 2)
        #expect(worker.getString("K") == nil)
        #expect(worker.getString("A") == "1")
    }

    @Test("creating a key read as missing in the same transaction does not abort it")
    func ownInsertIsNotAPhantom() {
        let engine = TransactionEngine(configuration: testConfiguration())
        let worker = engine.makeWorker()
        let runs = Atomic<Int>(0)
        worker.run(keys: [bytes("new"), bytes("other")]) { tx in
            runs.add(1, ordering: .relaxed)
            #expect(tx.getString("new") == nil)
            tx.set("new", "v")
        }
        #expect(runs.load(ordering: .relaxed) == 1)
        #expect(worker.statistics().aborts == 0)
    }

    @Test("large write sets use the write index and stay atomic")
    func largeWriteSet() {
        let engine = TransactionEngine(configuration: testConfiguration())
        let worker = engine.makeWorker()
        let keys = (0..<500).map { bytes("k\($0)") }
        worker.run(keys: keys) { tx in
            for (i, key) in keys.enumerated() { tx.set(key, bytes("\(i)")) }
            for (i, key) in keys.enumerated() { #expect(tx.get(key) == bytes("\(i)")) }
        }
        #expect(worker.keyCount(database: 0) == 500)
        #expect(worker.getString("k499") == "499")
        // Either side of the write index's threshold (a linear scan up to it), each key written twice.
        for size in [Worker.writeIndexThreshold - 1, Worker.writeIndexThreshold + 1] {
            let keys = (0..<size).map { bytes("w\(size)-\($0)") }
            worker.run(keys: keys) { tx in
                for key in keys { tx.set(key, bytes("first")) }
                for (i, key) in keys.enumerated() { tx.set(key, bytes("\(i)")) }
                for (i, key) in keys.enumerated() { #expect(tx.get(key) == bytes("\(i)")) }
            }
            for i in 0..<size { #expect(worker.getString("w\(size)-\(i)") == "\(i)") }
        }
    }
}
