/// The commit log's on-disk format, version 1.
///
/// 1. **Directory.** A log is one directory of segment files named `weft-<16 lowercase hex digits>.log`, the hex
///    digits being the segment's number. Numbers are consecutive; the first need not be 1 (compaction drops the
///    oldest segments). Files with other names are ignored.
/// 2. **Segment.** A segment is blocks back to back: no file header, no padding. An empty segment is valid. The
///    writer starts a new segment when the next block would take the current one past its size threshold (a single
///    block larger than the threshold gets a segment of its own), and syncs the old segment first, so only the last
///    segment can hold bytes that were never synced.
/// 3. **Block header**, `LogFormat.headerSize` (56) bytes; every integer is little-endian:
///
///        offset  size  field
///         0       8    magic, the ASCII bytes "WEFTLOG1"
///         8       2    format version (UInt16), 1
///        10       2    flags (UInt16): bit 0 set = the payload is LZ4-compressed; every other bit is zero
///        12       4    record count (UInt32), at least 1
///        16       8    epoch (UInt64) of every record in the block
///        24       8    first TID (UInt64): the smallest TID in the block
///        32       8    last TID (UInt64): the largest TID in the block
///        40       4    uncompressed payload length (UInt32)
///        44       4    stored payload length (UInt32): the bytes that follow the header
///        48       4    CRC32C of the stored payload bytes
///        52       4    CRC32C of header bytes 0..<52
///
/// 4. **Payload.** The records, back to back, each `varint(length) tid(8 bytes) bytes(length)`, where the varint
///    is unsigned LEB128 (at most 10 bytes). The uncompressed length counts these bytes. With flag bit 0 the
///    stored payload is one LZ4 block (liblz4's block format) that expands to exactly the uncompressed length; the
///    writer sets it only when that is smaller. Without it the stored length equals the uncompressed length.
/// 5. **Records.** A record is an opaque byte string with a 64-bit TID; it carries its block's epoch. The writer
///    puts one epoch per block and sorts a block's records by TID; readers only require every TID to lie between
///    the first and the last TID.
/// 6. **A good block** has the magic, version 1, a matching header CRC, no unknown flag, at least one record, its
///    whole payload in the file, a matching payload CRC, a payload that decompresses to exactly the uncompressed
///    length, and records that fill the payload exactly, as many as the count says.
/// 7. **Versions.** Bytes 0..<10 (magic and version) are the same in every version, and later versions keep the
///    header CRC in bytes 52..<56. A reader refuses a block whose version is above its own and whose header CRC
///    matches, wherever it lies, since it cannot know that block's layout. (With a CRC that does not match, the
///    version field may be a damaged 1: such a block is bad like any other, so at the tail it is torn.)
/// 8. **Torn tail.** A bad block after which no block header (the magic and a matching header CRC, any version)
///    starts anywhere, in its segment or a later one, is a torn tail: a write the process or the machine
///    did not finish. Readers report it with the offset and the bytes to drop, and may cut it. Any other bad block,
///    a gap in the segment numbers, or a newer version is corruption.
package enum LogFormat {
    /// The magic bytes that open every block header: "WEFTLOG1".
    package static let magic: [UInt8] = Array("WEFTLOG1".utf8)

    /// The format version this code writes, and the highest it reads.
    package static let version: UInt16 = 1

    /// The size of a block header in bytes.
    package static let headerSize = 56

    /// The longest record the writer accepts (1 GiB), well inside what one LZ4 block and the header's 32-bit
    /// lengths can hold.
    package static let maxRecordLength = 1 << 30

    /// The bytes one record takes in a payload: its varint length, its TID and its bytes.
    ///
    /// - Complexity: O(1).
    package static func encodedSize(ofRecordLength length: Int) -> Int {
        varintSize(UInt64(length)) + 8 + length
    }

    /// The bytes an unsigned LEB128 varint of `value` takes (1 to 10).
    static func varintSize(_ value: UInt64) -> Int {
        var value = value
        var size = 1
        while value >= 0x80 {
            value >>= 7
            size += 1
        }
        return size
    }
}

/// The flag bits of a block header.
package struct BlockFlags: OptionSet, Hashable, Sendable {
    /// The raw 16-bit field.
    package let rawValue: UInt16

    /// Flags from the raw 16-bit field.
    package init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// The payload is one LZ4 block.
    package static let lz4 = BlockFlags(rawValue: 1)

    /// Every flag this version knows; a header with any other bit set is bad.
    package static let known: BlockFlags = [.lz4]
}

