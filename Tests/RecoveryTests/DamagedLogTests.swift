import CommitLog
import Foundation
import TestSupport
import Testing
import TransactionEngine

/// What recovery does with a damaged log: a torn tail is cut (or refused), a missing segment is corruption.
@Suite("Recovery: damaged logs")
struct DamagedLogTests {
    /// Writes keys `k0..<k<first>` and flushes them, then `k<first>..<k<first+second>`, and closes: the second
    /// group is the log's last block. Returns the last segment and its size after the first flush.
    func writeTwoGroups(_ life: Life, first: Int = 50, second: Int = 10) throws -> (segment: SegmentFile, cut: Int64) {
        for i in 0..<first { life.worker.put("k\(i)", "value \(i)") }
        try life.writer.flush(fsync: false)
        let afterFirst = try #require(try segments(life.directory).last)
        for i in first..<(first + second) { life.worker.put("k\(i)", "value \(i)") }
        try life.close()
        let last = try #require(try segments(life.directory).last)
        #expect(last.number == afterFirst.number)
        #expect(last.size > afterFirst.size)
        return (last, afterFirst.size)
    }

    @Test("garbage after the last block is a torn tail: cut, everything before it restored, the log goes on")
    func garbageTail() throws {
        try withLogDirectory { directory in
            let clock = ManualClock()
            let life = try Life(directory: directory, clock: clock)
            let (segment, _) = try self.writeTwoGroups(life)
            let expected = life.contents
            try appendToFile(segment.path, Array("this is not a block".utf8) + [UInt8](repeating: 0xAB, count: 100))

            let restored = try life.next()
            let tail = try #require(restored.report.tornTail)
            #expect(tail.offset == segment.size)
            #expect(tail.file == segment.path)
            #expect(try fileSize(segment.path) == segment.size, "the tail was cut off the file")
            #expect(differences(restored.contents, expected).isEmpty, "\(differences(restored.contents, expected))")
            // The restored life appends to a new segment; a second restart is clean.
            restored.worker.put("after", "repair")
            let third = try restored.restart()
            #expect(third.report.tornTail == nil)
            #expect(third.worker.getString("after") == "repair")
            #expect(third.worker.keyCount(database: 0) == 61)
            try third.close()
        }
    }

    @Test("a last block cut short: the commits in it are lost, those before it intact")
    func cutLastBlock() throws {
        try withLogDirectory { directory in
            let clock = ManualClock()
            let life = try Life(directory: directory, clock: clock)
            let (segment, cut) = try self.writeTwoGroups(life)
            try truncateFile(segment.path, to: cut + (segment.size - cut) / 2)

            let restored = try life.next()
            let tail = try #require(restored.report.tornTail)
            #expect(tail.offset == cut)
            #expect(try fileSize(segment.path) == cut)
            let db0 = restored.contents[0]
            #expect(db0.count == 50)
            for i in 0..<50 { #expect(db0[key("k\(i)")] == Stored(bytes("value \(i)")), "k\(i)") }
            try restored.close()
        }
    }

    @Test("with allowTornTail off, a torn tail is refused and nothing is cut")
    func tornTailRefused() throws {
        try withLogDirectory { directory in
            let clock = ManualClock()
            let life = try Life(directory: directory, clock: clock)
            let (segment, cut) = try self.writeTwoGroups(life)
            try truncateFile(segment.path, to: segment.size - 3)
            var options = Recovery.Options()
            options.allowTornTail = false
            let failure = restoreFailure(directory, clock: clock, options: options)
            guard case .tornTailRefused(let tail) = failure else {
                Issue.record("want tornTailRefused, got \(failure.map { "\($0)" } ?? "success")")
                return
            }
            #expect(tail.offset == cut)
            #expect(tail.file == segment.path)
            #expect(try fileSize(segment.path) == segment.size - 3, "a refused tail is left alone")
            // The writer refuses to append after an uncut tail, too.
            #expect(throws: LogError.self) { _ = try LogWriter(directory: directory) }
            // Allowed again, it is cut.
            let (report, contents, _) = try restoreOnly(directory, clock: clock)
            #expect(report.tornTail?.offset == cut)
            #expect(contents[0].count == 50)
        }
    }

    @Test("a torn tail after a checkpoint: the checkpoint and the whole blocks after it are restored")
    func tornTailAfterCheckpoint() throws {
        try withLogDirectory { directory in
            let clock = ManualClock()
            let life = try Life(directory: directory, clock: clock)
            for i in 0..<30 { life.worker.put("cp\(i)", "\(i)", db: 1) }
            try life.checkpoint()
            let (segment, _) = try self.writeTwoGroups(life, first: 20, second: 5)
            let expected = life.contents
            try appendToFile(segment.path, [UInt8](repeating: 0, count: 40))
            let restored = try life.next()
            #expect(restored.report.checkpoint != nil)
            #expect(restored.report.tornTail != nil)
            #expect(differences(restored.contents, expected).isEmpty, "\(differences(restored.contents, expected))")
            try restored.close()
        }
    }

    /// Writes `count` keys, each its own commit, into small segments and closes; returns the segments.
    func writeManySegments(_ directory: String, clock: ManualClock, count: Int = 600) throws -> [SegmentFile] {
        var setup = LogSetup.small
        setup.segmentSize = 4 << 10
        setup.maxBlockPayload = 512
        let life = try Life(directory: directory, clock: clock, setup: setup)
        for i in 0..<count {
            life.worker.put("key:\(i)", "value \(i) " + String(repeating: "\(i % 10)", count: 20))
            if i % 25 == 24 { try life.writer.flush(fsync: false) }
        }
        try life.close()
        return try segments(directory)
    }

    @Test("a missing middle segment is corruption naming it; allowCorruption restores what comes before the gap")
    func missingMiddleSegment() throws {
        try withLogDirectory { directory in
            let clock = ManualClock()
            let all = try self.writeManySegments(directory, clock: clock)
            try #require(all.count >= 4, "want several segments, got \(all.count)")
            let missing = all[all.count / 2]
            let before = try LogReader(directory: directory).readAll().blocks
                .filter { $0.segment < missing.number }.reduce(0) { $0 + $1.count }
            try FileManager.default.removeItem(atPath: missing.path)

            let failure = restoreFailure(directory, clock: clock)
            guard case .log(.corruption(let corruption)) = failure else {
                Issue.record("want corruption, got \(failure.map { "\($0)" } ?? "success")")
                return
            }
            #expect(corruption.reason == .missingSegment(expected: missing.number, found: missing.number + 1))
            #expect("\(failure!)".contains(SegmentDirectory.fileName(number: missing.number)), "\(failure!)")
            // Nothing was cut by the refusal.
            #expect(try segments(directory).count == all.count - 1)

            var options = Recovery.Options()
            options.allowCorruption = true
            let (report, contents, _) = try restoreOnly(directory, clock: clock, options: options)
            let truncated = try #require(report.truncated)
            #expect(truncated.reason == .missingSegment(expected: missing.number, found: missing.number + 1))
            #expect(report.records == before)
            // A prefix of the commits: keys 0..<before, each with its value.
            #expect(contents[0].count == before)
            for i in 0..<before {
                #expect(
                    contents[0][key("key:\(i)")]?.value
                        == bytes("value \(i) " + String(repeating: "\(i % 10)", count: 20))
                )
            }
            // The segments after the gap are gone, so the next writer appends after the last good one.
            #expect(try segments(directory).map(\.number) == all.filter { $0.number < missing.number }.map(\.number))
        }
    }

