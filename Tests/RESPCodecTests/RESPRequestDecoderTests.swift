import NIOCore
import RESPCodec
import Testing

// Every input is fed whole, byte by byte, in every split into two parts and in seeded random chunks; each feeding
// must give the same commands and the same error (swift-nio's `ByteToMessageDecoderVerifier` does the same).
// Inputs and expectations follow Redis 7's `processMultibulkBuffer`, `processInlineBuffer` and `sdssplitargs`,
// and Redis's `tests/unit/protocol.tcl`.

@Suite("RESPRequestDecoder")
struct RESPRequestDecoderTests {
    @Test("valid requests decode the same under every split", arguments: validCases)
    fileprivate func validRequests(_ testCase: DecoderCase) {
        for chunks in chunkings(of: testCase.input.count, seed: testCase.seed) {
            let outcome = decode(testCase.input, chunks: chunks, limits: testCase.limits)
            #expect(outcome == testCase.expected, "chunks \(chunks)")
        }
    }

    @Test("malformed requests fail with Redis's error under every split", arguments: errorCases)
    fileprivate func malformedRequests(_ testCase: DecoderCase) {
        #expect(testCase.expected.error != nil)
        for chunks in chunkings(of: testCase.input.count, seed: testCase.seed) {
            let outcome = decode(testCase.input, chunks: chunks, limits: testCase.limits)
            #expect(outcome == testCase.expected, "chunks \(chunks)")
        }
    }

    @Test("each error carries Redis's exact text", arguments: errorTexts)
    func errorText(_ error: RESPProtocolError, _ text: String) {
        #expect(error.message == text)
    }

