import NIOCore
import RESPCodec
import TransactionEngine

/// DEL, UNLINK, EXISTS, DBSIZE, FLUSHDB, FLUSHALL, TTL, PTTL (redis `src/db.c`, `src/expire.c`).
enum KeyspaceCommands {
    static let all: [CommandSpec] = [
        CommandSpec("del", arity: -2, flags: [.write], keys: (1, -1, 1)) { context, reply in
            reply.integer(KeyspaceCommands.delete(&context))
        },
        CommandSpec("unlink", arity: -2, flags: [.write, .fast], keys: (1, -1, 1)) { context, reply in
            reply.integer(KeyspaceCommands.delete(&context))
        },
        CommandSpec("exists", arity: -2, flags: [.readonly, .fast], keys: (1, -1, 1)) { context, reply in
            let count = context.arguments.count - 1
            let found = context.transact(1...count) { tx, keys in
                keys.reduce(Int64(0)) { $0 + (tx.exists($1) ? 1 : 0) }
            }
            reply.integer(found)
        },
        CommandSpec("dbsize", arity: 1, flags: [.readonly, .fast]) { context, reply in
            reply.integer(Int64(context.worker.keyCount(database: context.session.database)))
        },
        CommandSpec("flushdb", arity: -1, flags: [.write, .exclusive]) { context, reply throws(CommandError) in
            try KeyspaceCommands.checkFlushOptions(context)
            let database = context.session.database
            context.exclusively { ex in ex.flushDatabase(database) }
            reply.simple("OK")
        },
        CommandSpec("flushall", arity: -1, flags: [.write, .exclusive]) { context, reply throws(CommandError) in
            try KeyspaceCommands.checkFlushOptions(context)
            context.exclusively { ex in ex.flushAll() }
            reply.simple("OK")
        },
        CommandSpec("ttl", arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1)) { context, reply in
            reply.integer(KeyspaceCommands.timeToLive(context, milliseconds: false))
        },
        CommandSpec("pttl", arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1)) { context, reply in
            reply.integer(KeyspaceCommands.timeToLive(context, milliseconds: true))
        },
    ]

    /// Deletes every key argument in one transaction; returns how many existed.
    static func delete(_ context: inout CommandContext) -> Int64 {
        let count = context.arguments.count - 1
        if count == 1 {
            return context.write(1) { tx, key in tx.delete(key) ? 1 : 0 }
        }
        return context.transact(1...count) { tx, keys in
            keys.reduce(Int64(0)) { $0 + (tx.delete($1) ? 1 : 0) }
        }
    }

    /// FLUSHDB and FLUSHALL take at most one of ASYNC and SYNC; both flush at once here.
    static func checkFlushOptions(_ context: CommandContext) throws(CommandError) {
        guard context.arguments.count <= 2 else { throw .syntax }
        if context.arguments.count == 2 && !context.argument(1, is: "ASYNC") && !context.argument(1, is: "SYNC") {
            throw .syntax
        }
    }

    /// TTL/PTTL: -2 when the key is missing, -1 when it has no expiry, else the time left (TTL rounds).
    static func timeToLive(_ context: CommandContext, milliseconds: Bool) -> Int64 {
        context.transact([1]) { tx, keys -> Int64 in
            guard let entry = tx.get(keys[0]) else { return -2 }
            guard entry.expiresAt != 0 else { return -1 }
            let left = max(0, entry.expiresAt - tx.now)
            return milliseconds ? left : (left + 500) / 1000
        }
    }
}
