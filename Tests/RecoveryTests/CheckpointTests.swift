import CommitLog
import Foundation
import Synchronization
import TestSupport
import Testing
import TransactionEngine

/// Compaction: checkpoints written while serving, what a restart makes of them, and crashes in the middle.
@Suite("Recovery: checkpoints")
struct CheckpointTests {
    @Test("checkpoints during concurrent transfers: after a restart every balance is the live one, the total kept")
    func checkpointUnderConcurrentWriters() throws {
        try withLogDirectory { directory in
            let clock = ManualClock()
            var setup = LogSetup.small
            // Segments large enough, and transfers paced enough, that a slow disk (a sync per segment) keeps up.
            setup.segmentSize = 256 << 10
            setup.policy = .everysec
            setup.flushInterval = .milliseconds(5)
            setup.flusher = true
            let life = try Life(directory: directory, clock: clock, setup: setup)
            let accounts = 32
            let initial = 1000
            let names = (0..<accounts).map { key("acct:\($0)") }
            for name in names { life.worker.set(name, bytes("\(initial)")) }
            // Keys in another database, so the checkpoint holds more than the accounts.
            let others = 3_000
            for i in 0..<others { life.worker.put("other:\(i)", "\(i)", db: 1) }

            let transfers = Atomic<Int>(0)
            let checkpointsDone = Atomic<Int>(0)
            let failures = Protected<[String]>([])
            let reports = Protected<[CheckpointReport]>([])
            let minimum = scaled(20_000)
            // Transfers committed while a checkpoint was being written.
            let overlapped = Atomic<Int>(0)
            let (engine, writer) = (life.engine, life.writer)
            runOnThreads(5) { index in
                let worker = engine.makeWorker()
                if index == 4 {
                    for round in 0..<3 {
                        // Let transfers run between checkpoints, so that each one overlaps them.
                        let target = (round + 1) * minimum / 4
                        let transferred = waitUntil("\(target) transfers", pause: { usleep(200) }) {
                            transfers.load(ordering: .relaxed) >= target
                        }
                        guard transferred else {
                            // The test has failed; let the transfer threads stop too.
                            checkpointsDone.store(3, ordering: .releasing)
                            return
                        }
                        do {
                            let before = transfers.load(ordering: .relaxed)
                            defer { overlapped.add(transfers.load(ordering: .relaxed) - before, ordering: .relaxed) }
                            let report = try worker.writeCheckpoint(log: writer)
                            reports.withLock { $0.append(report) }
                        } catch {
                            failures.withLock { $0.append("checkpoint \(round): \(error)") }
                        }
                        checkpointsDone.add(1, ordering: .releasing)
                    }
                    return
                }
                var random = SeededRandom(seed: UInt64(index + 1) &* 7919)
                while checkpointsDone.load(ordering: .acquiring) < 3 || transfers.load(ordering: .relaxed) < minimum {
                    usleep(50)
                    let a = Int(random.next() % UInt64(accounts))
                    var b = Int(random.next() % UInt64(accounts))
                    if b == a { b = (a + 1) % accounts }
                    let amount = Int(random.next() % 50) + 1
                    worker.run(keys: [names[a], names[b]]) { tx in
                        let from = decimal(tx.get(names[a]))
                        let to = decimal(tx.get(names[b]))
                        guard from >= amount else { return }
                        tx.set(names[a], bytes("\(from - amount)"))
                        tx.set(names[b], bytes("\(to + amount)"))
                    }
                    transfers.add(1, ordering: .relaxed)
                }
            }
            let failed = failures.withLock { $0 }
            #expect(failed.isEmpty, "\(failed)")
            #expect(overlapped.load(ordering: .relaxed) > 0, "no transfer ran during a checkpoint")
            let written = reports.withLock { $0 }
            #expect(written.count == 3)
            #expect(written.allSatisfy { $0.keys == accounts + others })
            #expect(zip(written, written.dropFirst()).allSatisfy { $0.firstSegment < $1.firstSegment })

            let live = life.contents
            let liveTotal = names.reduce(0) { $0 + decimal(live[0][$1]?.value) }
            #expect(liveTotal == accounts * initial)
            try life.close()

            // One checkpoint is left, the newest; no segment below its number.
            let found = try checkpoints(directory)
            #expect(found.map(\.number) == [written.last?.firstSegment ?? 0])
            let number = try #require(found.last?.number)
            #expect(try segments(directory).allSatisfy { $0.number >= number })
            #expect(try fileNames(directory).allSatisfy { !$0.hasSuffix(".tmp") })

            let restored = try life.next()
            #expect(restored.report.checkpoint?.number == number)
            #expect(restored.report.checkpointKeys == accounts + others)
            let diff = differences(restored.contents, live)
            #expect(diff.isEmpty, "\(diff)")
            let total = names.reduce(0) { $0 + decimal(restored.worker.get($1)) }
            #expect(total == accounts * initial)
            try restored.close()
        }
    }

