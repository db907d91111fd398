import CommitLog
import TestSupport
import Testing
import TransactionEngine

/// Random operations against a model, with restarts (sled's `fuzz_model`): after every restart the restored engine
/// holds exactly what the model says.
@Suite("Recovery: model with restarts")
struct RecoveryModelTests {
    static let databases = 4

    /// The model: every database's keys with value and expiry (expiries lie far in the future, so nothing expires).
    struct Model {
        var databases: Contents = Array(repeating: [:], count: RecoveryModelTests.databases)

        mutating func swap(_ a: Int, _ b: Int) {
            let saved = self.databases[a]
            self.databases[a] = self.databases[b]
            self.databases[b] = saved
        }
    }

    @Test(
        "random operations with checkpoints and restarts agree with a Dictionary",
        arguments: [1, 2, 3, 4, 5, 6] as [UInt64]
    )
    func randomOperationsWithRestarts(seed: UInt64) throws {
        try withLogDirectory { directory in
            let clock = ManualClock()
            var random = SeededRandom(seed: seed)
            func pick(_ n: Int) -> Int { Int(random.next() % UInt64(n)) }
            func anyKey() -> [UInt8] { pick(8) == 0 ? [0, 13, 10, UInt8(pick(3))] : bytes("key\(pick(24))") }
            func value() -> [UInt8] { (0..<pick(24)).map { _ in UInt8(truncatingIfNeeded: pick(256)) } }
            // Small segments: restarts and checkpoints meet many segment boundaries.
            var setup = LogSetup.small
            setup.segmentSize = 2 << 10
            setup.maxBlockPayload = 512
            var life = try Life(directory: directory, clock: clock, databases: Self.databases, setup: setup)
            var model = Model()
            var restarts = 0
            var checkpointsWritten = 0
            var nextRestart = 30 + pick(40)
            let steps = scaled(1_000)

            for step in 0..<steps {
                let worker = life.worker
                let db = pick(Self.databases)
                let far = clock.nowMilliseconds() + 1_000_000_000 + Int64(pick(1000))
                switch pick(100) {
                case 0..<30:
                    let k = anyKey()
                    let v = value()
                    worker.set(k, v, database: db)
                    model.databases[db][k] = Stored(v)
                case 30..<44:
                    let k = anyKey()
                    let existed = model.databases[db][k] != nil
                    #expect(worker.delete(k, database: db) == existed, "step \(step)")
                    model.databases[db][k] = nil
                case 44..<54:
                    let k = anyKey()
                    let v = value()
                    worker.set(k, v, database: db, expiry: .at(far))
                    model.databases[db][k] = Stored(v, expiresAt: far)
                case 54..<62:
                    // EXPIRE or PERSIST on a key that may or may not be there.
                    let k = anyKey()
                    let persist = pick(2) == 0
                    let changed = worker.expire(k, db: db, persist ? .none : .at(far))
                    #expect(changed == (model.databases[db][k] != nil), "step \(step)")
                    if model.databases[db][k] != nil { model.databases[db][k]!.expiresAt = persist ? 0 : far }
                case 62..<78:
                    // A multi-key transaction over 2 or 3 keys: read them, write each (or delete the last).
                    var keys: [[UInt8]] = []
                    while keys.count < 2 + pick(2) {
                        let k = anyKey()
                        if !keys.contains(k) { keys.append(k) }
                    }
                    let values = keys.map { _ in value() }
                    let deleteLast = pick(3) == 0
                    let seen = worker.run(database: db, keys: keys) { tx -> [[UInt8]?] in
                        let seen = keys.map { tx.get($0) }
                        for (i, k) in keys.enumerated() {
                            if deleteLast && i == keys.count - 1 { tx.delete(k) } else { tx.set(k, values[i]) }
                        }
                        return seen
                    }
                    #expect(seen == keys.map { model.databases[db][$0]?.value }, "step \(step)")
                    for (i, k) in keys.enumerated() {
                        model.databases[db][k] = deleteLast && i == keys.count - 1 ? nil : Stored(values[i])
                    }
                case 78..<83:
                    worker.runExclusive { ex in ex.flushDatabase(db) }
                    model.databases[db] = [:]
                case 83..<90:
                    let other = pick(Self.databases)
                    worker.runExclusive { ex in ex.swapDatabases(db, other) }
                    model.swap(db, other)
                case 90..<92:
                    worker.runExclusive { ex in ex.flushAll() }
                    model = Model()
                default:
                    let report = try life.checkpoint()
                    checkpointsWritten += 1
                    #expect(report.keys == model.databases.reduce(0) { $0 + $1.count }, "step \(step)")
                    #expect(try segments(directory).allSatisfy { $0.number >= report.firstSegment }, "step \(step)")
                }

                if step == nextRestart || step == steps - 1 {
                    // The live engine agrees with the model before the restart…
                    let live = life.contents
                    #expect(
                        differences(live, model.databases).isEmpty,
                        "seed \(seed) step \(step), live: \(differences(live, model.databases))"
                    )
                    // …then a clean shutdown, or a crash after everything was written (the writer is dropped).
                    if pick(3) == 0 {
                        try life.writer.flush(fsync: false)
                        life = try life.next()
                    } else {
                        life = try life.restart()
                    }
                    restarts += 1
                    nextRestart = step + 30 + pick(40)
                    let restored = life.contents
                    let diff = differences(restored, model.databases)
                    #expect(diff.isEmpty, "seed \(seed) step \(step), after restart \(restarts): \(diff)")
                    for db in 0..<Self.databases {
                        #expect(
                            life.worker.keyCount(database: db) == model.databases[db].count,
                            "step \(step) db \(db)"
                        )
                    }
                    if !diff.isEmpty { break }
                }
            }
            try life.close()
            #expect(restarts >= steps / 70)
            #expect(checkpointsWritten > 0 || steps < 200)
        }
    }
}
