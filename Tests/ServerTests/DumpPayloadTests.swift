import CommandDispatch
import TestSupport
import Testing

/// DUMP's payload codec: CRC-64, LZF and the RDB string encodings, against payloads redis-server 7.0.15 made.
@Suite("DUMP payloads")
struct DumpPayloadTests {
    /// DUMP's output in redis-server 7.0.15 for each string.
    static let redisPayloads: [(String, [UInt8])] = [
        (
            "hello",
            [0x00, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x0a, 0x00, 0x63, 0x72, 0xdf, 0x76, 0x65, 0x34, 0x20, 0x0a]
        ),
        ("127", [0x00, 0xc0, 0x7f, 0x0a, 0x00, 0x0d, 0xb5, 0xeb, 0x31, 0x52, 0x54, 0xc5, 0x14]),
        ("-128", [0x00, 0xc0, 0x80, 0x0a, 0x00, 0x99, 0x66, 0x32, 0x6d, 0x2f, 0x0c, 0x5b, 0xd9]),
        ("128", [0x00, 0xc1, 0x80, 0x00, 0x0a, 0x00, 0xeb, 0x7a, 0xb3, 0xb5, 0x10, 0xcf, 0x4b, 0x65]),
        ("-32768", [0x00, 0xc1, 0x00, 0x80, 0x0a, 0x00, 0xb5, 0x40, 0x06, 0x47, 0x53, 0xbb, 0x1a, 0xce]),
        ("32768", [0x00, 0xc2, 0x00, 0x80, 0x00, 0x00, 0x0a, 0x00, 0x45, 0xd8, 0x2e, 0xed, 0xd5, 0xbd, 0xa9, 0x10]),
        (
            "2147483647",
            [0x00, 0xc2, 0xff, 0xff, 0xff, 0x7f, 0x0a, 0x00, 0x2c, 0x74, 0xe5, 0x9e, 0xe0, 0x2e, 0xad, 0xa1]
        ),
        (
            "-2147483648",
            [0x00, 0xc2, 0x00, 0x00, 0x00, 0x80, 0x0a, 0x00, 0xc7, 0x4f, 0x87, 0x3e, 0x33, 0x55, 0x81, 0x87]
        ),
        (
            "2147483648",
            [
                0x00, 0x0a, 0x32, 0x31, 0x34, 0x37, 0x34, 0x38, 0x33, 0x36, 0x34, 0x38, 0x0a, 0x00, 0xe7, 0xb1, 0x29,
                0xa3,
                0x4c, 0x1d, 0x76, 0xee,
            ]
        ),
        ("007", [0x00, 0x03, 0x30, 0x30, 0x37, 0x0a, 0x00, 0x72, 0x58, 0xe2, 0x7b, 0x4c, 0x69, 0xba, 0xd9]),
        ("", [0x00, 0x00, 0x0a, 0x00, 0x5d, 0x9b, 0x5c, 0x40, 0x0f, 0x7f, 0xa2, 0xda]),
        (
            String(repeating: "a", count: 48),
            [
                0x00, 0xc3, 0x09, 0x30, 0x01, 0x61, 0x61, 0xe0, 0x23, 0x00, 0x01, 0x61, 0x61, 0x0a, 0x00, 0x34, 0xc5,
                0xf2,
                0xcf, 0x48, 0x6c, 0xd1, 0x8c,
            ]
        ),
        (
            "The quick brown fox jumps over the lazy dog. The quick brown fox jumps over the lazy dog.",
            [
                0x00, 0xc3, 0x37, 0x40, 0x59, 0x1f, 0x54, 0x68, 0x65, 0x20, 0x71, 0x75, 0x69, 0x63, 0x6b, 0x20, 0x62,
                0x72,
                0x6f, 0x77, 0x6e, 0x20, 0x66, 0x6f, 0x78, 0x20, 0x6a, 0x75, 0x6d, 0x70, 0x73, 0x20, 0x6f, 0x76, 0x65,
                0x72,
                0x20, 0x74, 0x20, 0x1e, 0x0a, 0x6c, 0x61, 0x7a, 0x79, 0x20, 0x64, 0x6f, 0x67, 0x2e, 0x20, 0x54, 0x20,
                0x0d,
                0xe0, 0x1d, 0x2c, 0x01, 0x67, 0x2e, 0x0a, 0x00, 0x7a, 0x86, 0xb0, 0xec, 0xe8, 0xf2, 0xe2, 0xf4,
            ]
        ),
    ]

