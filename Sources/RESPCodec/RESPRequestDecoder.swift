import NIOCore

/// Splits a client's byte stream into commands, as Redis 7's `processInputBuffer` does (`src/networking.c`).
///
/// The caller owns one cumulation buffer per connection: it appends what it reads and calls ``next(_:)`` until
/// that returns `nil`, as a `ByteToMessageDecoder` does. Each call consumes what it can from the buffer's readable
/// bytes and returns the arguments of one complete command, or `nil` when more bytes are needed; the bytes of an
/// unfinished request that are not yet consumed must still be at the front of the buffer on the next call. Partial
/// state (the arguments read so far, the declared count and length) lives in the decoder, so the stream may be
/// fed in pieces of any size, down to single bytes (but see over-long lines below).
///
/// A request whose first byte is `*` is multibulk (`*<count>\r\n` then `count` times `$<length>\r\n<bytes>\r\n`);
/// anything else is an inline line, split into arguments as Redis's `sdssplitargs` does. A request with no
/// arguments (`*0\r\n`, `*-1\r\n`, a blank line) is consumed and skipped: a returned array is never empty.
///
/// Arguments are slices of the buffer, not copies, except inline arguments whose bytes differ from the line's
/// (escapes, or quotes inside a word). A declared count or length is checked against ``limits`` as soon as its
/// header line is complete, before the payload is awaited, and no more than 1,024 arguments are reserved ahead of
/// their arrival. A bulk payload is awaited in the buffer until it is complete and then sliced out whole.
///
/// Redis's quirks are kept: the two bytes after a bulk payload, and the byte after a header's `\r`, are skipped
/// without being checked; and because Redis searches for line ends with `strchr`, a NUL byte before a line's end
/// hides that end, so the request waits until ``RESPLimits/maxInlineLength`` is passed and then fails as too big.
/// Like Redis, a line fails as too big only when more than ``RESPLimits/maxInlineLength`` bytes are buffered and
/// none ends it: a line end further in than that is accepted if it arrived together with the bytes before it. So
/// for such over-long lines the outcome depends on how the bytes were split into reads, exactly as in Redis; every
/// other outcome is the same for every split.
///
/// After it throws, the decoder throws the same error on every call: the connection is to be closed.
package struct RESPRequestDecoder: Sendable {
    /// The limits this decoder enforces; a change applies from the next header or line read.
    package var limits: RESPLimits

    /// Where the decoder is in the current request.
    private var state: State = .requestStart

    /// The arguments of the multibulk request being read.
    private var arguments: [ByteBuffer] = []

    /// How many readable bytes have already been searched for the current line's end, without finding it; the
    /// next search resumes there, so a line fed in small pieces is scanned once.
    private var searchedBytes = 0

    /// Creates a decoder that enforces `limits`.
    ///
    /// - Parameter limits: The bounds on declared counts, lengths and line lengths; Redis 7's by default.
    package init(limits: RESPLimits = RESPLimits()) {
        self.limits = limits
    }

    /// Whether the decoder is between requests (not inside one, not failed) and has not searched the next one's
    /// first line yet: `nextWhole` may start one then. (Once `next` has searched part of a line, `next` resumes the
    /// search, so a line fed in small pieces is still scanned once.)
    var isBetweenRequests: Bool {
        if case .requestStart = self.state { return self.searchedBytes == 0 }
        return false
    }

    /// Forgets how far the current line's end was searched (after `nextWhole` consumed a whole request).
    mutating func resetLineSearch() {
        self.searchedBytes = 0
    }

    /// Drops the decoder's references to the last command's arguments (keeping the array's storage for the next
    /// one). Call it after the caller has dropped its own copy and before compacting the input buffer, so that the
    /// buffer's storage is not shared and compacting it copies nothing.
    package mutating func releaseArguments() {
        if case .requestStart = self.state {
            self.arguments.removeAll(keepingCapacity: true)
        }
    }

    /// Consumes bytes from `buffer` and returns the arguments of the next complete command.
    ///
    /// The connection's read handler calls this after each read, until it returns `nil`, and dispatches each
    /// command in order. Commands with no arguments are skipped.
    ///
    /// - Parameter buffer: The connection's cumulation buffer. Consumed bytes are read past; the returned
    ///   arguments are slices of it.
    /// - Returns: The command's arguments (never empty), or `nil` when `buffer` holds no complete command yet.
    /// - Throws: ``RESPProtocolError`` when the bytes break the protocol or exceed ``limits``; the reader index
    ///   is then left at the start of the offending line or request.
    /// - Complexity: O(*n*) in the bytes consumed, plus the bytes of an unfinished line searched for the first
    ///   time.
    package mutating func next(_ buffer: inout ByteBuffer) throws(RESPProtocolError) -> [ByteBuffer]? {
        switch try self.decodeOrFail(&buffer) {
        case nil: return nil
        case .multibulk: return self.arguments
        case .inline(let command): return command
        }
    }

    /// Like ``next(_:)``, but hands the command over in `command`, whose storage the decoder keeps for the
    /// request after next: a caller that holds several commands at once (a batch of pipelined requests) then
    /// reuses its arrays instead of allocating one per command.
    ///
    /// - Parameters:
    ///   - buffer: The connection's cumulation buffer, as for ``next(_:)``.
    ///   - command: Replaced by the command's arguments when one is complete; its old elements are dropped and
    ///     its storage taken over by the decoder. Left as it is when this returns `false`.
    /// - Returns: `true` when `command` holds a complete command, `false` when more bytes are needed.
    /// - Throws: ``RESPProtocolError``, as ``next(_:)``.
    package mutating func next(
        _ buffer: inout ByteBuffer,
        into command: inout [ByteBuffer]
    ) throws(RESPProtocolError) -> Bool {
        switch try self.decodeOrFail(&buffer) {
        case nil:
            return false
        case .multibulk:
            command.removeAll(keepingCapacity: true)
            swap(&command, &self.arguments)
            return true
        case .inline(let inline):
            command = inline
            return true
        }
    }

    /// Runs ``decode(_:)`` and remembers a thrown error for good.
    private mutating func decodeOrFail(_ buffer: inout ByteBuffer) throws(RESPProtocolError) -> Decoded? {
        do throws(RESPProtocolError) {
            return try self.decode(&buffer)
        } catch {
            self.state = .failed(error)
            self.arguments = []
            throw error
        }
    }
}