    @Test("a missing first segment without a checkpoint is corruption, not a log that starts later")
    func missingFirstSegment() throws {
        try withLogDirectory { directory in
            let clock = ManualClock()
            let all = try self.writeManySegments(directory, clock: clock, count: 200)
            try #require(all.count >= 2)
            #expect(all.first?.number == 1)
            try FileManager.default.removeItem(atPath: all[0].path)
            let failure = restoreFailure(directory, clock: clock)
            guard case .log(.corruption(let corruption)) = failure else {
                Issue.record("want corruption, got \(failure.map { "\($0)" } ?? "success")")
                return
            }
            #expect(corruption.reason == .missingSegment(expected: 1, found: 2))
        }
    }

    @Test("a missing segment right after a checkpoint is corruption")
    func missingSegmentAfterCheckpoint() throws {
        try withLogDirectory { directory in
            let clock = ManualClock()
            let life = try Life(directory: directory, clock: clock, setup: .small)
            for i in 0..<50 { life.worker.put("a\(i)", "\(i)") }
            let report = try life.checkpoint()
            for i in 0..<300 {
                life.worker.put("b\(i)", String(repeating: "x", count: 40))
                if i % 20 == 19 { try life.writer.flush(fsync: false) }
            }
            try life.close()
            let after = try segments(directory)
            try #require(after.count >= 2)
            #expect(after.first?.number == report.firstSegment)
            try FileManager.default.removeItem(atPath: after[0].path)
            let failure = restoreFailure(directory, clock: clock)
            guard case .log(.corruption(let corruption)) = failure else {
                Issue.record("want corruption, got \(failure.map { "\($0)" } ?? "success")")
                return
            }
            #expect(corruption.reason == .missingSegment(expected: report.firstSegment, found: report.firstSegment + 1))
        }
    }

    /// `allowCorruption` lets recovery cut the log at damage and lose what follows; a missing first segment loses
    /// what precedes everything else, so nothing could be replayed on a state that existed: it is refused anyway.
    @Test("a missing first segment is refused even with allowCorruption")
    func missingFirstSegmentAllowed() throws {
        try withLogDirectory { directory in
            let clock = ManualClock()
            let all = try self.writeManySegments(directory, clock: clock, count: 200)
            try #require(all.count >= 2)
            try FileManager.default.removeItem(atPath: all[0].path)
            var options = Recovery.Options()
            options.allowCorruption = true
            let failure = restoreFailure(directory, clock: clock, options: options)
            guard case .log(.corruption(let corruption)) = failure else {
                Issue.record("want corruption, got \(failure.map { "\($0)" } ?? "success")")
                return
            }
            #expect(corruption.reason == .missingSegment(expected: 1, found: 2))
        }
    }

