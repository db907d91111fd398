/// The effects of one committed transaction, as bytes for the commit log.
///
/// A record is a sequence of effects, each an opcode byte followed by its fields; lengths and database numbers
/// are unsigned LEB128 varints, times are 8-byte little-endian Unix milliseconds (0: no expiry). Effects are
/// results, never commands: replaying a record sets exactly the state the commit installed.
///
///     put     = 1 db key kind value expiresAt    (the key now holds value)
///     delete  = 2 db key                         (the key has no value)
///     expire  = 3 db key expiresAt              (same value, new expiry; 0 removes it)
///     flushDB = 4 db
///     flushAll= 5
///     swapDB  = 6 db db
///     checkpoint = 7 firstSegment            (opens a checkpoint file; its TID bounds the exclusive effects that
///                                             the checkpoint already holds)
///     patch   = 8 db key kind count offset bytes expiresAt
///                                            (the key's string, cut or grown with zero bytes to count bytes, with
///                                             bytes written at offset: what APPEND, SETRANGE, SETBIT and BITFIELD
///                                             log for a long string rather than all of it)
///
/// where key and value are `varint(length) bytes`.
package struct CommitRecord: @unchecked Sendable {
    /// The effects' bytes; valid until the worker's next transaction.
    package let bytes: UnsafeRawBufferPointer

    package static let empty = CommitRecord(bytes: UnsafeRawBufferPointer(start: nil, count: 0))

    /// The effects, decoded (for tests, recovery and tools).
    package func effects() throws(CommitRecordError) -> [Effect] {
        try Effect.decode(self.bytes)
    }
}

/// One decoded effect of a commit record.
package enum Effect: Equatable, Sendable {
    case put(database: Int, key: [UInt8], kind: ValueKind, value: [UInt8], expiresAt: Int64)
    case delete(database: Int, key: [UInt8])
    case expire(database: Int, key: [UInt8], expiresAt: Int64)
    case flushDatabase(Int)
    case flushAll
    case swapDatabases(Int, Int)
    case checkpoint(firstSegment: UInt64)
    case patch(database: Int, key: [UInt8], kind: ValueKind, count: Int, offset: Int, bytes: [UInt8], expiresAt: Int64)

    enum Opcode: UInt8 {
        case put = 1
        case delete = 2
        case expire = 3
        case flushDatabase = 4
        case flushAll = 5
        case swapDatabases = 6
        case checkpoint = 7
        case patch = 8
    }

    /// Decodes every effect in `bytes`.
    package static func decode(_ bytes: UnsafeRawBufferPointer) throws(CommitRecordError) -> [Effect] {
        var reader = RecordReader(bytes: bytes)
        var effects: [Effect] = []
        while !reader.isAtEnd {
            guard let opcode = Opcode(rawValue: try reader.byte()) else {
                throw .unknownOpcode(offset: reader.offset - 1)
            }
            switch opcode {
            case .put:
                let database = try reader.varint()
                let key = try reader.lengthPrefixed()
                guard let kind = ValueKind(rawValue: try reader.byte()) else {
                    throw .unknownValueKind(offset: reader.offset - 1)
                }
                let value = try reader.lengthPrefixed()
                let expiresAt = try reader.int64()
                effects.append(.put(database: database, key: key, kind: kind, value: value, expiresAt: expiresAt))
            case .delete:
                let database = try reader.varint()
                effects.append(.delete(database: database, key: try reader.lengthPrefixed()))
            case .expire:
                let database = try reader.varint()
                let key = try reader.lengthPrefixed()
                effects.append(.expire(database: database, key: key, expiresAt: try reader.int64()))
            case .flushDatabase:
                effects.append(.flushDatabase(try reader.varint()))
            case .flushAll:
                effects.append(.flushAll)
            case .swapDatabases:
                let first = try reader.varint()
                effects.append(.swapDatabases(first, try reader.varint()))
            case .checkpoint:
                effects.append(.checkpoint(firstSegment: UInt64(truncatingIfNeeded: try reader.varint())))
            case .patch:
                let patch = try reader.patch()
                effects.append(
                    .patch(
                        database: patch.database,
                        key: Array(patch.key),
                        kind: patch.kind,
                        count: patch.count,
                        offset: patch.offset,
                        bytes: Array(patch.bytes),
                        expiresAt: patch.expiresAt
                    )
                )
            }
        }
        return effects
    }
}

