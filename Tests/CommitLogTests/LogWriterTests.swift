import CommitLog
import Foundation
import Synchronization
import Testing

@Suite("Log writer: appends, flushes, group commit, failures")
struct LogWriterTests {
    @Test("8 threads append while another flushes: no record lost or duplicated")
    func concurrentAppends() throws {
        try withTemporaryDirectory { directory in
            let writer = try LogWriter(directory: directory, configuration: smallConfiguration())
            let perThread = 2_000
            let done = Atomic<Int>(0)
            let failures = Protected<[String]>([])
            runThreads(9) { index in
                if index == 8 {
                    // A flusher racing the appenders.
                    while done.load(ordering: .acquiring) < 8 {
                        do { try writer.flush(fsync: false) } catch { failures.withLock { $0.append("\(error)") } }
                    }
                    return
                }
                for sequence in 0..<perThread {
                    let tid = UInt64(index) << 32 | UInt64(sequence)
                    let bytes =
                        Array("thread \(index) record \(sequence) ".utf8)
                        + [UInt8](repeating: UInt8(index), count: sequence % 50)
                    do {
                        try writer.append(record: bytes, tid: tid, epoch: UInt64(sequence / 100 + 1))
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                    }
                }
                done.add(1, ordering: .releasing)
            }
            #expect(failures.withLock { $0 }.isEmpty)
            try writer.flush(fsync: true)
            try writer.close()
            let (records, _, end) = try readLog(directory)
            #expect(end == .clean)
            #expect(records.count == 8 * perThread)
            #expect(Set(records.map(\.tid)).count == 8 * perThread)
            for index in 0..<8 {
                // Each thread's records come back complete and in its order.
                let mine = records.filter { $0.tid >> 32 == UInt64(index) }
                #expect(mine.map { Int($0.tid & 0xFFFF_FFFF) } == Array(0..<perThread))
                for record in mine {
                    let sequence = Int(record.tid & 0xFFFF_FFFF)
                    let bytes =
                        Array("thread \(index) record \(sequence) ".utf8)
                        + [UInt8](repeating: UInt8(index), count: sequence % 50)
                    #expect(record.bytes == bytes)
                    #expect(record.epoch == UInt64(sequence / 100 + 1))
                }
            }
        }
    }

    @Test("everysec: the flusher thread writes and syncs on its own")
    func everysecFlusher() throws {
        try withTemporaryDirectory { directory in
            var configuration = smallConfiguration(policy: .everysec)
            configuration.flushInterval = .milliseconds(20)
            let reported = Protected<[DurablePoint]>([])
            configuration.onDurable = { point in reported.withLock { $0.append(point) } }
            let writer = try LogWriter(directory: directory, configuration: configuration)
            try writer.startFlusher()
            try writer.startFlusher()
            let records = makeRecords(count: 500, seed: 11)
            for record in records.prefix(250) {
                try writer.append(record: record.bytes, tid: record.tid, epoch: record.epoch)
            }
            #expect(eventually { writer.durableEpoch >= records[249].epoch })
            for record in records.dropFirst(250) {
                try writer.append(record: record.bytes, tid: record.tid, epoch: record.epoch)
            }
            #expect(eventually { writer.durable == DurablePoint(epoch: records[499].epoch, tid: records[499].tid) })
            let statistics = writer.statistics
            #expect(statistics.syncs >= 2)
            #expect(statistics.recordsWritten == 500)
            try writer.close()
            // The callback saw the durable point only move forward, ending where it ended.
            let points = reported.withLock { $0 }
            #expect(points.last == writer.durable)
            #expect(zip(points, points.dropFirst()).allSatisfy { $0.epoch < $1.epoch || $0.tid < $1.tid })
            #expect(try readLog(directory).records == records)
            #expect(throws: LogError.writerClosed) { try writer.append(record: [1], tid: 1, epoch: 1) }
            #expect(throws: LogError.writerClosed) { try writer.flush(fsync: true) }
            try writer.close()
        }
    }

