import CommitLog
import Testing

@Suite("Log block format")
struct LogFormatTests {
    @Test("A header round-trips, is 56 bytes, and any flipped bit makes it bad")
    func headerRoundTrip() {
        let header = BlockHeader(
            flags: .lz4,
            recordCount: 3,
            epoch: 0x0102_0304_0506_0708,
            firstTID: 11,
            lastTID: 0xFFFF_FFFF_FFFF_FFF0,
            uncompressedLength: 1234,
            storedLength: 567,
            payloadChecksum: 0xDEAD_BEEF
        )
        var bytes: [UInt8] = []
        header.append(to: &bytes)
        #expect(bytes.count == LogFormat.headerSize)
        #expect(Array(bytes[0..<8]) == Array("WEFTLOG1".utf8))
        #expect(bytes[8] == 1 && bytes[9] == 0, "version 1, little-endian")
        #expect(bytes[16] == 0x08 && bytes[23] == 0x01, "epoch, little-endian")
        #expect(bytes.withUnsafeBytes { BlockHeader.decode($0) } == .success(header))
        for bit in 0..<(LogFormat.headerSize * 8) {
            var broken = bytes
            broken[bit / 8] ^= 1 << UInt8(bit % 8)
            let decoded = broken.withUnsafeBytes { BlockHeader.decode($0) }
            #expect((try? decoded.get()) == nil, "bit \(bit)")
        }
    }

    @Test("Header problems are named")
    func headerProblems() {
        var bytes: [UInt8] = []
        BlockHeader(
            flags: [],
            recordCount: 1,
            epoch: 1,
            firstTID: 1,
            lastTID: 1,
            uncompressedLength: 9,
            storedLength: 9,
            payloadChecksum: 0
        ).append(to: &bytes)
        #expect(
            bytes.prefix(20).withUnsafeBytes { BlockHeader.decode($0) } == .failure(.truncatedHeader(available: 20))
        )
        var newer = bytes
        newer[8] = 2
        #expect(newer.withUnsafeBytes { BlockHeader.decode($0) } == .failure(.newerFormatVersion(2)))
        #expect(newer.prefix(12).withUnsafeBytes { BlockHeader.decode($0) } == .failure(.newerFormatVersion(2)))
        var flags = bytes
        flags[10] = 0x82
        resealHeader(&flags, at: 0)
        #expect(flags.withUnsafeBytes { BlockHeader.decode($0) } == .failure(.unknownFlags(0x82)))
        var zero = bytes
        zero[8] = 0
        resealHeader(&zero, at: 0)
        #expect(zero.withUnsafeBytes { BlockHeader.decode($0) } == .failure(.unknownVersion(0)))
        var magic = bytes
        magic[0] = UInt8(ascii: "X")
        #expect(magic.withUnsafeBytes { BlockHeader.decode($0) } == .failure(.badMagic))
    }

    @Test("The encoder frames records, and compresses only when that is smaller")
    func encoder() {
        var encoder = BlockEncoder(epoch: 7)
        let text = [UInt8](repeating: UInt8(ascii: "a"), count: 500)
        encoder.append(tid: 30, record: text)
        encoder.append(tid: 10, record: [])
        encoder.append(tid: 20, record: [1, 2, 3])
        #expect(encoder.payload.count == (2 + 8 + 500) + (1 + 8) + (1 + 8 + 3))
        var compressed: [UInt8] = []
        let header = encoder.encode(compress: true, into: &compressed)
        #expect(header.flags == .lz4)
        #expect(header.recordCount == 3 && header.epoch == 7)
        #expect(header.firstTID == 10 && header.lastTID == 30)
        #expect(Int(header.uncompressedLength) == encoder.payload.count)
        #expect(compressed.count == header.blockSize && compressed.count < encoder.payload.count)
        var plain: [UInt8] = []
        let plainHeader = encoder.encode(compress: false, into: &plain)
        #expect(plainHeader.flags.isEmpty && plainHeader.storedLength == plainHeader.uncompressedLength)

        var random = BlockEncoder(epoch: 1)
        var generator = SeededGenerator(seed: 9)
        random.append(tid: 1, record: (0..<300).map { _ in UInt8.random(in: 0...255, using: &generator) })
        var output: [UInt8] = []
        #expect(random.encode(compress: true, into: &output).flags.isEmpty, "random bytes stay uncompressed")
    }

    @Test("Segment file names")
    func segmentNames() {
        #expect(SegmentDirectory.fileName(number: 1) == "weft-0000000000000001.log")
        #expect(SegmentDirectory.fileName(number: 0xABCDEF) == "weft-0000000000abcdef.log")
        #expect(SegmentDirectory.fileName(number: .max) == "weft-ffffffffffffffff.log")
        for number: UInt64 in [0, 1, 255, 0xABCDEF, .max] {
            #expect(SegmentDirectory.number(fromFileName: SegmentDirectory.fileName(number: number)) == number)
        }
        for name in [
            "weft-000000000000001.log", "weft-000000000000000G.log", "weft-0000000000ABCDEF.log",
            "weft-0000000000000001.log.tmp", "dump.rdb", "weft-0000000000000001.lo",
        ] {
            #expect(SegmentDirectory.number(fromFileName: name) == nil, "\(name)")
        }
    }

    @Test("Errors describe themselves with the file, the offset and the reason")
    func descriptions() {
        let corruption = LogError.corruption(
            LogCorruption(
                file: "/x/weft-0000000000000002.log",
                offset: 4096,
                reason: .badPayloadChecksum(stored: 1, computed: 2)
            )
        )
        #expect(corruption.description.contains("/x/weft-0000000000000002.log"))
        #expect(corruption.description.contains("4096"))
        #expect(corruption.description.contains("payload checksum"))
        let io = LogError.io(.write, path: "/x/y", errno: 28)
        #expect(io.description.contains("write /x/y"))
        #expect(io.description.contains("errno 28"))
        let missing = CorruptionReason.missingSegment(expected: 2, found: 3)
        #expect(missing.description.contains("weft-0000000000000002.log"))
        let reasons: [CorruptionReason] = [
            .truncatedHeader(available: 3), .badMagic, .newerFormatVersion(2), .unknownVersion(0),
            .badHeaderChecksum(stored: 1, computed: 2), .unknownFlags(4), .truncatedPayload(expected: 9, available: 1),
            .badPayloadChecksum(stored: 1, computed: 2), .decompressionFailed,
            .uncompressedLengthMismatch(header: 3, actual: 4), .badRecordFraming(record: 1),
            .recordCountMismatch(header: 1, actual: 2), .tidOutOfRange(record: 0, tid: 9), .emptyBlock, missing,
        ]
        #expect(Set(reasons.map(\.description)).count == reasons.count)
        let errors: [LogError] = [
            io, corruption, .recordTooLarge(length: 5, limit: 4), .tornTailNotCut(file: "f", offset: 1), .writerClosed,
            .scanNotFinished, .timedOut(epoch: 3),
        ]
        #expect(Set(errors.map(\.description)).count == errors.count)
    }
}
