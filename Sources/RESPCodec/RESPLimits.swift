/// The bounds a request decoder enforces on what a client may declare or send before a command is complete.
///
/// The defaults are Redis 7's: `proto-max-bulk-len` (512 MiB), `PROTO_INLINE_MAX_SIZE` (64 KiB) and the
/// `INT_MAX` ceiling on a multibulk count (`processMultibulkBuffer` in `src/networking.c`). The decoder checks a
/// declared length or count as soon as its header line is complete, so a client cannot make the server wait for,
/// or reserve room for, more than these limits allow.
package struct RESPLimits: Hashable, Sendable {
    /// The largest bulk payload, in bytes, a `$<length>` header may declare (Redis's `proto-max-bulk-len`).
    ///
    /// A larger length fails with ``RESPProtocolError/invalidBulkLength`` right after its header, before any of
    /// the payload is awaited.
    package var maxBulkLength: Int

    /// Whether the client has yet to authenticate to a server with a password. Redis then refuses, before reading
    /// on, a multibulk count above ``unauthenticatedMultibulkCount`` and a bulk longer than
    /// ``unauthenticatedBulkLength``, so that a client without the password cannot make it buffer much.
    package var unauthenticated = false

    /// The largest multibulk count an unauthenticated client may declare (Redis's 10).
    package static let unauthenticatedMultibulkCount = 10

    /// The longest bulk an unauthenticated client may declare (Redis's 16 KiB).
    package static let unauthenticatedBulkLength = 16384

    /// The largest multibulk count this client may declare now.
    @inline(__always) package var currentMaxMultibulkCount: Int {
        self.unauthenticated ? min(self.maxMultibulkCount, Self.unauthenticatedMultibulkCount) : self.maxMultibulkCount
    }

    /// The longest bulk this client may declare now.
    @inline(__always) package var currentMaxBulkLength: Int {
        self.unauthenticated ? min(self.maxBulkLength, Self.unauthenticatedBulkLength) : self.maxBulkLength
    }

    /// The smallest `proto-max-bulk-len` a configuration may set: Redis's (1 MiB).
    package static let minimumBulkLength = 1024 * 1024

    /// The largest `proto-max-bulk-len` a configuration may set: 4 GiB less a byte, the longest string a value can
    /// hold (its header counts the bytes in 32 bits). Redis allows up to `LONG_MAX`; every command that makes a
    /// string longer checks it against `proto-max-bulk-len`, so with this bound none can outgrow its header.
    package static let maximumBulkLength = Int(UInt32.max)

    /// How many bytes may be buffered while looking for the end of a line (Redis's `PROTO_INLINE_MAX_SIZE`).
    ///
    /// It bounds inline requests, multibulk count lines and bulk headers: once more than this many bytes are
    /// buffered and none of them ends the line, decoding fails. As in Redis, a line end that arrives together with
    /// the bytes before it is accepted even if it lies further in.
    package var maxInlineLength: Int

    /// The largest argument count a `*<count>` header may declare (Redis rejects counts above `INT_MAX`).
    ///
    /// The decoder never reserves room for more than 1,024 arguments ahead of their arrival, whatever the count.
    package var maxMultibulkCount: Int

    /// Creates limits; the defaults are Redis 7's.
    ///
    /// - Parameters:
    ///   - maxBulkLength: The largest declared bulk length, in bytes; at least 0.
    ///   - maxInlineLength: The most bytes buffered while looking for the end of a line; at least 0.
    ///   - maxMultibulkCount: The largest declared argument count; at least 0.
    package init(
        maxBulkLength: Int = 512 * 1024 * 1024,
        maxInlineLength: Int = 64 * 1024,
        maxMultibulkCount: Int = Int(Int32.max)
    ) {
        precondition(maxBulkLength >= 0, "maxBulkLength must not be negative")
        precondition(maxInlineLength >= 0, "maxInlineLength must not be negative")
        precondition(maxMultibulkCount >= 0, "maxMultibulkCount must not be negative")
        self.maxBulkLength = maxBulkLength
        self.maxInlineLength = maxInlineLength
        self.maxMultibulkCount = maxMultibulkCount
    }
}
