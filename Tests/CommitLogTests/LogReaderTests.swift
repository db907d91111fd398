import CommitLog
import Testing

@Suite("Log reader: round trips, torn tails, corruption")
struct LogReaderTests {
    @Test("Many records round-trip across blocks and segments", arguments: [true, false])
    func roundTrip(compression: Bool) throws {
        try withTemporaryDirectory { directory in
            var records = makeRecords(count: 3_000)
            // A record larger than a block and than a segment gets a block and a segment of its own.
            var generator = SeededGenerator(seed: 2)
            let big = (0..<20_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
            records.insert(LogRecord(tid: records[1_499].tid, epoch: records[1_499].epoch, bytes: big), at: 1_500)
            try writeLog(directory, records, configuration: smallConfiguration(compression: compression))
            let (read, blocks, end) = try readLog(directory)
            #expect(end == .clean)
            #expect(read == records)
            let segments = try segmentFiles(directory)
            #expect(segments.count > 10)
            #expect(segments.map(\.number) == Array(1...UInt64(segments.count)))
            #expect(blocks.count > segments.count)
            #expect(blocks.contains { $0.count == 1 && $0.header.uncompressedLength > 20_000 })
            #expect(blocks.contains { $0.header.flags.contains(.lz4) } == compression)
            for block in blocks {
                #expect(block.records.allSatisfy { $0.epoch == block.epoch })
                #expect(block.records.first?.tid == block.header.firstTID)
                #expect(block.records.last?.tid == block.header.lastTID)
            }
            // A segment passes its threshold only when a single block does.
            for segment in segments where segment.size > 8 << 10 {
                #expect(blocks.filter { $0.segment == segment.number }.count == 1)
            }
            var lent: [LogRecord] = []
            for block in blocks {
                block.forEachRecord { tid, bytes in
                    lent.append(LogRecord(tid: tid, epoch: block.epoch, bytes: Array(bytes)))
                }
            }
            #expect(lent == records)
        }
    }

    @Test("An empty or missing directory is an empty log")
    func emptyDirectory() throws {
        try withTemporaryDirectory { directory in
            let (records, blocks, end) = try readLog(directory)
            #expect(records.isEmpty && blocks.isEmpty && end == .clean)
            let missing = try readLog(directory + "/absent")
            #expect(missing.records.isEmpty && missing.end == .clean)
            // A writer that writes nothing leaves no segment behind.
            let writer = try LogWriter(directory: directory + "/new")
            try writer.close()
            #expect(try segmentFiles(directory + "/new").isEmpty)
            #expect(try readLog(directory + "/new").end == .clean)
            // An empty segment is an empty log too.
            try writeFile(directory + "/" + SegmentDirectory.fileName(number: 1), [])
            #expect(try readLog(directory).end == .clean)
        }
    }

    @Test("A torn tail cut at every byte of the last block reads every earlier record", arguments: [true, false])
    func tornTailAtEveryByte(compression: Bool) throws {
        try withTemporaryDirectory { directory in
            // A small log (a few segments), so that reading it back after each of the cuts stays quick.
            let records = makeRecords(count: 120, perEpoch: 30, maxLength: 60, seed: 3)
            var configuration = smallConfiguration(compression: compression)
            configuration.segmentSize = 1_500
            configuration.maxBlockPayload = 512
            try writeLog(directory, records, configuration: configuration, flushEvery: 120)
            let (_, blocks, _) = try readLog(directory)
            let segments = try segmentFiles(directory)
            let last = try #require(blocks.last)
            let segment = try #require(segments.last)
            #expect(segments.count >= 3)
            #expect(last.segment == segment.number && last.count > 1)
            #expect(last.header.flags.contains(.lz4) == compression)
            let original = try fileBytes(segment.path)
            let start = Int(last.offset)
            let size = last.header.blockSize
            #expect(start + size == original.count)
            let earlier = Array(records.dropLast(last.count))
            for cut in 0...size {
                try writeFile(segment.path, original[0..<(start + cut)])
                let (read, _, end) = try readLog(directory)
                if cut == size {
                    #expect(read == records && end == .clean)
                } else if cut == 0 {
                    #expect(read == earlier && end == .clean)
                } else {
                    #expect(read == earlier, "cut \(cut)")
                    guard case .tornTail(let tail) = end else {
                        Issue.record("cut \(cut): \(end)")
                        continue
                    }
                    #expect(tail.file == segment.path && tail.segment == segment.number)
                    #expect(tail.offset == Int64(start) && tail.byteCount == Int64(cut))
                    #expect(tail.laterSegments.isEmpty)
                }
            }
            // A flipped bit anywhere in the last block is a torn tail too.
            for byte in start..<original.count {
                var broken = original
                broken[byte] ^= 0x10
                try writeFile(segment.path, broken)
                let (read, _, end) = try readLog(directory)
                #expect(read == earlier, "byte \(byte)")
                guard case .tornTail(let tail) = end else {
                    Issue.record("byte \(byte): \(end)")
                    continue
                }
                #expect(tail.offset == Int64(start) && tail.byteCount == Int64(size))
            }
            // Cutting the tail lets a writer append after the good blocks.
            try writeFile(segment.path, original[0..<(start + size / 2)])
            #expect(throws: LogError.tornTailNotCut(file: segment.path, offset: Int64(start))) {
                _ = try LogWriter(directory: directory, configuration: configuration)
            }
            let reader = try LogReader(directory: directory)
            _ = try reader.readAll()
            let cutTail = try #require(try reader.truncateTornTail())
            #expect(cutTail.offset == Int64(start) && cutTail.byteCount == Int64(size / 2))
            #expect(try fileSize(segment.path) == Int64(start))
            let more = makeRecords(count: 50, seed: 4).map {
                LogRecord(tid: $0.tid + 10_000, epoch: 100, bytes: $0.bytes)
            }
            try writeLog(directory, more, configuration: configuration)
            let (after, _, end) = try readLog(directory)
            #expect(end == .clean)
            #expect(after == earlier + more)
            #expect(try segmentFiles(directory).count > segments.count, "the writer starts a new segment")
        }
    }