    @Test("checkpoints racing SWAPDB, FLUSHDB and writes in every database: the restart equals the live engine")
    func checkpointRacingExclusives() throws {
        try withLogDirectory { directory in
            let clock = ManualClock()
            var setup = LogSetup.small
            // Segments large enough, and writes paced enough, that a slow disk (a sync per segment) keeps up;
            // every checkpoint attempt still rotates the log.
            setup.segmentSize = 256 << 10
            setup.policy = .everysec
            setup.flushInterval = .milliseconds(2)
            setup.flusher = true
            let life = try Life(directory: directory, clock: clock, setup: setup)
            for db in 0..<4 {
                for i in 0..<200 { life.worker.put("seed:\(i)", "\(db)", db: db) }
            }
            let (engine, writer) = (life.engine, life.writer)
            let stop = Atomic<Bool>(false)
            let failures = Protected<[String]>([])
            let attempts = max(3, scaled(6))
            let written = Atomic<Int>(0)
            runOnThreads(4) { index in
                let worker = engine.makeWorker()
                switch index {
                case 0:
                    // The checkpointer.
                    for round in 0..<attempts {
                        usleep(2_000)
                        do {
                            _ = try worker.writeCheckpoint(log: writer, maxAttempts: 20)
                            written.add(1, ordering: .relaxed)
                        } catch {
                            if case CheckpointFailure.keptChanging = error { continue }
                            failures.withLock { $0.append("checkpoint \(round): \(error)") }
                        }
                    }
                    stop.store(true, ordering: .releasing)
                case 1:
                    // Exclusive operations, now and then.
                    var round = 0
                    while !stop.load(ordering: .acquiring) {
                        round += 1
                        // Often enough that some checkpoint scans start again, rarely enough that most get through.
                        usleep(round % 4 == 0 ? 500 : 25_000)
                        worker.runExclusive { ex in
                            switch round % 3 {
                            case 0: ex.swapDatabases(1, 2)
                            case 1: ex.flushDatabase(3)
                            default: ex.swapDatabases(0, 3)
                            }
                        }
                    }
                default:
                    var random = SeededRandom(seed: UInt64(index))
                    var step = 0
                    while !stop.load(ordering: .acquiring) {
                        step += 1
                        usleep(50)
                        let db = Int(random.next() % 4)
                        let k = Int(random.next() % 800)
                        switch random.next() % 4 {
                        case 0: worker.delete(key("k\(k)"), database: db)
                        case 1:
                            let keys = [key("k\(k)"), key("k\((k + 1) % 800)")]
                            worker.run(database: db, keys: keys) { tx in
                                tx.set(keys[0], bytes("m\(index):\(step)"))
                                tx.set(keys[1], bytes("m\(index):\(step)"))
                            }
                        default: worker.put("k\(k)", "\(index):\(step)", db: db)
                        }
                    }
                }
            }
            let failed = failures.withLock { $0 }
            #expect(failed.isEmpty, "\(failed)")
            #expect(written.load(ordering: .relaxed) > 0, "no checkpoint got through")
            let live = life.contents
            try life.close()
            let restored = try life.next()
            let diff = differences(restored.contents, live)
            #expect(diff.isEmpty, "\(diff)")
            try restored.close()
        }
    }

