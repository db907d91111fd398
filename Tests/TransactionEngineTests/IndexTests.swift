import Synchronization
import TestSupport
import Testing

@testable import TransactionEngine

@Suite("Key index")
struct IndexTests {
    @Test("binary keys: NUL, CR LF, empty, long and high bytes are distinct keys")
    func binaryKeys() {
        let engine = TransactionEngine(configuration: testConfiguration())
        let worker = engine.makeWorker()
        let keys: [[UInt8]] = [
            [], [0], [0, 0], [13, 10], [255, 0, 255], Array(repeating: 7, count: 1000), Array("a\0b".utf8),
            Array("a\0c".utf8),
        ]
        for (i, key) in keys.enumerated() {
            worker.set(key, [UInt8(i)])
        }
        for (i, key) in keys.enumerated() {
            #expect(worker.get(key) == [UInt8(i)])
        }
        #expect(worker.keyCount(database: 0) == keys.count)
    }

    @Test("keys with the same full hash are told apart by their bytes")
    func hashCollisions() {
        let engine = TransactionEngine(configuration: testConfiguration())
        let worker = engine.makeWorker()
        let hash: UInt64 = 0xdead_beef_0000_0001
        worker.pin()
        defer { worker.unpin() }
        let shard = engine.databases[0].shard(for: hash)
        var cells: [Cell] = []
        for i in 0..<100 {
            let key = bytes("collide-\(i)")
            let (cell, inserted, _) = key.withUnsafeBytes {
                shard.findOrInsert($0, hash: hash, word: CellWord.absentBit, worker: worker)
            }
            #expect(inserted)
            cells.append(cell)
        }
        for i in 0..<100 {
            let key = bytes("collide-\(i)")
            let found = key.withUnsafeBytes { shard.find($0, hash: hash) }
            #expect(found == cells[i])
            let again = key.withUnsafeBytes {
                shard.findOrInsert($0, hash: hash, word: CellWord.absentBit, worker: worker)
            }
            #expect(again.cell == cells[i] && !again.inserted)
        }
        #expect(bytes("collide-100").withUnsafeBytes { shard.find($0, hash: hash) } == nil)
        #expect(shard.table.capacity >= 200)
    }

    @Test("keys of every length up to 24 bytes that differ in one byte, with the same hash, are told apart")
    func oneByteDifferences() {
        // Cell.keyEquals compares keys of 4 to 16 bytes as two overlapping words: a difference in any byte, in
        // either word or in their overlap, must still tell two keys apart.
        let engine = TransactionEngine(configuration: testConfiguration())
        let worker = engine.makeWorker()
        worker.pin()
        defer { worker.unpin() }
        for length in 0...24 {
            let hash: UInt64 = 0x5eed_0000_0000_0000 | UInt64(length)
            let shard = engine.databases[0].shard(for: hash)
            let base = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            var keys = [base]
            for position in 0..<length {
                var variant = base
                variant[position] ^= 0x80
                keys.append(variant)
            }
            var cells: [Cell] = []
            for key in keys {
                let (cell, inserted, _) = key.withUnsafeBytes {
                    shard.findOrInsert($0, hash: hash, word: CellWord.absentBit, worker: worker)
                }
                #expect(inserted, "length \(length)")
                cells.append(cell)
            }
            for (index, key) in keys.enumerated() {
                #expect(key.withUnsafeBytes { shard.find($0, hash: hash) } == cells[index], "length \(length)")
                #expect(cells[index].keyEquals(cells[index].key))
                for other in keys.indices where other != index {
                    #expect(!key.withUnsafeBytes { cells[other].keyEquals($0) })
                }
            }
            // A prefix or an extension of a key is another key.
            if length > 0 {
                let shorter = Array(base.dropLast())
                #expect(!shorter.withUnsafeBytes { cells[0].keyEquals($0) })
            }
            let longer = base + [0]
            #expect(!longer.withUnsafeBytes { cells[0].keyEquals($0) })
        }
    }

