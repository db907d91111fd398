/// A malformed request: the ways ``RESPRequestDecoder`` refuses a client's bytes.
///
/// Each case is one of the protocol errors of Redis 7's `processMultibulkBuffer` and `processInlineBuffer`
/// (`src/networking.c`), and ``message`` is Redis's exact text for it. The server replies `-ERR <message>` and
/// then closes the connection, as Redis does. As in Redis, which looks for line ends with `strchr`, a NUL byte
/// hides any line end after it, so a line with a NUL before its end can only fail as too big.
package enum RESPProtocolError: Error, Hashable, Sendable {
    /// More than ``RESPLimits/maxInlineLength`` bytes were buffered after a `*` and none was a `\r`.
    case tooBigMultibulkCountString

    /// A `*<count>` line's count is not an integer, or is above ``RESPLimits/maxMultibulkCount``.
    case invalidMultibulkLength

    /// More than ``RESPLimits/maxInlineLength`` bytes were buffered for a bulk header and none was a `\r`.
    case tooBigBulkCountString

    /// A bulk header line starts with `found` instead of `$`.
    case expectedDollar(found: UInt8)

    /// A `$<length>` header's length is not an integer, is negative, or is above ``RESPLimits/maxBulkLength``.
    case invalidBulkLength

    /// An unauthenticated client (``RESPLimits/unauthenticated``) declared more than
    /// ``RESPLimits/unauthenticatedMultibulkCount`` arguments.
    case unauthenticatedMultibulkLength

    /// An unauthenticated client declared a bulk longer than ``RESPLimits/unauthenticatedBulkLength``.
    case unauthenticatedBulkLength

    /// More than ``RESPLimits/maxInlineLength`` bytes were buffered for an inline request and none was a `\n`.
    case tooBigInlineRequest

    /// An inline request has an unterminated quote, or a closing quote followed by something other than a space.
    case unbalancedQuotes

    /// Redis's text for this error, without the `ERR ` prefix, e.g. `Protocol error: invalid bulk length`.
    ///
    /// For ``expectedDollar(found:)`` the byte is shown as Redis's `%c` shows it, except that Redis's reply
    /// writes `\r` and `\n` as a space (`addReplyErrorFormat`), and so does this; a byte of 0x80 or above, which
    /// Redis writes raw and no `String` can hold, is shown as the Unicode scalar of the same value.
    package var message: String {
        switch self {
        case .tooBigMultibulkCountString:
            return "Protocol error: too big mbulk count string"
        case .invalidMultibulkLength:
            return "Protocol error: invalid multibulk length"
        case .tooBigBulkCountString:
            return "Protocol error: too big bulk count string"
        case .expectedDollar(let found):
            let shown = found == UInt8(ascii: "\r") || found == UInt8(ascii: "\n") ? " " : Unicode.Scalar(found)
            return "Protocol error: expected '$', got '\(Character(shown))'"
        case .invalidBulkLength:
            return "Protocol error: invalid bulk length"
        case .unauthenticatedMultibulkLength:
            return "Protocol error: unauthenticated multibulk length"
        case .unauthenticatedBulkLength:
            return "Protocol error: unauthenticated bulk length"
        case .tooBigInlineRequest:
            return "Protocol error: too big inline request"
        case .unbalancedQuotes:
            return "Protocol error: unbalanced quotes in request"
        }
    }
}
