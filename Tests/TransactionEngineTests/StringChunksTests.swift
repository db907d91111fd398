import Synchronization
import TestSupport
import Testing

@testable import TransactionEngine

/// Chunked strings (`StringChunks`): long strings changed in place by APPEND, SETRANGE, SETBIT and BITFIELD copy
/// only the chunks they change, share the rest between versions, and log only the changed bytes.
@Suite("String chunks")
struct StringChunksTests {
    static let size = StringChunks.size

    /// Every reader of `value` agrees with `model`.
    func check(_ value: Value, _ model: [UInt8], whole: Bool, random: inout SeededRandom) {
        #expect(value.count == model.count)
        if whole { #expect(value.byteArray == model) }
        guard !model.isEmpty else { return }
        for _ in 0..<8 {
            let a = Int(random.next() % UInt64(model.count))
            let b = Int(random.next() % UInt64(model.count - a + 1)) + a
            let range = a..<b
            #expect(value.withBytes(in: range) { Array($0) } == Array(model[range]))
            var spans: [UInt8] = []
            value.forEachSpan(in: range) { spans += $0 }
            #expect(spans == Array(model[range]))
            var copy = [UInt8](repeating: 0, count: range.count)
            copy.withUnsafeMutableBytes { out in
                if !range.isEmpty { value.copyBytes(range, to: out.baseAddress!) }
            }
            #expect(copy == Array(model[range]))
            #expect(value.byte(at: a) == model[a])
        }
    }

    /// Frees `versions` in a random order; returns the bytes freed.
    func freeScrambled(_ versions: [Value], random: inout SeededRandom) -> Int {
        var versions = versions
        var freed = 0
        while !versions.isEmpty {
            let index = Int(random.next() % UInt64(versions.count))
            freed += versions.remove(at: index).deallocate()
        }
        return freed
    }

    @Test("random appends, overwrites and zero-filled growth match a byte model; every byte allocated is freed")
    func randomChanges() {
        var random = SeededRandom(seed: 42)
        var model: [UInt8] = []
        var current: Value? = nil
        var versions: [Value] = []
        var allocated = 0
        let steps = scaled(200)
        for step in 0..<steps {
            let offset: Int
            let length: Int
            switch random.next() % 4 {
            case 0:  // APPEND
                offset = model.count
                length = Int(random.next() % 3000) + 1
            case 1:  // across a chunk boundary
                let boundary = (Int(random.next() % UInt64(model.count / Self.size + 2))) * Self.size
                offset = max(0, boundary - Int(random.next() % 40))
                length = Int(random.next() % 80) + 1
            case 2:  // past the end, leaving zeros between
                offset = model.count + Int(random.next() % UInt64(Self.size * 2))
                length = Int(random.next() % 100) + 1
            default:  // anywhere inside
                offset = model.isEmpty ? 0 : Int(random.next() % UInt64(model.count))
                length = Int(random.next() % 200) + 1
            }
            let fill = (0..<length).map { UInt8(truncatingIfNeeded: $0 &+ step &* 31 &+ 1) }
            let count = max(model.count, offset + length)
            let (value, bytes) = Value.makeChanged(
                from: current,
                count: count,
                changed: offset..<offset + length,
                encoding: .raw
            ) { out in
                // `fill` sees the bytes as they were (zeros past the old end).
                let before = (offset..<offset + length).map { $0 < model.count ? model[$0] : 0 }
                #expect(Array(out) == before)
                fill.withUnsafeBytes { out.copyMemory(from: $0) }
            }
            allocated += bytes
            if model.count < offset { model += [UInt8](repeating: 0, count: offset - model.count) }
            if model.count < offset + length { model += [UInt8](repeating: 0, count: offset + length - model.count) }
            model.replaceSubrange(offset..<offset + length, with: fill)
            #expect(value.isChunked == (count >= StringChunks.threshold))
            self.check(value, model, whole: step % 20 == 0 || step == steps - 1, random: &random)
            versions.append(value)
            current = value
        }
        if steps >= 200 { #expect(model.count > StringChunks.threshold * 4) }
        // Free in a scrambled order: chunks shared by many versions go with the last of them.
        #expect(self.freeScrambled(versions, random: &random) == allocated)
    }

    @Test("a one-byte change of a chunked string allocates one chunk, its segment and the table, and shares the rest")
    func oneByteChange() {
        let count = 40 * Self.size + 123
        let (base, _) = Value.makeChanged(from: nil, count: count, changed: 0..<count, encoding: .raw) { out in
            for i in 0..<out.count { out[i] = UInt8(truncatingIfNeeded: i) }
        }
        #expect(base.isChunked)
        // 41 chunks: two segments, of 32 and 9.
        let table = 2 * MemoryLayout<UnsafeMutableRawPointer>.stride
        let segment = StringChunks.segmentAllocationSize
        let (changed, allocated) = Value.makeChanged(
            from: base,
            count: count,
            changed: 5 * Self.size + 7..<5 * Self.size + 8,
            encoding: .raw
        ) { $0[0] = 0xAA }
        #expect(allocated == MemoryLayout<_ValueHeader>.stride + table + segment + StringChunks.allocationSize)
        #expect(changed.byte(at: 5 * Self.size + 7) == 0xAA)
        #expect(base.byte(at: 5 * Self.size + 7) == UInt8(truncatingIfNeeded: 5 * Self.size + 7))
        // Appending copies the partial last chunk (and its segment) only.
        let (longer, appended) = Value.makeChanged(
            from: changed,
            count: count + 10,
            changed: count..<count + 10,
            encoding: .raw
        ) {
            out in out.initializeMemory(as: UInt8.self, repeating: 1)
        }
        #expect(appended == MemoryLayout<_ValueHeader>.stride + table + segment + StringChunks.allocationSize)
        // Cut (what replay does with a patch over a longer string): whole chunks shared, the last one copied.
        let cutCount = 5 * Self.size + 5
        let (cut, cutAllocated) = Value.makeChanged(from: changed, count: cutCount, changed: 0..<1, encoding: .raw) {
            $0[0] = 7
        }
        #expect(cut.byteArray == [7] + Array(changed.byteArray[1..<cutCount]))
        #expect(cutAllocated == MemoryLayout<_ValueHeader>.stride + 8 + segment + 2 * StringChunks.allocationSize)
        cut.deallocate()
        let (copy, copied) = Value.makeCopy(of: longer, encoding: .raw)
        #expect(copied == MemoryLayout<_ValueHeader>.stride + table)
        let expected = longer.byteArray
        // Each chunk goes with the last segment holding it, each segment with the last value.
        var freed = base.deallocate() + changed.deallocate() + longer.deallocate()
        #expect(copy.byteArray == expected)
        freed += copy.deallocate()
        #expect(
            freed == 4 * (MemoryLayout<_ValueHeader>.stride + table) + 4 * segment + 43 * StringChunks.allocationSize
        )
    }

    @Test("writes to a string of many segments share the untouched segments; every byte allocated is freed")
    func manySegments() {
        var random = SeededRandom(seed: 7)
        let chunks = 3 * StringChunks.segmentChunks - 5
        var model = (0..<chunks * Self.size - 77).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        let (first, firstBytes) = Value.makeChanged(
            from: nil,
            count: model.count,
            changed: 0..<model.count,
            encoding: .raw
        ) { out in model.withUnsafeBytes { out.copyMemory(from: $0) } }
        var versions = [first]
        var allocated = firstBytes
        let segments = StringChunks.segmentCount(chunks: chunks)
        let table = segments * MemoryLayout<UnsafeMutableRawPointer>.stride
        for step in 0..<scaled(40) {
            let current = versions.last!
            // A few bytes inside one chunk (SETBIT, SETRANGE), or an APPEND that stays inside the last chunk.
            let appending = step % 3 == 0 && model.count % Self.size != 0 && model.count % Self.size < Self.size - 8
            let offset =
                appending ? model.count : Int(random.next() % UInt64(model.count / Self.size)) * Self.size + 100
            let count = appending ? model.count + 8 : model.count
            let fill = (0..<8).map { UInt8(truncatingIfNeeded: step &+ $0) }
            let (value, bytes) = Value.makeChanged(
                from: current,
                count: count,
                changed: offset..<offset + 8,
                encoding: .raw
            ) { out in fill.withUnsafeBytes { out.copyMemory(from: $0) } }
            // One new chunk in one new segment; the table is new; everything else is shared.
            #expect(
                bytes == MemoryLayout<_ValueHeader>.stride + table + StringChunks.segmentAllocationSize
                    + StringChunks.allocationSize
            )
            if model.count < offset + 8 { model += [UInt8](repeating: 0, count: offset + 8 - model.count) }
            model.replaceSubrange(offset..<offset + 8, with: fill)
            self.check(value, model, whole: step % 20 == 0, random: &random)
            allocated += bytes
            versions.append(value)
        }
        // Older versions still read as they were: spot-check the first against the bytes it was made with.
        #expect(first.byte(at: 0) == 0)
        #expect(first.byte(at: 100) == UInt8(truncatingIfNeeded: 100 &* 13))
        #expect(self.freeScrambled(versions, random: &random) == allocated)
    }