    @Test("a bulk length over the limit fails right after its header, without its payload")
    func bulkLengthLimitBeforePayload() throws {
        var decoder = RESPRequestDecoder(limits: RESPLimits(maxBulkLength: 10))
        var buffer = ByteBuffer(string: "*2\r\n$10\r\n")
        #expect(try decoder.next(&buffer) == nil)
        buffer.writeString("0123456789\r\n$11\r")
        #expect(try decoder.next(&buffer) == nil)
        buffer.writeString("\n")
        #expect(throws: RESPProtocolError.invalidBulkLength) {
            try decoder.next(&buffer)
        }
    }

    @Test("before AUTH: more than 10 arguments or a bulk over 16 KiB fail at their header; nextWhole declines them")
    func unauthenticatedLimits() throws {
        var limits = RESPLimits()
        limits.unauthenticated = true
        var decoder = RESPRequestDecoder(limits: limits)
        var buffer = ByteBuffer(string: "*11\r\n")
        var spans: [ArgumentSpan] = []
        #expect(!decoder.nextWhole(&buffer, spans: &spans))
        #expect(throws: RESPProtocolError.unauthenticatedMultibulkLength) { try decoder.next(&buffer) }
        // A malformed count is still invalid first, as in Redis.
        decoder = RESPRequestDecoder(limits: limits)
        buffer = ByteBuffer(string: "*2147483648\r\n")
        #expect(throws: RESPProtocolError.invalidMultibulkLength) { try decoder.next(&buffer) }
        decoder = RESPRequestDecoder(limits: limits)
        let ten = "*10\r\n$4\r\nMGET\r\n" + String(repeating: "$1\r\na\r\n", count: 9)
        buffer = ByteBuffer(string: ten)
        #expect(decoder.nextWhole(&buffer, spans: &spans))
        buffer = ByteBuffer(string: "*2\r\n$4\r\nAUTH\r\n$16384\r\n" + String(repeating: "x", count: 16384) + "\r\n")
        #expect(decoder.nextWhole(&buffer, spans: &spans))
        buffer = ByteBuffer(string: "*2\r\n$4\r\nAUTH\r\n$16385\r\n" + String(repeating: "x", count: 16385) + "\r\n")
        #expect(!decoder.nextWhole(&buffer, spans: &spans))
        #expect(throws: RESPProtocolError.unauthenticatedBulkLength) { try decoder.next(&buffer) }
        errorText(.unauthenticatedMultibulkLength, "Protocol error: unauthenticated multibulk length")
        errorText(.unauthenticatedBulkLength, "Protocol error: unauthenticated bulk length")
        // Authenticated, the same requests pass.
        decoder = RESPRequestDecoder()
        buffer = ByteBuffer(string: "*11\r\n$4\r\nMGET\r\n" + String(repeating: "$1\r\na\r\n", count: 10))
        #expect(decoder.nextWhole(&buffer, spans: &spans))
    }

    @Test("Redis's default limits")
    func defaultLimits() {
        let limits = RESPLimits()
        #expect(limits.maxBulkLength == 536_870_912)
        #expect(limits.maxInlineLength == 65_536)
        #expect(limits.maxMultibulkCount == 2_147_483_647)
        let waiting = Outcome()
        #expect(decode(whole: "*1\r\n$536870912\r\n") == waiting)
        #expect(decode(whole: "*1\r\n$536870913\r\n") == Outcome(error: .invalidBulkLength))
        #expect(decode(whole: "*2147483647\r\n") == waiting)
        #expect(decode(whole: "*2147483648\r\n") == Outcome(error: .invalidMultibulkLength))
    }

    @Test("an inline request may be 64 KiB before its newline, and no more")
    func inlineLengthLimit() {
        let longest = [UInt8](repeating: UInt8(ascii: "a"), count: 65_536)
        let cases: [(input: [UInt8], expected: Outcome)] = [
            (longest, Outcome()),
            (longest + bytes("\n"), Outcome(commands: [[longest]])),
            (longest + bytes("a"), Outcome(error: .tooBigInlineRequest)),
            (longest + bytes("\0\n"), Outcome(error: .tooBigInlineRequest)),
        ]
        var generator = SplitMix64(seed: 7)
        for (input, expected) in cases {
            // Whole, the last 64 bytes one at a time, and random chunks.
            var feedings = [[input.count], [input.count - 64] + [Int](repeating: 1, count: 64)]
            for _ in 0..<4 {
                feedings.append(randomChunks(of: input.count, maximum: 4096, using: &generator))
            }
            for chunks in feedings {
                #expect(decode(input, chunks: chunks) == expected, "\(input.count) bytes in \(chunks.count) chunks")
            }
        }
    }

    @Test("a line end past the limit counts only if it arrived with the bytes before it, as in Redis")
    func lineEndPastTheLimitDependsOnReads() {
        let longest = [UInt8](repeating: UInt8(ascii: "a"), count: 65_536)
        let crlf = longest + bytes("\r\n")
        let redisReads = [16_384, 16_384, 16_384, 16_384, 2]
        #expect(decode(crlf, chunks: [crlf.count]) == Outcome(commands: [[longest]]))
        #expect(decode(crlf, chunks: redisReads) == Outcome(commands: [[longest]]))
        #expect(decode(crlf, chunks: [65_537, 1]) == Outcome(error: .tooBigInlineRequest))
        let small = RESPLimits(maxBulkLength: 100, maxInlineLength: 8)
        let count = bytes("*123456789\r\n")
        #expect(decode(count, chunks: [count.count], limits: small) == Outcome())
        #expect(decode(count, chunks: [9, 3], limits: small) == Outcome(error: .tooBigMultibulkCountString))
        let header = bytes("*1\r\n$12345678\r\n")
        #expect(decode(header, chunks: [header.count], limits: small) == Outcome(error: .invalidBulkLength))
        #expect(decode(header, chunks: [13, 2], limits: small) == Outcome(error: .tooBigBulkCountString))
        let inline = bytes("abcdefghij\n")
        #expect(decode(inline, chunks: [inline.count], limits: small) == Outcome(commands: [[bytes("abcdefghij")]]))
        #expect(decode(inline, chunks: [9, 2], limits: small) == Outcome(error: .tooBigInlineRequest))
    }

    @Test(
        "a NUL hides the end of a line until the request is too big",
        arguments: [
            (bytes("\0"), RESPProtocolError.tooBigInlineRequest),
            (bytes("*\0"), RESPProtocolError.tooBigMultibulkCountString),
            (bytes("$\0"), RESPProtocolError.tooBigInlineRequest),
            (bytes("*1\r\n$\0"), RESPProtocolError.tooBigBulkCountString),
            (bytes("GET a\0b\r\n"), RESPProtocolError.tooBigInlineRequest),
            (bytes("*1\0\r\n"), RESPProtocolError.tooBigMultibulkCountString),
        ]
    )
    func nulHidesLineEnd(_ prefix: [UInt8], _ error: RESPProtocolError) throws {
        // Redis's "Protocol desync regression test": a NUL, then lines of 1,024 `A`s, until Redis gives up.
        var decoder = RESPRequestDecoder()
        var buffer = ByteBuffer(bytes: prefix)
        let line = String(repeating: "A", count: 1024) + "\r\n"
        while buffer.readableBytes <= 65_536 {
            #expect(try decoder.next(&buffer) == nil)
            buffer.writeString(line)
        }
        #expect(throws: error) {
            try decoder.next(&buffer)
        }
    }

    @Test("multibulk arguments and plain inline arguments are slices of the input, not copies")
    func argumentsAreSlices() throws {
        var decoder = RESPRequestDecoder()
        let text = "*2\r\n$3\r\nGET\r\n$5\r\nhello\r\nECHO \"two words\" a\\x\r\n"
        var buffer = ByteBuffer(string: text)
        let base = buffer.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        func offset(_ argument: ByteBuffer) -> UInt {
            argument.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) } - base
        }
        let multibulk = try #require(try decoder.next(&buffer))
        #expect(multibulk.map(offset) == [8, 17])
        let inline = try #require(try decoder.next(&buffer))
        #expect(inline.map { String(buffer: $0) } == ["ECHO", "two words", "a\\x"])
        #expect(inline.map(offset) == [24, 30, 41])
    }

    @Test("nextWhole locates a whole multibulk request's arguments by index, and declines the rest untouched")
    func wholeRequests() throws {
        var decoder = RESPRequestDecoder()
        var buffer = ByteBuffer(string: "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n*2\r\n$3\r\nGET")
        var spans: [ArgumentSpan] = []
        #expect(decoder.nextWhole(&buffer, spans: &spans))
        #expect(spans == [ArgumentSpan(index: 8, count: 3), ArgumentSpan(index: 17, count: 1), ArgumentSpan(index: 24, count: 0)])
        #expect(buffer.readerIndex == 26)
        // The next request is not all there: declined, nothing consumed.
        #expect(!decoder.nextWhole(&buffer, spans: &spans))
        #expect(spans.count == 3 && buffer.readerIndex == 26)
        buffer.writeString("\r\n$1\r\nk\r\n")
        #expect(decoder.nextWhole(&buffer, spans: &spans))
        #expect(spans.count == 5 && buffer.readableBytes == 0)
        // Inline, empty and malformed requests, and leading zeros or signs, are left to `next`.
        for text in ["PING\r\n", "*0\r\n", "*1\r\n$04\r\nPING\r\n", "*-1\r\n", "*1\r\n+3\r\n", "*01\r\n$1\r\nx\r\n"] {
            var other = ByteBuffer(string: text)
            var none: [ArgumentSpan] = []
            #expect(!decoder.nextWhole(&other, spans: &none), "\(text)")
            #expect(none.isEmpty && other.readerIndex == 0)
        }
        // Inside a request that `next` started, it declines.
        var partial = ByteBuffer(string: "*2\r\n$1\r\na\r\n")
        #expect(try decoder.next(&partial) == nil)
        partial.writeString("$1\r\nb\r\n*1\r\n$1\r\nc\r\n")
        #expect(!decoder.nextWhole(&partial, spans: &spans))
        #expect(try decoder.next(&partial)?.map { String(buffer: $0) } == ["a", "b"])
        #expect(decoder.nextWhole(&partial, spans: &spans))
        // Once `next` has searched part of a first line, it resumes that search: a line fed byte by byte is scanned
        // once, not again by `nextWhole` on every read.
        var line = ByteBuffer(string: "*1")
        #expect(!decoder.nextWhole(&line, spans: &spans))
        #expect(try decoder.next(&line) == nil)
        line.writeString("\r\n$1\r\nx\r\n*1\r\n$1\r\ny\r\n")
        #expect(!decoder.nextWhole(&line, spans: &spans))
        #expect(try decoder.next(&line)?.map { String(buffer: $0) } == ["x"])
        #expect(decoder.nextWhole(&line, spans: &spans))
    }

    @Test("after an error the decoder keeps failing")
    func failedDecoderStaysFailed() throws {
        var decoder = RESPRequestDecoder()
        var buffer = ByteBuffer(string: "*1\r\nfoo\r\n")
        #expect(throws: RESPProtocolError.expectedDollar(found: UInt8(ascii: "f"))) {
            try decoder.next(&buffer)
        }
        var fresh = ByteBuffer(string: "PING\r\n")
        #expect(throws: RESPProtocolError.expectedDollar(found: UInt8(ascii: "f"))) {
            try decoder.next(&fresh)
        }
    }

    @Test("random input decodes the same under every chunking")
    func randomInputIsChunkingIndependent() {
        let alphabet = bytes("*$-0123456789\r\n\r\n \t\"'\\xAaf") + [0, 0x0B, 0xFF]
        let fragments = ["*2\r\n", "$3\r\n", "abc\r\n", "$0\r\n\r\n", "PING\r\n", "\"a b\" ", "*0\r\n"]
        // Lines stay under maxInlineLength: past it, the outcome depends on the reads (see above).
        let limits = RESPLimits(maxBulkLength: 6, maxMultibulkCount: 4)
        var generator = SplitMix64(seed: 0x5EED)
        var (withCommands, withErrors, waiting) = (0, 0, 0)
        for _ in 0..<300 {
            let length = Int.random(in: 1...48, using: &generator)
            var input: [UInt8] = []
            for _ in 0..<length {
                // Mostly well-formed fragments, so that requests get past their first header.
                if Int.random(in: 0..<4, using: &generator) > 0 {
                    input += bytes(fragments.randomElement(using: &generator)!)
                } else {
                    input.append(alphabet.randomElement(using: &generator)!)
                }
            }
            let expected = decode(input, chunks: [input.count], limits: limits)
            withCommands += expected.commands.isEmpty ? 0 : 1
            withErrors += expected.error == nil ? 0 : 1
            waiting += expected.error == nil ? 1 : 0
            var feedings = [[Int](repeating: 1, count: input.count)]
            for _ in 0..<4 {
                feedings.append(randomChunks(of: input.count, maximum: 16, using: &generator))
            }
            for chunks in feedings {
                #expect(decode(input, chunks: chunks, limits: limits) == expected, "input \(input) chunks \(chunks)")
            }
        }
        // The inputs reach every outcome often enough to be worth comparing.
        #expect(withCommands >= 100 && withErrors >= 100 && waiting >= 30, "\(withCommands) \(withErrors) \(waiting)")
    }
}