    @Test("A flipped bit before the tail is corruption with file and offset, or a truncation when allowed")
    func corruptionBeforeTheTail() throws {
        try withTemporaryDirectory { directory in
            let records = makeRecords(count: 1_000, seed: 5)
            try writeLog(directory, records, configuration: smallConfiguration())
            let (_, blocks, _) = try readLog(directory)
            let segments = try segmentFiles(directory)
            #expect(segments.count >= 4)
            // The third block of the second segment, in its payload, then in its header.
            let victim = blocks.filter { $0.segment == segments[1].number }[2]
            let path = segments[1].path
            let original = try fileBytes(path)
            for (position, expected) in [
                (Int(victim.offset) + LogFormat.headerSize + 5, "payload"), (Int(victim.offset) + 20, "header"),
            ] {
                var broken = original
                broken[position] ^= 0x01
                try writeFile(path, broken)
                do {
                    _ = try readLog(directory)
                    Issue.record("a flipped \(expected) bit was not noticed")
                } catch {
                    guard case LogError.corruption(let corruption)? = error as? LogError else {
                        Issue.record("\(error)")
                        continue
                    }
                    #expect(corruption.file == path && corruption.offset == victim.offset)
                    switch corruption.reason {
                    case .badPayloadChecksum: #expect(expected == "payload")
                    case .badHeaderChecksum: #expect(expected == "header")
                    default: Issue.record("\(corruption.reason)")
                    }
                }
            }
            // With truncation allowed, reading stops at the bad block and reports the rest as dropped.
            let (read, _, end) = try readLog(directory, allowTruncation: true)
            let kept = blocks.prefix { $0.segment != victim.segment || $0.offset != victim.offset }.reduce(0) {
                $0 + $1.count
            }
            #expect(read == Array(records.prefix(kept)))
            guard case .truncated(let dropped) = end else {
                Issue.record("\(end)")
                return
            }
            #expect(dropped.file == path && dropped.offset == victim.offset)
            #expect(dropped.byteCount == Int64(original.count) - victim.offset)
            #expect(dropped.laterSegments.map(\.number) == segments.dropFirst(2).map(\.number))
            if case .badHeaderChecksum = dropped.reason {} else { Issue.record("\(dropped.reason)") }
            // Cutting it leaves a clean log holding the prefix.
            let reader = try LogReader(directory: directory, allowTruncation: true)
            _ = try reader.readAll()
            #expect(try reader.truncateTornTail() == dropped)
            #expect(try segmentFiles(directory).count == 2)
            let (after, _, afterEnd) = try readLog(directory)
            #expect(after == Array(records.prefix(kept)) && afterEnd == .clean)
        }
    }