    @Test("Group commit: 8 appenders waiting on one epoch share one sync", arguments: [false, true])
    func groupCommit(withFlusher: Bool) throws {
        try withTemporaryDirectory { directory in
            let closed = Atomic<UInt64>(0)
            let appended = Atomic<Int>(0)
            var configuration = smallConfiguration(policy: .always)
            configuration.flushInterval = .milliseconds(5)
            configuration.closedEpoch = { closed.load(ordering: .acquiring) }
            let writer = try LogWriter(directory: directory, configuration: configuration)
            if withFlusher { try writer.startFlusher() }
            let results = Protected<[Result<DurablePoint, LogError>]>([])
            runThreads(9) { index in
                if index == 8 {
                    // The engine's part: once every worker has left epoch 1, close it and wake the flusher.
                    guard eventually(within: 60, { appended.load(ordering: .acquiring) == 8 }) else {
                        Issue.record("group commit: the 8 appenders did not all append within 60 s")
                        return
                    }
                    usleep(5_000)
                    closed.store(1, ordering: .releasing)
                    writer.requestFlush()
                    return
                }
                let result = Result { () throws(LogError) -> DurablePoint in
                    try writer.append(
                        record: Array("commit \(index)".utf8),
                        tid: UInt64(100 + index),
                        epoch: 1,
                        lane: index
                    )
                    appended.add(1, ordering: .releasing)
                    return try writer.waitUntilDurable(epoch: 1, timeout: .seconds(10))
                }
                results.withLock { $0.append(result) }
            }
            let outcomes = results.withLock { $0 }
            #expect(outcomes.count == 8)
            for outcome in outcomes {
                #expect((try? outcome.get())?.epoch == 1)
            }
            #expect(writer.durable == DurablePoint(epoch: 1, tid: 107))
            #expect(writer.statistics.syncs == 1, "one fdatasync for eight commits")
            #expect(writer.statistics.blocksWritten == 1)
            try writer.close()
            #expect(try readLog(directory).records.map(\.tid) == Array(100...107))
        }
    }

    @Test("Workers commit in moving epochs, as the engine will; every wait returns and every record is kept once")
    func movingEpochs() throws {
        try withTemporaryDirectory { directory in
            /// The engine's side: a global epoch, and the epoch each worker is pinned in while it commits.
            struct Epochs {
                var global: UInt64 = 1
                var pinned = [UInt64](repeating: .max, count: 8)
            }
            let epochs = Protected(Epochs())
            let finished = Atomic<Int>(0)
            var configuration = smallConfiguration(policy: .always)
            configuration.flushInterval = .milliseconds(50)
            configuration.closedEpoch = {
                epochs.withLock { min($0.global, $0.pinned.min()!) - 1 }
            }
            let writer = try LogWriter(directory: directory, configuration: configuration)
            try writer.startFlusher()
            let commits = 30
            let failures = Protected<[String]>([])
            runThreads(9) { index in
                if index == 8 {
                    // The engine's epoch ticker: advance every millisecond, then wake the flusher.
                    while finished.load(ordering: .acquiring) < 8 {
                        usleep(1_000)
                        epochs.withLock { $0.global += 1 }
                        writer.requestFlush()
                    }
                    return
                }
                // Every worker stops at the first failure (any worker's), so that a writer that stopped syncing
                // costs one wait's timeout, not one per commit.
                for sequence in 0..<commits where failures.withLock({ $0.isEmpty }) {
                    let epoch = epochs.withLock { state in
                        state.pinned[index] = state.global
                        return state.global
                    }
                    let tid = epoch << 20 | UInt64(index) << 8 | UInt64(sequence)
                    do {
                        defer { epochs.withLock { $0.pinned[index] = .max } }
                        try writer.append(record: [UInt8(index), UInt8(sequence)], tid: tid, epoch: epoch, lane: index)
                    } catch {
                        failures.withLock { $0.append("append: \(error)") }
                        break
                    }
                    do {
                        let point = try writer.waitUntilDurable(epoch: epoch, timeout: .seconds(10))
                        if point.epoch < epoch {
                            failures.withLock { $0.append("wait returned \(point) for \(epoch)") }
                        }
                    } catch {
                        failures.withLock { $0.append("wait for epoch \(epoch): \(error)") }
                    }
                }
                finished.add(1, ordering: .releasing)
            }
            #expect(failures.withLock { $0 } == [])
            #expect(writer.statistics.syncs < 8 * commits, "commits shared syncs")
            try writer.close()
            let records = try readLog(directory).records
            #expect(records.count == 8 * commits)
            #expect(Set(records.map(\.tid)).count == 8 * commits)
            #expect(records.allSatisfy { $0.tid >> 20 == $0.epoch })
            #expect(zip(records, records.dropFirst()).allSatisfy { $0.epoch <= $1.epoch }, "epochs never go back")
        }
    }