    @Test("a damaged block before the tail is corruption with file and offset; allowCorruption cuts the log there")
    func damagedMiddleBlock() throws {
        try withLogDirectory { directory in
            let clock = ManualClock()
            let all = try self.writeManySegments(directory, clock: clock, count: 400)
            try #require(all.count >= 3)
            let damaged = all[1]
            let blocks = try LogReader(directory: directory).readAll().blocks.filter { $0.segment == damaged.number }
            try #require(blocks.count >= 2)
            let block = blocks[1]
            let before = try LogReader(directory: directory).readAll().blocks
                .filter { $0.segment < damaged.number || ($0.segment == damaged.number && $0.offset < block.offset) }
                .reduce(0) { $0 + $1.count }
            var bytes = try fileBytes(damaged.path)
            bytes[Int(block.offset) + 60] ^= 0x10  // in the payload: the payload checksum fails
            try writeFile(damaged.path, bytes)

            let failure = restoreFailure(directory, clock: clock)
            guard case .log(.corruption(let corruption)) = failure else {
                Issue.record("want corruption, got \(failure.map { "\($0)" } ?? "success")")
                return
            }
            #expect(corruption.file == damaged.path)
            #expect(corruption.offset == block.offset)

            var options = Recovery.Options()
            options.allowCorruption = true
            let (report, contents, _) = try restoreOnly(directory, clock: clock, options: options)
            #expect(report.truncated?.offset == block.offset)
            #expect(contents[0].count == before)
            #expect((0..<before).allSatisfy { contents[0][key("key:\($0)")] != nil })
            #expect(try segments(directory).map(\.number) == all.prefix(2).map(\.number))
            #expect(try fileSize(damaged.path) == block.offset)
            // The next life appends after the cut.
            let life = try Life(directory: directory, clock: clock)
            life.worker.put("after", "cut")
            let next = try life.restart()
            #expect(next.worker.keyCount(database: 0) == before + 1)
            try next.close()
        }
    }

    @Test("a damaged checkpoint is refused, with or without allowCorruption")
    func damagedCheckpoint() throws {
        try withLogDirectory { directory in
            let clock = ManualClock()
            let life = try Life(directory: directory, clock: clock)
            for i in 0..<500 { life.worker.put("k\(i)", String(repeating: "v", count: i % 50)) }
            let report = try life.checkpoint()
            life.worker.put("after", "1")
            try life.close()
            let original = try fileBytes(report.path)
            var flipped = original
            flipped[original.count / 2] ^= 0x01
            try writeFile(report.path, flipped)
            var options = Recovery.Options()
            for allow in [false, true] {
                options.allowCorruption = allow
                let failure = restoreFailure(directory, clock: clock, options: options)
                guard case .log(.corruption(let corruption)) = failure else {
                    Issue.record("flipped, allowCorruption \(allow): got \(failure.map { "\($0)" } ?? "success")")
                    continue
                }
                #expect(corruption.file == report.path)
            }
            // Cut short (a checkpoint is synced before it is renamed, so this is damage too).
            try writeFile(report.path, Array(original.prefix(original.count - 10)))
            let failure = restoreFailure(directory, clock: clock)
            guard case .log(.corruption) = failure else {
                Issue.record("cut short: got \(failure.map { "\($0)" } ?? "success")")
                return
            }
        }
    }

    @Test("an empty segment left by a crash right after it was created is skipped")
    func emptyLastSegment() throws {
        try withLogDirectory { directory in
            let clock = ManualClock()
            let life = try Life(directory: directory, clock: clock)
            for i in 0..<20 { life.worker.put("k\(i)", "\(i)") }
            try life.close()
            let last = try #require(try segments(directory).last)
            try writeFile(SegmentDirectory.path(directory: directory, number: last.number + 1), [])
            let restored = try life.next()
            #expect(restored.report.tornTail == nil)
            #expect(restored.worker.keyCount(database: 0) == 20)
            restored.worker.put("after", "1")
            let third = try restored.restart()
            #expect(third.worker.keyCount(database: 0) == 21)
            try third.close()
        }
    }

    @Test("a log with more databases than the engine has is refused with the record that does not fit")
    func fewerDatabases() throws {
        try withLogDirectory { directory in
            let clock = ManualClock()
            let life = try Life(directory: directory, clock: clock, databases: 4)
            life.worker.put("a", "1", db: 0)
            let tid = life.worker.put("b", "1", db: 3)
            try life.close()
            let failure = restoreFailure(directory, clock: clock, databases: 2)
            guard case .badRecord(_, let badTID, .databaseOutOfRange(3, _)) = failure else {
                Issue.record("want badRecord, got \(failure.map { "\($0)" } ?? "success")")
                return
            }
            #expect(badTID == tid)
        }
    }
}
