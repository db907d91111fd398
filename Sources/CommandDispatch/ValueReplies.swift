import RESPCodec
import TransactionEngine

extension RESPReplyWriter {
    /// A bulk string of a stored string, flat or chunked.
    @inline(__always) mutating func bulk(_ value: Value) {
        if let flat = value.flatBytes {
            self.bulk(flat)
        } else {
            self.bulk(value, range: 0..<value.count)
        }
    }

    /// A bulk string of bytes `range` of a stored string.
    mutating func bulk(_ value: Value, range: Range<Int>) {
        if let flat = value.flatBytes {
            self.bulk(UnsafeRawBufferPointer(rebasing: flat[range]))
        } else {
            self.bulk(count: range.count) { value.copyBytes(range, to: $0) }
        }
    }
}
