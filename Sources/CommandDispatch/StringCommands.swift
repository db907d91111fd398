import NIOCore
import RESPCodec
import TransactionEngine

/// GET, SET, SETNX, GETDEL, MGET, MSET, INCR, DECR, INCRBY, DECRBY, APPEND, STRLEN (redis `src/t_string.c`).
///
/// A handler validates everything that can fail before it writes any reply.
enum StringCommands {
    static let all: [CommandSpec] = [
        CommandSpec("get", arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1)) { context, reply in
            context.read(1) { entry in
                if let entry { reply.bulk(entry.value.bytes) } else { reply.null() }
            }
        },
        CommandSpec("set", arity: -3, flags: [.write], keys: (1, 1, 1)) { context, reply throws(CommandError) in
            try StringCommands.set(&context, &reply)
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
            context.write(1) { tx, key in
                if let entry = tx.get(key) {
                    reply.bulk(entry.value.bytes)
                    tx.delete(key)
                } else {
                    reply.null()
                }
            }
        },
        CommandSpec("mget", arity: -2, flags: [.readonly, .fast], keys: (1, -1, 1)) { context, reply in
            let count = context.arguments.count - 1
            let mark = reply.buffer.writerIndex
            context.transact(1...count) { tx, keys in
                // A re-run writes the reply again from the start.
                reply.buffer.moveWriterIndex(to: mark)
                reply.arrayHeader(count)
                for key in keys {
                    if let entry = tx.get(key) { reply.bulk(entry.value.bytes) } else { reply.null() }
                }
            }
        },
        CommandSpec("mset", arity: -3, flags: [.write], keys: (1, -1, 2)) { context, reply throws(CommandError) in
            guard context.arguments.count % 2 == 1 else { throw .wrongArity("mset") }
            let pairs = (context.arguments.count - 1) / 2
            context.transact((0..<pairs).map { 1 + 2 * $0 }) { tx, keys in
                for (i, key) in keys.enumerated() {
                    context.withBytes(2 + 2 * i) { value in tx.setString(key, value) }
                }
            }
            reply.simple("OK")
        },
        CommandSpec("incr", arity: 2, flags: [.write, .fast], keys: (1, 1, 1)) { context, reply throws(CommandError) in
            reply.integer(try StringCommands.increment(&context, by: 1))
        },
        CommandSpec("decr", arity: 2, flags: [.write, .fast], keys: (1, 1, 1)) { context, reply throws(CommandError) in
            reply.integer(try StringCommands.increment(&context, by: -1))
        },
        CommandSpec("incrby", arity: 3, flags: [.write, .fast], keys: (1, 1, 1)) {
            context,
            reply throws(CommandError) in
            let delta = try context.integer(2)
            reply.integer(try StringCommands.increment(&context, by: delta))
        },
        CommandSpec("decrby", arity: 3, flags: [.write, .fast], keys: (1, 1, 1)) {
            context,
            reply throws(CommandError) in
            let delta = try context.integer(2)
            guard delta != Int64.min else { throw CommandError("decrement would overflow") }
            reply.integer(try StringCommands.increment(&context, by: -delta))
        },
        CommandSpec("append", arity: 3, flags: [.write, .fast], keys: (1, 1, 1)) { context, reply in
            let length = context.write(1) { tx, key -> Int in
                context.withBytes(2) { suffix in
                    let current = tx.get(key)?.value.bytes ?? UnsafeRawBufferPointer(start: nil, count: 0)
                    let total = current.count + suffix.count
                    tx.setString(key, count: total, expiry: .keep) { out in
                        if !current.isEmpty {
                            out.baseAddress!.copyMemory(from: current.baseAddress!, byteCount: current.count)
                        }
                        if !suffix.isEmpty {
                            (out.baseAddress! + current.count).copyMemory(
                                from: suffix.baseAddress!,
                                byteCount: suffix.count
                            )
                        }
                    }
                    return total
                }
            }
            reply.integer(Int64(length))
        },
        CommandSpec("strlen", arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1)) { context, reply in
            let length = context.read(1) { $0?.value.count ?? 0 }
            reply.integer(Int64(length))
        },
    ]

    /// SET key value [NX | XX] [GET] [EX s | PX ms | EXAT s | PXAT ms | KEEPTTL], as `setGenericCommand` parses it.
    static func set(_ context: inout CommandContext, _ reply: inout RESPReplyWriter) throws(CommandError) {
        enum Condition { case always, ifMissing, ifPresent }
        enum ExpiryOption { case none, relative(Int64), absolute(Int64), keep }
        var condition = Condition.always
        var returnOld = false
        var expiry = ExpiryOption.none
        var index = 3
        let count = context.arguments.count
        while index < count {
            let hasNext = index + 1 < count
            if context.argument(index, is: "NX"), case .always = condition {
                condition = .ifMissing
            } else if context.argument(index, is: "XX"), case .always = condition {
                condition = .ifPresent
            } else if context.argument(index, is: "GET") {
                returnOld = true
            } else if context.argument(index, is: "KEEPTTL"), case .none = expiry {
                expiry = .keep
            } else if hasNext, case .none = expiry, let unit = StringCommands.expiryUnit(context, index) {
                let amount = try context.integer(index + 1)
                guard amount > 0 else { throw .invalidExpire("set") }
                let (milliseconds, overflow) = amount.multipliedReportingOverflow(by: unit.multiplier)
                guard !overflow else { throw .invalidExpire("set") }
                expiry = unit.absolute ? .absolute(milliseconds) : .relative(milliseconds)
                index += 1
            } else {
                throw .syntax
            }
            index += 1
        }
        let outcome: Result<Void, CommandError> = context.write(1) { tx, key in
            context.withBytes(2) { value -> Result<Void, CommandError> in
                let old = tx.get(key)
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
                    if let old { reply.bulk(old.value.bytes) } else { reply.null() }
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
        if case .failure(let error) = outcome { throw error }
    }

    /// EX, PX, EXAT, PXAT: milliseconds per unit and whether the time is absolute.
    static func expiryUnit(_ context: CommandContext, _ index: Int) -> (multiplier: Int64, absolute: Bool)? {
        if context.argument(index, is: "EX") { return (1000, false) }
        if context.argument(index, is: "PX") { return (1, false) }
        if context.argument(index, is: "EXAT") { return (1000, true) }
        if context.argument(index, is: "PXAT") { return (1, true) }
        return nil
    }

    /// INCR, DECR, INCRBY, DECRBY: the stored string must be a Redis integer; the TTL is kept.
    static func increment(_ context: inout CommandContext, by delta: Int64) throws(CommandError) -> Int64 {
        let result: Result<Int64, CommandError> = context.write(1) { tx, key in
            var current: Int64 = 0
            if let entry = tx.get(key) {
                guard let parsed = RedisInteger.parse(entry.value.bytes) else { return .failure(.notInteger) }
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
}