/// Why a commit record could not be decoded.
package enum CommitRecordError: Error, Equatable {
    case truncated(offset: Int)
    case unknownOpcode(offset: Int)
    case unknownValueKind(offset: Int)
    case varintTooLong(offset: Int)
    case databaseOutOfRange(Int, offset: Int)
    /// A patch whose bytes do not fit in its string, or whose string is longer than a string may be.
    case badPatch(offset: Int)
}

/// A patch effect's fields, in place (valid as long as the record).
struct PatchFields {
    var database: Int
    var key: UnsafeRawBufferPointer
    var kind: ValueKind
    var count: Int
    var offset: Int
    var bytes: UnsafeRawBufferPointer
    var expiresAt: Int64
}

struct RecordReader {
    let bytes: UnsafeRawBufferPointer
    var offset = 0

    var isAtEnd: Bool { self.offset >= self.bytes.count }

    mutating func byte() throws(CommitRecordError) -> UInt8 {
        guard self.offset < self.bytes.count else { throw .truncated(offset: self.offset) }
        defer { self.offset += 1 }
        return self.bytes[self.offset]
    }

    mutating func varint() throws(CommitRecordError) -> Int {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        let start = self.offset
        while true {
            let byte = try self.byte()
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
            if shift > 56 { throw .varintTooLong(offset: start) }
        }
        return Int(truncatingIfNeeded: result)
    }

    mutating func lengthPrefixed() throws(CommitRecordError) -> [UInt8] {
        let count = try self.varint()
        guard count >= 0, count <= self.bytes.count - self.offset else { throw .truncated(offset: self.offset) }
        defer { self.offset += count }
        return Array(self.bytes[self.offset..<self.offset + count])
    }

    /// A length-prefixed byte string, in place (valid as long as `bytes`).
    mutating func lengthPrefixedBytes() throws(CommitRecordError) -> UnsafeRawBufferPointer {
        let count = try self.varint()
        guard count >= 0, count <= self.bytes.count - self.offset else { throw .truncated(offset: self.offset) }
        defer { self.offset += count }
        return UnsafeRawBufferPointer(rebasing: self.bytes[self.offset..<self.offset + count])
    }

    /// The fields of a patch effect, after its opcode; checks that the bytes fit in the string.
    mutating func patch() throws(CommitRecordError) -> PatchFields {
        let database = try self.varint()
        let key = try self.lengthPrefixedBytes()
        guard let kind = ValueKind(rawValue: try self.byte()) else { throw .unknownValueKind(offset: self.offset - 1) }
        let start = self.offset
        let count = try self.varint()
        let offset = try self.varint()
        let bytes = try self.lengthPrefixedBytes()
        guard count >= 0, count <= Int(UInt32.max), offset >= 0, offset <= count, bytes.count <= count - offset else {
            throw .badPatch(offset: start)
        }
        return PatchFields(
            database: database,
            key: key,
            kind: kind,
            count: count,
            offset: offset,
            bytes: bytes,
            expiresAt: try self.int64()
        )
    }

    mutating func int64() throws(CommitRecordError) -> Int64 {
        guard self.bytes.count - self.offset >= 8 else { throw .truncated(offset: self.offset) }
        defer { self.offset += 8 }
        return Int64(littleEndian: self.bytes.loadUnaligned(fromByteOffset: self.offset, as: Int64.self))
    }
}