extension RESPRequestDecoder {
    /// Where the decoder is in the current request.
    private enum State: Sendable {
        /// Before a request's first byte: its type is not known yet.
        case requestStart
        /// Inside a multibulk request, waiting for a `$<length>\r\n` header; `remaining` arguments are to come.
        case bulkHeader(remaining: Int)
        /// Inside a multibulk request, waiting for `length` payload bytes and the two that follow them.
        case bulkPayload(length: Int, remaining: Int)
        /// A protocol error was thrown; it is thrown again on every call.
        case failed(RESPProtocolError)
    }

    /// A complete command, as `decode` found it.
    private enum Decoded {
        /// A multibulk request: its arguments are in `arguments`.
        case multibulk
        /// An inline request's arguments (never empty).
        case inline([ByteBuffer])
    }

    /// What searching for a line's end found.
    private enum LineEnd {
        /// The terminator is at this offset from the reader index.
        case found(Int)
        /// Not yet: more bytes may end the line.
        case needMoreBytes
    }

    private static let asterisk = UInt8(ascii: "*")
    private static let dollar = UInt8(ascii: "$")
    private static let carriageReturn = UInt8(ascii: "\r")
    private static let lineFeed = UInt8(ascii: "\n")

    /// The loop behind ``next(_:)``: runs the state machine until a command is complete or bytes run out.
    private mutating func decode(_ buffer: inout ByteBuffer) throws(RESPProtocolError) -> Decoded? {
        while true {
            switch self.state {
            case .requestStart:
                guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else {
                    return nil
                }
                if first == Self.asterisk {
                    guard try self.decodeMultibulkCount(&buffer) else {
                        return nil
                    }
                } else {
                    guard let command = try self.decodeInlineRequest(&buffer) else {
                        return nil
                    }
                    if !command.isEmpty {
                        return .inline(command)
                    }
                }
            case .bulkHeader(let remaining):
                guard let length = try self.decodeBulkHeader(&buffer) else {
                    return nil
                }
                self.state = .bulkPayload(length: length, remaining: remaining)
            case .bulkPayload(let length, let remaining):
                // Redis waits for the payload and two more bytes, and skips those two without looking at them.
                guard buffer.readableBytes >= 2, buffer.readableBytes - 2 >= length,
                    let payload = buffer.readSlice(length: length)
                else {
                    return nil
                }
                buffer.moveReaderIndex(forwardBy: 2)
                self.arguments.append(payload)
                if remaining > 1 {
                    self.state = .bulkHeader(remaining: remaining - 1)
                } else {
                    self.state = .requestStart
                    // `next(_:)` shares the array's storage with its caller; the next request empties it, and by
                    // then the caller has usually dropped its copy, so the storage is reused instead of allocated
                    // anew. `next(_:into:)` swaps it with the caller's.
                    return .multibulk
                }
            case .failed(let error):
                throw error
            }
        }
    }