    @Test("cuts to a chunk boundary copy the segment they shorten; every byte allocated is freed")
    func cutsToBoundaries() {
        let count = 40 * Self.size + 123
        let (base, baseBytes) = Value.makeChanged(from: nil, count: count, changed: 0..<count, encoding: .raw) {
            out in
            for i in 0..<out.count { out[i] = UInt8(truncatingIfNeeded: i &* 7) }
        }
        let expected = base.byteArray
        var allocated = baseBytes
        var values = [base]
        // Whole chunks kept: within the first segment (5 of its 32), at the second's end (40 of 41), and exactly
        // one segment (32).
        for cut in [5 * Self.size, 40 * Self.size, StringChunks.segmentChunks * Self.size] {
            let (value, bytes) = Value.makeChanged(from: base, count: cut, changed: 0..<0, encoding: .raw) { _ in }
            #expect(value.byteArray == Array(expected[0..<cut]))
            allocated += bytes
            values.append(value)
        }
        // The base first and the shortest cut last: the last holder of a segment frees its chunks, so a segment
        // wrongly shared by a value with fewer chunks in it would leak the rest here.
        var freed = values.removeFirst().deallocate()
        for value in values.reversed() { freed += value.deallocate() }
        #expect(freed == allocated)
    }

    @Test("two changes of a key of several segments in one transaction: both land, nothing leaks")
    func twoChangesInOneTransaction() {
        let engine = TransactionEngine(configuration: testConfiguration())
        let worker = engine.makeWorker()
        let name = bytes("long")
        let count = 3 * StringChunks.segmentChunks * Self.size + 10
        let original = [UInt8](repeating: 3, count: count)
        var model = original
        func settle() {
            for _ in 0..<10 where worker.retiredCount > 0 { worker.collect() }
        }
        worker.set(name, original)
        settle()
        let used = worker.statistics().usedMemory
        // Chunked by a first change, then two changes in one transaction: in the first and in the last segment.
        name.withUnsafeBytes { raw in _ = worker.run(database: 0, key: raw) { tx in tx.append(name, bytes("a")) } }
        name.withUnsafeBytes { raw in
            _ = worker.run(database: 0, key: raw) { tx in
                tx.change(name, at: 100, bytes("bc"))
                tx.append(name, bytes("de"))
            }
        }
        model += bytes("a")
        model.replaceSubrange(100..<102, with: bytes("bc"))
        model += bytes("de")
        #expect(worker.get(name)! == model)
        // The same flat value again: every chunked version freed, the memory is what it was.
        worker.set(name, original)
        settle()
        #expect(worker.retiredCount == 0)
        #expect(worker.statistics().usedMemory == used)
    }