    @Test("Epochs above the bound stay buffered; the durable epoch is the bound")
    func flushThroughEpoch() throws {
        try withTemporaryDirectory { directory in
            let writer = try LogWriter(directory: directory, configuration: smallConfiguration())
            for epoch: UInt64 in 1...4 {
                for index: UInt64 in 0..<3 {
                    try writer.append(record: [UInt8(epoch), UInt8(index)], tid: epoch << 20 | index, epoch: epoch)
                }
            }
            #expect(try writer.flush(fsync: true, through: 2) == DurablePoint(epoch: 2, tid: 2 << 20 | 2))
            #expect(writer.statistics.recordsWritten == 6)
            // Flushing through the same bound again changes nothing; through 3 takes epoch 3.
            #expect(try writer.flush(fsync: true, through: 2).epoch == 2)
            #expect(try writer.flush(fsync: true, through: 3).epoch == 3)
            #expect(try writer.waitUntilDurable(epoch: 3) == DurablePoint(epoch: 3, tid: 3 << 20 | 2))
            #expect(try writer.flush(fsync: true).epoch == 4)
            try writer.close()
            let (records, blocks, _) = try readLog(directory)
            #expect(records.map(\.epoch) == [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4])
            #expect(blocks.map(\.epoch) == [1, 2, 3, 4], "one block per epoch")
        }
    }

    @Test("The no policy writes without syncing until a segment ends or the writer closes")
    func noPolicy() throws {
        try withTemporaryDirectory { directory in
            let writer = try LogWriter(directory: directory, configuration: smallConfiguration(policy: .no))
            let records = makeRecords(count: 60, maxLength: 60, seed: 12)
            for record in records {
                try writer.append(record: record.bytes, tid: record.tid, epoch: record.epoch)
            }
            #expect(try writer.flush(fsync: false).epoch == records.last!.epoch, "written counts as durable")
            #expect(writer.statistics.syncs == 0)
            #expect(try readLog(directory).records == records)
            try writer.close()
            #expect(writer.statistics.syncs == 1)
        }
    }

    @Test("A failed write surfaces as ENOSPC, leaves the file at a block boundary, and a retry writes it once")
    func writeFailure() throws {
        try withTemporaryDirectory { directory in
            let faults = _LogFaults()
            var configuration = smallConfiguration()
            configuration._faults = faults
            let writer = try LogWriter(directory: directory, configuration: configuration)
            let records = makeRecords(count: 60, seed: 13)
            for record in records.prefix(20) {
                try writer.append(record: record.bytes, tid: record.tid, epoch: record.epoch)
            }
            let first = try writer.flush(fsync: true)
            let path = SegmentDirectory.path(directory: directory, number: 1)
            let good = try fileSize(path)
            for record in records.dropFirst(20).prefix(20) {
                try writer.append(record: record.bytes, tid: record.tid, epoch: record.epoch)
            }
            faults.failNextWrite(errno: ENOSPC, afterWriting: 100)
            #expect(throws: LogError.io(.write, path: path, errno: ENOSPC)) { try writer.flush(fsync: true) }
            #expect(try fileSize(path) == good, "the partial write was cut off")
            #expect(writer.durable == first)
            #expect(try readLog(directory).end == .clean)
            // More records arrive meanwhile; the retry writes the queued blocks first, then these.
            for record in records.dropFirst(40) {
                try writer.append(record: record.bytes, tid: record.tid, epoch: record.epoch)
            }
            #expect(try writer.flush(fsync: true).tid == records.last!.tid)
            #expect(writer.statistics.failedFlushes == 1)
            try writer.close()
            #expect(try readLog(directory).records == records)
        }
    }

