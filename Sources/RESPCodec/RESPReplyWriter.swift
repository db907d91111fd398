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
        self.buffer.writeStaticString("+")
        self.buffer.writeStaticString(text)
        self.buffer.writeStaticString("\r\n")
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
        self.buffer.writeStaticString(":")
        self.writeDecimal(value)
        self.buffer.writeStaticString("\r\n")
    }

    /// `$n\r\n<bytes>\r\n`
    package mutating func bulk(_ bytes: UnsafeRawBufferPointer) {
        self.buffer.writeStaticString("$")
        self.writeDecimal(Int64(bytes.count))
        self.buffer.writeStaticString("\r\n")
        self.buffer.writeBytes(bytes)
        self.buffer.writeStaticString("\r\n")
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

    /// `*n\r\n`; the caller then writes n replies.
    package mutating func arrayHeader(_ count: Int) {
        self.buffer.writeStaticString("*")
        self.writeDecimal(Int64(count))
        self.buffer.writeStaticString("\r\n")
    }

    private mutating func writeDecimal(_ value: Int64) {
        if value >= 0 && value < 10 {
            self.buffer.writeInteger(UInt8(48 + value))
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        let count = withUnsafeMutableBytes(of: &digits) { raw -> Int in
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
            self.buffer.writeBytes(UnsafeRawBufferPointer(rebasing: raw[position...]))
            return raw.count - position
        }
        _ = count
    }
}
