/// One record read back from the log: its TID, its block's epoch and its bytes.
package struct LogRecord: Hashable, Sendable {
    /// The record's transaction id.
    package var tid: UInt64
    /// The epoch of the block that holds it.
    package var epoch: UInt64
    /// The record's bytes, opaque to the log.
    package var bytes: [UInt8]

    /// A record from its parts.
    package init(tid: UInt64, epoch: UInt64, bytes: [UInt8]) {
        self.tid = tid
        self.epoch = epoch
        self.bytes = bytes
    }
}

/// One verified block, as `LogReader` yields it: where it lies, its header, and its decompressed records.
///
/// The records share one payload buffer; `forEachRecord` lends them without copying, `records` copies them out.
package struct LogBlock: Sendable {
    /// The number of the segment that holds the block.
    package let segment: UInt64
    /// The block's byte offset in that segment.
    package let offset: Int64
    /// The block's header.
    package let header: BlockHeader
    /// The decompressed payload.
    let payload: [UInt8]
    /// Each record's TID and the range of its bytes in `payload`.
    let entries: [Entry]

    /// Where one record lies in the payload.
    struct Entry: Sendable {
        var tid: UInt64
        var start: Int
        var count: Int
    }

    /// The epoch of every record in the block.
    package var epoch: UInt64 { self.header.epoch }

    /// The number of records.
    package var count: Int { self.entries.count }

    /// Calls `body` with each record's TID and bytes, in file order; the bytes are valid only during the call.
    ///
    /// - Complexity: O(n) in the records.
    package func forEachRecord<E: Error>(
        _ body: (_ tid: UInt64, _ bytes: UnsafeRawBufferPointer) throws(E) -> Void
    ) throws(E) {
        var failure: E? = nil
        self.payload.withUnsafeBytes { payload in
            for entry in self.entries {
                do throws(E) {
                    try body(
                        entry.tid,
                        UnsafeRawBufferPointer(rebasing: payload[entry.start..<(entry.start + entry.count)])
                    )
                } catch {
                    failure = error
                    return
                }
            }
        }
        if let failure { throw failure }
    }

    /// The records, copied out, in file order.
    ///
    /// - Complexity: O(n) in the payload.
    package var records: [LogRecord] {
        self.entries.map { entry in
            LogRecord(
                tid: entry.tid,
                epoch: self.header.epoch,
                bytes: Array(self.payload[entry.start..<(entry.start + entry.count)])
            )
        }
    }

    /// Verifies and decodes the payload that follows `header`: payload CRC, decompression, lengths, record framing,
    /// count and TID range (`LogFormat`, item 6).
    ///
    /// - Returns: the block, or why it is bad.
    /// - Complexity: O(n) in the payload.
    static func decode(
        header: BlockHeader,
        stored: UnsafeRawBufferPointer,
        segment: UInt64,
        offset: Int64
    ) -> Result<LogBlock, CorruptionReason> {
        let checksum = CRC32C.checksum(stored)
        guard checksum == header.payloadChecksum else {
            return .failure(.badPayloadChecksum(stored: header.payloadChecksum, computed: checksum))
        }
        guard header.recordCount > 0 else { return .failure(.emptyBlock) }
        let payload: [UInt8]
        if header.flags.contains(.lz4) {
            do {
                payload = try LZ4Block.decompress(stored, originalCount: Int(header.uncompressedLength))
            } catch {
                switch error {
                case .inputTooLarge, .corrupt:
                    return .failure(.decompressionFailed)
                case .wrongLength(let expected, let actual):
                    return .failure(.uncompressedLengthMismatch(header: expected, actual: actual))
                }
            }
        } else {
            guard header.storedLength == header.uncompressedLength else {
                return .failure(
                    .uncompressedLengthMismatch(
                        header: Int(header.uncompressedLength),
                        actual: Int(header.storedLength)
                    )
                )
            }
            payload = Array(stored)
        }
        var entries: [Entry] = []
        entries.reserveCapacity(Int(header.recordCount))
        let outcome: CorruptionReason? = payload.withUnsafeBytes { bytes in
            var position = 0
            while position < bytes.count {
                let index = entries.count
                guard index < Int(header.recordCount) else {
                    return .recordCountMismatch(header: Int(header.recordCount), actual: index + 1)
                }
                guard let length = bytes.readVarint(at: &position), length <= UInt64(bytes.count - position),
                    bytes.count - position - Int(length) >= 8
                else {
                    return .badRecordFraming(record: index)
                }
                let tid = bytes.loadLittleEndian(UInt64.self, at: position)
                position += 8
                guard tid >= header.firstTID, tid <= header.lastTID else {
                    return .tidOutOfRange(record: index, tid: tid)
                }
                entries.append(Entry(tid: tid, start: position, count: Int(length)))
                position += Int(length)
            }
            guard entries.count == Int(header.recordCount) else {
                return .recordCountMismatch(header: Int(header.recordCount), actual: entries.count)
            }
            return nil
        }
        if let outcome { return .failure(outcome) }
        return .success(LogBlock(segment: segment, offset: offset, header: header, payload: payload, entries: entries))
    }
}