    /// Reads a `*<count>\r\n` line: starts a multibulk request, or skips an empty one.
    ///
    /// - Returns: `false` when the line is not complete yet.
    private mutating func decodeMultibulkCount(_ buffer: inout ByteBuffer) throws(RESPProtocolError) -> Bool {
        let lineEnd = try self.findLineEnd(
            in: buffer,
            terminator: Self.carriageReturn,
            ifTooLong: .tooBigMultibulkCountString
        )
        // Redis needs one byte after the `\r`, and skips it without checking that it is `\n`.
        guard case .found(let carriageReturn) = lineEnd, carriageReturn < buffer.readableBytes - 1 else {
            return false
        }
        let count = Self.parseInteger(in: buffer, digitsFrom: 1, to: carriageReturn)
        guard let count, count <= Int64(self.limits.maxMultibulkCount) else {
            throw .invalidMultibulkLength
        }
        if self.limits.unauthenticated && count > Int64(RESPLimits.unauthenticatedMultibulkCount) {
            throw .unauthenticatedMultibulkLength
        }
        buffer.moveReaderIndex(forwardBy: carriageReturn + 2)
        self.searchedBytes = 0
        if count > 0 {
            self.arguments.removeAll(keepingCapacity: true)
            self.arguments.reserveCapacity(Int(min(count, 1024)))
            self.state = .bulkHeader(remaining: Int(count))
        }
        return true
    }