// MARK: - Cases

/// One input, the limits it is decoded under, and what must come out of it.
private struct DecoderCase: Sendable, CustomTestStringConvertible {
    let name: String
    let input: [UInt8]
    let limits: RESPLimits
    let expected: Outcome

    var testDescription: String { self.name }

    /// A seed for the random chunkings, fixed per case.
    var seed: UInt64 {
        self.input.reduce(UInt64(self.input.count)) { $0 &* 31 &+ UInt64($1) }
    }

    init(_ name: String, _ input: [UInt8], _ commands: [[[UInt8]]], limits: RESPLimits = RESPLimits()) {
        self.name = name
        self.input = input
        self.limits = limits
        self.expected = Outcome(commands: commands)
    }

    init(
        _ name: String,
        _ input: [UInt8],
        _ commands: [[[UInt8]]] = [],
        limits: RESPLimits = RESPLimits(),
        error: RESPProtocolError
    ) {
        self.name = name
        self.input = input
        self.limits = limits
        self.expected = Outcome(commands: commands, error: error)
    }
}

private let validCases: [DecoderCase] = [
    DecoderCase("ping", bytes("*1\r\n$4\r\nPING\r\n"), [command("PING")]),
    DecoderCase("set", bytes("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n"), [command("SET", "key", "value")]),
    DecoderCase(
        "pipelined",
        bytes("*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"),
        [command("PING"), command("GET", "k"), command("SET", "k", "v")]
    ),
    DecoderCase("empty bulk", bytes("*2\r\n$3\r\nGET\r\n$0\r\n\r\n"), [command("GET", "")]),
    DecoderCase(
        "binary payload",
        bytes("*2\r\n$3\r\nSET\r\n$8\r\n") + [0x61, 0x00, 0x62, 0x0D, 0x0A, 0x0D, 0xFF, 0x00] + bytes("\r\n"),
        [[bytes("SET"), [0x61, 0x00, 0x62, 0x0D, 0x0A, 0x0D, 0xFF, 0x00]]]
    ),
    DecoderCase("payload that looks like a header", bytes("*1\r\n$6\r\n$3\r\nab\r\n"), [command("$3\r\nab")]),
    DecoderCase(
        "empty multibulk requests are skipped",
        bytes("*0\r\n*-1\r\n*-9223372036854775808\r\n*1\r\n$1\r\nx\r\n*0\r\n"),
        [command("x")]
    ),
    DecoderCase(
        "the two bytes after a payload are not checked",
        bytes("*2\r\n$1\r\na\r\n$1\r\nbXY*1\r\n$1\r\nc??"),
        [command("a", "b"), command("c")]
    ),
    DecoderCase("the byte after a header's CR is not checked", bytes("*1\rX$3\rYfoo\r\n"), [command("foo")]),
    DecoderCase(
        "an incomplete request waits",
        bytes("*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$5\r\nab"),
        [command("PING")]
    ),
    DecoderCase("inline with CRLF", bytes("PING\r\n"), [command("PING")]),
    DecoderCase("inline with LF", bytes("PING\n"), [command("PING")]),
    DecoderCase("blank inline lines are skipped", bytes("\r\n\n   \t\r\n\u{0B}\u{0C}\nPING\r\n\n"), [command("PING")]),
    DecoderCase("inline separators", bytes(" SET  key\tvalue \r\n"), [command("SET", "key", "value")]),
    DecoderCase("inline quotes", bytes("set \"a b\" 'c d'\r\n"), [command("set", "a b", "c d")]),
    DecoderCase("hex escapes", bytes(#""\x41\x42" "\x4" "\xZZ" "\x7e""# + "\n"), [command("AB", "x4", "xZZ", "~")]),
    DecoderCase(
        "double-quote escapes",
        bytes(#""a\nb\r\t\b\a\\\"\q""# + "\n"),
        [[[0x61, 0x0A, 0x62, 0x0D, 0x09, 0x08, 0x07, 0x5C, 0x22, 0x71]]]
    ),
    DecoderCase("single-quote escapes", bytes(#"'it\'s' 'a\nb' '"'"# + "\n"), [command("it's", #"a\nb"#, "\"")]),
    DecoderCase(
        "quotes inside a word",
        bytes("foo\"bar baz\" a'b' x\"\"\n"),
        [command("foobar baz", "ab", "x")]
    ),
    DecoderCase("empty quoted arguments", bytes("set k \"\" ''\n"), [command("set", "k", "", "")]),
    DecoderCase(
        "vertical tab and form feed are spaces only between words",
        bytes("a\u{0B}b \"c\"\u{0B}d '\u{0C}'\u{0C}\n"),
        [command("a\u{0B}b", "c", "d", "\u{0C}")]
    ),
    DecoderCase("a CR inside an inline line separates", bytes("a\rb\na\r\r\n"), [command("a", "b"), command("a")]),
    DecoderCase("a request not starting with * is inline", bytes("$3\r\nfoo\r\n"), [command("$3"), command("foo")]),
    DecoderCase(
        "inline and multibulk mixed",
        bytes("PING\r\n*1\r\n$4\r\nPING\r\n\r\nECHO \"hi there\"\n*0\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n"),
        [command("PING"), command("PING"), command("ECHO", "hi there"), command("ECHO", "hi")]
    ),
    DecoderCase(
        "an HTTP request is inline garbage",
        bytes("GET / HTTP/1.1\r\nHost: example\r\n\r\n"),
        [command("GET", "/", "HTTP/1.1"), command("Host:", "example")]
    ),
    DecoderCase(
        "bytes above 0x7F are not spaces",
        [0xFF, 0x20, 0xC3, 0xA9, 0xA0, 0x0A],
        [[[0xFF], [0xC3, 0xA9, 0xA0]]]
    ),
    DecoderCase(
        "an inline line at the length limit",
        bytes("abcdefgh\nabcdefg\r\n"),
        [
            command("abcdefgh"), command("abcdefg"),
        ],
        limits: RESPLimits(maxInlineLength: 8)
    ),
    DecoderCase(
        "an unterminated inline line at the length limit waits",
        bytes("abcdefgh"),
        [],
        limits: RESPLimits(maxInlineLength: 8)
    ),
    DecoderCase(
        "a count line ending at the length limit",
        bytes("*1234567\r\n"),
        [],
        limits: RESPLimits(maxInlineLength: 8)
    ),
    DecoderCase(
        "a bulk at the length limit",
        bytes("*1\r\n$10\r\n0123456789\r\n"),
        [command("0123456789")],
        limits: RESPLimits(maxBulkLength: 10)
    ),
    DecoderCase(
        "a count at the limit",
        bytes("*3\r\n$1\r\na\r\n$0\r\n\r\n$1\r\nc\r\n"),
        [command("a", "", "c")],
        limits: RESPLimits(maxMultibulkCount: 3)
    ),
]

private let errorCases: [DecoderCase] = [
    DecoderCase("count not a number", bytes("*abc\r\n"), error: .invalidMultibulkLength),
    DecoderCase("count empty", bytes("*\r\n"), error: .invalidMultibulkLength),
    DecoderCase("count with plus", bytes("*+1\r\n"), error: .invalidMultibulkLength),
    DecoderCase("count with leading zero", bytes("*01\r\n"), error: .invalidMultibulkLength),
    DecoderCase("count with leading space", bytes("* 1\r\n"), error: .invalidMultibulkLength),
    DecoderCase("count with trailing space", bytes("*1 \r\n"), error: .invalidMultibulkLength),
    DecoderCase("count minus zero", bytes("*-0\r\n"), error: .invalidMultibulkLength),
    DecoderCase("count minus alone", bytes("*-\r\n"), error: .invalidMultibulkLength),
    DecoderCase("count above INT_MAX", bytes("*2147483648\r\n"), error: .invalidMultibulkLength),
    DecoderCase("out of range multibulk length", bytes("*3000000000\r\n"), error: .invalidMultibulkLength),
    DecoderCase("count below Int64", bytes("*-9223372036854775809\r\n"), error: .invalidMultibulkLength),
    DecoderCase("count of 20 digits", bytes("*99999999999999999999\r\n"), error: .invalidMultibulkLength),
    DecoderCase("count of 21 bytes", bytes("*-00000000000000000001\r\n"), error: .invalidMultibulkLength),
    DecoderCase(
        "count over a configured limit",
        bytes("*4\r\n"),
        limits: RESPLimits(maxMultibulkCount: 3),
        error: .invalidMultibulkLength
    ),
    DecoderCase(
        "count line too long",
        bytes("*123456789"),
        limits: RESPLimits(maxInlineLength: 8),
        error: .tooBigMultibulkCountString
    ),
    DecoderCase("bulk header not a dollar", bytes("*1\r\n:3\r\n"), error: .expectedDollar(found: UInt8(ascii: ":"))),
    DecoderCase(
        "multibulk request not followed by bulk arguments",
        bytes("*1\r\nfoo\r\n"),
        error: .expectedDollar(found: UInt8(ascii: "f"))
    ),
    DecoderCase(
        "wrong multibulk payload header",
        bytes("*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n"),
        error: .expectedDollar(found: UInt8(ascii: "f"))
    ),
    DecoderCase("bulk header empty", bytes("*1\r\n\r\n"), error: .expectedDollar(found: UInt8(ascii: "\r"))),
    DecoderCase("bulk header a star", bytes("*2\r\n$1\r\na\r\n*1\r\n"), error: .expectedDollar(found: 0x2A)),
    DecoderCase("negative bulk length", bytes("*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$-10\r\n"), error: .invalidBulkLength),
    DecoderCase(
        "out of range bulk length",
        bytes("*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$2000000000\r\n"),
        error: .invalidBulkLength
    ),
    DecoderCase(
        "non-number bulk length",
        bytes("*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$blabla\r\n"),
        error: .invalidBulkLength
    ),
    DecoderCase("null bulk in a request", bytes("*1\r\n$-1\r\n"), error: .invalidBulkLength),
    DecoderCase("bulk length with leading zero", bytes("*1\r\n$01\r\n"), error: .invalidBulkLength),
    DecoderCase("bulk length empty", bytes("*1\r\n$\r\n"), error: .invalidBulkLength),
    DecoderCase("bulk length with plus", bytes("*1\r\n$+3\r\n"), error: .invalidBulkLength),
    DecoderCase("bulk length with trailing space", bytes("*1\r\n$3 \r\n"), error: .invalidBulkLength),
    DecoderCase("bulk length above Int64", bytes("*1\r\n$9223372036854775808\r\n"), error: .invalidBulkLength),
    DecoderCase(
        "bulk length over a configured limit",
        bytes("*1\r\n$11\r\n"),
        limits: RESPLimits(maxBulkLength: 10),
        error: .invalidBulkLength
    ),
    DecoderCase(
        "bulk header too long",
        bytes("*1\r\n$123456789"),
        limits: RESPLimits(maxInlineLength: 8),
        error: .tooBigBulkCountString
    ),
    DecoderCase(
        "inline line too long",
        bytes("abcdefghi"),
        limits: RESPLimits(maxInlineLength: 8),
        error: .tooBigInlineRequest
    ),
    DecoderCase(
        "unbalanced number of quotes",
        bytes("set \"\"\"test-key\"\"\" test-value\r\n ping\r\n"),
        error: .unbalancedQuotes
    ),
    DecoderCase("unterminated double quote", bytes("\"unterminated\n"), error: .unbalancedQuotes),
    DecoderCase("unterminated single quote", bytes("'unterminated\r\n"), error: .unbalancedQuotes),
    DecoderCase("double quote followed by a letter", bytes("\"a\"b\n"), error: .unbalancedQuotes),
    DecoderCase("single quote followed by a letter", bytes("'a'b\n"), error: .unbalancedQuotes),
    DecoderCase("backslash before the end of the line", bytes("\"a\\\n"), error: .unbalancedQuotes),
    DecoderCase("escaped closing quote", bytes(#"'a\'"# + "\n"), error: .unbalancedQuotes),
    DecoderCase("quote closing inside a word", bytes("foo\"bar baz\"qux\n"), error: .unbalancedQuotes),
    DecoderCase(
        "commands before the error come out",
        bytes("PING\r\n*1\r\n$1\r\na\r\n*1\r\n$-1\r\n"),
        [command("PING"), command("a")],
        error: .invalidBulkLength
    ),
    DecoderCase(
        "a command before an unbalanced line",
        bytes("*1\r\n$1\r\na\r\n\"oops\n"),
        [command("a")],
        error: .unbalancedQuotes
    ),
]

private let errorTexts: [(RESPProtocolError, String)] = [
    (.tooBigMultibulkCountString, "Protocol error: too big mbulk count string"),
    (.invalidMultibulkLength, "Protocol error: invalid multibulk length"),
    (.tooBigBulkCountString, "Protocol error: too big bulk count string"),
    (.expectedDollar(found: UInt8(ascii: "f")), "Protocol error: expected '$', got 'f'"),
    (.expectedDollar(found: UInt8(ascii: "\r")), "Protocol error: expected '$', got ' '"),
    (.expectedDollar(found: UInt8(ascii: "\n")), "Protocol error: expected '$', got ' '"),
    (.expectedDollar(found: UInt8(ascii: "\t")), "Protocol error: expected '$', got '\t'"),
    (.invalidBulkLength, "Protocol error: invalid bulk length"),
    (.tooBigInlineRequest, "Protocol error: too big inline request"),
    (.unbalancedQuotes, "Protocol error: unbalanced quotes in request"),
]

// MARK: - Helpers

/// What feeding an input to a fresh decoder produced: the commands, then the error that stopped it, if any.
private struct Outcome: Equatable, Sendable, CustomStringConvertible {
    var commands: [[[UInt8]]] = []
    var error: RESPProtocolError?

    var description: String {
        let commands = self.commands.map { command in
            command.map { argument in
                argument.count > 64
                    ? "<\(argument.count) bytes>" : String(decoding: argument, as: UTF8.self).debugDescription
            }
        }
        return "\(commands) error: \(self.error.map { $0.message } ?? "none")"
    }
}

/// How `decode` drains the decoder.
private enum Draining {
    /// `next(_:)` alone.
    case single
    /// `next(_:into:)`, a few arrays reused in turn, each holding its command until the batch is over.
    case batched
    /// As the server does: `nextWhole` first, which locates a whole request's arguments in the buffer, and
    /// `next(_:into:)` for what it declines.
    case whole
}

/// Feeds `input` to a fresh decoder in chunks of the given sizes, draining commands after each chunk, through
/// `next(_:)`, through `next(_:into:)` and as the server does with `nextWhole` first; all must give the same
/// outcome, which is returned.
private func decode(_ input: [UInt8], chunks: [Int], limits: RESPLimits = RESPLimits()) -> Outcome {
    let single = decode(input, chunks: chunks, limits: limits, draining: .single)
    let batched = decode(input, chunks: chunks, limits: limits, draining: .batched)
    let whole = decode(input, chunks: chunks, limits: limits, draining: .whole)
    #expect(single == batched, "next(_:) and next(_:into:) differ for chunks \(chunks)")
    #expect(single == whole, "next(_:) and nextWhole differ for chunks \(chunks)")
    return single
}

private func decode(_ input: [UInt8], chunks: [Int], limits: RESPLimits, draining: Draining) -> Outcome {
    var decoder = RESPRequestDecoder(limits: limits)
    var buffer = ByteBuffer()
    var outcome = Outcome()
    var batch: [[ByteBuffer]] = [[], [], []]
    var offset = 0
    for size in chunks {
        buffer.writeBytes(input[offset..<(offset + size)])
        offset += size
        do throws(RESPProtocolError) {
            if draining == .whole {
                var spans: [ArgumentSpan] = []
                var slow: [ByteBuffer] = []
                while true {
                    let start = spans.count
                    let reader = buffer.readerIndex
                    if decoder.nextWhole(&buffer, spans: &spans) {
                        #expect(spans.count > start)
                        // The spans point into the bytes just consumed.
                        #expect(spans[start...].allSatisfy { $0.index >= reader && $0.index + $0.count <= buffer.readerIndex })
                        // Read as the server reads them: through the buffer's storage, by index.
                        outcome.commands.append(buffer.withVeryUnsafeBytes { storage in
                            spans[start...].map { Array(storage[$0.index..<($0.index + $0.count)]) }
                        })
                        continue
                    }
                    #expect(spans.count == start && buffer.readerIndex == reader, "a declined request consumed bytes")
                    guard try decoder.next(&buffer, into: &slow) else { break }
                    #expect(!slow.isEmpty)
                    outcome.commands.append(slow.map { Array($0.readableBytesView) })
                }
            } else if draining == .batched {
                var count = 0
                while try decoder.next(&buffer, into: &batch[count % batch.count]) {
                    let command = batch[count % batch.count]
                    #expect(!command.isEmpty)
                    outcome.commands.append(command.map { Array($0.readableBytesView) })
                    count += 1
                }
            } else {
                while let command = try decoder.next(&buffer) {
                    #expect(!command.isEmpty)
                    outcome.commands.append(command.map { Array($0.readableBytesView) })
                }
            }
        } catch {
            outcome.error = error
            return outcome
        }
    }
    return outcome
}

/// Feeds `text` whole to a fresh decoder with Redis's limits.
private func decode(whole text: String) -> Outcome {
    decode(bytes(text), chunks: [text.utf8.count])
}

/// Whole, byte by byte, every split into two parts, and 16 seeded random chunkings.
private func chunkings(of count: Int, seed: UInt64) -> [[Int]] {
    var result = [[count], [Int](repeating: 1, count: count)]
    if count > 1 {
        for cut in 1..<count {
            result.append([cut, count - cut])
        }
    }
    var generator = SplitMix64(seed: seed)
    for _ in 0..<16 {
        result.append(randomChunks(of: count, maximum: max(1, count / 3), using: &generator))
    }
    return result
}

/// Chunk sizes from 1 to `maximum` that add up to `count`.
private func randomChunks(of count: Int, maximum: Int, using generator: inout SplitMix64) -> [Int] {
    var sizes: [Int] = []
    var left = count
    while left > 0 {
        let size = Int.random(in: 1...min(left, maximum), using: &generator)
        sizes.append(size)
        left -= size
    }
    return sizes
}

/// A seeded generator, so that a failing chunking can be replayed (Vigna's SplitMix64).
private struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        self.state = seed
    }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var value = self.state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}

/// The UTF-8 bytes of `text`.
private func bytes(_ text: String) -> [UInt8] {
    Array(text.utf8)
}

/// A command's arguments as bytes.
private func command(_ arguments: String...) -> [[UInt8]] {
    arguments.map(bytes)
}
