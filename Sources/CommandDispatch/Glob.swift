/// Redis's glob-style matching on bytes, as `stringmatchlen` in redis `src/util.c` does it (KEYS, SCAN MATCH).
///
/// `*` matches any run of bytes, `?` any one byte, `[abc]` one of a set, `[^abc]` one byte not in it, `[a-z]` a
/// range (ends in either order), and `\x` the byte `x` itself, inside a set too. An unterminated set ends at the
/// pattern's end; a trailing `\` matches a backslash. Like Redis, range bounds compare as C's signed `char`, a
/// pattern nested deeper than 1000 stars matches nothing, and once the rest of a pattern fails after a star at
/// every position, earlier stars give up too (so that hostile patterns cost polynomial time).
package enum Glob {
    /// True when `string` matches `pattern`.
    ///
    /// - Parameters:
    ///   - ignoringCase: compare ASCII letters without case (Redis's `nocase`).
    /// - Complexity: O(n × m) for n pattern bytes and m string bytes in the worst case.
    package static func matches(
        _ pattern: UnsafeRawBufferPointer,
        _ string: UnsafeRawBufferPointer,
        ignoringCase: Bool = false
    ) -> Bool {
        var skipLongerMatches = false
        return Glob.match(
            Cursor(bytes: pattern, index: 0),
            Cursor(bytes: string, index: 0),
            ignoringCase: ignoringCase,
            skipLongerMatches: &skipLongerMatches,
            nesting: 0
        )
    }

    /// True when `string` matches `pattern`, both given as byte arrays.
    package static func matches(_ pattern: [UInt8], _ string: [UInt8], ignoringCase: Bool = false) -> Bool {
        pattern.withUnsafeBytes { p in string.withUnsafeBytes { s in Glob.matches(p, s, ignoringCase: ignoringCase) } }
    }

    /// A position in a pattern or string; reads past the end see 0, as C sees a string's terminator.
    private struct Cursor {
        let bytes: UnsafeRawBufferPointer
        var index: Int

        /// Bytes left (C's `patternLen` / `stringLen`).
        var remaining: Int { self.bytes.count - self.index }

        subscript(offset: Int) -> UInt8 {
            let at = self.index + offset
            return at >= 0 && at < self.bytes.count ? self.bytes[at] : 0
        }
    }

    private static let star = UInt8(ascii: "*")
    private static let question = UInt8(ascii: "?")
    private static let open = UInt8(ascii: "[")
    private static let close = UInt8(ascii: "]")
    private static let caret = UInt8(ascii: "^")
    private static let dash = UInt8(ascii: "-")
    private static let backslash = UInt8(ascii: "\\")

    @inline(__always) private static func lower(_ byte: Int) -> Int {
        byte >= 65 && byte <= 90 ? byte + 32 : byte
    }

    @inline(__always) private static func same(_ a: UInt8, _ b: UInt8, ignoringCase: Bool) -> Bool {
        ignoringCase ? Glob.lower(Int(a)) == Glob.lower(Int(b)) : a == b
    }

    /// The byte as C's signed `char`, for range comparisons.
    @inline(__always) private static func signed(_ byte: UInt8) -> Int {
        Int(Int8(bitPattern: byte))
    }

    private static func match(
        _ start: Cursor,
        _ subject: Cursor,
        ignoringCase: Bool,
        skipLongerMatches: inout Bool,
        nesting: Int
    ) -> Bool {
        if nesting > 1000 { return false }
        var pattern = start
        var string = subject
        while pattern.remaining > 0 && string.remaining > 0 {
            switch pattern[0] {
            case Glob.star:
                while pattern.remaining > 0 && pattern[1] == Glob.star {
                    pattern.index += 1
                }
                if pattern.remaining == 1 { return true }
                var rest = pattern
                rest.index += 1
                while string.remaining > 0 {
                    if Glob.match(
                        rest,
                        string,
                        ignoringCase: ignoringCase,
                        skipLongerMatches: &skipLongerMatches,
                        nesting: nesting + 1
                    ) {
                        return true
                    }
                    if skipLongerMatches { return false }
                    string.index += 1
                }
                // The rest fails from every position: a longer match for an earlier star cannot help either.
                skipLongerMatches = true
                return false
            case Glob.question:
                string.index += 1
            case Glob.open:
                pattern.index += 1
                let negated = pattern[0] == Glob.caret
                if negated { pattern.index += 1 }
                var matched = false
                while true {
                    if pattern[0] == Glob.backslash && pattern.remaining >= 2 {
                        pattern.index += 1
                        if pattern[0] == string[0] { matched = true }
                    } else if pattern[0] == Glob.close {
                        break
                    } else if pattern.remaining == 0 {
                        // An unterminated set: step back so that the advance below ends at the pattern's end.
                        pattern.index -= 1
                        break
                    } else if pattern.remaining >= 3 && pattern[1] == Glob.dash {
                        var low = Glob.signed(pattern[0])
                        var high = Glob.signed(pattern[2])
                        var byte = Glob.signed(string[0])
                        if low > high { swap(&low, &high) }
                        if ignoringCase {
                            low = Glob.lower(low)
                            high = Glob.lower(high)
                            byte = Glob.lower(byte)
                        }
                        pattern.index += 2
                        if byte >= low && byte <= high { matched = true }
                    } else if Glob.same(pattern[0], string[0], ignoringCase: ignoringCase) {
                        matched = true
                    }
                    pattern.index += 1
                }
                if negated { matched.toggle() }
                if !matched { return false }
                string.index += 1
            case Glob.backslash:
                if pattern.remaining >= 2 { pattern.index += 1 }
                if !Glob.same(pattern[0], string[0], ignoringCase: ignoringCase) { return false }
                string.index += 1
            default:
                if !Glob.same(pattern[0], string[0], ignoringCase: ignoringCase) { return false }
                string.index += 1
            }
            pattern.index += 1
            if string.remaining == 0 {
                while pattern.remaining > 0 && pattern[0] == Glob.star {
                    pattern.index += 1
                }
                break
            }
        }
        return pattern.remaining == 0 && string.remaining == 0
    }
}
