import NIOCore
import RESPCodec
import TransactionEngine

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// GET, SET, SETNX, SETEX, PSETEX, GETSET, GETEX, GETDEL, MGET, MSET, MSETNX, INCR, DECR, INCRBY, DECRBY,
/// INCRBYFLOAT, APPEND, STRLEN, GETRANGE, SUBSTR, SETRANGE, LCS (redis `src/t_string.c`).
///
/// A handler validates everything that can fail before it writes any reply. Writes go through
/// `CommandContext.write` (one key) or `transact` (several), so each command also runs inside EXEC.
package enum StringCommands {
    static let all: [CommandSpec] = [
        CommandSpec("get", arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1)) { context, reply in
            context.read(1) { entry in
                if let entry { reply.bulk(entry.value) } else { reply.null() }
            }
        },
        CommandSpec("set", arity: -3, flags: [.write], keys: (1, 1, 1)) { context, reply throws(CommandError) in
            try StringCommands.set(context, &reply)
        },
        CommandSpec("setnx", arity: 3, flags: [.write, .fast], keys: (1, 1, 1)) { context, reply in
            let stored = context.write(1) { tx, key -> Bool in
                guard tx.get(key) == nil else { return false }
                context.withBytes(2) { value in tx.setString(key, value) }
                return true
            }
            reply.integer(stored ? 1 : 0)
        },
        CommandSpec("getdel", arity: 2, flags: [.write, .fast], keys: (1, 1, 1)) { context, reply in
            let found = context.write(1) { tx, key -> Bool in
                guard let entry = tx.get(key) else {
                    reply.null()
                    return false
                }
                reply.bulk(entry.value)
                tx.delete(key)
                return true
            }
            context.countLookups(found: found ? 1 : 0, of: 1)
        },
        CommandSpec("mget", arity: -2, flags: [.readonly, .fast], keys: (1, -1, 1)) { context, reply in
            let count = context.arguments.count - 1
            let mark = reply.buffer.writerIndex
            var hits = 0
            context.transact(1...count) { tx, keys in
                // A re-run writes the reply again from the start.
                reply.buffer.moveWriterIndex(to: mark)
                hits = 0
                reply.arrayHeader(count)
                for key in keys {
                    if let entry = tx.get(key) {
                        hits += 1
                        reply.bulk(entry.value)
                    } else {
                        reply.null()
                    }
                }
            }
            context.withStatistics { $0.countLookups(hits: hits, misses: count - hits) }
        },
        CommandSpec("mset", arity: -3, flags: [.write], keys: (1, -1, 2)) { context, reply throws(CommandError) in
            guard context.arguments.count % 2 == 1 else { throw .wrongArity("mset") }
            context.transact(stride(from: 1, to: context.arguments.count, by: 2)) { tx, keys in
                for (i, key) in keys.enumerated() {
                    context.withBytes(2 + 2 * i) { value in tx.setString(key, value) }
                }
            }
            reply.simple("OK")
        },
        CommandSpec("incr", arity: 2, flags: [.write, .fast], keys: (1, 1, 1)) { context, reply throws(CommandError) in
            reply.integer(try StringCommands.increment(context, by: 1))
        },
        CommandSpec("decr", arity: 2, flags: [.write, .fast], keys: (1, 1, 1)) { context, reply throws(CommandError) in
            reply.integer(try StringCommands.increment(context, by: -1))
        },
        CommandSpec("incrby", arity: 3, flags: [.write, .fast], keys: (1, 1, 1)) {
            context,
            reply throws(CommandError) in
            let delta = try context.integer(2)
            reply.integer(try StringCommands.increment(context, by: delta))
        },
        CommandSpec("decrby", arity: 3, flags: [.write, .fast], keys: (1, 1, 1)) {
            context,
            reply throws(CommandError) in
            let delta = try context.integer(2)
            guard delta != Int64.min else { throw CommandError("decrement would overflow") }
            reply.integer(try StringCommands.increment(context, by: -delta))
        },
        CommandSpec("append", arity: 3, flags: [.write, .fast], keys: (1, 1, 1)) {
            context,
            reply throws(CommandError) in
            let length: Result<Int, CommandError> = context.write(1) { tx, key in
                context.withBytes(2) { suffix in
                    let current = tx.get(key)?.value
                    let length = current?.count ?? 0
                    // Redis checks the limit only when it appends to an existing string.
                    if current != nil && context.checkedLength(Int64(length), suffix.count) == nil {
                        return .failure(StringCommands.stringTooLong)
                    }
                    let total = length + suffix.count
                    // Redis appends to an existing string in place, which makes it raw.
                    let encoding: StringEncoding = current == nil ? .fromContent : .raw
                    tx.changeString(
                        key,
                        current: current,
                        count: total,
                        changed: length..<total,
                        expiry: .keep,
                        encoding: encoding
                    ) { out in
                        if !suffix.isEmpty { out.copyMemory(from: suffix) }
                    }
                    return .success(total)
                }
            }
            reply.integer(Int64(try length.get()))
        },
        CommandSpec("strlen", arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1)) { context, reply in
            let length = context.read(1) { $0?.value.count ?? 0 }
            reply.integer(Int64(length))
        },
        CommandSpec("setex", arity: 4, flags: [.write], keys: (1, 1, 1)) { context, reply throws(CommandError) in
            try StringCommands.setWithExpiry(context, &reply, name: "setex", unit: 1000)
        },
        CommandSpec("psetex", arity: 4, flags: [.write], keys: (1, 1, 1)) { context, reply throws(CommandError) in
            try StringCommands.setWithExpiry(context, &reply, name: "psetex", unit: 1)
        },
        CommandSpec("getset", arity: 3, flags: [.write, .fast], keys: (1, 1, 1)) { context, reply in
            let found = context.write(1) { tx, key -> Bool in
                let old = tx.get(key)
                if let old { reply.bulk(old.value) } else { reply.null() }
                context.withBytes(2) { value in tx.setString(key, value) }
                return old != nil
            }
            context.countLookups(found: found ? 1 : 0, of: 1)
        },
        CommandSpec("getex", arity: -2, flags: [.write, .fast], keys: (1, 1, 1)) {
            context,
            reply throws(CommandError) in
            try StringCommands.getex(context, &reply)
        },
        CommandSpec("msetnx", arity: -3, flags: [.write], keys: (1, -1, 2)) { context, reply throws(CommandError) in
            guard context.arguments.count % 2 == 1 else { throw .wrongArity("msetnx") }
            let stored = context.transact(stride(from: 1, to: context.arguments.count, by: 2)) { tx, keys -> Bool in
                // All or nothing: one existing key and nothing is set.
                for key in keys where tx.exists(key) { return false }
                for (i, key) in keys.enumerated() {
                    context.withBytes(2 + 2 * i) { value in tx.setString(key, value) }
                }
                return true
            }
            reply.integer(stored ? 1 : 0)
        },
        CommandSpec("incrbyfloat", arity: 3, flags: [.write, .fast], keys: (1, 1, 1)) {
            context,
            reply throws(CommandError) in
            try StringCommands.incrementFloat(context, &reply)
        },
        CommandSpec("getrange", arity: 4, flags: [.readonly], keys: (1, 1, 1)) { context, reply throws(CommandError) in
            try StringCommands.range(context, &reply)
        },
        CommandSpec("substr", arity: 4, flags: [.readonly], keys: (1, 1, 1)) { context, reply throws(CommandError) in
            try StringCommands.range(context, &reply)
        },
        CommandSpec("setrange", arity: 4, flags: [.write], keys: (1, 1, 1)) { context, reply throws(CommandError) in
            try StringCommands.setRange(context, &reply)
        },
        CommandSpec("lcs", arity: -3, flags: [.readonly], keys: (1, 2, 1)) { context, reply throws(CommandError) in
            try StringCommands.longestCommonSubsequence(context, &reply)
        },
    ]

    /// SET key value [NX | XX] [GET] [EX s | PX ms | EXAT s | PXAT ms | KEEPTTL], as `setGenericCommand` parses it.
    ///
    /// As in Redis, an option may repeat (`NX NX`, `EX 1 EX 2`: the last time wins) but not contradict another, and
    /// only the last expire time is parsed, after every option is known.
    static func set(_ context: CommandContext, _ reply: inout RESPReplyWriter) throws(CommandError) {
        enum Condition { case always, ifMissing, ifPresent }
        enum ExpiryOption { case none, relative(Int64), absolute(Int64), keep }
        var condition = Condition.always
        var returnOld = false
        var keepTTL = false
        var unit: ExpiryUnit? = nil
        var amountIndex = 0
        var index = 3
        let count = context.arguments.count
        while index < count {
            let hasNext = index + 1 < count
            if context.argument(index, is: "NX"), condition != .ifPresent {
                condition = .ifMissing
            } else if context.argument(index, is: "XX"), condition != .ifMissing {
                condition = .ifPresent
            } else if context.argument(index, is: "GET") {
                returnOld = true
            } else if context.argument(index, is: "KEEPTTL"), unit == nil {
                keepTTL = true
            } else if hasNext, !keepTTL, let next = StringCommands.expiryUnit(context, index),
                unit == nil || unit == next
            {
                unit = next
                amountIndex = index + 1
                index += 1
            } else {
                throw .syntax
            }
            index += 1
        }
        var expiry = keepTTL ? ExpiryOption.keep : ExpiryOption.none
        if let unit {
            let milliseconds = try StringCommands.expireMilliseconds(context, amountIndex, unit, command: "set")
            expiry = unit.absolute ? .absolute(milliseconds) : .relative(milliseconds)
        }
        var found = false
        let outcome: Result<Void, CommandError> = context.write(1) { tx, key in
            context.withBytes(2) { value -> Result<Void, CommandError> in
                let old = tx.get(key)
                found = old != nil
                let proceed: Bool
                switch condition {
                case .always: proceed = true
                case .ifMissing: proceed = old == nil
                case .ifPresent: proceed = old != nil
                }
                let newExpiry: Expiry
                switch expiry {
                case .none: newExpiry = .none
                case .keep: newExpiry = .keep
                case .absolute(let at): newExpiry = .at(at)
                case .relative(let delta):
                    let (at, overflow) = tx.now.addingReportingOverflow(delta)
                    guard !overflow else { return .failure(.invalidExpire("set")) }
                    newExpiry = .at(at)
                }
                if returnOld {
                    if let old { reply.bulk(old.value) } else { reply.null() }
                }
                if proceed {
                    tx.setString(key, value, expiry: newExpiry)
                }
                if !returnOld {
                    if proceed { reply.simple("OK") } else { reply.null() }
                }
                return .success(())
            }
        }
        // SET ... GET reads as GET does (a keyspace hit or miss); the other forms look the key up for writing.
        if returnOld { context.countLookups(found: found ? 1 : 0, of: 1) }
        if case .failure(let error) = outcome { throw error }
    }

    /// An expire option's unit: milliseconds per unit and whether the time is absolute.
    struct ExpiryUnit: Equatable {
        var multiplier: Int64
        var absolute: Bool
    }

    /// EX, PX, EXAT, PXAT: the unit of the option at `index`, or nil for another argument.
    static func expiryUnit(_ context: CommandContext, _ index: Int) -> ExpiryUnit? {
        if context.argument(index, is: "EX") { return ExpiryUnit(multiplier: 1000, absolute: false) }
        if context.argument(index, is: "PX") { return ExpiryUnit(multiplier: 1, absolute: false) }
        if context.argument(index, is: "EXAT") { return ExpiryUnit(multiplier: 1000, absolute: true) }
        if context.argument(index, is: "PXAT") { return ExpiryUnit(multiplier: 1, absolute: true) }
        return nil
    }

    /// The expire time at `index` in milliseconds, as the first half of Redis's `getExpireMillisecondsOrReply`
    /// checks it: an integer, above 0, and not overflowing when seconds become milliseconds. The caller adds the
    /// transaction's time to a relative one, and an overflow there is the same "invalid expire time" error.
    static func expireMilliseconds(
        _ context: CommandContext,
        _ index: Int,
        _ unit: ExpiryUnit,
        command: String
    ) throws(CommandError) -> Int64 {
        let amount = try context.integer(index)
        guard amount > 0, amount <= Int64.max / unit.multiplier else { throw .invalidExpire(command) }
        return amount * unit.multiplier
    }

    /// INCR, DECR, INCRBY, DECRBY: the stored string must be a Redis integer; the TTL is kept.
    static func increment(_ context: CommandContext, by delta: Int64) throws(CommandError) -> Int64 {
        let result: Result<Int64, CommandError> = context.write(1) { tx, key in
            var current: Int64 = 0
            if let entry = tx.get(key) {
                // A chunked string is far too long to be a number.
                guard let parsed = entry.value.flatBytes.flatMap(RedisInteger.parse) else {
                    return .failure(.notInteger)
                }
                current = parsed
            }
            let (next, overflow) = current.addingReportingOverflow(delta)
            guard !overflow else { return .failure(.overflow) }
            var digits = String(next)
            digits.withUTF8 { tx.setString(key, UnsafeRawBufferPointer($0), expiry: .keep) }
            return .success(next)
        }
        return try result.get()
    }

    /// SETEX key seconds value and PSETEX key milliseconds value: SET with EX or PX (`setexCommand`).
    static func setWithExpiry(
        _ context: CommandContext,
        _ reply: inout RESPReplyWriter,
        name: String,
        unit multiplier: Int64
    ) throws(CommandError) {
        let unit = ExpiryUnit(multiplier: multiplier, absolute: false)
        let milliseconds = try StringCommands.expireMilliseconds(context, 2, unit, command: name)
        let stored = context.write(1) { tx, key -> Bool in
            let (at, overflow) = tx.now.addingReportingOverflow(milliseconds)
            guard !overflow else { return false }
            context.withBytes(3) { value in tx.setString(key, value, expiry: .at(at)) }
            return true
        }
        guard stored else { throw .invalidExpire(name) }
        reply.simple("OK")
    }

    /// GETEX key [EX s | PX ms | EXAT s | PXAT ms | PERSIST], as `getexCommand` runs it: options first (a syntax
    /// error even for a missing key), then the key (missing: null, whatever the expire time), then the expire time,
    /// then the reply, then the change. An EXAT or PXAT not in the future deletes the key after the reply.
    static func getex(_ context: CommandContext, _ reply: inout RESPReplyWriter) throws(CommandError) {
        var persist = false
        var unit: ExpiryUnit? = nil
        var amountIndex = 0
        var index = 2
        let count = context.arguments.count
        while index < count {
            if context.argument(index, is: "PERSIST"), unit == nil {
                persist = true
            } else if index + 1 < count, !persist, let next = StringCommands.expiryUnit(context, index),
                unit == nil || unit == next
            {
                unit = next
                amountIndex = index + 1
                index += 1
            } else {
                throw .syntax
            }
            index += 1
        }
        // Parsed now, reported only if the key exists.
        var milliseconds: Result<Int64, CommandError> = .success(0)
        if let unit {
            milliseconds = Result { () throws(CommandError) in
                try StringCommands.expireMilliseconds(context, amountIndex, unit, command: "getex")
            }
        }
        var found = false
        let outcome: Result<Void, CommandError> = context.write(1) { tx, key in
            guard let entry = tx.get(key) else {
                found = false
                reply.null()
                return .success(())
            }
            found = true
            var at: Int64 = 0
            if let unit {
                switch milliseconds {
                case .failure(let error): return .failure(error)
                case .success(let amount):
                    if unit.absolute {
                        at = amount
                    } else {
                        let (sum, overflow) = tx.now.addingReportingOverflow(amount)
                        guard !overflow else { return .failure(.invalidExpire("getex")) }
                        at = sum
                    }
                }
            }
            reply.bulk(entry.value)
            if let unit {
                if unit.absolute && at <= tx.now {
                    tx.delete(key)
                } else {
                    tx.setExpiry(key, .at(at))
                }
            } else if persist && entry.expiresAt != 0 {
                tx.setExpiry(key, .none)
            }
            return .success(())
        }
        context.countLookups(found: found ? 1 : 0, of: 1)
        if case .failure(let error) = outcome { throw error }
    }

    /// INCRBYFLOAT key increment: the stored string and the increment are Redis `long double`s (see
    /// ``RedisFloat``); the sum must be finite; the key keeps its TTL. The reply is the stored text.
    static func incrementFloat(_ context: CommandContext, _ reply: inout RESPReplyWriter) throws(CommandError) {
        guard let increment = context.withBytes(2, RedisFloat.parse) else { throw StringCommands.notFloat }
        let result: Result<[UInt8], CommandError> = context.write(1) { tx, key in
            var current: RedisFloat.Number = 0
            if let entry = tx.get(key) {
                guard let parsed = entry.value.flatBytes.flatMap(RedisFloat.parse) else {
                    return .failure(StringCommands.notFloat)
                }
                current = parsed
            }
            let sum = current + increment
            guard sum.isFinite else { return .failure(CommandError("increment would produce NaN or Infinity")) }
            let text = RedisFloat.format(sum)
            text.withUnsafeBytes { tx.setString(key, $0, expiry: .keep, encoding: .text) }
            return .success(text)
        }
        let text = try result.get()
        text.withUnsafeBytes { reply.bulk($0) }
    }

    /// GETRANGE key start end (and its old name SUBSTR), with `getrangeCommand`'s index rules: both negative with
    /// start after end is empty; negatives count from the end and clamp to 0; end clamps to the last byte. A
    /// missing key is the empty string.
    static func range(_ context: CommandContext, _ reply: inout RESPReplyWriter) throws(CommandError) {
        let first = try context.integer(2)
        let last = try context.integer(3)
        context.read(1) { entry in
            guard let value = entry?.value,
                let (start, end) = StringCommands.clampRange(first, last, length: value.count)
            else {
                reply.bulk(UnsafeRawBufferPointer(start: nil, count: 0))
                return
            }
            reply.bulk(value, range: start..<end + 1)
        }
    }

    /// The byte range GETRANGE returns from a string of `length` bytes, or nil for the empty string.
    static func clampRange(_ first: Int64, _ last: Int64, length: Int) -> (Int, Int)? {
        let length = Int64(length)
        var start = first
        var end = last
        if start < 0 && end < 0 && start > end { return nil }
        if start < 0 { start = length + start }
        if end < 0 { end = length + end }
        if start < 0 { start = 0 }
        if end < 0 { end = 0 }
        if end >= length { end = length - 1 }
        guard start <= end, length > 0 else { return nil }
        return (Int(start), Int(end))
    }

    /// SETRANGE key offset value, as `setrangeCommand`: a negative offset is an error; an empty value changes
    /// nothing and answers the current length (0 for a missing key, which is not created); the result may not
    /// exceed `proto-max-bulk-len`; the gap past the old end is zeros; the key keeps its TTL.
    static func setRange(_ context: CommandContext, _ reply: inout RESPReplyWriter) throws(CommandError) {
        let offset = try context.integer(2)
        guard offset >= 0 else { throw CommandError("offset is out of range") }
        let result: Result<Int, CommandError> = context.write(1) { tx, key in
            context.withBytes(3) { value in
                let current = tx.get(key)?.value
                let length = current?.count ?? 0
                if value.isEmpty { return .success(length) }
                guard let end = context.checkedLength(offset, value.count) else {
                    return .failure(StringCommands.stringTooLong)
                }
                let start = Int(offset)
                let total = max(length, end)
                tx.changeString(
                    key,
                    current: current,
                    count: total,
                    changed: start..<end,
                    expiry: .keep,
                    encoding: .raw
                ) { out in
                    out.copyMemory(from: value)
                }
                return .success(total)
            }
        }
        reply.integer(Int64(try result.get()))
    }

    /// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN], as `lcsCommand`: the longest common subsequence
    /// of two strings (a missing key is empty) by the dynamic-programming table, whose size `proto-max-bulk-len`
    /// bounds; IDX lists the matching ranges from the end of the strings, those shorter than MINMATCHLEN left out.
    static func longestCommonSubsequence(_ context: CommandContext, _ reply: inout RESPReplyWriter) throws(CommandError)
    {
        var wantsIndices = false
        var wantsLength = false
        var withMatchLength = false
        var minimumMatch: Int64 = 0
        var index = 3
        while index < context.arguments.count {
            let more = context.arguments.count - 1 - index
            if context.argument(index, is: "IDX") {
                wantsIndices = true
            } else if context.argument(index, is: "LEN") {
                wantsLength = true
            } else if context.argument(index, is: "WITHMATCHLEN") {
                withMatchLength = true
            } else if context.argument(index, is: "MINMATCHLEN") && more > 0 {
                minimumMatch = max(try context.integer(index + 1), 0)
                index += 1
            } else {
                throw .syntax
            }
            index += 1
        }
        if wantsIndices && wantsLength {
            throw CommandError("If you want both the length and indexes, please just use IDX.")
        }
        // Both strings from one snapshot (EXEC's transaction inside MULTI), copied once their table is known to fit.
        let limit = context.stringLimit
        var found = 0
        let snapshot: Result<([UInt8], [UInt8]), CommandError> = context.transact(1...2) { tx, keys in
            let a = tx.get(keys[0])?.value
            let b = tx.get(keys[1])?.value
            found = (a == nil ? 0 : 1) + (b == nil ? 0 : 1)
            if let problem = StringCommands.lcsTableProblem(a?.count ?? 0, b?.count ?? 0, limit: Int(limit)) {
                return .failure(problem)
            }
            return .success((a?.byteArray ?? [], b?.byteArray ?? []))
        }
        context.countLookups(found: found, of: 2)
        let (a, b) = try snapshot.get()
        let width = b.count + 1
        let cells = (a.count + 1) * width
        // table[i * width + j]: the LCS length of a[..<i] and b[..<j]. Allocated as Redis's ztrymalloc: a failure is
        // an error, not the end of the process.
        guard let memory = calloc(cells, MemoryLayout<UInt32>.stride) else { throw StringCommands.lcsAllocationFailed }
        defer { free(memory) }
        let table = memory.assumingMemoryBound(to: UInt32.self)
        for i in stride(from: 1, through: a.count, by: 1) {
            for j in stride(from: 1, through: b.count, by: 1) {
                table[i * width + j] =
                    a[i - 1] == b[j - 1]
                    ? table[(i - 1) * width + j - 1] + 1
                    : max(table[(i - 1) * width + j], table[i * width + j - 1])
            }
        }
        let length = Int(table[a.count * width + b.count])
        if wantsLength && !wantsIndices {
            reply.integer(Int64(length))
            return
        }
        // Walk back from the end, as Redis does: the subsequence, and the ranges of contiguous matches.
        var result = [UInt8](repeating: 0, count: length)
        var matches: [(aStart: Int, aEnd: Int, bStart: Int, bEnd: Int)] = []
        var next = length
        var i = a.count
        var j = b.count
        var current: (aStart: Int, aEnd: Int, bStart: Int, bEnd: Int)? = nil
        while i > 0 && j > 0 {
            var emit = false
            if a[i - 1] == b[j - 1] {
                result[next - 1] = a[i - 1]
                if let range = current {
                    if range.aStart == i && range.bStart == j {
                        current = (i - 1, range.aEnd, j - 1, range.bEnd)
                    } else {
                        emit = true
                    }
                } else {
                    current = (i - 1, i - 1, j - 1, j - 1)
                }
                if current!.aStart == 0 || current!.bStart == 0 { emit = true }
                next -= 1
                i -= 1
                j -= 1
            } else {
                if table[(i - 1) * width + j] > table[i * width + j - 1] { i -= 1 } else { j -= 1 }
                if current != nil { emit = true }
            }
            if emit, let range = current {
                if minimumMatch == 0 || Int64(range.aEnd - range.aStart + 1) >= minimumMatch { matches.append(range) }
                current = nil
            }
        }
        guard wantsIndices else {
            result.withUnsafeBytes { reply.bulk($0) }
            return
        }
        reply.mapHeader(2)
        reply.bulk("matches")
        reply.arrayHeader(matches.count)
        for range in matches {
            reply.arrayHeader(withMatchLength ? 3 : 2)
            reply.arrayHeader(2)
            reply.integer(Int64(range.aStart))
            reply.integer(Int64(range.aEnd))
            reply.arrayHeader(2)
            reply.integer(Int64(range.bStart))
            reply.integer(Int64(range.bEnd))
            if withMatchLength { reply.integer(Int64(range.aEnd - range.aStart + 1)) }
        }
        reply.bulk("len")
        reply.integer(Int64(length))
    }

    /// Why LCS refuses strings of `a` and `b` bytes before it allocates its table, or nil: Redis's checks, in its
    /// order (a string too long for its 32-bit indices, a table whose byte count overflows 64 bits, a table larger
    /// than `proto-max-bulk-len`).
    package static func lcsTableProblem(_ a: Int, _ b: Int, limit: Int) -> CommandError? {
        if a >= Int(UInt32.max) - 1 || b >= Int(UInt32.max) - 1 { return CommandError("String too long for LCS") }
        // Both under 2^32, so the cell count fits 64 bits; its byte count may not.
        let (bytes, overflow) = (UInt64(a + 1) * UInt64(b + 1)).multipliedReportingOverflow(by: 4)
        if overflow { return StringCommands.lcsAllocationFailed }
        if bytes > UInt64(limit) {
            return CommandError("Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
        }
        return nil
    }

    static let lcsAllocationFailed = CommandError("Insufficient memory, failed allocating transient memory for LCS")

    /// Without a server (tests): Redis's default `proto-max-bulk-len`, 512 MB.
    static let defaultStringLimit = 512 * 1024 * 1024

    static let stringTooLong = CommandError("string exceeds maximum allowed size (proto-max-bulk-len)")
    static let notFloat = CommandError("value is not a valid float")
}