    @Test("a change of a long string logs a patch of the changed bytes; replaying the records rebuilds it")
    func patchEffects() throws {
        let engine = TransactionEngine(configuration: testConfiguration())
        let worker = engine.makeWorker()
        let name = bytes("bitmap")
        let expiry = Int64(4_000_000_000_000)
        var records: [(tid: UInt64, bytes: [UInt8])] = []
        func run(_ body: (Transaction) -> Void) {
            let committed = name.withUnsafeBytes { raw in worker.run(database: 0, key: raw) { body($0) } }
            if let tid = committed.tid { records.append((tid, Array(committed.record.bytes))) }
        }
        run { tx in tx.set(name, [UInt8](repeating: 9, count: 100_000), expiry: .at(expiry)) }
        run { tx in tx.append(name, bytes("tail")) }
        run { tx in tx.change(name, at: 200_000, bytes("far")) }
        run { tx in
            // Two changes in one transaction: one patch covering both.
            tx.change(name, at: 10, bytes("ab"))
            tx.change(name, at: 30, bytes("cd"))
        }
        let decoded = try records.map { record in
            try record.bytes.withUnsafeBytes { try Effect.decode($0) }
        }
        #expect(
            decoded[1] == [
                .patch(
                    database: 0,
                    key: name,
                    kind: .string,
                    count: 100_004,
                    offset: 100_000,
                    bytes: bytes("tail"),
                    expiresAt: expiry
                )
            ]
        )
        #expect(
            decoded[2] == [
                .patch(
                    database: 0,
                    key: name,
                    kind: .string,
                    count: 200_003,
                    offset: 200_000,
                    bytes: bytes("far"),
                    expiresAt: expiry
                )
            ]
        )
        #expect(
            decoded[3] == [
                .patch(
                    database: 0,
                    key: name,
                    kind: .string,
                    count: 200_003,
                    offset: 10,
                    bytes: bytes("ab") + [UInt8](repeating: 9, count: 18) + bytes("cd"),
                    expiresAt: expiry
                )
            ]
        )
        let live = worker.get(name)!
        // A change of most of the string logs all of it.
        run { tx in tx.change(name, at: 0, [UInt8](repeating: 1, count: 150_000)) }
        if case .put = try records.last!.bytes.withUnsafeBytes({ try Effect.decode($0) })[0] {
        } else {
            Issue.record("a change of most of the string should log a put")
        }
        // Replay into a fresh engine.
        let replayed = TransactionEngine(configuration: testConfiguration())
        let restorer = replayed.makeWorker()
        for record in records.dropLast() {
            try record.bytes.withUnsafeBytes { try restorer.restore(record: $0, tid: record.tid, exclusiveBound: 0) }
        }
        #expect(restorer.get(name) == live)
        #expect(name.withUnsafeBytes { raw in restorer.get(database: 0, key: raw) { $0?.expiresAt } } == expiry)
    }

    @Test("concurrent appends to one long key: every piece lands once, in each worker's order", arguments: [2, 4, 8])
    func concurrentAppends(workers: Int) {
        let engine = TransactionEngine(configuration: testConfiguration())
        let name = bytes("log")
        // Three segments to start with, so that versions share whole segments across threads.
        let start = 3 * StringChunks.segmentChunks * StringChunks.size
        engine.makeWorker().set(name, [UInt8](repeating: 0, count: start))
        let perWorker = scaled(1_600) / workers
        runOnThreads(workers) { index in
            let worker = engine.makeWorker()
            for step in 0..<perWorker {
                // Some appends in optimistic multi-key transactions, which conflict and re-run.
                let piece = [UInt8(index + 1), UInt8(truncatingIfNeeded: step), UInt8(truncatingIfNeeded: step >> 8)]
                if step % 3 == 0 {
                    worker.run(keys: [name, bytes("other:\(index)")]) { tx in
                        tx.append(name, piece)
                        tx.set(bytes("other:\(index)"), bytes("\(step)"))
                    }
                } else {
                    name.withUnsafeBytes { raw in _ = worker.run(database: 0, key: raw) { tx in tx.append(name, piece) }
                    }
                }
                if step % 50 == 0 { worker.collect() }
            }
        }
        let value = engine.makeWorker().get(name)!
        #expect(value.count == start + 3 * perWorker * workers)
        var next = [Int](repeating: 0, count: workers)
        var position = start
        var ordered = true
        while position + 3 <= value.count {
            let index = Int(value[position]) - 1
            let step = Int(value[position + 1]) | Int(value[position + 2]) << 8
            if index < 0 || index >= workers || step != next[index] {
                ordered = false
                break
            }
            next[index] += 1
            position += 3
        }
        #expect(ordered)
        #expect(next == [Int](repeating: perWorker, count: workers))
    }
}