    @Test("A missing segment is corruption; a missing first segment is not")
    func missingSegment() throws {
        try withTemporaryDirectory { directory in
            let records = makeRecords(count: 1_000, seed: 6)
            try writeLog(directory, records, configuration: smallConfiguration())
            let (_, blocks, _) = try readLog(directory)
            let segments = try segmentFiles(directory)
            #expect(segments.count >= 4)
            try removeFile(segments[0].path)
            let withoutFirst = blocks.filter { $0.segment != segments[0].number }.flatMap(\.records)
            #expect(try readLog(directory).records == withoutFirst)

            try removeFile(segments[2].path)
            #expect(
                throws: LogError.corruption(
                    LogCorruption(
                        file: segments[3].path,
                        offset: 0,
                        reason: .missingSegment(expected: segments[2].number, found: segments[3].number)
                    )
                )
            ) {
                _ = try LogReader(directory: directory)
            }
            let (read, _, end) = try readLog(directory, allowTruncation: true)
            #expect(read == blocks.filter { $0.segment == segments[1].number }.flatMap(\.records))
            guard case .truncated(let dropped) = end else {
                Issue.record("\(end)")
                return
            }
            #expect(
                dropped.segment == segments[1].number && dropped.offset == segments[1].size && dropped.byteCount == 0
            )
            #expect(dropped.laterSegments.map(\.number) == segments.dropFirst(3).map(\.number))
            #expect(dropped.totalBytes == segments.dropFirst(3).reduce(0) { $0 + $1.size })
            let reader = try LogReader(directory: directory, allowTruncation: true)
            _ = try reader.readAll()
            try reader.truncateTornTail()
            #expect(try segmentFiles(directory).map(\.number) == [segments[1].number])
            // The writer goes on with the next number.
            try writeLog(
                directory,
                [LogRecord(tid: 99_999, epoch: 999, bytes: [1])],
                configuration: smallConfiguration()
            )
            #expect(try segmentFiles(directory).map(\.number) == [segments[1].number, segments[2].number])
            #expect(try readLog(directory).records.last == LogRecord(tid: 99_999, epoch: 999, bytes: [1]))
        }
    }

    @Test("A newer format version is refused wherever it is", arguments: [false, true])
    func newerVersion(lastBlock: Bool) throws {
        try withTemporaryDirectory { directory in
            let records = makeRecords(count: 300, seed: 7)
            try writeLog(directory, records, configuration: smallConfiguration())
            let (_, blocks, _) = try readLog(directory)
            let segments = try segmentFiles(directory)
            let victim = lastBlock ? blocks[blocks.count - 1] : blocks[3]
            let path = SegmentDirectory.path(directory: directory, number: victim.segment)
            var bytes = try fileBytes(path)
            bytes[Int(victim.offset) + 8] = 2
            resealHeader(&bytes, at: Int(victim.offset))
            try writeFile(path, bytes)
            #expect(
                throws: LogError.corruption(
                    LogCorruption(file: path, offset: victim.offset, reason: .newerFormatVersion(2))
                )
            ) {
                _ = try readLog(directory)
            }
            let (read, _, end) = try readLog(directory, allowTruncation: true)
            #expect(
                read == blocks.prefix { $0.segment != victim.segment || $0.offset != victim.offset }.flatMap(\.records)
            )
            guard case .truncated(let dropped) = end else {
                Issue.record("\(end)")
                return
            }
            #expect(dropped.reason == .newerFormatVersion(2) && dropped.offset == victim.offset)
            #expect(segments.count > 1)
        }
    }

    @Test("truncateTornTail needs a finished scan and does nothing to a clean log")
    func truncateNeedsScan() throws {
        try withTemporaryDirectory { directory in
            try writeLog(directory, makeRecords(count: 50), configuration: smallConfiguration())
            let reader = try LogReader(directory: directory)
            #expect(throws: LogError.scanNotFinished) { try reader.truncateTornTail() }
            _ = try reader.readAll()
            #expect(try reader.truncateTornTail() == nil)
            #expect(reader.recordCount == 50)
        }
    }

    @Test("Every payload check names its reason, with the block's offset")
    func payloadChecks() throws {
        try withTemporaryDirectory { directory in
            var good = BlockEncoder(epoch: 1)
            good.append(tid: 5, record: [1, 2, 3])
            var goodBytes: [UInt8] = []
            good.encode(compress: false, into: &goodBytes)
            let record = good.payload
            func block(
                _ payload: [UInt8],
                count: UInt32,
                tids: ClosedRange<UInt64> = 0...UInt64.max,
                uncompressed: Int? = nil,
                flags: BlockFlags = []
            ) -> [UInt8] {
                var bytes: [UInt8] = []
                BlockHeader(
                    flags: flags,
                    recordCount: count,
                    epoch: 1,
                    firstTID: tids.lowerBound,
                    lastTID: tids.upperBound,
                    uncompressedLength: UInt32(uncompressed ?? payload.count),
                    storedLength: UInt32(payload.count),
                    payloadChecksum: CRC32C.checksum(payload)
                ).append(to: &bytes)
                return bytes + payload
            }
            let cases: [([UInt8], CorruptionReason)] = [
                (block(record, count: 2), .recordCountMismatch(header: 2, actual: 1)),
                (block(record + record, count: 1), .recordCountMismatch(header: 1, actual: 2)),
                (block(record, count: 1, tids: 6...9), .tidOutOfRange(record: 0, tid: 5)),
                (block(record, count: 1, uncompressed: 99), .uncompressedLengthMismatch(header: 99, actual: 12)),
                (block([], count: 0), .emptyBlock),
                (block(Array(record.dropLast()), count: 1), .badRecordFraming(record: 0)),
                (block([0xFF, 0xFF, 0x03], count: 1, uncompressed: 50, flags: .lz4), .decompressionFailed),
            ]
            let path = SegmentDirectory.path(directory: directory, number: 1)
            for (bad, reason) in cases {
                try writeFile(path, goodBytes + bad + goodBytes)
                #expect(
                    throws: LogError.corruption(
                        LogCorruption(file: path, offset: Int64(goodBytes.count), reason: reason)
                    )
                ) {
                    _ = try readLog(directory)
                }
                // The same block last in the log is a torn tail.
                try writeFile(path, goodBytes + bad)
                let (records, _, end) = try readLog(directory)
                #expect(records == [LogRecord(tid: 5, epoch: 1, bytes: [1, 2, 3])])
                #expect(
                    end
                        == .tornTail(
                            DroppedTail(
                                file: path,
                                segment: 1,
                                offset: Int64(goodBytes.count),
                                byteCount: Int64(bad.count),
                                laterSegments: [],
                                reason: reason
                            )
                        )
                )
            }
        }
    }
}