    @Test("A failed sync (EIO) cuts the unsynced blocks, which the retry writes again")
    func syncFailure() throws {
        try withTemporaryDirectory { directory in
            let faults = _LogFaults()
            var configuration = smallConfiguration()
            configuration._faults = faults
            let writer = try LogWriter(directory: directory, configuration: configuration)
            let records = makeRecords(count: 40, seed: 14)
            for record in records.prefix(20) {
                try writer.append(record: record.bytes, tid: record.tid, epoch: record.epoch)
            }
            try writer.flush(fsync: true)
            let path = SegmentDirectory.path(directory: directory, number: 1)
            let good = try fileSize(path)
            for record in records.dropFirst(20) {
                try writer.append(record: record.bytes, tid: record.tid, epoch: record.epoch)
            }
            try writer.flush(fsync: false)
            #expect(try fileSize(path) > good)
            faults.failNextSync(errno: EIO)
            #expect(throws: LogError.io(.sync, path: path, errno: EIO)) { try writer.flush(fsync: true) }
            #expect(try fileSize(path) == good)
            #expect(try writer.flush(fsync: true).tid == records.last!.tid)
            try writer.close()
            #expect(try readLog(directory).records == records)
        }
    }

    @Test("When even the cut fails, the next flush repairs the file before writing")
    func cutFailure() throws {
        try withTemporaryDirectory { directory in
            let faults = _LogFaults()
            var configuration = smallConfiguration()
            configuration._faults = faults
            let writer = try LogWriter(directory: directory, configuration: configuration)
            let records = makeRecords(count: 30, seed: 15)
            for record in records {
                try writer.append(record: record.bytes, tid: record.tid, epoch: record.epoch)
            }
            faults.failNextWrite(errno: EIO, afterWriting: 70)
            faults.failNextTruncate(errno: EIO)
            #expect(
                throws: LogError.io(.write, path: SegmentDirectory.path(directory: directory, number: 1), errno: EIO)
            ) {
                try writer.flush(fsync: true)
            }
            // A crash now would leave a torn tail, which the reader reports.
            guard case .tornTail(let tail) = try readLog(directory).end else {
                Issue.record("expected a torn tail")
                return
            }
            #expect(tail.offset == 0 && tail.byteCount == 70)
            try writer.flush(fsync: true)
            try writer.close()
            #expect(try readLog(directory).records == records)
            #expect(try readLog(directory).end == .clean)
        }
    }

    @Test("Failures across segment boundaries: every record once, segments consecutive")
    func failureAcrossSegments() throws {
        try withTemporaryDirectory { directory in
            let faults = _LogFaults()
            var configuration = smallConfiguration()
            configuration._faults = faults
            let writer = try LogWriter(directory: directory, configuration: configuration)
            let records = makeRecords(count: 1_000, seed: 16)
            for record in records {
                try writer.append(record: record.bytes, tid: record.tid, epoch: record.epoch)
            }
            // The first segment's writes succeed; the rotation's sync fails, then a later write does.
            faults.failNextSync(errno: EIO)
            #expect(throws: LogError.self) { try writer.flush(fsync: true) }
            faults.failNextWrite(errno: ENOSPC, afterWriting: 10)
            var attempts = 0
            while true {
                attempts += 1
                do {
                    try writer.flush(fsync: true)
                    break
                } catch {
                    #expect(attempts < 5, "\(error)")
                    if attempts >= 5 { break }
                }
            }
            try writer.close()
            let (read, _, end) = try readLog(directory)
            #expect(end == .clean)
            #expect(read == records)
            let numbers = try segmentFiles(directory).map(\.number)
            #expect(numbers == Array(1...UInt64(numbers.count)) && numbers.count > 3)
        }
    }

    @Test("A waiter on the flusher thread gets the flush's error, and a later wait succeeds")
    func waiterSeesFailure() throws {
        try withTemporaryDirectory { directory in
            let faults = _LogFaults()
            let errors = Protected<[LogError]>([])
            // everysec: appends do not wake the flusher, so only the waiter's request starts a flush.
            var configuration = smallConfiguration(policy: .everysec)
            configuration._faults = faults
            configuration.flushInterval = .seconds(30)
            configuration.onFlushError = { error in errors.withLock { $0.append(error) } }
            let writer = try LogWriter(directory: directory, configuration: configuration)
            try writer.startFlusher()
            faults.failNextWrite(errno: ENOSPC)
            try writer.append(record: [1, 2, 3], tid: 1, epoch: 1)
            let path = SegmentDirectory.path(directory: directory, number: 1)
            #expect(throws: LogError.io(.write, path: path, errno: ENOSPC)) {
                try writer.waitUntilDurable(epoch: 1, timeout: .seconds(10))
            }
            #expect(try writer.waitUntilDurable(epoch: 1, timeout: .seconds(10)) == DurablePoint(epoch: 1, tid: 1))
            #expect(errors.withLock { $0 } == [.io(.write, path: path, errno: ENOSPC)])
            // An epoch nobody closes times out.
            #expect(throws: LogError.timedOut(epoch: 9)) {
                try writer.waitUntilDurable(epoch: 9, timeout: .milliseconds(30))
            }
            try writer.close()
            #expect(try readLog(directory).records == [LogRecord(tid: 1, epoch: 1, bytes: [1, 2, 3])])
        }
    }

    @Test("Backpressure: appenders that call waitForBacklog keep the backlog near its limit on a slow disk")
    func backlogLimitHoldsAppenders() throws {
        try withTemporaryDirectory { directory in
            let faults = _LogFaults()
            var configuration = smallConfiguration(policy: .everysec)
            configuration.segmentSize = 1 << 20
            configuration.backlogLimit = 16 << 10
            configuration._faults = faults
            // Left alone, the flusher would write and sync once a second: everything appended below would wait
            // in memory until then.
            configuration.flushInterval = .seconds(1)
            let writer = try LogWriter(directory: directory, configuration: configuration)
            faults.delaySyncs(microseconds: 2_000)
            try writer.startFlusher()
            let threads = 4
            let perThread = 500
            let recordSize = 200
            let largest = Protected(0)
            let failures = Protected<[String]>([])
            runThreads(threads) { index in
                var random = SystemRandomNumberGenerator()
                for i in 0..<perThread {
                    writer.waitForBacklog()
                    // Incompressible, so that framed blocks are as large as the records.
                    let record = (0..<recordSize).map { _ in UInt8.random(in: 0...255, using: &random) }
                    do {
                        try writer.append(record: record, tid: UInt64(index * perThread + i + 1), epoch: 1)
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                        return
                    }
                    let backlog = writer.backlogBytes
                    largest.withLock { $0 = max($0, backlog) }
                }
            }
            #expect(failures.withLock { $0 }.isEmpty)
            // Each thread passes the check at most once before its append lands: the limit, plus a record per
            // thread, plus framing. Without the waits the backlog reached all 400 KB.
            let bound = (configuration.backlogLimit + threads * recordSize) * 5 / 4
            #expect(largest.withLock { $0 } <= bound, "backlog reached \(largest.withLock { $0 }) bytes")
            let statistics = writer.statistics
            #expect(statistics.backlogWaits > 0)
            #expect(statistics.backlogWaitSeconds > 0)
            faults.delaySyncs(microseconds: 0)
            try writer.close()
            #expect(writer.backlogBytes == 0)
            #expect(try readLog(directory).records.count == threads * perThread)
        }
    }

    @Test("Backpressure gives way to a failing disk: waitForBacklog returns when a flush fails")
    func backlogWaitEndsOnFailure() throws {
        try withTemporaryDirectory { directory in
            let faults = _LogFaults()
            let writer = try backlogWriter(directory, faults: faults)
            try writer.startFlusher()
            try appendIncompressible(writer, count: 20)
            #expect(writer.isOverBacklog)
            // Every write fails for a while (a full disk): the records stay queued, so the backlog stays past the
            // limit, and the wait must end with the failed flush instead of holding its caller (an event loop).
            for _ in 0..<1_000 { faults.failNextWrite(errno: ENOSPC) }
            #expect(try waitOffThread(writer, within: 30) == true)
            #expect(writer.isOverBacklog)
            // While the last flush failed, waits return at once and ask for no flush: a batch per failed flush
            // would retry the disk as fast as the event loops run.
            let failedBefore = writer.statistics.failedFlushes
            for _ in 0..<100 { #expect(!writer.waitForBacklog()) }
            #expect(writer.statistics.failedFlushes == failedBefore)
            // The disk has room again: the next flush writes everything, and nothing is lost.
            faults.clearWriteFailures()
            try writer.flush(fsync: true)
            #expect(!writer.isOverBacklog)
            try writer.close()
            #expect(try readLog(directory).records.count == 20)
        }
    }

    @Test("Backpressure after a switch from everysec to no: the blocks written but not synced are done")
    func backlogAfterPolicySwitch() throws {
        try withTemporaryDirectory { directory in
            let writer = try backlogWriter(directory)
            try appendIncompressible(writer, count: 20)
            // Written, not synced: under everysec the blocks stay in the backlog until the next sync.
            try writer.flush(fsync: false)
            #expect(writer.isOverBacklog)
            try writer.startFlusher()
            writer.setPolicy(.no)
            _ = try waitOffThread(writer, within: 30)
            // Under `.no` written is done: the wait ended because the backlog emptied, not by giving up.
            #expect(writer.backlogBytes == 0)
            #expect(writer.statistics.flushes < 100)
            try writer.close()
            #expect(try readLog(directory).records.count == 20)
        }
    }

    @Test("releaseBacklogWaiters lets a held appender go (shutdown with a stalled disk)")
    func backlogRelease() throws {
        try withTemporaryDirectory { directory in
            let faults = _LogFaults()
            let writer = try backlogWriter(directory, faults: faults)
            try appendIncompressible(writer, count: 20)
            faults.delaySyncs(microseconds: 3_000_000)  // one sync takes three seconds
            try writer.startFlusher()
            _ = try waitOffThread(writer, within: 30) {
                // By now the waiter has usually asked for the flush, which is in its slow sync.
                usleep(100_000)
                writer.releaseBacklogWaiters()
            }
            // It left because it was released, not because the flush drained the backlog.
            #expect(writer.isOverBacklog)
            #expect(!writer.waitForBacklog())
            faults.delaySyncs(microseconds: 0)
            try writer.close()
            #expect(try readLog(directory).records.count == 20)
        }
    }

    @Test("A slow disk: while the flusher syncs back to back, rotations and statistics still get the I/O lock")
    func slowDiskFairness() throws {
        try withTemporaryDirectory { directory in
            let faults = _LogFaults()
            var configuration = smallConfiguration(policy: .always)
            configuration._faults = faults
            let writer = try LogWriter(directory: directory, configuration: configuration)
            faults.delaySyncs(microseconds: 3_000)
            try writer.startFlusher()
            let finished = Atomic<Bool>(false)
            let gaveUp = Atomic<Bool>(false)
            let failures = Protected<[String]>([])
            let mostFlushes = Protected(0)
            runThreads(2) { index in
                if index == 0 {
                    // Appends without pause, so that each flush finds new records and an append to an empty lane
                    // has asked for the next flush: the flusher goes from one flush straight into the next. At most
                    // 1,024 records wait, so a slow disk keeps up. It stops once the other thread is through, or after
                    // 30 seconds (not a timing check: without turns the other thread waited as long as the appends
                    // went on).
                    let deadline = Date().addingTimeInterval(30)
                    var epoch: UInt64 = 0
                    while !finished.load(ordering: .acquiring) {
                        if Date() > deadline {
                            gaveUp.store(true, ordering: .releasing)
                            return
                        }
                        epoch += 1
                        do {
                            let record = [UInt8](repeating: UInt8(epoch & 0xFF), count: 64)
                            try writer.append(record: record, tid: epoch, epoch: epoch)
                            if epoch - writer.durableEpoch > 1024 { try writer.waitUntilDurable(epoch: epoch - 512) }
                        } catch {
                            failures.withLock { $0.append("append: \(error)") }
                            return
                        }
                    }
                    return
                }
                for _ in 0..<50 {
                    // Between turns, the flusher gets back into its stride of flushes.
                    usleep(5_000)
                    do {
                        let before = writer.statistics.flushes
                        _ = try writer.rotate()
                        let after = writer.statistics.flushes
                        mostFlushes.withLock { $0 = max($0, after - before) }
                    } catch {
                        failures.withLock { $0.append("rotate: \(error)") }
                    }
                }
                finished.store(true, ordering: .releasing)
            }
            let starved = gaveUp.load(ordering: .acquiring)
            #expect(!starved, "the flusher kept the I/O lock from the other thread")
            // Each call waits for at most the flush under way when it asked: one before the rotation and one before
            // the second statistics call. Without turns the flusher went on through dozens.
            #expect(mostFlushes.withLock { $0 } <= 2)
            #expect(failures.withLock { $0 }.isEmpty)
            faults.delaySyncs(microseconds: 0)
            try writer.close()
            #expect(try readLog(directory).end == .clean)
        }
    }

    @Test("A reopened writer starts the next segment after the existing ones")
    func reopen() throws {
        try withTemporaryDirectory { directory in
            let records = makeRecords(count: 300, seed: 17)
            try writeLog(directory, Array(records.prefix(150)), configuration: smallConfiguration())
            let before = try segmentFiles(directory)
            try writeLog(directory, Array(records.dropFirst(150)), configuration: smallConfiguration())
            let after = try segmentFiles(directory)
            #expect(Array(after.prefix(before.count)) == before, "old segments are never appended to")
            #expect(after.count > before.count)
            #expect(try readLog(directory).records == records)
        }
    }
}

