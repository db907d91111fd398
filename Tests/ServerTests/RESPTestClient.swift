import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A reply as the test client parses it (RESP2).
enum Reply: Equatable, CustomStringConvertible {
    case simple(String)
    case error(String)
    case integer(Int64)
    case bulk([UInt8]?)
    case array([Reply]?)

    static func bulk(_ text: String) -> Reply { .bulk(Array(text.utf8)) }
    static let null = Reply.bulk(nil)
    static let ok = Reply.simple("OK")

    var description: String {
        switch self {
        case .simple(let text): return "+\(text)"
        case .error(let text): return "-\(text)"
        case .integer(let value): return ":\(value)"
        case .bulk(nil): return "(nil)"
        case .bulk(let bytes?): return "\"\(String(decoding: bytes, as: UTF8.self))\""
        case .array(nil): return "*(nil)"
        case .array(let items?): return "[\(items.map(\.description).joined(separator: ", "))]"
        }
    }
}

/// A small blocking RESP client over a real TCP socket, for server tests.
final class RESPTestClient: @unchecked Sendable {
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private var position = 0

    init(port: Int) throws {
        self.descriptor = try RESPTestClient.connectLoopback(port: port)
    }

    /// A blocking TCP socket connected to 127.0.0.1:`port`, with 10 s read and write timeouts. On failure the socket is
    /// closed here and nothing is returned, so a client's deinit (which Swift also runs when an initializer throws
    /// after setting every property) never closes a descriptor twice.
    static func connectLoopback(port: Int) throws -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            close(descriptor)
            throw POSIXError(.ECONNREFUSED)
        }
        // A read or a write that makes no progress for 10 s fails instead of holding the test run forever.
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return descriptor
    }

    deinit {
        close(self.descriptor)
    }

    /// Sends raw bytes.
    /// - Throws: `POSIXError` when the connection fails or a write makes no progress for 10 s.
    func send(raw bytes: [UInt8]) throws {
        try RESPTestClient.sendAll(bytes, to: self.descriptor)
    }

    func send(raw text: String) throws { try self.send(raw: Array(text.utf8)) }

    /// Sends raw bytes; returns false if the connection failed on the way.
    @discardableResult
    func trySend(raw bytes: [UInt8]) -> Bool {
        (try? self.send(raw: bytes)) != nil
    }

    /// Writes all of `bytes` to `descriptor`. `MSG_NOSIGNAL`: a connection the server closed fails the write with
    /// `EPIPE` instead of killing the test process with `SIGPIPE`.
    /// - Throws: `POSIXError` with the write's errno (`EAGAIN` when the socket's 10 s send timeout ran out).
    static func sendAll(_ bytes: [UInt8], to descriptor: Int32) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes {
                Glibc.send(descriptor, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard n > 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            sent += n
        }
    }

    /// Encodes a command as a multibulk request.
    static func encode(_ arguments: [[UInt8]]) -> [UInt8] {
        var out = Array("*\(arguments.count)\r\n".utf8)
        for argument in arguments {
            out += Array("$\(argument.count)\r\n".utf8)
            out += argument
            out += [13, 10]
        }
        return out
    }

    /// Sends one command and reads its reply.
    func call(_ arguments: String...) throws -> Reply {
        try self.call(bytes: arguments.map { Array($0.utf8) })
    }

    func call(bytes arguments: [[UInt8]]) throws -> Reply {
        try self.send(raw: RESPTestClient.encode(arguments))
        return try self.read()
    }

    /// True when the server has closed the connection (after reading any pending bytes).
    func isClosed() -> Bool {
        var byte: UInt8 = 0
        return recv(self.descriptor, &byte, 1, 0) == 0
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(self.descriptor, $0.baseAddress!, $0.count, 0) }
        guard n > 0 else { throw POSIXError(.ECONNRESET) }
        if self.position > 0 {
            self.buffer.removeFirst(self.position)
            self.position = 0
        }
        self.buffer += chunk[0..<n]
    }

    private func line() throws -> [UInt8] {
        while true {
            if let end = self.buffer[self.position...].firstIndex(of: 10), end > self.position,
                self.buffer[end - 1] == 13
            {
                let line = Array(self.buffer[self.position..<(end - 1)])
                self.position = end + 1
                return line
            }
            try self.fill()
        }
    }

    /// Reads one reply.
    func read() throws -> Reply {
        let header = try self.line()
        let rest = String(decoding: header.dropFirst(), as: UTF8.self)
        switch header.first {
        case UInt8(ascii: "+"): return .simple(rest)
        case UInt8(ascii: "-"): return .error(rest)
        case UInt8(ascii: ":"): return .integer(Int64(rest)!)
        case UInt8(ascii: "$"):
            let count = Int(rest)!
            if count < 0 { return .bulk(nil) }
            while self.buffer.count - self.position < count + 2 { try self.fill() }
            let bytes = Array(self.buffer[self.position..<(self.position + count)])
            self.position += count + 2
            return .bulk(bytes)
        case UInt8(ascii: "*"):
            let count = Int(rest)!
            if count < 0 { return .array(nil) }
            return .array(try (0..<count).map { _ in try self.read() })
        case UInt8(ascii: "_"):
            return .bulk(nil)
        case UInt8(ascii: "%"):
            // A RESP3 map, flattened into key, value, key, value.
            let count = Int(rest)!
            return .array(try (0..<(2 * count)).map { _ in try self.read() })
        default:
            throw POSIXError(.EPROTO)
        }
    }
}
