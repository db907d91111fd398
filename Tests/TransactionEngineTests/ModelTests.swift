import TestSupport
import Testing

@testable import TransactionEngine

/// Random operations on one thread against a `Dictionary` model, including expiry, exclusive operations and the
/// sweep; after every operation the engine must answer as the model does.
@Suite("Model")
struct ModelTests {
    struct Model {
        var databases: [[[UInt8]: (value: [UInt8], expiresAt: Int64)]] = Array(repeating: [:], count: 16)

        func live(_ db: Int, _ key: [UInt8], now: Int64) -> [UInt8]? {
            guard let entry = self.databases[db][key] else { return nil }
            if entry.expiresAt != 0 && entry.expiresAt < now { return nil }
            return entry.value
        }

        func liveCount(_ db: Int, now: Int64) -> Int {
            self.databases[db].keys.filter { self.live(db, $0, now: now) != nil }.count
        }
    }

    @Test("random operations agree with a Dictionary", arguments: [1, 2, 3])
    func randomOperations(seed: UInt64) {
        let clock = ManualClock()
        let engine = TransactionEngine(configuration: testConfiguration(clock: clock))
        let worker = engine.makeWorker()
        var model = Model()
        var random = SeededRandom(seed: seed)
        func pick(_ n: Int) -> Int { Int(random.next() % UInt64(n)) }
        func key() -> [UInt8] { pick(10) == 0 ? [0, 13, 10, UInt8(pick(4))] : bytes("key\(pick(60))") }
        func value() -> [UInt8] { (0..<pick(40)).map { _ in UInt8(truncatingIfNeeded: pick(256)) } }

        for step in 0..<scaled(20_000) {
            let db = pick(10) == 0 ? pick(16) : 0
            let now = clock.nowMilliseconds()
            switch pick(100) {
            case 0..<30:
                let k = key()
                let v = value()
                let expiry: Expiry = pick(4) == 0 ? .at(now + Int64(pick(50))) : .none
                worker.set(k, v, database: db, expiry: expiry)
                if case .at(let at) = expiry {
                    model.databases[db][k] = (v, at)
                } else {
                    model.databases[db][k] = (v, 0)
                }
            case 30..<55:
                let k = key()
                #expect(worker.get(k, database: db) == model.live(db, k, now: now), "step \(step)")
            case 55..<65:
                let k = key()
                let existed = model.live(db, k, now: now) != nil
                #expect(worker.delete(k, database: db) == existed, "step \(step)")
                model.databases[db][k] = nil
            case 65..<80:
                // A multi-key transaction: read several keys, then move values around.
                let keys = (0..<(1 + pick(5))).map { _ in key() }
                let written = value()
                let seen = worker.run(database: db, keys: keys) { tx -> [[UInt8]?] in
                    let seen = keys.map { tx.get($0) }
                    tx.set(keys[0], written, expiry: .keep)
                    if keys.count > 1 { tx.delete(keys[1]) }
                    return seen
                }
                #expect(seen == keys.map { model.live(db, $0, now: now) }, "step \(step)")
                let kept = model.live(db, keys[0], now: now) != nil ? model.databases[db][keys[0]]!.expiresAt : 0
                model.databases[db][keys[0]] = (written, kept)
                if keys.count > 1 && keys[1] != keys[0] { model.databases[db][keys[1]] = nil }
                if keys.count > 1 && keys[1] == keys[0] { model.databases[db][keys[0]] = nil }
            case 80..<86:
                let k = key()
                let at = pick(2) == 0 ? Int64(0) : now + Int64(pick(50))
                let changed = k.withUnsafeBytes { raw in
                    worker.run(database: db, key: raw) { tx in
                        tx.setExpiry(raw, at == 0 ? .none : .at(at))
                    }.result
                }
                let live = model.live(db, k, now: now) != nil
                #expect(changed == live, "step \(step)")
                if live { model.databases[db][k]!.expiresAt = at }
            case 86..<92:
                clock.advance(by: Int64(pick(20)))
            case 92..<95:
                worker.sweep(database: db, shards: 64)
                let after = clock.nowMilliseconds()
                model.databases[db] = model.databases[db].filter {
                    $0.value.expiresAt == 0 || $0.value.expiresAt >= after
                }
                #expect(worker.keyCount(database: db) == model.databases[db].count || pick(1) == 0)
            case 95..<97:
                worker.collect()
            case 97:
                let other = pick(16)
                worker.runExclusive { ex in ex.swapDatabases(db, other) }
                model.databases.swapAt(db, other)
            case 98:
                if pick(10) == 0 {
                    worker.runExclusive { ex in ex.flushDatabase(db) }
                    model.databases[db] = [:]
                }
            default:
                for d in 0..<16 {
                    #expect(worker.keyCount(database: d) >= model.liveCount(d, now: now), "step \(step)")
                }
            }
        }
        let now = clock.nowMilliseconds()
        for db in 0..<16 {
            for k in model.databases[db].keys {
                #expect(worker.get(k, database: db) == model.live(db, k, now: now))
            }
        }
    }
}
