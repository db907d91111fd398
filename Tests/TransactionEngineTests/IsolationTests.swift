import Synchronization
import TestSupport
import Testing

@testable import TransactionEngine

/// Serializability under real threads. Each workload runs with 1, 2, 4, 8 and 16 workers; the thread sanitizer
/// runs this suite in CI (`WEFT_TSAN=1`, fewer iterations).
@Suite("Isolation")
struct IsolationTests {
    static let workerCounts = [1, 2, 4, 8, 16]

    static func name(_ i: Int) -> [UInt8] { bytes("node:\(i)") }

    func decimal(_ value: [UInt8]?) -> Int { Int(String(decoding: value ?? [], as: UTF8.self)) ?? -1 }

    @Test("bank transfers between 1,000 accounts keep the total; no audit sees a torn balance", arguments: workerCounts)
    func bankTransfers(workers: Int) {
        self.bank(workers: workers, accounts: 1000, initial: 1000)
    }

    @Test("bank transfers on 8 hot accounts: conflicts, retries and fallbacks, total kept", arguments: workerCounts)
    func hotBankTransfers(workers: Int) {
        self.bank(workers: workers, accounts: 8, initial: 1000)
    }

    func bank(workers: Int, accounts: Int, initial: Int) {
        let engine = TransactionEngine(configuration: testConfiguration())
        let setup = engine.makeWorker()
        let names = (0..<accounts).map { bytes("acct:\($0)") }
        for name in names { setup.set(name, bytes("\(initial)")) }
        let total = accounts * initial
        let torn = Atomic<Int>(0)
        let negative = Atomic<Int>(0)
        let perWorker = scaled(16_000) / workers
        runOnThreads(workers) { index in
            let worker = engine.makeWorker()
            var random = SeededRandom(seed: UInt64(index + 1) &* 7919)
            for step in 0..<perWorker {
                let a = Int(random.next() % UInt64(accounts))
                var b = Int(random.next() % UInt64(accounts))
                if b == a { b = (a + 1) % accounts }
                let amount = Int(random.next() % 50) + 1
                if step % 97 == 0 {
                    // Audit: every balance in one read-only transaction.
                    let sum = worker.run(keys: names) { tx in names.reduce(0) { $0 + self.decimal(tx.get($1)) } }
                    if sum != total { torn.add(1, ordering: .relaxed) }
                } else if step % 5 == 0 {
                    // A pair read: the two balances come from one snapshot.
                    let (x, y) = worker.run(keys: [names[a], names[b]]) { tx in
                        (self.decimal(tx.get(names[a])), self.decimal(tx.get(names[b])))
                    }
                    if x < 0 || y < 0 { negative.add(1, ordering: .relaxed) }
                } else {
                    worker.run(keys: [names[a], names[b]]) { tx in
                        let from = self.decimal(tx.get(names[a]))
                        let to = self.decimal(tx.get(names[b]))
                        guard from >= amount else { return }
                        tx.set(names[a], bytes("\(from - amount)"))
                        tx.set(names[b], bytes("\(to + amount)"))
                    }
                }
            }
        }
        let check = engine.makeWorker()
        let sum = names.reduce(0) { $0 + self.decimal(check.get($1)) }
        #expect(sum == total)
        #expect(torn.load(ordering: .relaxed) == 0)
        #expect(negative.load(ordering: .relaxed) == 0)
        #expect(check.keyCount(database: 0) == accounts)
        let stats = check.statistics()
        #expect(stats.commits > 0)
    }

    @Test("Cycle: each transaction rewires three links of a ring; the ring stays whole", arguments: workerCounts)
    func cycle(workers: Int) {
        let nodes = 64
        let engine = TransactionEngine(configuration: testConfiguration())
        let setup = engine.makeWorker()
        for i in 0..<nodes { setup.set(Self.name(i), bytes("\((i + 1) % nodes)")) }
        let broken = Atomic<Int>(0)
        let perWorker = scaled(12_000) / workers
        runOnThreads(workers) { index in
            let worker = engine.makeWorker()
            var random = SeededRandom(seed: UInt64(index + 1) &* 104_729)
            for step in 0..<perWorker {
                let start = Int(random.next() % UInt64(nodes))
                if step % 50 == 0 {
                    // A read-only walk of the whole ring must see one cycle through every node.
                    let whole = worker.run(keys: [Self.name(start)]) { tx -> Bool in
                        var seen = Set<Int>()
                        var at = start
                        for _ in 0..<nodes {
                            guard seen.insert(at).inserted else { return false }
                            at = self.decimal(tx.get(Self.name(at)))
                            if at < 0 || at >= nodes { return false }
                        }
                        return at == start && seen.count == nodes
                    }
                    if !whole { broken.add(1, ordering: .relaxed) }
                    continue
                }
                // FoundationDB's Cycle: a -> b -> c -> d becomes a -> c -> b -> d. Only `a` is declared; the
                // others are found by reading, as a script's keys would be.
                worker.run(keys: [Self.name(start)]) { tx in
                    let a = start
                    let b = self.decimal(tx.get(Self.name(a)))
                    guard b >= 0 && b < nodes else { return }
                    let c = self.decimal(tx.get(Self.name(b)))
                    guard c >= 0 && c < nodes else { return }
                    let d = self.decimal(tx.get(Self.name(c)))
                    guard d >= 0 && d < nodes else { return }
                    tx.set(Self.name(a), bytes("\(c)"))
                    tx.set(Self.name(c), bytes("\(b)"))
                    tx.set(Self.name(b), bytes("\(d)"))
                }
            }
        }
        #expect(broken.load(ordering: .relaxed) == 0)
        let check = engine.makeWorker()
        var seen = Set<Int>()
        var at = 0
        for _ in 0..<nodes {
            seen.insert(at)
            at = self.decimal(check.get(Self.name(at)))
        }
        #expect(at == 0)
        #expect(seen.count == nodes)
    }

    @Test("a hot counter: single-key increments never abort and none is lost", arguments: workerCounts)
    func hotCounter(workers: Int) {
        let engine = TransactionEngine(configuration: testConfiguration())
        let perWorker = scaled(8_000) / workers
        let key = bytes("counter")
        runOnThreads(workers) { _ in
            let worker = engine.makeWorker()
            key.withUnsafeBytes { raw in
                for _ in 0..<perWorker {
                    worker.run(database: 0, key: raw) { tx in
                        let current = self.decimal(tx.get(key))
                        tx.set(key, bytes("\(max(current, 0) + 1)"))
                    }
                }
            }
        }
        let check = engine.makeWorker()
        #expect(self.decimal(check.get(key)) == perWorker * workers)
        #expect(check.statistics().aborts == 0)
    }
}