    /// Reads a `$<length>\r\n` bulk header.
    ///
    /// - Returns: The declared payload length, or `nil` when the line is not complete yet.
    private mutating func decodeBulkHeader(_ buffer: inout ByteBuffer) throws(RESPProtocolError) -> Int? {
        let lineEnd = try self.findLineEnd(
            in: buffer,
            terminator: Self.carriageReturn,
            ifTooLong: .tooBigBulkCountString
        )
        guard case .found(let carriageReturn) = lineEnd, carriageReturn < buffer.readableBytes - 1,
            let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self)
        else {
            return nil
        }
        guard first == Self.dollar else {
            throw .expectedDollar(found: first)
        }
        let length = Self.parseInteger(in: buffer, digitsFrom: 1, to: carriageReturn)
        guard let length, length >= 0, length <= Int64(self.limits.maxBulkLength) else {
            throw .invalidBulkLength
        }
        if self.limits.unauthenticated && length > Int64(RESPLimits.unauthenticatedBulkLength) {
            throw .unauthenticatedBulkLength
        }
        buffer.moveReaderIndex(forwardBy: carriageReturn + 2)
        self.searchedBytes = 0
        return Int(length)
    }

    /// Reads an inline request: one line up to `\n`, a `\r` before it dropped, split as `sdssplitargs` does.
    ///
    /// - Returns: The line's arguments (empty for a blank line), or `nil` when the line is not complete yet.
    private mutating func decodeInlineRequest(_ buffer: inout ByteBuffer) throws(RESPProtocolError) -> [ByteBuffer]? {
        let lineEnd = try self.findLineEnd(
            in: buffer,
            terminator: Self.lineFeed,
            ifTooLong: .tooBigInlineRequest
        )
        guard case .found(let lineFeed) = lineEnd else {
            return nil
        }
        var lineLength = lineFeed
        if lineFeed > 0,
            buffer.getInteger(at: buffer.readerIndex + lineFeed - 1, as: UInt8.self) == Self.carriageReturn
        {
            lineLength -= 1
        }
        let split = buffer.withUnsafeReadableBytes { bytes in
            InlineLine(bytes: UnsafeRawBufferPointer(rebasing: bytes[..<lineLength])).split()
        }
        guard let words = split else {
            throw .unbalancedQuotes
        }
        var command: [ByteBuffer] = []
        command.reserveCapacity(words.count)
        for word in words {
            switch word {
            case .slice(let range):
                // The range lies within the readable bytes, so the slice exists.
                command.append(buffer.getSlice(at: buffer.readerIndex + range.lowerBound, length: range.count)!)
            case .bytes(let bytes):
                command.append(ByteBuffer(bytes: bytes))
            }
        }
        buffer.moveReaderIndex(forwardBy: lineFeed + 1)
        self.searchedBytes = 0
        return command
    }

    /// Searches the readable bytes for `terminator`, as Redis's `strchr` on its query buffer does.
    ///
    /// Like `strchr`, the search stops at a NUL byte: the line's end is then hidden for good. Like Redis, this
    /// fails only when more than `maxInlineLength` bytes are readable and no terminator is visible in them; a
    /// terminator further in is accepted. The search resumes where the previous one stopped, and never scans more
    /// than the readable bytes, which a caller that stops feeding after an error keeps within `maxInlineLength`
    /// plus one read.
    ///
    /// - Throws: `tooLong` when more than `maxInlineLength` bytes are readable and none of them is a visible
    ///   terminator.
    private mutating func findLineEnd(
        in buffer: ByteBuffer,
        terminator: UInt8,
        ifTooLong tooLong: RESPProtocolError
    ) throws(RESPProtocolError) -> LineEnd {
        let readable = buffer.readableBytes
        let start = min(self.searchedBytes, readable)
        let stop = buffer.withUnsafeReadableBytes { bytes in
            var index = start
            while index < readable, bytes[index] != terminator, bytes[index] != 0 {
                index += 1
            }
            return index
        }
        self.searchedBytes = stop
        if stop < readable, buffer.getInteger(at: buffer.readerIndex + stop, as: UInt8.self) == terminator {
            return .found(stop)
        }
        if readable > self.limits.maxInlineLength {
            throw tooLong
        }
        return .needMoreBytes
    }

    /// Parses the bytes at offsets `start..<end` from the reader index as Redis's `string2ll` does.
    ///
    /// Accepted: an optional `-`, then `0` alone or a digit 1-9 followed by digits, within `Int64`, in fewer than
    /// 21 bytes. Rejected: empty text, `+`, spaces, leading zeros, `-0`, anything else.
    ///
    /// - Returns: The value, or `nil` when the text is not such an integer.
    private static func parseInteger(in buffer: ByteBuffer, digitsFrom start: Int, to end: Int) -> Int64? {
        let length = end - start
        guard length > 0, length < 21 else {
            return nil
        }
        return buffer.withUnsafeReadableBytes { bytes -> Int64? in
            let zero = UInt8(ascii: "0")
            let nine = UInt8(ascii: "9")
            if length == 1, bytes[start] == zero {
                return 0
            }
            var index = start
            let negative = bytes[index] == UInt8(ascii: "-")
            if negative {
                index += 1
            }
            guard index < end, bytes[index] > zero, bytes[index] <= nine else {
                return nil
            }
            var magnitude = UInt64(bytes[index] - zero)
            index += 1
            while index < end {
                let digit = bytes[index]
                guard digit >= zero, digit <= nine else {
                    return nil
                }
                let (tens, overflowed) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, carried) = tens.addingReportingOverflow(UInt64(digit - zero))
                guard !overflowed, !carried else {
                    return nil
                }
                magnitude = sum
                index += 1
            }
            if negative {
                guard magnitude <= Int64.min.magnitude else {
                    return nil
                }
                return magnitude == Int64.min.magnitude ? Int64.min : -Int64(magnitude)
            }
            guard magnitude <= UInt64(Int64.max) else {
                return nil
            }
            return Int64(magnitude)
        }
    }
}

/// One inline request line, borrowed for the duration of a `withUnsafeReadableBytes` closure; it must not escape.
///
/// `split()` is Redis's `sdssplitargs`, byte for byte. The line never holds a NUL (the line-end search stops at
/// one), but, as in C, a NUL or the end of the line both read as the string's terminator.
private struct InlineLine {
    /// One argument of the line.
    enum Word {
        /// The argument is these bytes of the line, unchanged.
        case slice(Range<Int>)
        /// The argument differs from the line's bytes (escapes, or quotes inside it).
        case bytes([UInt8])
    }

    /// An argument being assembled: a range of the line while its bytes are contiguous there, then a copy.
    private struct WordBuilder {
        private var range = 0..<0
        private var copy: [UInt8]?

        /// Appends the line's byte at `index`, staying a slice while the bytes are contiguous.
        mutating func appendByte(at index: Int, of line: InlineLine) {
            if self.copy != nil {
                self.copy!.append(line[index])
            } else if self.range.isEmpty {
                self.range = index..<(index + 1)
            } else if self.range.upperBound == index {
                self.range = self.range.lowerBound..<(index + 1)
            } else {
                self.copy = Array(line.bytes[self.range]) + [line[index]]
            }
        }

