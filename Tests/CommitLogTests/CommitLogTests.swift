import CommitLog
import Testing

@Suite("CRC32C and LZ4 blocks")
struct CommitLogTests {
    @Test("CRC32C matches the standard check values")
    func crc32c() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([]) == 0)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        let whole = CRC32C.checksum(Array("hello world".utf8))
        let split = Array("hello ".utf8).withUnsafeBytes { first in
            Array("world".utf8).withUnsafeBytes { second in
                CRC32C.checksum(second, continuing: CRC32C.checksum(first))
            }
        }
        #expect(whole == split)
    }

    @Test("LZ4 blocks round-trip and refuse corrupt input")
    func lz4() throws {
        let input = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 % 17) }
        let compressed = try input.withUnsafeBytes { try LZ4Block.compress($0) }
        #expect(compressed.count < input.count / 4)
        let output = try compressed.withUnsafeBytes { try LZ4Block.decompress($0, originalCount: input.count) }
        #expect(output == input)
        var broken = compressed
        broken[0] ^= 0xff
        broken.removeLast(broken.count / 2)
        #expect(throws: LZ4Block.Failure.self) {
            try broken.withUnsafeBytes { try LZ4Block.decompress($0, originalCount: input.count) }
        }
    }
}