    @Test("writes, deletes and FLUSHDB after a checkpoint are replayed on top of it")
    func writesAfterCheckpoint() throws {
        try withLogDirectory { directory in
            let clock = ManualClock()
            let life = try Life(directory: directory, clock: clock, setup: .small)
            let worker = life.worker
            let now = clock.nowMilliseconds()
            for i in 0..<100 {
                worker.put("a\(i)", "old\(i)", db: 0, expiry: i % 10 == 0 ? .at(now + 86_400_000) : .none)
                worker.put("b\(i)", "old\(i)", db: 1)
                worker.put("c\(i)", "old\(i)", db: 2)
            }
            try life.writer.flush(fsync: false)
            let segmentsBefore = try segments(directory).count
            let report = try life.checkpoint()
            #expect(report.keys == 300)
            #expect(report.firstSegment > 1)
            #expect(segmentsBefore > 1)
            #expect(try segments(directory).isEmpty, "every segment was covered")

            // After the checkpoint: new keys, overwrites, deletes, an expiry change, FLUSHDB, a swap.
            for i in 0..<20 { worker.put("new\(i)", "n\(i)", db: 0) }
            for i in stride(from: 0, to: 100, by: 3) { worker.put("a\(i)", "newer\(i)", db: 0) }
            for i in stride(from: 1, to: 100, by: 4) { worker.delete(key("a\(i)"), database: 0) }
            worker.expire(key("a2"), .at(now + 1_000_000))
            worker.expire(key("a10"), .none)
            worker.runExclusive { ex in ex.flushDatabase(1) }
            worker.put("b-after-flush", "1", db: 1)
            worker.runExclusive { ex in ex.swapDatabases(2, 3) }
            worker.delete(key("c5"), database: 3)
            let expected = life.contents
            #expect(expected[1].count == 1 && expected[2].isEmpty && expected[3].count == 99)

            let restored = try life.restart()
            #expect(restored.report.checkpoint?.number == report.firstSegment)
            #expect(restored.report.firstSegment == report.firstSegment)
            #expect(restored.report.checkpointKeys == 300)
            let diff = differences(restored.contents, expected)
            #expect(diff.isEmpty, "\(diff)")

            // And once more, without a checkpoint in between: both lives' segments after the checkpoint.
            restored.worker.put("third", "life", db: 2)
            let expectedAgain = restored.contents
            let third = try restored.restart()
            #expect(differences(third.contents, expectedAgain).isEmpty, "\(differences(third.contents, expectedAgain))")
            try third.close()
        }
    }

    @Test("a checkpoint followed at once by a restart, with no later writes")
    func checkpointThenRestart() throws {
        try withLogDirectory { directory in
            let clock = ManualClock()
            let life = try Life(directory: directory, clock: clock, setup: .small)
            for i in 0..<150 { life.worker.put("k\(i)", String(repeating: "v", count: i % 30), db: i % 4) }
            life.worker.runExclusive { ex in ex.swapDatabases(0, 3) }
            let expected = life.contents
            let report = try life.checkpoint()
            let restored = try life.restart()
            #expect(restored.report.checkpoint?.number == report.firstSegment)
            #expect(restored.report.records == 0, "no segment follows the checkpoint")
            #expect(differences(restored.contents, expected).isEmpty, "\(differences(restored.contents, expected))")
            // Straight into another checkpoint, before any write of this life, then a write and a restart.
            let again = try restored.checkpoint()
            #expect(again.keys == 150)
            restored.worker.put("after", "1")
            var expectedAgain = expected
            expectedAgain[0][key("after")] = Stored(bytes("1"))
            let third = try restored.restart()
            #expect(differences(third.contents, expectedAgain).isEmpty, "\(differences(third.contents, expectedAgain))")
            try third.close()
        }
    }

