/// Builds one block: collects records of one epoch, then frames them (header, optionally compressed payload).
///
/// The writer uses one per flush, resetting it between blocks so that its payload buffer is reused; tests and
/// tools use it to craft blocks by hand.
package struct BlockEncoder {
    /// The epoch every record of this block carries.
    package private(set) var epoch: UInt64
    /// How many records were added since the last reset.
    package private(set) var recordCount = 0
    /// The uncompressed payload so far.
    package private(set) var payload: [UInt8] = []
    private var firstTID = UInt64.max
    private var lastTID: UInt64 = 0

    /// An empty block of `epoch`.
    package init(epoch: UInt64) {
        self.epoch = epoch
    }

    /// Whether no record was added since the last reset.
    package var isEmpty: Bool { self.recordCount == 0 }

    /// Adds one record.
    ///
    /// - Complexity: O(n) in the record's length.
    package mutating func append(tid: UInt64, record: UnsafeRawBufferPointer) {
        self.payload.appendVarint(UInt64(record.count))
        self.payload.appendLittleEndian(tid)
        self.payload.append(contentsOf: record)
        self.recordCount += 1
        self.firstTID = min(self.firstTID, tid)
        self.lastTID = max(self.lastTID, tid)
    }

    /// Adds one record.
    ///
    /// - Complexity: O(n) in the record's length.
    package mutating func append(tid: UInt64, record: [UInt8]) {
        record.withUnsafeBytes { self.append(tid: tid, record: $0) }
    }

    /// Empties the block, keeping its buffer, for records of `epoch`.
    package mutating func reset(epoch: UInt64) {
        self.epoch = epoch
        self.recordCount = 0
        self.payload.removeAll(keepingCapacity: true)
        self.firstTID = .max
        self.lastTID = 0
    }

    /// The header this block gets when framed, and the bytes stored after it.
    ///
    /// - Parameter compress: try LZ4, and keep it only when it is smaller.
    /// - Precondition: at least one record was added.
    /// - Complexity: O(n) in the payload.
    package func frame(compress: Bool) -> (header: BlockHeader, stored: [UInt8]?) {
        precondition(self.recordCount > 0, "a block holds at least one record")
        var compressed: [UInt8]? = nil
        // Below a few dozen bytes LZ4 cannot win, and the writer frames many small blocks.
        if compress, self.payload.count >= 32,
            let output = try? self.payload.withUnsafeBytes({ try LZ4Block.compress($0) }),
            output.count < self.payload.count
        {
            compressed = output
        }
        let checksum = (compressed ?? self.payload).withUnsafeBytes { CRC32C.checksum($0) }
        let header = BlockHeader(
            flags: compressed == nil ? [] : .lz4,
            recordCount: UInt32(self.recordCount),
            epoch: self.epoch,
            firstTID: self.firstTID,
            lastTID: self.lastTID,
            uncompressedLength: UInt32(self.payload.count),
            storedLength: UInt32(compressed?.count ?? self.payload.count),
            payloadChecksum: checksum
        )
        return (header, compressed)
    }

    /// Appends the framed block (header, then the stored payload) to `output`.
    ///
    /// - Returns: the block's header; its `blockSize` is the bytes appended.
    /// - Precondition: at least one record was added.
    /// - Complexity: O(n) in the payload.
    @discardableResult
    package func encode(compress: Bool, into output: inout [UInt8]) -> BlockHeader {
        let (header, compressed) = self.frame(compress: compress)
        header.append(to: &output)
        output.append(contentsOf: compressed ?? self.payload)
        return header
    }
}
