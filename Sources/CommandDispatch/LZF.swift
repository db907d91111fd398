import CommitLog

/// LZF, the compression of Redis's RDB strings (redis `src/lzf_c.c`, `src/lzf_d.c`, liblzf 3.6 as Redis builds it:
/// a 2^16-slot hash table, `VERY_FAST`), for DUMP and RESTORE.
///
/// `compress` gives the same bytes as Redis's `lzf_compress`, so that DUMP's payloads match Redis's byte for byte.
/// (Redis leaves its hash table uninitialized, and Weft reuses its tables uncleared: a stale slot never yields a
/// match a cleared one would not, because the first occurrence of every three bytes is always hashed, so the output
/// does not depend on it. See `HashTables`.)
///
/// The format: `000LLLLL` and L+1 literal bytes; `LLLooooo oooooooo`, a copy of L+2 bytes from `o`+1 bytes back;
/// `111ooooo LLLLLLLL oooooooo`, the same with L+9 bytes.
package enum LZF {
    /// The longest literal run.
    static let maxLiteral = 1 << 5
    /// The farthest a back reference reaches.
    static let maxOffset = 1 << 13
    /// The longest back reference.
    static let maxReference = (1 << 8) + (1 << 3)
    /// The hash table's size (`HLOG` 16).
    static let hashSize = 1 << 16

    /// `lzf_compress`: `input` compressed, or nil when that would not fit in `limit` bytes (Redis asks for at
    /// least four bytes saved: `limit` = length - 4).
    ///
    /// - Parameters:
    ///   - input: the bytes to compress.
    ///   - limit: the most bytes the result may take.
    /// - Complexity: O(n) in the length of `input` (the hash table is reused, not cleared: see `HashTables`).
    package static func compress(_ input: UnsafeRawBufferPointer, limit: Int) -> [UInt8]? {
        let inEnd = input.count
        guard inEnd > 0, limit > 0 else { return nil }
        // Slack past `limit`: the checks below keep every write under `limit`, as in C, and the slack keeps a
        // mistake in them from writing out of bounds.
        var output = [UInt8](repeating: 0, count: limit + 4)
        let table = HashTables.take()
        defer { HashTables.give(back: table) }
        let slots = UnsafeMutableBufferPointer(start: table, count: LZF.hashSize)
        let written = output.withUnsafeMutableBufferPointer { out in
            LZF.compress(input, into: out, limit: limit, table: slots)
        }
        guard let written else { return nil }
        output.removeLast(output.count - written)
        return output
    }

    /// `compress`'s hash tables, kept between calls so that a short DUMP does not clear 2^16 slots. A slot left by
    /// an earlier call is harmless, as Redis's uninitialized table is: it is used only when it points before the
    /// current position at the same three bytes, and then this input's first occurrence of those bytes was hashed
    /// already (a copy's bytes occur at its source first), so the slot was rewritten in this call.
    enum HashTables {
        /// Tables not in use; at most a few are kept (one per concurrent DUMP: one per event loop).
        private static let idle = Locked<[UnsafeMutablePointer<UInt32>]>([])

        static func take() -> UnsafeMutablePointer<UInt32> {
            if let table = HashTables.idle.withLock({ $0.popLast() }) { return table }
            let table = UnsafeMutablePointer<UInt32>.allocate(capacity: LZF.hashSize)
            table.initialize(repeating: 0, count: LZF.hashSize)
            return table
        }

        static func give(back table: UnsafeMutablePointer<UInt32>) {
            let kept = HashTables.idle.withLock { idle in
                guard idle.count < 16 else { return false }
                idle.append(table)
                return true
            }
            if !kept { table.deallocate() }
        }
    }

    /// The hash slot of the last three (or four) bytes folded into `value`.
    @inline(__always) static func slot(_ value: UInt32) -> Int {
        Int(((value >> 8) &- value &* 5) & UInt32(LZF.hashSize - 1))
    }

    /// The body of `compress`: the number of bytes written to `out`, or nil when they would pass `outEnd`.
    private static func compress(
        _ input: UnsafeRawBufferPointer,
        into out: UnsafeMutableBufferPointer<UInt8>,
        limit outEnd: Int,
        table: UnsafeMutableBufferPointer<UInt32>
    ) -> Int? {
        let inEnd = input.count
        var ip = 0
        var op = 1  // room for the first run's header
        var literals = 0
        /// Copies one input byte into the current literal run, closing the run (its header written, room for the
        /// next one's) once it holds `maxLiteral` bytes.
        func copyLiteral() {
            literals += 1
            out[op] = input[ip]
            op += 1
            ip += 1
            if literals == LZF.maxLiteral {
                out[op - literals - 1] = UInt8(literals - 1)
                literals = 0
                op += 1
            }
        }
        var hash: UInt32 = inEnd >= 2 ? UInt32(input[0]) << 8 | UInt32(input[1]) : 0
        while ip < inEnd - 2 {
            hash = hash << 8 | UInt32(input[ip + 2])
            let slot = LZF.slot(hash)
            let ref = Int(table[slot])
            table[slot] = UInt32(ip)
            let offset = ip - ref - 1
            if offset >= 0 && offset < LZF.maxOffset && ref > 0 && input[ref + 2] == input[ip + 2]
                && input[ref] == input[ip] && input[ref + 1] == input[ip + 1]
            {
                var length = 2
                let maxLength = min(inEnd - ip - length, LZF.maxReference)
                if op - (literals == 0 ? 1 : 0) + 3 + 1 >= outEnd { return nil }
                out[op - literals - 1] = UInt8(truncatingIfNeeded: literals - 1)  // end the run
                op -= literals == 0 ? 1 : 0  // or drop its header if it is empty
                // As liblzf's unrolled loop: 16 bytes compared without checking `maxLength`, then one at a time.
                var mismatched = false
                if maxLength > 16 {
                    for _ in 0..<16 {
                        length += 1
                        if input[ref + length] != input[ip + length] {
                            mismatched = true
                            break
                        }
                    }
                }
                if !mismatched {
                    repeat {
                        length += 1
                    } while length < maxLength && input[ref + length] == input[ip + length]
                }
                length -= 2  // the copy's length - 1, as coded
                ip += 1
                if length < 7 {
                    out[op] = UInt8(truncatingIfNeeded: (offset >> 8) + (length << 5))
                    op += 1
                } else {
                    out[op] = UInt8(truncatingIfNeeded: (offset >> 8) + (7 << 5))
                    out[op + 1] = UInt8(truncatingIfNeeded: length - 7)
                    op += 2
                }
                out[op] = UInt8(truncatingIfNeeded: offset)
                op += 2  // the offset's low byte, then room for the next run's header
                literals = 0
                ip += length + 1
                if ip >= inEnd - 2 { break }
                // Hash the copy's last two positions (VERY_FAST), then go on after it.
                ip -= 2
                hash = UInt32(input[ip]) << 8 | UInt32(input[ip + 1])
                hash = hash << 8 | UInt32(input[ip + 2])
                table[LZF.slot(hash)] = UInt32(ip)
                ip += 1
                hash = hash << 8 | UInt32(input[ip + 2])
                table[LZF.slot(hash)] = UInt32(ip)
                ip += 1
            } else {
                if op >= outEnd { return nil }
                copyLiteral()
            }
        }
        if op + 3 > outEnd { return nil }  // at most the last two bytes and a header are left
        while ip < inEnd {
            copyLiteral()
        }
        out[op - literals - 1] = UInt8(truncatingIfNeeded: literals - 1)
        op -= literals == 0 ? 1 : 0
        return op
    }

    /// `lzf_decompress` as Redis's RESTORE uses it: the `count` bytes that `input` decompresses to, or nil when it
    /// is malformed (a reference before the start, a run past the end of `input`) or gives another length.
    ///
    /// As in Redis, where `lzf_decompress` answers 0 for an error too, a `count` of 0 always succeeds.
    ///
    /// - Parameters:
    ///   - input: the compressed bytes.
    ///   - count: the length they must give.
    /// - Complexity: O(`count` + the length of `input`).
    package static func decompress(_ input: UnsafeRawBufferPointer, count: Int) -> [UInt8]? {
        guard count > 0 else { return [] }
        guard !input.isEmpty else { return nil }
        var succeeded = false
        let output = [UInt8](unsafeUninitializedCapacity: count) { out, initialized in
            succeeded = LZF.decompress(input, into: out) == count
            initialized = succeeded ? count : 0
        }
        return succeeded ? output : nil
    }

    /// The body of `decompress`: the number of bytes written, or nil on malformed input or one past `out`.
    private static func decompress(_ input: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<UInt8>) -> Int?
    {
        let inEnd = input.count
        let outEnd = out.count
        var ip = 0
        var op = 0
        repeat {
            let control = Int(input[ip])
            ip += 1
            if control < 1 << 5 {
                let run = control + 1
                guard op + run <= outEnd, ip + run <= inEnd else { return nil }
                for index in 0..<run {
                    out[op + index] = input[ip + index]
                }
                ip += run
                op += run
            } else {
                var length = control >> 5
                var ref = op - ((control & 0x1f) << 8) - 1
                guard ip < inEnd else { return nil }
                if length == 7 {
                    length += Int(input[ip])
                    ip += 1
                    guard ip < inEnd else { return nil }
                }
                ref -= Int(input[ip])
                ip += 1
                guard op + length + 2 <= outEnd, ref >= 0 else { return nil }
                // Byte by byte: the source may overlap what this copy writes (a run of one repeated pattern).
                for index in 0..<(length + 2) {
                    out[op + index] = out[ref + index]
                }
                op += length + 2
            }
        } while ip < inEnd
        return op
    }
}
