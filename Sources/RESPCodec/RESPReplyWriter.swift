import NIOCore

/// Writes RESP2 or RESP3 replies into a buffer: the encoder that command code uses on the hot path.
///
/// Replies are written directly, never built as values first. `protocolVersion` (2 or 3, set by HELLO) decides
/// how nulls and maps are written.
package struct RESPReplyWriter {
    /// The bytes written so far.
    package var buffer: ByteBuffer
    /// 2 or 3.
    package var protocolVersion: Int

    package init(buffer: ByteBuffer, protocolVersion: Int = 2) {
        self.buffer = buffer
        self.protocolVersion = protocolVersion
    }

    /// `+text\r\n`
    package mutating func simple(_ text: StaticString) {
        let count = text.utf8CodeUnitCount
        self.write(maximumBytes: count + 3) { out in
            out[0] = UInt8(ascii: "+")
            (out.baseAddress! + 1).copyMemory(from: text.utf8Start, byteCount: count)
            out[count + 1] = 13
            out[count + 2] = 10
            return count + 3
        }
    }

    /// `+text\r\n` for a dynamic text (it must not contain CR or LF).
    package mutating func simple(_ text: String) {
        self.buffer.writeStaticString("+")
        self.buffer.writeString(text)
        self.buffer.writeStaticString("\r\n")
    }

    /// `-text\r\n`; CR and LF in the text become spaces, as Redis does.
    package mutating func error(_ text: String) {
        self.buffer.writeStaticString("-")
        for byte in text.utf8 {
            self.buffer.writeInteger(byte == 13 || byte == 10 ? 32 : byte)
        }
        self.buffer.writeStaticString("\r\n")
    }

    /// `:n\r\n`
    package mutating func integer(_ value: Int64) {
        self.write(maximumBytes: 23) { out in
            out[0] = UInt8(ascii: ":")
            var end = 1 + RESPReplyWriter.formatDecimal(value, into: out.baseAddress! + 1)
            out[end] = 13
            out[end + 1] = 10
            end += 2
            return end
        }
    }

    /// `$n\r\n<bytes>\r\n`
    package mutating func bulk(_ bytes: UnsafeRawBufferPointer) {
        // One write of the whole reply: each separate ByteBuffer write checks that the storage is unique and
        // has room, which cost more than the copying for short values.
        self.write(maximumBytes: bytes.count + 25) { out in
            out[0] = UInt8(ascii: "$")
            var end = 1 + RESPReplyWriter.formatDecimal(Int64(bytes.count), into: out.baseAddress! + 1)
            out[end] = 13
            out[end + 1] = 10
            end += 2
            if let source = bytes.baseAddress, bytes.count > 0 {
                (out.baseAddress! + end).copyMemory(from: source, byteCount: bytes.count)
            }
            end += bytes.count
            out[end] = 13
            out[end + 1] = 10
            return end + 2
        }
    }

    /// `$n\r\n<bytes>\r\n`, the `count` bytes written in place by `fill` (a string kept in pieces).
    package mutating func bulk(count: Int, _ fill: (UnsafeMutableRawPointer) -> Void) {
        self.write(maximumBytes: count + 25) { out in
            out[0] = UInt8(ascii: "$")
            var end = 1 + RESPReplyWriter.formatDecimal(Int64(count), into: out.baseAddress! + 1)
            out[end] = 13
            out[end + 1] = 10
            end += 2
            fill(out.baseAddress! + end)
            end += count
            out[end] = 13
            out[end + 1] = 10
            return end + 2
        }
    }

    /// A bulk string of a buffer's readable bytes.
    package mutating func bulk(_ bytes: ByteBuffer) {
        bytes.withUnsafeReadableBytes { self.bulk($0) }
    }

    /// A bulk string of UTF-8 text.
    package mutating func bulk(_ text: String) {
        var text = text
        text.withUTF8 { self.bulk(UnsafeRawBufferPointer($0)) }
    }

    /// Text meant for people (INFO, CLIENT LIST): a verbatim string `=n\r\ntxt:<text>\r\n` in RESP3, a bulk string
    /// in RESP2 (Redis's `addReplyVerbatim`).
    package mutating func verbatim(_ text: String) {
        guard self.protocolVersion == 3 else {
            self.bulk(text)
            return
        }
        var text = text
        text.withUTF8 { bytes in
            self.buffer.writeStaticString("=")
            self.buffer.writeString(String(bytes.count + 4))
            self.buffer.writeStaticString("\r\ntxt:")
            self.buffer.writeBytes(UnsafeRawBufferPointer(bytes))
            self.buffer.writeStaticString("\r\n")
        }
    }

    /// The null bulk string: `$-1\r\n` in RESP2, `_\r\n` in RESP3.
    package mutating func null() {
        if self.protocolVersion == 3 {
            self.buffer.writeStaticString("_\r\n")
        } else {
            self.buffer.writeStaticString("$-1\r\n")
        }
    }

    /// The null array (EXEC after a failed WATCH): `*-1\r\n` in RESP2, `_\r\n` in RESP3.
    package mutating func nullArray() {
        if self.protocolVersion == 3 {
            self.buffer.writeStaticString("_\r\n")
        } else {
            self.buffer.writeStaticString("*-1\r\n")
        }
    }

    /// A map of `count` pairs: `%count` in RESP3, a flat array of 2×count in RESP2. The caller writes the pairs.
    package mutating func mapHeader(_ count: Int) {
        if self.protocolVersion == 3 {
            self.buffer.writeStaticString("%")
            self.writeDecimal(Int64(count))
            self.buffer.writeStaticString("\r\n")
        } else {
            self.arrayHeader(count * 2)
        }
    }

    /// A set of `count` members: `~count` in RESP3, an array in RESP2. The caller writes the members.
    package mutating func setHeader(_ count: Int) {
        self.buffer.writeStaticString(self.protocolVersion == 3 ? "~" : "*")
        self.writeDecimal(Int64(count))
        self.buffer.writeStaticString("\r\n")
    }

    /// `*n\r\n`; the caller then writes n replies.
    package mutating func arrayHeader(_ count: Int) {
        self.buffer.writeStaticString("*")
        self.writeDecimal(Int64(count))
        self.buffer.writeStaticString("\r\n")
    }

    /// Writes at most `maximumBytes` bytes through `body`, which returns how many it wrote, in one buffer write.
    @inline(__always)
    private mutating func write(maximumBytes: Int, _ body: (UnsafeMutableRawBufferPointer) -> Int) {
        self.buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: maximumBytes, body)
    }

    /// Writes `value` in decimal at `out` (at most 20 bytes) and returns the byte count.
    @inline(__always)
    static func formatDecimal(_ value: Int64, into out: UnsafeMutableRawPointer) -> Int {
        if value >= 0 && value < 10 {
            out.storeBytes(of: UInt8(48 + value), as: UInt8.self)
            return 1
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        return withUnsafeMutableBytes(of: &digits) { raw -> Int in
            var magnitude = value.magnitude
            var position = raw.count
            repeat {
                position -= 1
                raw[position] = UInt8(48 + magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if value < 0 {
                position -= 1
                raw[position] = 45
            }
            let count = raw.count - position
            out.copyMemory(from: raw.baseAddress! + position, byteCount: count)
            return count
        }
    }

    private mutating func writeDecimal(_ value: Int64) {
        self.write(maximumBytes: 20) { out in RESPReplyWriter.formatDecimal(value, into: out.baseAddress!) }
    }
}