    @Test("two checkpoints in a row, with and without writes between them")
    func twoCheckpointsInARow() throws {
        try withLogDirectory { directory in
            let clock = ManualClock()
            let life = try Life(directory: directory, clock: clock, setup: .small)
            for i in 0..<80 { life.worker.put("k\(i)", "v\(i)") }
            let first = try life.checkpoint()
            let second = try life.checkpoint()
            #expect(second.firstSegment >= first.firstSegment)
            #expect(try checkpoints(directory).count == 1)
            for i in 0..<80 { life.worker.put("k\(i)", "w\(i)", db: 1) }
            life.worker.delete(key("k0"))
            let third = try life.checkpoint()
            let fourth = try life.checkpoint()
            #expect(third.firstSegment > second.firstSegment)
            #expect(fourth.keys == 159)
            #expect(try checkpoints(directory).map(\.number) == [fourth.firstSegment])
            let expected = life.contents
            let restored = try life.restart()
            #expect(restored.report.checkpoint?.number == fourth.firstSegment)
            #expect(differences(restored.contents, expected).isEmpty, "\(differences(restored.contents, expected))")
            try restored.close()
        }
    }

    @Test("an interrupted checkpoint (.checkpoint.tmp) is ignored and removed")
    func interruptedCheckpoint() throws {
        try withLogDirectory { directory in
            let clock = ManualClock()
            let life = try Life(directory: directory, clock: clock, setup: .small)
            for i in 0..<100 { life.worker.put("k\(i)", "v\(i)", db: i % 2) }
            let expected = life.contents
            try life.close()
            // A crash while the next checkpoint was written: its number would be the next segment's.
            let next = (try segments(directory).last?.number ?? 0) + 1
            let temporary = CheckpointFiles.path(directory: directory, number: next) + ".tmp"
            var garbage = SeededRandom(seed: 9)
            try writeFile(temporary, (0..<5000).map { _ in UInt8(truncatingIfNeeded: garbage.next()) })
            // And an older interrupted one, with a real block header's worth of zeros.
            let older = CheckpointFiles.path(directory: directory, number: 1) + ".tmp"
            try writeFile(older, [UInt8](repeating: 0, count: 100))

            let restored = try life.next()
            #expect(restored.report.checkpoint == nil)
            #expect(!FileManager.default.fileExists(atPath: temporary))
            #expect(!FileManager.default.fileExists(atPath: older))
            #expect(differences(restored.contents, expected).isEmpty, "\(differences(restored.contents, expected))")
            try restored.close()
        }
    }

    @Test("a crash between the checkpoint's rename and the removal of what it covers: old files are removed at restore")
    func crashBeforeRemovingCoveredSegments() throws {
        try withLogDirectory { directory in
            let clock = ManualClock()
            let life = try Life(directory: directory, clock: clock, setup: .small)
            for i in 0..<120 { life.worker.put("k\(i)", "first\(i)", db: i % 3) }
            let firstReport = try life.checkpoint()
            let olderCheckpoint = try fileBytes(firstReport.path)
            for i in 0..<120 { life.worker.put("k\(i)", "second\(i)", db: i % 3) }
            life.worker.runExclusive { ex in ex.flushDatabase(2) }
            try life.writer.flush(fsync: false)
            // Keep copies of everything the next checkpoint will cover.
            let covered = try segments(directory)
            #expect(!covered.isEmpty)
            let copies = try covered.map { ($0.path, try fileBytes($0.path)) }
            let report = try life.checkpoint()
            #expect(covered.allSatisfy { $0.number < report.firstSegment })
            #expect(try segments(directory).isEmpty)
            for i in 0..<30 { life.worker.put("late\(i)", "\(i)", db: 2) }
            life.worker.delete(key("k0"), database: 0)
            let expected = life.contents
            try life.close()

            // Put back what the crash would have left: the covered segments and the older checkpoint.
            for (path, bytes) in copies { try writeFile(path, bytes) }
            try writeFile(firstReport.path, olderCheckpoint)
            let restored = try life.next()
            #expect(restored.report.checkpoint?.number == report.firstSegment)
            #expect(differences(restored.contents, expected).isEmpty, "\(differences(restored.contents, expected))")
            for (path, _) in copies { #expect(!FileManager.default.fileExists(atPath: path), "\(path)") }
            #expect(try checkpoints(directory).map(\.number) == [report.firstSegment])
            #expect(try segments(directory).allSatisfy { $0.number >= report.firstSegment })
            try restored.close()
        }
    }
}

/// A value behind an `NSLock`, shared between test threads (the thread sanitizer sees it).
final class Protected<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        self.lock.lock()
        defer { self.lock.unlock() }
        return try body(&self.value)
    }
}
