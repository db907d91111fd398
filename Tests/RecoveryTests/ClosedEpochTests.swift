import CommitLog
import Synchronization
import TestSupport
import Testing
import TransactionEngine

/// `TransactionEngine.closedEpoch()`: the bound the log writer flushes through. No record may be appended to an
/// epoch at or below it.
@Suite("Recovery: closed epochs")
struct ClosedEpochTests {
    @Test("a pinned worker holds the closed epoch below its epoch, however often it is asked; unpinned, it passes")
    func pinnedWorkerHoldsEpoch() {
        let engine = makeEngine(clock: ManualClock())
        let worker = engine.makeWorker()
        let other = engine.makeWorker()
        for _ in 0..<5 { _ = engine.closedEpoch() }
        worker.pin()
        let pinned = engine.currentEpoch
        var highest: UInt64 = 0
        for _ in 0..<1_000 {
            highest = max(highest, engine.closedEpoch())
        }
        #expect(highest < pinned)
        #expect(highest == pinned - 1)
        // The global epoch moves at most one past the pinned worker.
        #expect(engine.currentEpoch <= pinned + 1)
        // Another worker that pins later (at a newer epoch) does not release the older pin.
        other.pin()
        for _ in 0..<100 { #expect(engine.closedEpoch() < pinned) }
        worker.unpin()
        var passed = false
        for _ in 0..<3 where !passed { passed = engine.closedEpoch() >= pinned }
        #expect(passed)
        let otherEpoch = engine.currentEpoch
        for _ in 0..<100 { #expect(engine.closedEpoch() < otherEpoch) }
        other.unpin()
        for _ in 0..<3 { _ = engine.closedEpoch() }
        #expect(engine.closedEpoch() >= otherEpoch)
    }

    @Test("a commit's record epoch is above every closed epoch seen while its transaction ran")
    func commitsLandInOpenEpochs() throws {
        try withLogDirectory { directory in
            let life = try Life(directory: directory, clock: ManualClock())
            var seen: UInt64 = 0
            for i in 0..<200 {
                life.worker.set(key("k\(i)"), bytes("v"))
                let committed = key("k\(i)").withUnsafeBytes { raw in
                    life.worker.run(database: 0, key: raw) { tx in
                        // Inside the body the worker is pinned: ask, as the flusher would.
                        for _ in 0..<3 { seen = max(seen, life.engine.closedEpoch()) }
                        tx.set(key("k\(i)"), bytes("w\(i)"))
                    }
                }
                let epoch = try #require(committed.tid) >> TransactionEngine.tidSequenceBits
                #expect(epoch > seen, "commit \(i): epoch \(epoch), closed \(seen)")
            }
            try life.close()
        }
    }

    @Test("the writer flushes through the closed epoch only: a pinned worker's epoch stays buffered")
    func flushStopsAtPinnedEpoch() throws {
        try withLogDirectory { directory in
            let life = try Life(directory: directory, clock: ManualClock())
            let reader = life.engine.makeWorker()
            life.worker.put("before", "1")
            for _ in 0..<3 { _ = life.engine.closedEpoch() }
            reader.pin()
            let pinned = life.engine.currentEpoch
            let tid = life.worker.put("during", "2")
            #expect(tid >> TransactionEngine.tidSequenceBits >= pinned)
            try life.writer.flush(fsync: false, through: life.engine.closedEpoch())
            let written = try loggedRecords(directory).flatMap(\.effects)
            #expect(written.contains { if case .put(_, let k, _, _, _) = $0 { k == key("before") } else { false } })
            #expect(!written.contains { if case .put(_, let k, _, _, _) = $0 { k == key("during") } else { false } })
            reader.unpin()
            for _ in 0..<3 { _ = life.engine.closedEpoch() }
            try life.writer.flush(fsync: false, through: life.engine.closedEpoch())
            let after = try loggedRecords(directory).flatMap(\.effects)
            #expect(after.contains { if case .put(_, let k, _, _, _) = $0 { k == key("during") } else { false } })
            try life.close()
        }
    }

    @Test("under appendfsync always, every commit a waiter was told is durable is in the log")
    func groupCommitWithConcurrentWorkers() throws {
        try withLogDirectory { directory in
            var setup = LogSetup()
            setup.policy = .always
            setup.flusher = true
            let life = try Life(directory: directory, clock: ManualClock(), setup: setup)
            let (engine, writer) = (life.engine, life.writer)
            let failures = Protected<[String]>([])
            let perThread = scaled(300)
            runOnThreads(3) { index in
                let worker = engine.makeWorker()
                for i in 0..<perThread {
                    let tid = worker.put("t\(index):\(i)", "\(i)", db: index)
                    do {
                        let epoch = tid >> TransactionEngine.tidSequenceBits
                        let point = try writer.waitUntilDurable(epoch: epoch, timeout: .seconds(10))
                        if point.epoch < epoch {
                            failures.withLock { $0.append("\(index):\(i) durable \(point), epoch \(epoch)") }
                        }
                    } catch {
                        failures.withLock { $0.append("\(index):\(i) \(error)") }
                        return
                    }
                }
            }
            let failed = failures.withLock { $0 }
            #expect(failed.isEmpty, "\(failed.prefix(5))")
            // Every acknowledged commit is on disk before close: read the log while the writer is still open.
            let logged = try loggedRecords(directory).count
            #expect(logged == 3 * perThread)
            try life.close()
        }
    }
}