/// A writer for the backpressure tests: everysec, a 1 KiB backlog limit, and no flush of the flusher's own for an
/// hour, so that only what a test asks for is flushed.
private func backlogWriter(_ directory: String, faults: _LogFaults? = nil) throws -> LogWriter {
    var configuration = smallConfiguration(policy: .everysec)
    configuration.segmentSize = 1 << 20
    configuration.backlogLimit = 1 << 10
    configuration.flushInterval = .seconds(3600)
    configuration._faults = faults
    return try LogWriter(directory: directory, configuration: configuration)
}

/// Appends `count` records of 200 random bytes in epoch 1: incompressible, so framed they still take their size.
private func appendIncompressible(_ writer: LogWriter, count: Int) throws {
    for i in 1...count {
        try writer.append(record: (0..<200).map { _ in UInt8.random(in: 0...255) }, tid: UInt64(i), epoch: 1)
    }
}

/// Calls `waitForBacklog` on a thread of its own (not the shared dispatch pool, which the tests running beside it may
/// fill), runs `meanwhile` on the calling thread, and returns what the wait returned; fails the test if it has not
/// returned within `seconds`.
private func waitOffThread(
    _ writer: LogWriter,
    within seconds: Double,
    meanwhile: () -> Void = {}
) throws -> Bool {
    let returned = DispatchSemaphore(value: 0)
    let waited = Protected(false)
    let thread = try POSIXThread.start {
        waited.withLock { $0 = writer.waitForBacklog() }
        returned.signal()
    }.get()
    pthread_detach(thread)
    meanwhile()
    try #require(returned.wait(timeout: .now() + seconds) == .success, "waitForBacklog did not return")
    return waited.withLock { $0 }
}
