#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Redis's `long double` numbers, as INCRBYFLOAT reads and writes them (redis `src/util.c`: `string2ld` and
/// `ld2string` in `LD_STR_HUMAN` mode).
///
/// Redis parses with the C library's `strtold` into a `long double`, adds, and prints the sum with `"%.17Lf"`,
/// then strips trailing zeros after the point (and a bare point), and turns `-0` into `0`. On x86-64 a `long
/// double` is the 80-bit extended format, Swift's `Float80`, so doing the same here gives the same bytes. Where
/// `Float80` does not exist, `Double` and `strtod` stand in (the results can then differ from Redis's in the last
/// digits).
package enum RedisFloat {
    #if arch(x86_64) || arch(i386)
    /// The C `long double` of this platform.
    package typealias Number = Float80
    #else
    /// The closest Swift type to the C `long double` of this platform.
    package typealias Number = Double
    #endif

    /// Redis's `MAX_LONG_DOUBLE_CHARS`: the buffer both directions use. A longer input is not a number.
    package static let maximumCharacters = 5 * 1024

    /// Parses `bytes` as Redis's `string2ld` does: the whole input must be one `strtold` number, with no leading
    /// space, that neither overflows to infinity nor underflows to zero, and is not NaN. `inf` is accepted
    /// (the sum is then rejected as infinite).
    ///
    /// - Returns: the number, or nil when Redis would answer "value is not a valid float".
    /// - Complexity: O(n) in the input's length.
    package static func parse(_ bytes: UnsafeRawBufferPointer) -> Number? {
        guard !bytes.isEmpty, bytes.count < Self.maximumCharacters else { return nil }
        // isspace() in the C locale: space, \t, \n, \v, \f, \r.
        let first = bytes[0]
        if first == 0x20 || (first >= 0x09 && first <= 0x0D) { return nil }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: bytes.count + 1) { buffer in
            let start = buffer.baseAddress!
            UnsafeMutableRawPointer(start).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
            start[bytes.count] = 0
            var end: UnsafeMutablePointer<CChar>? = nil
            errno = 0
            let value = Self.strtoNumber(start, &end)
            let failure = errno
            guard let end, end - start == bytes.count else { return nil }
            if failure == ERANGE && (value.isInfinite || value == 0) { return nil }
            if failure == EINVAL || value.isNaN { return nil }
            return value
        }
    }

    /// Formats `value` as Redis's `ld2string(..., LD_STR_HUMAN)`: `"%.17Lf"`, trailing zeros after the point and
    /// then a bare point removed, `-0` written as `0`; infinities as `inf`/`-inf` and NaN as `nan`.
    ///
    /// Callers (INCRBYFLOAT) reject NaN and infinite results before they format them.
    ///
    /// - Complexity: O(d) in the number of digits (at most about 4,950 for `Float80`).
    package static func format(_ value: Number) -> [UInt8] {
        if value.isInfinite { return value > 0 ? Array("inf".utf8) : Array("-inf".utf8) }
        if value.isNaN { return Array("nan".utf8) }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: Self.maximumCharacters) { buffer in
            let start = buffer.baseAddress!
            let written = withVaList([value]) { arguments in
                vsnprintf(start, Self.maximumCharacters, Self.formatString, arguments)
            }
            // Redis's "no room" case: it stores an empty string.
            guard written >= 0, Int(written) + 1 <= Self.maximumCharacters else { return [] }
            var length = Int(written)
            let text = UnsafeRawBufferPointer(start: start, count: length)
            if text.contains(UInt8(ascii: ".")) {
                while length > 0 && text[length - 1] == UInt8(ascii: "0") { length -= 1 }
                if length > 0 && text[length - 1] == UInt8(ascii: ".") { length -= 1 }
            }
            if length == 2 && text[0] == UInt8(ascii: "-") && text[1] == UInt8(ascii: "0") {
                return [UInt8(ascii: "0")]
            }
            return Array(text[0..<length])
        }
    }

    #if arch(x86_64) || arch(i386)
    private static let formatString = "%.17Lf"

    private static func strtoNumber(
        _ start: UnsafePointer<CChar>,
        _ end: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    ) -> Number {
        strtold(start, end)
    }
    #else
    private static let formatString = "%.17f"

    private static func strtoNumber(
        _ start: UnsafePointer<CChar>,
        _ end: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    ) -> Number {
        strtod(start, end)
    }
    #endif
}
