import NIOCore

/// RESP2 command encoding straight into a `ByteBuffer`, without building strings for keys and numbers.
///
/// A command is an array header (`writeCommandHeader`) followed by that many bulk strings.
extension ByteBuffer {
    /// `*count\r\n`.
    mutating func writeCommandHeader(_ count: Int) {
        self.writeInteger(UInt8(ascii: "*"))
        self.writeDecimal(count)
        self.writeStaticString("\r\n")
    }

    /// A bulk string holding `text`.
    mutating func writeBulk(_ text: StaticString) {
        self.writeInteger(UInt8(ascii: "$"))
        self.writeDecimal(text.utf8CodeUnitCount)
        self.writeStaticString("\r\n")
        self.writeStaticString(text)
        self.writeStaticString("\r\n")
    }

    /// A bulk string holding `prefix` followed by `number` in decimal (`acct:42`).
    mutating func writeBulk(prefix: StaticString, number: Int) {
        self.writeInteger(UInt8(ascii: "$"))
        self.writeDecimal(prefix.utf8CodeUnitCount + Self.decimalLength(number))
        self.writeStaticString("\r\n")
        self.writeStaticString(prefix)
        self.writeDecimal(number)
        self.writeStaticString("\r\n")
    }

    /// A bulk string holding `number` in decimal.
    mutating func writeBulk(number: Int) {
        self.writeInteger(UInt8(ascii: "$"))
        self.writeDecimal(Self.decimalLength(number))
        self.writeStaticString("\r\n")
        self.writeDecimal(number)
        self.writeStaticString("\r\n")
    }

    /// A bulk string holding the readable bytes of `bytes`.
    mutating func writeBulk(bytes: ByteBuffer) {
        self.writeInteger(UInt8(ascii: "$"))
        self.writeDecimal(bytes.readableBytes)
        self.writeStaticString("\r\n")
        self.writeImmutableBuffer(bytes)
        self.writeStaticString("\r\n")
    }

    /// A whole command of plain words (`PING`, `INFO`, `UNWATCH`).
    mutating func writeCommand(_ words: StaticString...) {
        self.writeCommandHeader(words.count)
        for word in words { self.writeBulk(word) }
    }

    /// `number` in decimal ASCII, without allocating.
    mutating func writeDecimal(_ number: Int) {
        if number < 0 {
            self.writeInteger(UInt8(ascii: "-"))
            self.writeDecimal(0 - number)
            return
        }
        var divisor = 1
        while divisor <= number / 10 { divisor *= 10 }
        var rest = number
        while divisor > 0 {
            self.writeInteger(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    /// The number of characters `number` takes in decimal.
    static func decimalLength(_ number: Int) -> Int {
        if number < 0 { return 1 + Self.decimalLength(0 - number) }
        var length = 1
        var rest = number
        while rest >= 10 {
            rest /= 10
            length += 1
        }
        return length
    }
}