    /// The string a payload decodes to, or the failure.
    static func decode(_ payload: [UInt8], limit: Int = 512 << 20) -> Result<[UInt8], DumpPayload.Failure> {
        payload.withUnsafeBytes { bytes in
            do throws(DumpPayload.Failure) {
                switch try DumpPayload.decodeString(bytes, limit: limit) {
                case .slice(let range): return .success(Array(bytes[range]))
                case .bytes(let decoded): return .success(decoded)
                case .integer(let number): return .success(Array(String(number).utf8))
                }
            } catch {
                return .failure(error)
            }
        }
    }

    static func encode(_ string: [UInt8]) -> [UInt8] {
        string.withUnsafeBytes { DumpPayload.encode(string: $0) }
    }

    /// `body` with the footer DUMP gives it: the RDB version and the CRC-64, little-endian.
    static func sealed(_ body: [UInt8], version: UInt16 = 10) -> [UInt8] {
        var payload = body + [UInt8(version & 0xff), UInt8(version >> 8)]
        let crc = CRC64.checksum(payload)
        for shift in stride(from: 0, to: 64, by: 8) {
            payload.append(UInt8(truncatingIfNeeded: crc >> UInt64(shift)))
        }
        return payload
    }

    /// Bytes from a seeded generator, drawn from `alphabet` symbols (a small one compresses well).
    static func randomBytes(_ count: Int, alphabet: Int, using generator: inout SeededRandom) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next() % UInt64(alphabet)) }
    }

    @Test("CRC-64 (Jones, as Redis's crc64.c): the check value, and any split of the input gives the same CRC")
    func crc64() {
        #expect(CRC64.checksum(Array("123456789".utf8)) == 0xe9c6_d914_c4b8_d9ca)
        #expect(CRC64.checksum([UInt8]()) == 0)
        var generator = SeededRandom(seed: 1)
        let data = DumpPayloadTests.randomBytes(1000, alphabet: 256, using: &generator)
        let whole = CRC64.checksum(data)
        for split in [0, 1, 7, 8, 9, 63, 500, 999, 1000] {
            let first = CRC64.checksum(Array(data[..<split]))
            #expect(CRC64.checksum(Array(data[split...]), continuing: first) == whole, "split at \(split)")
        }
        // The slice-by-8 loop against the one-byte loop alone (continuing byte by byte).
        var bytewise: UInt64 = 0
        for byte in data {
            bytewise = CRC64.checksum([byte], continuing: bytewise)
        }
        #expect(bytewise == whole)
    }

    @Test("DUMP's payloads are redis-server's, byte for byte: plain, 8/16/32-bit integers, LZF")
    func encodeAsRedis() {
        for (string, expected) in DumpPayloadTests.redisPayloads {
            #expect(DumpPayloadTests.encode(Array(string.utf8)) == expected, "\(string)")
        }
    }

    @Test("RESTORE reads redis-server's payloads: plain, integers, LZF")
    func decodeRedisPayloads() {
        for (string, payload) in DumpPayloadTests.redisPayloads {
            #expect(DumpPayloadTests.decode(payload) == .success(Array(string.utf8)), "\(string)")
        }
        // Integer encodings come back as integers, not as bytes of the payload.
        let int16 = DumpPayloadTests.redisPayloads[3].1
        #expect(int16.withUnsafeBytes { try? DumpPayload.decodeString($0, limit: 100) } == .integer(128))
    }

    @Test("length encodings: 6, 14 and 32 bits as Redis writes them; 64-bit and longer-than-needed forms are read")
    func lengths() {
        var generator = SeededRandom(seed: 2)
        for (count, header) in [
            (63, [0x3f]), (64, [0x40, 0x40]), (16383, [0x7f, 0xff]), (16384, [0x80, 0, 0, 0x40, 0]),
        ] {
            // Random bytes over the whole alphabet do not compress, so they are stored plainly.
            let string = DumpPayloadTests.randomBytes(count, alphabet: 256, using: &generator)
            let payload = DumpPayloadTests.encode(string)
            #expect(Array(payload[1..<(1 + header.count)]) == header.map { UInt8($0) }, "\(count)")
            #expect(payload.count == 1 + header.count + count + 10)
            #expect(DumpPayloadTests.decode(payload) == .success(string))
        }
        let hello = Array("hello".utf8)
        let forms: [[UInt8]] = [[0x40, 0x05], [0x80, 0, 0, 0, 5], [0x81, 0, 0, 0, 0, 0, 0, 0, 5]]
        for form in forms {
            #expect(DumpPayloadTests.decode(DumpPayloadTests.sealed([0] + form + hello)) == .success(hello))
        }
        // A 100,000-byte run: LZF with a 14-bit compressed length and a 32-bit string length, as Redis writes it.
        let run = [UInt8](repeating: UInt8(ascii: "x"), count: 100_000)
        let payload = DumpPayloadTests.encode(run)
        #expect(Array(payload[..<9]) == [0x00, 0xc3, 0x44, 0x77, 0x80, 0x00, 0x01, 0x86, 0xa0])
        #expect(payload.count == 1162)
        #expect(DumpPayloadTests.decode(payload) == .success(run))
    }

    @Test("integers: only canonical decimal forms within 32 bits are encoded as integers")
    func integers() {
        let encoded = ["0", "-1", "127", "128", "-129", "32767", "32768", "-2147483648", "2147483647"]
        for string in encoded {
            let payload = DumpPayloadTests.encode(Array(string.utf8))
            #expect(payload[1] & 0xc0 == 0xc0, "\(string)")
            #expect(DumpPayloadTests.decode(payload) == .success(Array(string.utf8)))
        }
        for string in ["2147483648", "-2147483649", "007", "+1", "-0", " 1", "1 ", "12345678901", "0x10"] {
            let payload = DumpPayloadTests.encode(Array(string.utf8))
            #expect(payload[1] == UInt8(string.utf8.count), "\(string)")
            #expect(DumpPayloadTests.decode(payload) == .success(Array(string.utf8)))
        }
    }

    @Test("LZF: what compress makes, decompress gives back, for random data of many sizes and redundancies")
    func lzfRoundTrip() {
        var generator = SeededRandom(seed: 3)
        for count in [1, 2, 3, 4, 5, 20, 21, 22, 40, 100, 1000, 10_000, 70_000] {
            for alphabet in [1, 2, 4, 26, 256] {
                let input = DumpPayloadTests.randomBytes(count, alphabet: alphabet, using: &generator)
                // Room for the worst case: a header byte per 32 literals.
                let room = count + count / 32 + 4
                let compressed = input.withUnsafeBytes { LZF.compress($0, limit: room) }
                guard let compressed else {
                    Issue.record("\(count) bytes of \(alphabet) symbols did not compress into \(room)")
                    continue
                }
                let back = compressed.withUnsafeBytes { LZF.decompress($0, count: count) }
                #expect(back == input, "\(count) bytes of \(alphabet) symbols")
                // The payload round trip, whichever form DUMP chose.
                #expect(DumpPayloadTests.decode(DumpPayloadTests.encode(input)) == .success(input))
            }
        }
        // Incompressible data does not fit in length - 4.
        let noise = DumpPayloadTests.randomBytes(1000, alphabet: 256, using: &generator)
        #expect(noise.withUnsafeBytes { LZF.compress($0, limit: 996) } == nil)
    }

    @Test("LZF: the reused hash table never changes what compress makes (a slot of an earlier call reads as empty)")
    func lzfTableReuse() {
        var generator = SeededRandom(seed: 11)
        func compress(_ input: [UInt8]) -> [UInt8]? {
            input.withUnsafeBytes { LZF.compress($0, limit: input.count + input.count / 32 + 4) }
        }
        // Few symbols, so that the slots left by one input would match bytes of the next if they were read.
        let inputs = (0..<40).map { index in
            DumpPayloadTests.randomBytes(100 + 97 * index, alphabet: 3 + index % 5, using: &generator)
        }
        let first = inputs.map(compress)
        for (index, input) in inputs.enumerated().reversed() {
            #expect(compress(input) == first[index], "input \(index), compressed after others")
        }
    }

    @Test("LZF decompression refuses malformed input: references before the start, runs past the end, other lengths")
    func lzfMalformed() {
        func decompress(_ input: [UInt8], _ count: Int) -> [UInt8]? {
            input.withUnsafeBytes { LZF.decompress($0, count: count) }
        }
        #expect(decompress([0x01, 0x61, 0x62], 2) == [0x61, 0x62])
        #expect(decompress([0x01, 0x61, 0x62], 3) == nil)  // shorter than stated
        #expect(decompress([0x01, 0x61, 0x62], 1) == nil)  // longer than stated
        #expect(decompress([0x02, 0x61, 0x62], 3) == nil)  // a run past the input
        #expect(decompress([0x20, 0x00], 3) == nil)  // a reference before the start
        #expect(decompress([0x00, 0x61, 0xe0], 10) == nil)  // a long reference cut short
        #expect(decompress([0x00, 0x61, 0x20], 3) == nil)  // a reference without its offset
        #expect(decompress([0x00, 0x61, 0x20, 0x00], 4) == [0x61, 0x61, 0x61, 0x61])  // an overlapping copy
        #expect(decompress([], 1) == nil)
        // As in Redis (lzf_decompress answers 0 for errors too), a stated length of 0 always succeeds.
        #expect(decompress([], 0) == [])
        #expect(decompress([0xff], 0) == [])
    }

    @Test("corrupt, truncated and foreign payloads are refused with Redis's reason, never a crash")
    func corruptPayloads() {
        let hello = DumpPayloadTests.redisPayloads[0].1
        let lzf = DumpPayloadTests.redisPayloads[12].1
        for payload in [hello, lzf] {
            for cut in 0..<payload.count {
                #expect(DumpPayloadTests.decode(Array(payload[..<cut])) == .failure(.versionOrChecksum), "cut \(cut)")
            }
            for index in payload.indices {
                for bit in 0..<8 {
                    var flipped = payload
                    flipped[index] ^= 1 << bit
                    #expect(DumpPayloadTests.decode(flipped) == .failure(.versionOrChecksum), "\(index).\(bit)")
                }
            }
        }
        let body = Array("hello".utf8)
        // Versions up to Redis 7.0's are read; a newer one is refused like a wrong checksum.
        #expect(DumpPayloadTests.decode(DumpPayloadTests.sealed([0, 5] + body, version: 9)) == .success(body))
        #expect(
            DumpPayloadTests.decode(DumpPayloadTests.sealed([0, 5] + body, version: 11)) == .failure(.versionOrChecksum)
        )
        let bad: [(String, [UInt8])] = [
            ("a list (quicklist 2)", [18, 1, 2, 0x61]),
            ("a set", [2, 1, 1, 0x61]),
            ("a module's type", [7, 0]),
            ("an unknown type", [200, 5] + body),
            ("nothing but the footer", []),
            ("a type byte alone", [0]),
            ("a string past the payload", [0, 0x3f] + body),
            ("an unknown length encoding", [0, 0x82, 0, 0, 0, 5] + body),
            ("an unknown string encoding", [0, 0xc4] + body),
            ("an 8-bit integer cut short", [0]),
            ("a 64-bit length past everything", [0, 0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            ("LZF stating a longer string", [0, 0xc3, 0x03, 0x06, 0x01, 0x61, 0x62]),
            ("LZF stating a shorter string", [0, 0xc3, 0x03, 0x01, 0x01, 0x61, 0x62]),
            ("LZF referring before the start", [0, 0xc3, 0x02, 0x03, 0x20, 0x05]),
            ("LZF data past the payload", [0, 0xc3, 0x3f, 0x02, 0x01, 0x61, 0x62]),
            ("LZF lengths cut short", [0, 0xc3]),
        ]
        for (reason, body) in bad {
            #expect(DumpPayloadTests.decode(DumpPayloadTests.sealed(body)) == .failure(.badFormat), "\(reason)")
        }
        // The string is read from the whole payload and what follows it is not checked, as in Redis: a length
        // that reaches into the footer loads, and trailing bytes are ignored.
        let intoFooter = DumpPayloadTests.sealed([0, 0x07] + body)
        #expect(DumpPayloadTests.decode(intoFooter) == .success(body + Array(intoFooter[7..<9])))
        #expect(DumpPayloadTests.decode(DumpPayloadTests.sealed([0, 5] + body + [1, 2, 3])) == .success(body))
        // LZF lengths may be written with any length form, even `11xxxxxx` (read as 6 bits there).
        #expect(
            DumpPayloadTests.decode(DumpPayloadTests.sealed([0, 0xc3, 0xc3, 0x02, 0x01, 0x61, 0x62]))
                == .success([0x61, 0x62])
        )
        #expect(DumpPayloadTests.decode(DumpPayloadTests.sealed([0, 0xc3, 0x00, 0x00])) == .success([]))
        // An LZF string longer than the limit is refused before it is allocated.
        let long = DumpPayloadTests.encode([UInt8](repeating: 0x61, count: 1000))
        #expect(DumpPayloadTests.decode(long, limit: 999) == .failure(.badFormat))
        #expect(DumpPayloadTests.decode(long, limit: 1000) == .success([UInt8](repeating: 0x61, count: 1000)))
        // Random bodies under a valid footer: refused or read, never a crash.
        var generator = SeededRandom(seed: 4)
        for _ in 0..<20_000 {
            let count = Int(generator.next() % 24)
            var body = DumpPayloadTests.randomBytes(count, alphabet: 256, using: &generator)
            if !body.isEmpty && generator.next() % 2 == 0 { body[0] = 0 }
            if body.count > 1 && generator.next() % 2 == 0 { body[1] = 0xc0 | body[1] }
            _ = DumpPayloadTests.decode(DumpPayloadTests.sealed(body))
        }
    }
}
