import NIOCore

/// Where one argument of a request lies in the buffer it was read from: a `ByteBuffer` index and a length.
package struct ArgumentSpan: Sendable, Equatable {
    /// The index of the argument's first byte in the buffer (not an offset from its reader index).
    package var index: Int
    /// The argument's length in bytes.
    package var count: Int

    package init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }
}

extension RESPRequestDecoder {
    /// Decodes the next request when the whole of it is readable now and it is an ordinary multibulk request:
    /// appends one span per argument to `spans` (indices in `buffer`), moves the reader index past the request and
    /// returns true. Anything else (a request not all there yet, an inline one, `*0`, a malformed or over-limit
    /// one, or a decoder in the middle of a request) leaves `buffer`, `spans` and the decoder as they were and
    /// returns false: ``next(_:into:)`` then decodes it, with every error and limit as Redis has them.
    ///
    /// This is the path of pipelined commands: their arguments are located in the connection's buffer, with no
    /// `ByteBuffer` slice (and so no reference count) per argument. What it accepts, ``next(_:)`` accepts the same
    /// way: the same arguments, the same bytes consumed (the byte after each `\r` and the two after each payload
    /// skipped unchecked, as Redis skips them).
    ///
    /// - Complexity: O(*n*) in the request's bytes.
    package mutating func nextWhole(_ buffer: inout ByteBuffer, spans: inout [ArgumentSpan]) -> Bool {
        guard self.isBetweenRequests else { return false }
        let base = buffer.readerIndex
        let limits = self.limits
        let start = spans.count
        let consumed = buffer.withUnsafeReadableBytes { bytes -> Int? in
            let end = bytes.count
            guard end >= 4, bytes[0] == UInt8(ascii: "*") else { return nil }
            guard let countLine = Self.wholeLine(bytes, from: 1) else { return nil }
            guard let count = Self.parseDigits(bytes, from: 1, to: countLine), count > 0,
                count <= Int64(limits.currentMaxMultibulkCount)
            else { return nil }
            var position = countLine + 2
            for _ in 0..<count {
                guard position < end, bytes[position] == UInt8(ascii: "$"),
                    let headerEnd = Self.wholeLine(bytes, from: position + 1),
                    let length = Self.parseDigits(bytes, from: position + 1, to: headerEnd), length >= 0,
                    length <= Int64(limits.currentMaxBulkLength)
                else { return nil }
                let payload = headerEnd + 2
                guard end - payload >= Int(length) + 2 else { return nil }
                spans.append(ArgumentSpan(index: base + payload, count: Int(length)))
                position = payload + Int(length) + 2
            }
            return position
        }
        guard let consumed else {
            spans.removeSubrange(start...)
            return false
        }
        buffer.moveReaderIndex(forwardBy: consumed)
        self.resetLineSearch()
        return true
    }

    /// The offset of the `\r` ending the line that starts at `from`, when one is readable with a byte after it;
    /// nil when a NUL or the end of the bytes comes first (the slow path then decides, as Redis's `strchr` would).
    @inline(__always)
    private static func wholeLine(_ bytes: UnsafeRawBufferPointer, from: Int) -> Int? {
        var index = from
        let end = bytes.count
        while index < end {
            let byte = bytes[index]
            if byte == 13 { return index + 1 < end ? index : nil }
            if byte == 0 { return nil }
            index += 1
        }
        return nil
    }

    /// The digits at `from..<to` as a non-negative count, or nil for anything `string2ll` might read otherwise
    /// (a sign, leading zeros, more than 18 digits, no digits): the slow path then parses them as Redis does.
    @inline(__always)
    private static func parseDigits(_ bytes: UnsafeRawBufferPointer, from: Int, to: Int) -> Int64? {
        let length = to - from
        guard length > 0, length <= 18 else { return nil }
        if length > 1 && bytes[from] == UInt8(ascii: "0") { return nil }
        var value: Int64 = 0
        for index in from..<to {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit <= 9 else { return nil }
            value = value * 10 + Int64(digit)
        }
        return value
    }
}