/// A growable byte buffer in raw memory, owned by one worker, that commit records are encoded into.
struct RecordBuffer {
    private(set) var base: UnsafeMutableRawPointer
    private(set) var capacity: Int
    private(set) var count = 0

    init(capacity: Int) {
        self.capacity = capacity
        self.base = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    }

    func deallocate() {
        self.base.deallocate()
    }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: self.base, count: self.count) }

    mutating func reset() {
        self.count = 0
    }

    /// Drops the bytes past `count` (an aborted attempt's, after earlier effects of the same record).
    mutating func truncate(to count: Int) {
        precondition(count <= self.count, "truncating past the end")
        self.count = count
    }

    mutating func reserve(_ extra: Int) {
        guard self.count + extra > self.capacity else { return }
        var capacity = self.capacity * 2
        while capacity < self.count + extra { capacity *= 2 }
        let base = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        base.copyMemory(from: self.base, byteCount: self.count)
        self.base.deallocate()
        self.base = base
        self.capacity = capacity
    }

    mutating func append(byte: UInt8) {
        self.reserve(1)
        self.base.storeBytes(of: byte, toByteOffset: self.count, as: UInt8.self)
        self.count += 1
    }

    mutating func append(varint value: Int) {
        var v = UInt64(value)
        self.reserve(10)
        while v >= 0x80 {
            self.base.storeBytes(of: UInt8(truncatingIfNeeded: v) | 0x80, toByteOffset: self.count, as: UInt8.self)
            self.count += 1
            v >>= 7
        }
        self.base.storeBytes(of: UInt8(v), toByteOffset: self.count, as: UInt8.self)
        self.count += 1
    }

    mutating func append(lengthPrefixed bytes: UnsafeRawBufferPointer) {
        self.append(varint: bytes.count)
        self.reserve(bytes.count)
        if bytes.count > 0 {
            (self.base + self.count).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        }
        self.count += bytes.count
    }

    mutating func append(int64 value: Int64) {
        self.reserve(8)
        (self.base + self.count).storeBytes(of: value.littleEndian, as: Int64.self)
        self.count += 8
    }

    mutating func appendPut(database: Int, key: UnsafeRawBufferPointer, value: Value, expiresAt: Int64) {
        self.append(byte: Effect.Opcode.put.rawValue)
        self.append(varint: database)
        self.append(lengthPrefixed: key)
        self.append(byte: value.kind.rawValue)
        self.append(varint: value.count)
        self.reserve(value.count)
        value.copyBytes(0..<value.count, to: self.base + self.count)
        self.count += value.count
        self.append(int64: expiresAt)
    }

    mutating func appendPatch(
        database: Int,
        key: UnsafeRawBufferPointer,
        value: Value,
        range: Range<Int>,
        expiresAt: Int64
    ) {
        self.append(byte: Effect.Opcode.patch.rawValue)
        self.append(varint: database)
        self.append(lengthPrefixed: key)
        self.append(byte: value.kind.rawValue)
        self.append(varint: value.count)
        self.append(varint: range.lowerBound)
        self.append(varint: range.count)
        self.reserve(range.count)
        value.copyBytes(range, to: self.base + self.count)
        self.count += range.count
        self.append(int64: expiresAt)
    }

    mutating func appendDelete(database: Int, key: UnsafeRawBufferPointer) {
        self.append(byte: Effect.Opcode.delete.rawValue)
        self.append(varint: database)
        self.append(lengthPrefixed: key)
    }

    mutating func appendCheckpoint(firstSegment: UInt64) {
        self.append(byte: Effect.Opcode.checkpoint.rawValue)
        self.append(varint: Int(truncatingIfNeeded: firstSegment))
    }

    mutating func appendExpire(database: Int, key: UnsafeRawBufferPointer, expiresAt: Int64) {
        self.append(byte: Effect.Opcode.expire.rawValue)
        self.append(varint: database)
        self.append(lengthPrefixed: key)
        self.append(int64: expiresAt)
    }
}