    @Test("a shard grows alone while other threads look keys up")
    func growthUnderConcurrentLookups() {
        let engine = TransactionEngine(configuration: testConfiguration())
        let writer = engine.makeWorker()
        let preloaded = 2_000
        for i in 0..<preloaded {
            writer.set("pre:\(i)", "\(i)")
        }
        let inserted = scaled(20_000)
        let done = Atomic<Bool>(false)
        let misses = Atomic<Int>(0)
        let readers = 3
        runOnThreads(readers + 1) { index in
            if index == 0 {
                for i in 0..<inserted {
                    writer.set("new:\(i)", "\(i)")
                }
                done.store(true, ordering: .releasing)
                return
            }
            let reader = engine.makeWorker()
            var random = SeededRandom(seed: UInt64(index))
            repeat {
                for _ in 0..<500 {
                    let i = Int(random.next() % UInt64(preloaded))
                    if reader.getString("pre:\(i)") != "\(i)" {
                        misses.add(1, ordering: .relaxed)
                    }
                }
            } while !done.load(ordering: .acquiring)
        }
        #expect(misses.load(ordering: .relaxed) == 0)
        let reader = engine.makeWorker()
        for i in 0..<inserted {
            #expect(reader.getString("new:\(i)") == "\(i)")
        }
        #expect(reader.keyCount(database: 0) == preloaded + inserted)
    }

    @Test("prefetching keys while other threads insert, replace, delete and grow them changes nothing")
    func prefetchUnderConcurrentWrites() {
        let engine = TransactionEngine(configuration: testConfiguration())
        let writer = engine.makeWorker()
        let keys = 2_000
        for i in 0..<keys where i % 2 == 0 {
            writer.set("p:\(i)", "\(i)")
        }
        let rounds = scaled(20)
        let done = Atomic<Bool>(false)
        runOnThreads(3) { index in
            if index == 0 {
                // Replace, delete and insert keys (growing shards) while the others prefetch them.
                for round in 0..<rounds {
                    for i in 0..<keys {
                        if (i + round) % 3 == 0 {
                            _ = writer.delete(Array("p:\(i)".utf8))
                        } else {
                            writer.set("p:\(i)", "\(i)-\(round)")
                        }
                    }
                }
                done.store(true, ordering: .releasing)
                return
            }
            let prefetcher = engine.makeWorker()
            let batch = (0..<48).map { Array("p:\($0 * 41 % keys)".utf8) } + [[], Array("absent".utf8)]
            repeat {
                for database in [0, 1] {
                    prefetcher.prefetch(database: database) { sink in
                        for key in batch { key.withUnsafeBytes(sink) }
                    }
                }
            } while !done.load(ordering: .acquiring)
        }
        // Every key holds what the last round wrote, or is gone if that round deleted it.
        let last = rounds - 1
        let reader = engine.makeWorker()
        for i in 0..<keys {
            let expected = (i + last) % 3 == 0 ? nil : "\(i)-\(last)"
            #expect(reader.getString("p:\(i)") == expected)
        }
        #expect(reader.keyCount(database: 1) == 0)
    }

    @Test("the 16 databases are separate key spaces")
    func databasesAreSeparate() {
        let engine = TransactionEngine(configuration: testConfiguration())
        let worker = engine.makeWorker()
        for db in 0..<16 {
            worker.set("k", "v\(db)", database: db)
        }
        for db in 0..<16 {
            #expect(worker.getString("k", database: db) == "v\(db)")
            #expect(worker.keyCount(database: db) == 1)
        }
    }

    @Test("the hash spreads similar keys over shards and slots")
    func hashSpread() {
        var shards = Set<UInt64>()
        var hashes = Set<UInt64>()
        for i in 0..<10_000 {
            let hash = bytes("key:\(i)").withUnsafeBytes { KeyHash.hash($0, seed: 1) }
            shards.insert(hash >> 56)
            hashes.insert(hash)
        }
        #expect(shards.count == 256)
        #expect(hashes.count == 10_000)
        let a = bytes("same").withUnsafeBytes { KeyHash.hash($0, seed: 1) }
        let b = bytes("same").withUnsafeBytes { KeyHash.hash($0, seed: 2) }
        #expect(a != b)
    }
}
