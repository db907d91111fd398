import RESPCodec
import TransactionEngine

/// SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD and BITFIELD_RO: strings as arrays of bits, bit 0 the most
/// significant bit of the first byte (redis `src/bitops.c`, as redis-server 7.0.15 answers).
///
/// Arguments are checked in Redis's order, so the same bad request gets the same error. A write installs a new
/// string (a string is never changed in place) through `Transaction.changeString`, which for a long string copies
/// only the chunk it changes: SETBIT on a large bitmap costs a chunk, not the bitmap.
enum BitCommands {
    static let all: [CommandSpec] = [
        CommandSpec("setbit", arity: 4, flags: [.write], keys: (1, 1, 1)) { context, reply throws(CommandError) in
            try BitCommands.setBit(context, &reply)
        },
        CommandSpec("getbit", arity: 3, flags: [.readonly, .fast], keys: (1, 1, 1)) {
            context,
            reply throws(CommandError) in
            let offset = try BitCommands.offset(context, 2)
            let bit = context.read(1) { entry in
                entry.map { BitCommands.bit($0.value, at: offset) } ?? false
            }
            reply.integer(bit ? 1 : 0)
        },
        CommandSpec("bitcount", arity: -2, flags: [.readonly], keys: (1, 1, 1)) { context, reply throws(CommandError) in
            try BitCommands.count(context, &reply)
        },
        CommandSpec("bitpos", arity: -3, flags: [.readonly], keys: (1, 1, 1)) { context, reply throws(CommandError) in
            try BitCommands.position(context, &reply)
        },
        CommandSpec("bitop", arity: -4, flags: [.write], keys: (2, -1, 1)) { context, reply throws(CommandError) in
            try BitCommands.operation(context, &reply)
        },
        CommandSpec("bitfield", arity: -2, flags: [.write], keys: (1, 1, 1)) { context, reply throws(CommandError) in
            try BitCommands.field(context, &reply, readOnly: false)
        },
        CommandSpec("bitfield_ro", arity: -2, flags: [.readonly, .fast], keys: (1, 1, 1)) {
            context,
            reply throws(CommandError) in
            try BitCommands.field(context, &reply, readOnly: true)
        },
    ]

