import NIOCore

/// One RESP2 reply, as much of it as the workloads look at.
///
/// The load generator speaks RESP2 only (it never sends HELLO), so these five shapes are all a server sends.
enum Reply: Sendable {
    /// `+OK`, `+QUEUED`: the text.
    case simple(String)
    /// `-ERR ...`: the whole line after the dash.
    case error(String)
    case integer(Int)
    /// A bulk string (its bytes, a slice of the received buffer).
    case bulk(ByteBuffer)
    /// `$-1` or `*-1`: a missing value, or an EXEC that a WATCH aborted.
    case null
    case array([Reply])

    /// True for the simple string `text`.
    func isSimple(_ text: String) -> Bool {
        if case .simple(let value) = self { return value == text }
        return false
    }

    /// A bulk string's bytes read as a decimal integer (a balance or a counter), or nil.
    var bulkInteger: Int? {
        guard case .bulk(let bytes) = self else { return nil }
        return bytes.getString(at: bytes.readerIndex, length: bytes.readableBytes).flatMap { Int($0) }
    }

    /// A short description for error messages.
    var summary: String {
        switch self {
        case .simple(let text): return "+\(text)"
        case .error(let text): return "-\(text)"
        case .integer(let value): return ":\(value)"
        case .bulk(let bytes): return "$\(bytes.readableBytes)"
        case .null: return "nil"
        case .array(let items): return "*\(items.count)"
        }
    }
}

/// Cuts RESP2 replies out of the byte stream.
///
/// A reply that has not fully arrived is parsed again from its start once more bytes come (replies here are short,
/// so the repeated work is small).
struct ReplyDecoder: ByteToMessageDecoder {
    typealias InboundOut = Reply

    /// The reply was malformed.
    struct ProtocolError: Error, CustomStringConvertible {
        let description: String
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        var view = buffer
        guard let reply = try Self.parse(&view) else { return .needMoreData }
        buffer.moveReaderIndex(to: view.readerIndex)
        context.fireChannelRead(Self.wrapInboundOut(reply))
        return .continue
    }

    mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        while try self.decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }

    /// Parses one reply from the front of `buffer`, advancing it; nil (and `buffer` in an unspecified position) if
    /// the reply is incomplete.
    static func parse(_ buffer: inout ByteBuffer) throws -> Reply? {
        guard let line = Self.line(&buffer), let kind = line.first else { return nil }
        let rest = line.dropFirst()
        switch kind {
        case UInt8(ascii: "+"): return .simple(String(decoding: rest, as: UTF8.self))
        case UInt8(ascii: "-"): return .error(String(decoding: rest, as: UTF8.self))
        case UInt8(ascii: ":"): return .integer(try Self.integer(rest))
        case UInt8(ascii: "$"):
            let length = try Self.integer(rest)
            if length < 0 { return .null }
            guard buffer.readableBytes >= length + 2, let bytes = buffer.readSlice(length: length) else { return nil }
            buffer.moveReaderIndex(forwardBy: 2)
            return .bulk(bytes)
        case UInt8(ascii: "*"):
            let count = try Self.integer(rest)
            if count < 0 { return .null }
            var items: [Reply] = []
            items.reserveCapacity(count)
            for _ in 0..<count {
                guard let item = try Self.parse(&buffer) else { return nil }
                items.append(item)
            }
            return .array(items)
        default:
            throw ProtocolError(description: "unexpected reply type byte \(kind)")
        }
    }

    /// The bytes up to the next CRLF (consumed), or nil if no whole line has arrived.
    private static func line(_ buffer: inout ByteBuffer) -> [UInt8]? {
        let view = buffer.readableBytesView
        guard let newline = view.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        let end = newline > view.startIndex && view[newline - 1] == UInt8(ascii: "\r") ? newline - 1 : newline
        let bytes = Array(view[view.startIndex..<end])
        buffer.moveReaderIndex(to: newline + 1)
        return bytes
    }

    private static func integer(_ digits: ArraySlice<UInt8>) throws -> Int {
        guard let value = Int(String(decoding: digits, as: UTF8.self)) else {
            throw ProtocolError(description: "bad integer '\(String(decoding: digits, as: UTF8.self))'")
        }
        return value
    }
}