        /// Appends a byte that is not in the line (an escape's value).
        mutating func append(_ byte: UInt8, of line: InlineLine) {
            if self.copy == nil {
                self.copy = Array(line.bytes[self.range])
            }
            self.copy!.append(byte)
        }

        /// The finished argument.
        var word: Word {
            if let copy = self.copy {
                return .bytes(copy)
            }
            return .slice(self.range)
        }
    }

    /// The line's bytes, without its `\r\n` or `\n`.
    let bytes: UnsafeRawBufferPointer

    /// The byte at `index`, or 0 (C's terminator) past the end.
    subscript(index: Int) -> UInt8 {
        index < self.bytes.count ? self.bytes[index] : 0
    }

    /// C's `isspace` in the C locale: space, `\t`, `\n`, `\v`, `\f`, `\r`.
    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte)
    }

    /// The value of a hexadecimal digit, or `nil`.
    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"):
            return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"):
            return byte - UInt8(ascii: "A") + 10
        default:
            return nil
        }
    }

    /// Splits the line into arguments as `sdssplitargs` does.
    ///
    /// Spaces separate arguments. In "double quotes", `\n \r \t \b \a` and `\xHH` are escapes and any other
    /// escaped byte stands for itself; in 'single quotes' only `\'` is an escape. Quotes may open inside a word
    /// (`a"b c"` is `ab c`), but a closing quote must be followed by a space or the end of the line.
    ///
    /// - Returns: The arguments, or `nil` when the quotes are unbalanced.
    func split() -> [Word]? {
        let space = UInt8(ascii: " ")
        let tab = UInt8(ascii: "\t")
        let carriageReturn = UInt8(ascii: "\r")
        let lineFeed = UInt8(ascii: "\n")
        let backslash = UInt8(ascii: "\\")
        let doubleQuote = UInt8(ascii: "\"")
        let singleQuote = UInt8(ascii: "'")
        var words: [Word] = []
        var index = 0
        while true {
            while self[index] != 0, Self.isSpace(self[index]) {
                index += 1
            }
            if self[index] == 0 {
                return words
            }
            var inDoubleQuotes = false
            var inSingleQuotes = false
            var done = false
            var word = WordBuilder()
            while !done {
                let byte = self[index]
                if inDoubleQuotes {
                    if byte == backslash, self[index + 1] == UInt8(ascii: "x"),
                        let high = Self.hexValue(self[index + 2]), let low = Self.hexValue(self[index + 3])
                    {
                        word.append(high * 16 + low, of: self)
                        index += 3
                    } else if byte == backslash, self[index + 1] != 0 {
                        index += 1
                        switch self[index] {
                        case UInt8(ascii: "n"): word.append(lineFeed, of: self)
                        case UInt8(ascii: "r"): word.append(carriageReturn, of: self)
                        case UInt8(ascii: "t"): word.append(tab, of: self)
                        case UInt8(ascii: "b"): word.append(0x08, of: self)
                        case UInt8(ascii: "a"): word.append(0x07, of: self)
                        default: word.appendByte(at: index, of: self)
                        }
                    } else if byte == doubleQuote {
                        if self[index + 1] != 0, !Self.isSpace(self[index + 1]) {
                            return nil
                        }
                        done = true
                    } else if byte == 0 {
                        return nil
                    } else {
                        word.appendByte(at: index, of: self)
                    }
                } else if inSingleQuotes {
                    if byte == backslash, self[index + 1] == singleQuote {
                        index += 1
                        word.appendByte(at: index, of: self)
                    } else if byte == singleQuote {
                        if self[index + 1] != 0, !Self.isSpace(self[index + 1]) {
                            return nil
                        }
                        done = true
                    } else if byte == 0 {
                        return nil
                    } else {
                        word.appendByte(at: index, of: self)
                    }
                } else {
                    switch byte {
                    case space, lineFeed, carriageReturn, tab, 0:
                        done = true
                    case doubleQuote:
                        inDoubleQuotes = true
                    case singleQuote:
                        inSingleQuotes = true
                    default:
                        word.appendByte(at: index, of: self)
                    }
                }
                if self[index] != 0 {
                    index += 1
                }
            }
            words.append(word.word)
        }
    }
}