    static var empty: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: nil, count: 0) }
    static let badOffset = CommandError("bit offset is not an integer or out of range")

    /// A bit offset, as `getBitOffsetFromArgument`: an integer from 0 whose byte lies below `proto-max-bulk-len`.
    /// With `fieldBits` (BITFIELD), `#n` means `n` times the field's width.
    static func offset(_ context: CommandContext, _ index: Int, fieldBits: Int = 0) throws(CommandError) -> UInt64 {
        let parsed: Int64? = context.withBytes(index) { bytes in
            if fieldBits > 0, bytes.first == UInt8(ascii: "#") {
                guard let count = RedisInteger.parse(UnsafeRawBufferPointer(rebasing: bytes.dropFirst())) else {
                    return nil
                }
                return count &* Int64(fieldBits)
            }
            return RedisInteger.parse(bytes)
        }
        guard let offset = parsed, offset >= 0, offset >> 3 < context.stringLimit else {
            throw BitCommands.badOffset
        }
        return UInt64(offset)
    }

    @inline(__always) static func bit(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) -> Bool {
        let byte = offset >> 3
        guard byte < UInt64(bytes.count) else { return false }
        return bytes[Int(byte)] & (0x80 >> UInt8(offset & 7)) != 0
    }

    /// Bit `offset` of a stored string; bits past its end are 0.
    @inline(__always) static func bit(_ value: Value, at offset: UInt64) -> Bool {
        let byte = offset >> 3
        guard byte < UInt64(value.count) else { return false }
        return value.byte(at: Int(byte)) & (0x80 >> UInt8(offset & 7)) != 0
    }

    /// SETBIT key offset value: the offset is checked first, then the bit; answers the bit's old value. The string
    /// grows with zero bytes to reach the offset and keeps its TTL.
    static func setBit(_ context: CommandContext, _ reply: inout RESPReplyWriter) throws(CommandError) {
        let offset = try BitCommands.offset(context, 2)
        guard let value = context.withBytes(3, { RedisInteger.parse($0) }), value & ~1 == 0 else {
            throw CommandError("bit is not an integer or out of range")
        }
        let old = context.write(1) { tx, key -> Bool in
            let current = tx.get(key)?.value
            let length = current?.count ?? 0
            let old = current.map { BitCommands.bit($0, at: offset) } ?? false
            let byte = Int(offset >> 3)
            // As Redis 7.0: a bit already so, in a string long enough, is no change (no write, WATCH holds).
            if byte < length && old == (value == 1) { return old }
            // The string grows with zero bytes to reach the bit and keeps its TTL (Redis changes it in place).
            tx.changeString(
                key,
                current: current,
                count: max(length, byte + 1),
                changed: byte..<byte + 1,
                expiry: .keep,
                encoding: .raw
            ) { bytes in
                let mask: UInt8 = 0x80 >> UInt8(offset & 7)
                bytes[0] = value == 1 ? bytes[0] | mask : bytes[0] & ~mask
            }
            return old
        }
        reply.integer(old ? 1 : 0)
    }

    /// The range BITCOUNT and BITPOS look at, in bytes, with the masks of the bits outside it in its first and last
    /// byte (BIT ranges), as `bitcountCommand` computes them; nil when it is empty.
    struct ByteRange {
        var start: Int
        var end: Int
        var firstMask: UInt8 = 0
        var lastMask: UInt8 = 0

        /// `start` and `end` already counted from the end when negative, in bits when `inBits`, over a string of
        /// `length` bytes.
        init?(start first: Int64, end last: Int64, inBits: Bool, length: Int) {
            var total = Int64(length)
            if inBits { total <<= 3 }
            var start = first
            var end = last
            if start < 0 { start = total + start }
            if end < 0 { end = total + end }
            if start < 0 { start = 0 }
            if end < 0 { end = 0 }
            if end >= total { end = total - 1 }
            guard start <= end else { return nil }
            if inBits {
                self.firstMask = ~UInt8(truncatingIfNeeded: (1 << (8 - (start & 7))) - 1)
                self.lastMask = UInt8(truncatingIfNeeded: (1 << (7 - (end & 7))) - 1)
                start >>= 3
                end >>= 3
            }
            self.start = Int(start)
            self.end = Int(end)
        }
    }

    /// BYTE or BIT, the unit of a BITCOUNT or BITPOS range: true for BIT, nil for anything else.
    static func unitIsBit(_ context: CommandContext, _ index: Int) -> Bool? {
        if context.argument(index, is: "BIT") { return true }
        if context.argument(index, is: "BYTE") { return false }
        return nil
    }

    /// BITCOUNT key [start end [BYTE | BIT]]. As in Redis 7.0 the key is looked up first: a missing key answers 0
    /// whatever the other arguments.
    static func count(_ context: CommandContext, _ reply: inout RESPReplyWriter) throws(CommandError) {
        let argumentCount = context.arguments.count
        let result: Result<Int64, CommandError> = context.read(1) { entry in
            guard let entry else { return .success(0) }
            let value = entry.value
            let range: ByteRange?
            switch argumentCount {
            case 2:
                range = ByteRange(start: 0, end: -1, inBits: false, length: value.count)
            case 4, 5:
                guard let first = RedisInteger.parse(context.arguments.bytes(2)),
                    let last = RedisInteger.parse(context.arguments.bytes(3))
                else { return .failure(.notInteger) }
                if first < 0 && last < 0 && first > last { return .success(0) }
                var inBits = false
                if argumentCount == 5 {
                    guard let unit = BitCommands.unitIsBit(context, 4) else { return .failure(.syntax) }
                    inBits = unit
                }
                range = ByteRange(start: first, end: last, inBits: inBits, length: value.count)
            default:
                return .failure(.syntax)
            }
            guard let range else { return .success(0) }
            var count = 0
            value.forEachSpan(in: range.start..<range.end + 1) { bytes in
                var index = 0
                while index + 8 <= bytes.count {
                    count += bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self).nonzeroBitCount
                    index += 8
                }
                while index < bytes.count {
                    count += bytes[index].nonzeroBitCount
                    index += 1
                }
            }
            count -= (value.byte(at: range.start) & range.firstMask).nonzeroBitCount
            count -= (value.byte(at: range.end) & range.lastMask).nonzeroBitCount
            return .success(Int64(count))
        }
        reply.integer(try result.get())
    }

    /// BITPOS key bit [start [end [BYTE | BIT]]]. A missing key is all zero bits: 0 for a 0, -1 for a 1. Without
    /// an end, the string is taken as followed by zero bits, so a 0 searched past its end is found just after it.
    static func position(_ context: CommandContext, _ reply: inout RESPReplyWriter) throws(CommandError) {
        guard let bit = RedisInteger.parse(context.arguments.bytes(2)) else { throw .notInteger }
        guard bit == 0 || bit == 1 else { throw CommandError("The bit argument must be 1 or 0.") }
        let argumentCount = context.arguments.count
        let result: Result<Int64, CommandError> = context.read(1) { entry in
            guard let entry else { return .success(bit == 1 ? -1 : 0) }
            let value = entry.value
            var endGiven = false
            let range: ByteRange?
            switch argumentCount {
            case 3:
                range = ByteRange(start: 0, end: -1, inBits: false, length: value.count)
            case 4, 5, 6:
                guard let first = RedisInteger.parse(context.arguments.bytes(3)) else { return .failure(.notInteger) }
                var inBits = false
                if argumentCount == 6 {
                    guard let unit = BitCommands.unitIsBit(context, 5) else { return .failure(.syntax) }
                    inBits = unit
                }
                let last: Int64
                if argumentCount >= 5 {
                    guard let given = RedisInteger.parse(context.arguments.bytes(4)) else {
                        return .failure(.notInteger)
                    }
                    last = given
                    endGiven = true
                } else {
                    last = inBits ? (Int64(value.count) << 3) + 7 : Int64(value.count) - 1
                }
                range = ByteRange(start: first, end: last, inBits: inBits, length: value.count)
            default:
                return .failure(.syntax)
            }
            guard let range else { return .success(-1) }
            // The bits outside the range in its edge bytes are made to differ from the bit searched for.
            let wanted: UInt8 = bit == 1 ? 0xFF : 0x00
            var found: Int64? = nil
            var index = range.start
            // A word of eight bytes none of which can hold the bit (all 0 for a 1, all 1 for a 0).
            let barren: UInt64 = bit == 1 ? 0 : ~0
            value.forEachSpan(in: range.start..<range.end + 1) { bytes in
                guard found == nil else { return }
                var position = 0
                while position < bytes.count {
                    // Barren words are skipped eight bytes at a time (the edge bytes' masks only make bits barren).
                    if position + 8 <= bytes.count
                        && bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self) == barren
                    {
                        position += 8
                        index += 8
                        continue
                    }
                    var byte = bytes[position]
                    var outside: UInt8 = 0
                    if index == range.start { outside |= range.firstMask }
                    if index == range.end { outside |= range.lastMask }
                    byte = bit == 1 ? byte & ~outside : byte | outside
                    let differing = ~(byte ^ wanted)
                    if differing != 0 {
                        found = Int64(index) * 8 + Int64(differing.leadingZeroBitCount)
                        return
                    }
                    position += 1
                    index += 1
                }
            }
            if let found { return .success(found) }
            // Not found: no 1 anywhere; a 0 is found just past the range unless the range's end was given.
            if bit == 1 || endGiven { return .success(-1) }
            return .success(Int64(range.end + 1) * 8)
        }
        reply.integer(try result.get())
    }

    /// BITOP AND | OR | XOR | NOT destkey key [key ...]: a missing key is an empty string, a shorter one is padded
    /// with zero bytes. The result replaces destkey (without its TTL), or deletes it when every source is empty;
    /// answers its length.
    static func operation(_ context: CommandContext, _ reply: inout RESPReplyWriter) throws(CommandError) {
        enum Operation { case and, or, xor, not }
        let operation: Operation
        if context.argument(1, is: "AND") {
            operation = .and
        } else if context.argument(1, is: "OR") {
            operation = .or
        } else if context.argument(1, is: "XOR") {
            operation = .xor
        } else if context.argument(1, is: "NOT") {
            operation = .not
        } else {
            throw .syntax
        }
        if operation == .not && context.arguments.count != 4 {
            throw CommandError("BITOP NOT must be called with a single source key.")
        }
        var found = 0
        let length = context.transact(2..<context.arguments.count) { tx, keys -> Int in
            // Flat strings are read in place; a chunked one is copied whole first (the result needs all of it).
            var copies: [UnsafeMutableRawBufferPointer] = []
            defer { for copy in copies { copy.deallocate() } }
            found = 0
            let sources = keys.dropFirst().map { key -> UnsafeRawBufferPointer in
                guard let value = tx.get(key)?.value else { return BitCommands.empty }
                found += 1
                if let flat = value.flatBytes { return flat }
                let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: value.count, alignment: 16)
                value.copyBytes(0..<value.count, to: copy.baseAddress!)
                copies.append(copy)
                return UnsafeRawBufferPointer(copy)
            }
            let length = sources.map(\.count).max() ?? 0
            guard length > 0 else {
                _ = tx.delete(keys[0])
                return 0
            }
            tx.setString(keys[0], count: length, expiry: .none, encoding: .raw) { out in
                // The first source, padded with zeros, then each other one combined into it a word at a time.
                let first = sources[0]
                if first.count > 0 { out.baseAddress!.copyMemory(from: first.baseAddress!, byteCount: first.count) }
                if length > first.count {
                    (out.baseAddress! + first.count).initializeMemory(
                        as: UInt8.self,
                        repeating: 0,
                        count: length - first.count
                    )
                }
                switch operation {
                case .not: BitCommands.combine(out, with: nil) { word, _ in ~word }
                case .and:
                    for source in sources.dropFirst() {
                        BitCommands.combine(out, with: source) { $0 & $1 }
                        // Past a shorter source's end, AND meets its zero padding.
                        if source.count < length {
                            (out.baseAddress! + source.count).initializeMemory(
                                as: UInt8.self,
                                repeating: 0,
                                count: length - source.count
                            )
                        }
                    }
                case .or: for source in sources.dropFirst() { BitCommands.combine(out, with: source) { $0 | $1 } }
                case .xor: for source in sources.dropFirst() { BitCommands.combine(out, with: source) { $0 ^ $1 } }
                }
            }
            return length
        }
        context.countLookups(found: found, of: context.arguments.count - 3)
        reply.integer(Int64(length))
    }

    /// Sets each byte of `out` within `source`'s length (all of it when `source` is nil) to `operation` of it and
    /// the source's byte, eight bytes at a time.
    @inline(__always) static func combine(
        _ out: UnsafeMutableRawBufferPointer,
        with source: UnsafeRawBufferPointer?,
        _ operation: (UInt64, UInt64) -> UInt64
    ) {
        let count = min(out.count, source?.count ?? out.count)
        var index = 0
        while index + 8 <= count {
            let other = source?.loadUnaligned(fromByteOffset: index, as: UInt64.self) ?? 0
            let word = operation(out.loadUnaligned(fromByteOffset: index, as: UInt64.self), other)
            out.storeBytes(of: word, toByteOffset: index, as: UInt64.self)
            index += 8
        }
        while index < count {
            let other = UInt64(source?[index] ?? 0)
            out[index] = UInt8(truncatingIfNeeded: operation(UInt64(out[index]), other))
            index += 1
        }
    }

    /// What happens when BITFIELD's SET or INCRBY goes past its type's range (OVERFLOW).
    enum Overflow { case wrap, saturate, fail }

    /// One BITFIELD operation.
    struct FieldOperation {
        enum Kind { case get, set, incrementBy }
        var kind: Kind
        var signed: Bool
        var bits: Int
        var offset: UInt64
        var value: Int64
        var overflow: Overflow
    }

    /// BITFIELD key [GET type offset | SET type offset value | INCRBY type offset increment | OVERFLOW WRAP|SAT|FAIL]
    /// ... and BITFIELD_RO key [GET type offset ...], as `bitfieldGeneric`: every operation is parsed before any
    /// runs; the string grows (and a missing key is made) to the furthest bit a SET or INCRBY reaches, even when
    /// OVERFLOW FAIL then writes nothing.
    static func field(_ context: CommandContext, _ reply: inout RESPReplyWriter, readOnly: Bool) throws(CommandError) {
        var operations: [FieldOperation] = []
        var overflow = Overflow.wrap
        var writes = false
        var highest: UInt64 = 0
        let count = context.arguments.count
        var index = 2
        while index < count {
            let remaining = count - index - 1
            let kind: FieldOperation.Kind
            if context.argument(index, is: "GET") && remaining >= 2 {
                kind = .get
            } else if context.argument(index, is: "SET") && remaining >= 3 {
                kind = .set
            } else if context.argument(index, is: "INCRBY") && remaining >= 3 {
                kind = .incrementBy
            } else if context.argument(index, is: "OVERFLOW") && remaining >= 1 {
                if context.argument(index + 1, is: "WRAP") {
                    overflow = .wrap
                } else if context.argument(index + 1, is: "SAT") {
                    overflow = .saturate
                } else if context.argument(index + 1, is: "FAIL") {
                    overflow = .fail
                } else {
                    throw CommandError("Invalid OVERFLOW type specified")
                }
                index += 2
                continue
            } else {
                throw .syntax
            }
            let (signed, bits) = try BitCommands.fieldType(context, index + 1)
            let offset = try BitCommands.offset(context, index + 2, fieldBits: bits)
            var value: Int64 = 0
            if kind != .get {
                writes = true
                highest = max(highest, offset + UInt64(bits) - 1)
                guard let parsed = RedisInteger.parse(context.arguments.bytes(index + 3)) else { throw .notInteger }
                value = parsed
            }
            operations.append(
                FieldOperation(kind: kind, signed: signed, bits: bits, offset: offset, value: value, overflow: overflow)
            )
            index += kind == .get ? 3 : 4
        }
        if !writes {
            context.read(1) { entry in
                reply.arrayHeader(operations.count)
                for operation in operations {
                    let raw = BitCommands.unsignedField(operation.offset, operation.bits) { position in
                        entry.map { BitCommands.bit($0.value, at: position) } ?? false
                    }
                    reply.integer(operation.signed ? BitCommands.signExtended(raw, bits: operation.bits) : Int64(raw))
                }
            }
            return
        }
        if readOnly { throw CommandError("BITFIELD_RO only supports the GET subcommand") }
        let mark = reply.buffer.writerIndex
        context.write(1) { tx, key in
            // A re-run (inside a retried EXEC) writes the reply again.
            reply.buffer.moveWriterIndex(to: mark)
            reply.arrayHeader(operations.count)
            let current = tx.get(key)?.value
            let length = current?.count ?? 0
            // The operations run on a copy of the bytes the writes reach (the window; a GET reads the string itself
            // outside it), the string taken as grown to the furthest bit written. It is installed only if an
            // operation changed a field (even one a later operation changes back, as Redis counts them) or the
            // string grew, so a write of the value already there is no change (no write, WATCH holds), as in Redis
            // 7.0. (Redis grows the string even when OVERFLOW FAIL then writes nothing, without signalling it; Weft
            // installs the longer string, which a WATCH sees.)
            var changed = false
            let needed = max(length, Int(highest >> 3) + 1)
            let writes = operations.filter { $0.kind != .get }
            let windowStart = writes.map { Int($0.offset >> 3) }.min()!
            let windowEnd = writes.map { Int(($0.offset + UInt64($0.bits) - 1) >> 3) + 1 }.max()!
            var scratch = [UInt8](repeating: 0, count: windowEnd - windowStart)
            if let current, windowStart < length {
                scratch.withUnsafeMutableBytes { out in
                    current.copyBytes(windowStart..<min(windowEnd, length), to: out.baseAddress!)
                }
            }
            let shift = UInt64(windowStart) << 3
            scratch.withUnsafeMutableBytes { out in
                let bytes = UnsafeRawBufferPointer(out)
                for operation in operations {
                    let raw = BitCommands.unsignedField(operation.offset, operation.bits) { position in
                        let byte = Int(position >> 3)
                        guard byte >= windowStart && byte < windowEnd else {
                            return current.map { BitCommands.bit($0, at: position) } ?? false
                        }
                        return BitCommands.bit(bytes, at: position - shift)
                    }
                    switch operation.kind {
                    case .get:
                        reply.integer(
                            operation.signed ? BitCommands.signExtended(raw, bits: operation.bits) : Int64(raw)
                        )
                    case .set, .incrementBy:
                        guard let (stored, answer) = BitCommands.apply(operation, to: raw) else {
                            reply.null()
                            continue
                        }
                        let mask: UInt64 = operation.bits == 64 ? .max : (1 << UInt64(operation.bits)) - 1
                        if stored & mask != raw { changed = true }
                        BitCommands.setUnsignedField(out, operation.offset - shift, operation.bits, stored)
                        reply.integer(answer)
                    }
                }
            }
            if changed || needed != length {
                tx.changeString(
                    key,
                    current: current,
                    count: needed,
                    changed: windowStart..<windowEnd,
                    expiry: .keep,
                    encoding: .raw
                ) { out in
                    scratch.withUnsafeBytes { out.copyMemory(from: $0) }
                }
            }
        }
    }

    /// A BITFIELD type: `i1` to `i64`, `u1` to `u63`.
    static func fieldType(_ context: CommandContext, _ index: Int) throws(CommandError) -> (signed: Bool, bits: Int) {
        let bytes = context.arguments.bytes(index)
        let signed: Bool
        switch bytes.first {
        case UInt8(ascii: "i"): signed = true
        case UInt8(ascii: "u"): signed = false
        default: throw BitCommands.badType
        }
        guard let bits = RedisInteger.parse(UnsafeRawBufferPointer(rebasing: bytes.dropFirst())), bits >= 1,
            bits <= (signed ? 64 : 63)
        else { throw BitCommands.badType }
        return (signed, Int(bits))
    }

    static let badType = CommandError(
        "Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."
    )

    /// SET or INCRBY on a field holding `raw`: the bits to store and the answer (the old value for SET, the new one
    /// for INCRBY), or nil when OVERFLOW FAIL refuses it.
    static func apply(_ operation: FieldOperation, to raw: UInt64) -> (stored: UInt64, answer: Int64)? {
        let bits = operation.bits
        if operation.signed {
            let old = BitCommands.signExtended(raw, bits: bits)
            let (value, increment) = operation.kind == .set ? (operation.value, Int64(0)) : (old, operation.value)
            let (overflowed, limit) = BitCommands.signedOverflow(value, increment, bits: bits, operation.overflow)
            if overflowed && operation.overflow == .fail { return nil }
            let new = overflowed ? limit : value &+ increment
            return (UInt64(bitPattern: new), operation.kind == .set ? old : new)
        }
        let (value, increment) =
            operation.kind == .set ? (UInt64(bitPattern: operation.value), Int64(0)) : (raw, operation.value)
        let (overflowed, limit) = BitCommands.unsignedOverflow(value, increment, bits: bits, operation.overflow)
        if overflowed && operation.overflow == .fail { return nil }
        let new = overflowed ? limit : value &+ UInt64(bitPattern: increment)
        return (new, operation.kind == .set ? Int64(bitPattern: raw) : Int64(bitPattern: new))
    }

    /// `checkUnsignedBitfieldOverflow`: whether `value + increment` leaves a `bits`-wide unsigned field, and then
    /// what to store (wrapped or saturated).
    static func unsignedOverflow(
        _ value: UInt64,
        _ increment: Int64,
        bits: Int,
        _ overflow: Overflow
    ) -> (Bool, UInt64) {
        let maximum: UInt64 = bits == 64 ? .max : (1 << UInt64(bits)) - 1
        let maximumIncrement = Int64(bitPattern: maximum &- value)
        let minimumIncrement = Int64(bitPattern: 0 &- value)
        let wrapped = (value &+ UInt64(bitPattern: increment)) & ~(UInt64.max << UInt64(bits))
        if value > maximum || (increment > 0 && increment > maximumIncrement) {
            return (true, overflow == .wrap ? wrapped : maximum)
        }
        if increment < 0 && increment < minimumIncrement {
            return (true, overflow == .wrap ? wrapped : 0)
        }
        return (false, 0)
    }

    /// `checkSignedBitfieldOverflow`: the same for a signed field.
    static func signedOverflow(_ value: Int64, _ increment: Int64, bits: Int, _ overflow: Overflow) -> (Bool, Int64) {
        let maximum: Int64 = bits == 64 ? .max : (1 << Int64(bits - 1)) - 1
        let minimum = -maximum - 1
        let maximumIncrement = Int64(bitPattern: UInt64(bitPattern: maximum) &- UInt64(bitPattern: value))
        let minimumIncrement = minimum &- value
        var sum = UInt64(bitPattern: value) &+ UInt64(bitPattern: increment)
        if bits < 64 {
            let mask = UInt64.max << UInt64(bits)
            sum = sum & (1 << UInt64(bits - 1)) != 0 ? sum | mask : sum & ~mask
        }
        let wrapped = Int64(bitPattern: sum)
        if value > maximum || (bits != 64 && increment > maximumIncrement)
            || (value >= 0 && increment > 0 && increment > maximumIncrement)
        {
            return (true, overflow == .wrap ? wrapped : maximum)
        }
        if value < minimum || (bits != 64 && increment < minimumIncrement)
            || (value < 0 && increment < 0 && increment < minimumIncrement)
        {
            return (true, overflow == .wrap ? wrapped : minimum)
        }
        return (false, 0)
    }

    /// The `bits` bits from bit `offset`, most significant first, each read by `bit`.
    @inline(__always) static func unsignedField(_ offset: UInt64, _ bits: Int, _ bit: (UInt64) -> Bool) -> UInt64 {
        var field: UInt64 = 0
        for index in 0..<UInt64(bits) {
            field = field << 1 | (bit(offset + index) ? 1 : 0)
        }
        return field
    }

    /// A `bits`-wide two's complement field read as a signed integer.
    static func signExtended(_ raw: UInt64, bits: Int) -> Int64 {
        guard bits < 64, raw & (1 << UInt64(bits - 1)) != 0 else { return Int64(bitPattern: raw) }
        return Int64(bitPattern: raw | (UInt64.max << UInt64(bits)))
    }

    /// Writes the low `bits` bits of `value` from bit `offset` (which the string reaches).
    static func setUnsignedField(_ bytes: UnsafeMutableRawBufferPointer, _ offset: UInt64, _ bits: Int, _ value: UInt64)
    {
        for index in 0..<UInt64(bits) {
            let position = offset + index
            let mask: UInt8 = 0x80 >> UInt8(position & 7)
            let byte = Int(position >> 3)
            let set = value & (1 << (UInt64(bits) - 1 - index)) != 0
            bytes[byte] = set ? bytes[byte] | mask : bytes[byte] & ~mask
        }
    }
}
