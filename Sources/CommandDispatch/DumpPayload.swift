/// The serialized form of a value that DUMP makes and RESTORE reads, as Redis 7.0 makes it (redis `src/cluster.c`
/// `createDumpPayload`/`verifyDumpPayload`, `src/rdb.c`): the value's RDB type byte, the value in RDB encoding,
/// the RDB version (2 bytes, little-endian) and the CRC-64 of all that (8 bytes, little-endian).
///
/// Only strings exist in Weft, so only type 0 (a string) is read; a payload of another type is "bad data format"
/// here, where Redis would load it. A string is written as Redis's `rdbSaveRawString` writes it: as an 8, 16 or
/// 32-bit integer when it is the canonical decimal form of one; else LZF-compressed when longer than 20 bytes and
/// at least 4 bytes shorter for it (Redis's default `rdbcompression yes`); else its length and bytes.
package enum DumpPayload {
    /// The RDB version Redis 7.0 writes, and the newest it reads.
    package static let rdbVersion: UInt16 = 10

    /// Why RESTORE refuses a payload, in the order Redis checks.
    package enum Failure: Error, Equatable, Sendable {
        /// Shorter than its footer, a newer RDB version or a wrong CRC.
        case versionOrChecksum
        /// The footer is right but the value cannot be read: a type Weft cannot hold, a bad length or encoding,
        /// a string running past the payload, LZF data that does not give its stated length.
        case badFormat

        /// Redis's reply for each.
        package var error: CommandError {
            switch self {
            case .versionOrChecksum: return CommandError("DUMP payload version or checksum are wrong")
            case .badFormat: return CommandError("Bad data format")
            }
        }
    }

    /// A string read from a payload.
    package enum StringValue: Equatable, Sendable {
        /// Stored plainly: these bytes of the payload.
        case slice(Range<Int>)
        /// Stored LZF-compressed: the bytes decompressed.
        case bytes([UInt8])
        /// Stored as an 8, 16 or 32-bit integer: the string is its decimal form.
        case integer(Int64)
    }

    /// RDB's type byte of a string.
    static let stringType: UInt8 = 0
    /// The first byte of a 32-bit and a 64-bit length (big-endian lengths follow).
    static let length32: UInt8 = 0x80
    static let length64: UInt8 = 0x81
    /// The special encodings, after a first byte `11xxxxxx`: integers of 8, 16, 32 bits, LZF.
    static let encodedInt8: UInt8 = 0
    static let encodedInt16: UInt8 = 1
    static let encodedInt32: UInt8 = 2
    static let encodedLZF: UInt8 = 3

    // MARK: Writing

    /// The payload DUMP gives for a string value holding `bytes`.
    ///
    /// - Complexity: O(n) in the length of the string.
    package static func encode(string bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var payload: [UInt8] = []
        payload.reserveCapacity(bytes.count + 20)
        payload.append(DumpPayload.stringType)
        DumpPayload.appendString(bytes, to: &payload)
        payload.append(UInt8(truncatingIfNeeded: DumpPayload.rdbVersion))
        payload.append(UInt8(truncatingIfNeeded: DumpPayload.rdbVersion >> 8))
        let crc = CRC64.checksum(payload)
        for shift in stride(from: 0, to: 64, by: 8) {
            payload.append(UInt8(truncatingIfNeeded: crc >> UInt64(shift)))
        }
        return payload
    }

    /// A string in RDB encoding (`rdbSaveRawString`).
    static func appendString(_ bytes: UnsafeRawBufferPointer, to payload: inout [UInt8]) {
        if bytes.count <= 11, let value = RedisInteger.parse(bytes), DumpPayload.appendInteger(value, to: &payload) {
            return
        }
        if bytes.count > 20, let compressed = LZF.compress(bytes, limit: bytes.count - 4) {
            payload.append(0xc0 | DumpPayload.encodedLZF)
            DumpPayload.appendLength(UInt64(compressed.count), to: &payload)
            DumpPayload.appendLength(UInt64(bytes.count), to: &payload)
            payload += compressed
            return
        }
        DumpPayload.appendLength(UInt64(bytes.count), to: &payload)
        payload.append(contentsOf: bytes)
    }

    /// `rdbEncodeInteger`: `value` as the smallest of the 8, 16 and 32-bit encodings (little-endian); false when it
    /// needs more than 32 bits.
    static func appendInteger(_ value: Int64, to payload: inout [UInt8]) -> Bool {
        let width: Int
        let encoding: UInt8
        if value >= Int64(Int8.min) && value <= Int64(Int8.max) {
            (width, encoding) = (1, DumpPayload.encodedInt8)
        } else if value >= Int64(Int16.min) && value <= Int64(Int16.max) {
            (width, encoding) = (2, DumpPayload.encodedInt16)
        } else if value >= Int64(Int32.min) && value <= Int64(Int32.max) {
            (width, encoding) = (4, DumpPayload.encodedInt32)
        } else {
            return false
        }
        payload.append(0xc0 | encoding)
        for index in 0..<width {
            payload.append(UInt8(truncatingIfNeeded: value >> Int64(8 * index)))
        }
        return true
    }

    /// `rdbSaveLen`: 6 bits in one byte, 14 bits in two, else a marker byte and 32 or 64 bits, big-endian.
    static func appendLength(_ length: UInt64, to payload: inout [UInt8]) {
        if length < 1 << 6 {
            payload.append(UInt8(length))
        } else if length < 1 << 14 {
            payload.append(0x40 | UInt8(length >> 8))
            payload.append(UInt8(truncatingIfNeeded: length))
        } else if length <= UInt64(UInt32.max) {
            payload.append(DumpPayload.length32)
            for shift in stride(from: 24, through: 0, by: -8) {
                payload.append(UInt8(truncatingIfNeeded: length >> UInt64(shift)))
            }
        } else {
            payload.append(DumpPayload.length64)
            for shift in stride(from: 56, through: 0, by: -8) {
                payload.append(UInt8(truncatingIfNeeded: length >> UInt64(shift)))
            }
        }
    }

    // MARK: Reading

    /// `verifyDumpPayload`: at least the 10-byte footer, an RDB version Redis 7.0 reads, and the right CRC-64.
    package static func verify(_ payload: UnsafeRawBufferPointer) -> Bool {
        let count = payload.count
        guard count >= 10 else { return false }
        let version = UInt16(payload[count - 10]) | UInt16(payload[count - 9]) << 8
        guard version <= DumpPayload.rdbVersion else { return false }
        var stored: UInt64 = 0
        for index in 0..<8 {
            stored |= UInt64(payload[count - 8 + index]) << UInt64(8 * index)
        }
        return CRC64.checksum(UnsafeRawBufferPointer(rebasing: payload[..<(count - 8)])) == stored
    }

    /// The string a payload holds, checked as RESTORE checks it: the footer first, then the value.
    ///
    /// As in Redis, the value is read from the whole payload, footer included, and what follows it is not looked
    /// at: a string whose stated length reaches into the footer still loads.
    ///
    /// - Parameters:
    ///   - payload: DUMP's output.
    ///   - limit: the longest string to accept (`proto-max-bulk-len`): only an LZF string can claim more than the
    ///     payload holds, and Weft does not allocate past it.
    /// - Throws: `Failure` when the footer or the value is wrong.
    /// - Complexity: O(n) in the length of the payload and of the string.
    package static func decodeString(
        _ payload: UnsafeRawBufferPointer,
        limit: Int
    ) throws(Failure) -> StringValue {
        guard DumpPayload.verify(payload) else { throw .versionOrChecksum }
        var reader = Reader(payload: payload)
        guard try reader.byte() == DumpPayload.stringType else { throw .badFormat }
        let (length, encoded) = try reader.length()
        guard encoded else {
            guard length <= UInt64(limit) else { throw .badFormat }
            return .slice(try reader.take(Int(length)))
        }
        switch length {
        case UInt64(DumpPayload.encodedInt8):
            return .integer(Int64(Int8(bitPattern: try reader.byte())))
        case UInt64(DumpPayload.encodedInt16):
            return .integer(Int64(Int16(bitPattern: UInt16(try reader.littleEndian(2)))))
        case UInt64(DumpPayload.encodedInt32):
            return .integer(Int64(Int32(bitPattern: UInt32(try reader.littleEndian(4)))))
        case UInt64(DumpPayload.encodedLZF):
            // Both lengths as `rdbLoadLen(rdb, NULL)` reads them: a `11xxxxxx` byte is a 6-bit length there.
            let compressedLength = try reader.length().value
            let count = try reader.length().value
            guard count <= UInt64(limit) else { throw .badFormat }
            guard compressedLength <= UInt64(payload.count) else { throw .badFormat }
            let compressed = try reader.take(Int(compressedLength))
            guard let bytes = LZF.decompress(UnsafeRawBufferPointer(rebasing: payload[compressed]), count: Int(count))
            else { throw .badFormat }
            return .bytes(bytes)
        default:
            throw .badFormat
        }
    }

    /// Reads a payload front to back; running past its end is `badFormat`.
    struct Reader {
        let payload: UnsafeRawBufferPointer
        var position = 0

        init(payload: UnsafeRawBufferPointer) {
            self.payload = payload
        }

        mutating func byte() throws(Failure) -> UInt8 {
            guard self.position < self.payload.count else { throw .badFormat }
            defer { self.position += 1 }
            return self.payload[self.position]
        }

        /// The next `count` bytes' positions.
        mutating func take(_ count: Int) throws(Failure) -> Range<Int> {
            guard count <= self.payload.count - self.position else { throw .badFormat }
            defer { self.position += count }
            return self.position..<(self.position + count)
        }

        /// An unsigned integer of `count` bytes, little-endian.
        mutating func littleEndian(_ count: Int) throws(Failure) -> UInt64 {
            var value: UInt64 = 0
            for index in 0..<count {
                value |= UInt64(try self.byte()) << UInt64(8 * index)
            }
            return value
        }

        /// An unsigned integer of `count` bytes, big-endian.
        mutating func bigEndian(_ count: Int) throws(Failure) -> UInt64 {
            var value: UInt64 = 0
            for _ in 0..<count {
                value = value << 8 | UInt64(try self.byte())
            }
            return value
        }

        /// `rdbLoadLenByRef`: a length, or with `encoded` set, the number of a special encoding (`11xxxxxx`).
        mutating func length() throws(Failure) -> (value: UInt64, encoded: Bool) {
            let first = try self.byte()
            switch first >> 6 {
            case 3: return (UInt64(first & 0x3f), true)
            case 0: return (UInt64(first & 0x3f), false)
            case 1: return (UInt64(first & 0x3f) << 8 | UInt64(try self.byte()), false)
            default:
                if first == DumpPayload.length32 { return (try self.bigEndian(4), false) }
                if first == DumpPayload.length64 { return (try self.bigEndian(8), false) }
                throw .badFormat
            }
        }
    }
}