/// The fixed-size header in front of every block (see `LogFormat`, item 3).
package struct BlockHeader: Hashable, Sendable {
    /// The format version; `LogFormat.version` for blocks this code writes.
    package var version: UInt16
    /// The flag bits.
    package var flags: BlockFlags
    /// How many records the payload holds.
    package var recordCount: UInt32
    /// The epoch of every record in the block.
    package var epoch: UInt64
    /// The smallest TID in the block.
    package var firstTID: UInt64
    /// The largest TID in the block.
    package var lastTID: UInt64
    /// The payload's length once decompressed.
    package var uncompressedLength: UInt32
    /// The payload's length in the file, right after the header.
    package var storedLength: UInt32
    /// CRC32C of the stored payload bytes.
    package var payloadChecksum: UInt32

    /// A header with every field given.
    package init(
        version: UInt16 = LogFormat.version,
        flags: BlockFlags,
        recordCount: UInt32,
        epoch: UInt64,
        firstTID: UInt64,
        lastTID: UInt64,
        uncompressedLength: UInt32,
        storedLength: UInt32,
        payloadChecksum: UInt32
    ) {
        self.version = version
        self.flags = flags
        self.recordCount = recordCount
        self.epoch = epoch
        self.firstTID = firstTID
        self.lastTID = lastTID
        self.uncompressedLength = uncompressedLength
        self.storedLength = storedLength
        self.payloadChecksum = payloadChecksum
    }

    /// The whole block's size in the file: header and stored payload.
    package var blockSize: Int { LogFormat.headerSize + Int(self.storedLength) }

    /// Appends the 56 header bytes, its own CRC32C last, to `output`.
    ///
    /// - Complexity: O(1).
    package func append(to output: inout [UInt8]) {
        let start = output.count
        output.append(contentsOf: LogFormat.magic)
        output.appendLittleEndian(self.version)
        output.appendLittleEndian(self.flags.rawValue)
        output.appendLittleEndian(self.recordCount)
        output.appendLittleEndian(self.epoch)
        output.appendLittleEndian(self.firstTID)
        output.appendLittleEndian(self.lastTID)
        output.appendLittleEndian(self.uncompressedLength)
        output.appendLittleEndian(self.storedLength)
        output.appendLittleEndian(self.payloadChecksum)
        let checksum = output.withUnsafeBytes { bytes in
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[start..<(start + 52)]))
        }
        output.appendLittleEndian(checksum)
    }

    /// Decodes and checks a header: magic, version, header CRC, flags.
    ///
    /// - Parameter bytes: at least `LogFormat.headerSize` bytes, or fewer when the file ends sooner.
    /// - Returns: the header, or why these bytes are not one.
    /// - Complexity: O(1).
    package static func decode(_ bytes: UnsafeRawBufferPointer) -> Result<BlockHeader, CorruptionReason> {
        guard bytes.count >= LogFormat.headerSize else {
            if bytes.count >= 10, BlockHeader.hasMagic(bytes, at: 0) {
                let version = bytes.loadLittleEndian(UInt16.self, at: 8)
                if version > LogFormat.version { return .failure(.newerFormatVersion(version)) }
            }
            return .failure(.truncatedHeader(available: bytes.count))
        }
        guard BlockHeader.hasMagic(bytes, at: 0) else { return .failure(.badMagic) }
        let version = bytes.loadLittleEndian(UInt16.self, at: 8)
        if version > LogFormat.version { return .failure(.newerFormatVersion(version)) }
        let stored = bytes.loadLittleEndian(UInt32.self, at: 52)
        let computed = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<52]))
        guard stored == computed else { return .failure(.badHeaderChecksum(stored: stored, computed: computed)) }
        guard version == LogFormat.version else { return .failure(.unknownVersion(version)) }
        let flags = BlockFlags(rawValue: bytes.loadLittleEndian(UInt16.self, at: 10))
        guard BlockFlags.known.isSuperset(of: flags) else { return .failure(.unknownFlags(flags.rawValue)) }
        return .success(
            BlockHeader(
                version: version,
                flags: flags,
                recordCount: bytes.loadLittleEndian(UInt32.self, at: 12),
                epoch: bytes.loadLittleEndian(UInt64.self, at: 16),
                firstTID: bytes.loadLittleEndian(UInt64.self, at: 24),
                lastTID: bytes.loadLittleEndian(UInt64.self, at: 32),
                uncompressedLength: bytes.loadLittleEndian(UInt32.self, at: 40),
                storedLength: bytes.loadLittleEndian(UInt32.self, at: 44),
                payloadChecksum: bytes.loadLittleEndian(UInt32.self, at: 48)
            )
        )
    }

    /// Whether a block header (of any version) starts at `offset`: the magic and a matching header CRC. The reader
    /// asks this while deciding whether a bad block is a torn tail.
    static func startsHeader(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        guard bytes.count - offset >= LogFormat.headerSize, BlockHeader.hasMagic(bytes, at: offset) else {
            return false
        }
        return BlockHeader.checksumMatches(
            UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + LogFormat.headerSize)])
        )
    }

    /// Whether `bytes` hold a whole header whose CRC (bytes 52..<56) matches bytes 0..<52.
    static func checksumMatches(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count >= LogFormat.headerSize else { return false }
        return bytes.loadLittleEndian(UInt32.self, at: 52)
            == CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<52]))
    }

    static func hasMagic(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        for index in 0..<8 where bytes[offset + index] != LogFormat.magic[index] {
            return false
        }
        return true
    }
}

extension Array where Element == UInt8 {
    /// Appends `value` as little-endian bytes.
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { self.append(contentsOf: $0) }
    }

    /// Appends `value` as an unsigned LEB128 varint.
    mutating func appendVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            self.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        self.append(UInt8(value))
    }
}

extension UnsafeRawBufferPointer {
    /// The little-endian integer at `offset`, which need not be aligned.
    func loadLittleEndian<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T {
        T(littleEndian: self.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    /// The unsigned LEB128 varint at `offset`, advancing it; nil if it runs past the end or past 10 bytes.
    func readVarint(at offset: inout Int) -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while offset < self.count, shift < 70 {
            let byte = self[offset]
            offset += 1
            if shift == 63, byte > 1 { return nil }
            value |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        return nil
    }
}
