import NIOCore
import RESPCodec
import TransactionEngine

/// DEL, UNLINK, EXISTS, DBSIZE, FLUSHDB, FLUSHALL, TTL, PTTL, the expiry commands, TOUCH, TYPE, OBJECT, RENAME,
/// RENAMENX, COPY, MOVE, KEYS, SCAN, RANDOMKEY, SWAPDB (redis `src/db.c`, `src/expire.c`, `src/object.c`).
///
/// A handler validates everything that can fail before it writes any reply. Commands over several keys (RENAME,
/// COPY, MOVE) run as one transaction; RENAME and MOVE hand the value over without copying it.
enum KeyspaceCommands {
    static let all: [CommandSpec] =
        KeyspaceCommands.basics + KeyspaceCommands.expiry + KeyspaceCommands.inspection + KeyspaceCommands.moves
        + KeyspaceCommands.iteration

    /// DEL, UNLINK, EXISTS, DBSIZE, FLUSHDB, FLUSHALL, TTL, PTTL.
    static let basics: [CommandSpec] = [
        CommandSpec("del", arity: -2, flags: [.write], keys: (1, -1, 1)) { context, reply in
            reply.integer(KeyspaceCommands.delete(context))
        },
        CommandSpec("unlink", arity: -2, flags: [.write, .fast], keys: (1, -1, 1)) { context, reply in
            reply.integer(KeyspaceCommands.delete(context))
        },
        CommandSpec("exists", arity: -2, flags: [.readonly, .fast], keys: (1, -1, 1)) { context, reply in
            let count = context.arguments.count - 1
            let found = context.transact(1...count) { tx, keys in
                keys.reduce(Int64(0)) { $0 + (tx.exists($1) ? 1 : 0) }
            }
            context.countLookups(found: Int(found), of: count)
            reply.integer(found)
        },
        CommandSpec("dbsize", arity: 1, flags: [.readonly, .fast]) { context, reply in
            // Inside EXEC, the transaction's own inserts and deletes count too.
            let database = context.session.database
            let pending = context.transaction?.pendingKeyCountChange(database: database) ?? 0
            reply.integer(Int64(context.worker.keyCount(database: database) + pending))
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
    static func delete(_ context: CommandContext) -> Int64 {
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
        let answer = context.transact([1]) { tx, keys -> Int64 in
            guard let entry = tx.get(keys[0]) else { return -2 }
            guard entry.expiresAt != 0 else { return -1 }
            let left = max(0, entry.expiresAt - tx.now)
            return milliseconds ? left : (left + 500) / 1000
        }
        context.countLookups(found: answer == -2 ? 0 : 1, of: 1)
        return answer
    }
}

// MARK: Expiry

extension KeyspaceCommands {
    /// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, EXPIRETIME, PEXPIRETIME, PERSIST.
    static let expiry: [CommandSpec] = [
        CommandSpec("expire", arity: -3, flags: [.write, .fast], keys: (1, 1, 1)) {
            context,
            reply throws(CommandError) in
            reply.integer(try KeyspaceCommands.expire(context, unit: 1000, relative: true))
        },
        CommandSpec("pexpire", arity: -3, flags: [.write, .fast], keys: (1, 1, 1)) {
            context,
            reply throws(CommandError) in
            reply.integer(try KeyspaceCommands.expire(context, unit: 1, relative: true))
        },
        CommandSpec("expireat", arity: -3, flags: [.write, .fast], keys: (1, 1, 1)) {
            context,
            reply throws(CommandError) in
            reply.integer(try KeyspaceCommands.expire(context, unit: 1000, relative: false))
        },
        CommandSpec("pexpireat", arity: -3, flags: [.write, .fast], keys: (1, 1, 1)) {
            context,
            reply throws(CommandError) in
            reply.integer(try KeyspaceCommands.expire(context, unit: 1, relative: false))
        },
        CommandSpec("expiretime", arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1)) { context, reply in
            reply.integer(KeyspaceCommands.expireTime(context, milliseconds: false))
        },
        CommandSpec("pexpiretime", arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1)) { context, reply in
            reply.integer(KeyspaceCommands.expireTime(context, milliseconds: true))
        },
        CommandSpec("persist", arity: 2, flags: [.write, .fast], keys: (1, 1, 1)) { context, reply in
            let removed = context.write(1) { tx, key -> Bool in
                guard let entry = tx.get(key), entry.expiresAt != 0 else { return false }
                tx.setExpiry(key, .none)
                return true
            }
            reply.integer(removed ? 1 : 0)
        },
    ]

    /// EXPIRE key amount [NX | XX | GT | LT] and its variants, as `expireGenericCommand` decides.
    ///
    /// The options are checked first, then the amount, then overflow (even for a missing key). A key without an
    /// expiry counts as an infinite TTL for GT and LT. A time already past deletes the key. Returns 1 when the
    /// expiry was set (or the key deleted), 0 when the key is missing or a condition failed.
    static func expire(_ context: CommandContext, unit: Int64, relative: Bool) throws(CommandError) -> Int64 {
        var nx = false
        var xx = false
        var gt = false
        var lt = false
        for index in 3..<context.arguments.count {
            if context.argument(index, is: "NX") {
                nx = true
            } else if context.argument(index, is: "XX") {
                xx = true
            } else if context.argument(index, is: "GT") {
                gt = true
            } else if context.argument(index, is: "LT") {
                lt = true
            } else {
                throw CommandError("Unsupported option \(KeyspaceCommands.shown(context, index))")
            }
        }
        if nx && (xx || gt || lt) {
            throw CommandError("NX and XX, GT or LT options at the same time are not compatible")
        }
        if gt && lt {
            throw CommandError("GT and LT options at the same time are not compatible")
        }
        let amount = try context.integer(2)
        let name = context.name
        guard amount <= Int64.max / unit && amount >= Int64.min / unit else { throw .invalidExpire(name) }
        let milliseconds = amount * unit
        let outcome: Result<Int64, CommandError> = context.write(1) { tx, key in
            let now = tx.now
            var when = milliseconds
            if relative {
                guard when <= Int64.max - now else { return .failure(.invalidExpire(name)) }
                when += now
            }
            guard let entry = tx.get(key) else { return .success(0) }
            let current = entry.expiresAt
            if nx && current != 0 { return .success(0) }
            if xx && current == 0 { return .success(0) }
            if gt && (current == 0 || when <= current) { return .success(0) }
            if lt && current != 0 && when >= current { return .success(0) }
            if when <= now {
                tx.delete(key)
            } else {
                tx.setExpiry(key, .at(when))
            }
            return .success(1)
        }
        return try outcome.get()
    }

    /// EXPIRETIME/PEXPIRETIME: -2 when the key is missing, -1 when it has no expiry, else the absolute time
    /// (EXPIRETIME rounds to the nearest second, as Redis does).
    static func expireTime(_ context: CommandContext, milliseconds: Bool) -> Int64 {
        context.read(1) { entry -> Int64 in
            guard let entry else { return -2 }
            let at = entry.expiresAt
            guard at != 0 else { return -1 }
            return milliseconds ? at : at / 1000 + (at % 1000 + 500) / 1000
        }
    }
}

// MARK: TOUCH, TYPE, OBJECT

extension KeyspaceCommands {
    /// TOUCH, TYPE, OBJECT.
    static let inspection: [CommandSpec] = [
        CommandSpec("touch", arity: -2, flags: [.readonly, .fast], keys: (1, -1, 1)) { context, reply in
            let count = context.arguments.count - 1
            let found = context.transact(1...count) { tx, keys in
                keys.reduce(Int64(0)) { $0 + (tx.exists($1) ? 1 : 0) }
            }
            context.countLookups(found: Int(found), of: count)
            reply.integer(found)
        },
        CommandSpec("type", arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1)) { context, reply in
            let name = context.read(1) { entry in entry.map { KeyspaceCommands.typeName($0.value.kind) } ?? "none" }
            reply.simple(name)
        },
        // Declared as Redis declares the container command: its subcommands (read-only, the key at 2) live inside.
        CommandSpec("object", arity: -2, flags: []) { context, reply throws(CommandError) in
            try KeyspaceCommands.object(context, &reply)
        },
    ]

    /// Argument `index` as Redis prints it into an error with `%s` (up to a NUL byte) or `%.128s`.
    static func shown(_ context: CommandContext, _ index: Int, limit: Int = Int.max) -> String {
        context.withBytes(index) { CommandError.shown($0, limit: limit) }
    }

    /// The name TYPE gives a kind of value.
    static func typeName(_ kind: ValueKind) -> String {
        switch kind {
        case .string: return "string"
        }
    }

    /// OBJECT ENCODING | REFCOUNT | FREQ key, OBJECT HELP. Like Redis, a missing key answers null. IDLETIME is not
    /// served: Weft keeps no access times.
    static func object(_ context: CommandContext, _ reply: inout RESPReplyWriter) throws(CommandError) {
        enum Subcommand { case encoding, refcount, freq }
        let count = context.arguments.count
        let subcommand: Subcommand
        if context.argument(1, is: "HELP") {
            guard count == 2 else { throw .wrongArity("object|help") }
            reply.arrayHeader(KeyspaceCommands.objectHelp.count)
            for line in KeyspaceCommands.objectHelp {
                reply.simple(line)
            }
            return
        } else if context.argument(1, is: "ENCODING") {
            subcommand = .encoding
        } else if context.argument(1, is: "REFCOUNT") {
            subcommand = .refcount
        } else if context.argument(1, is: "FREQ") {
            subcommand = .freq
        } else {
            let shown = KeyspaceCommands.shown(context, 1, limit: 128)
            throw CommandError("unknown subcommand '\(shown)'. Try OBJECT HELP.")
        }
        guard count == 3 else { throw .wrongArity("object|\(context.string(1).lowercased())") }
        enum Answer {
            case missing
            case text(String)
            case number(Int64)
            case notTracked
        }
        let answer = context.read(2) { entry -> Answer in
            guard let entry else { return .missing }
            switch subcommand {
            case .encoding: return .text(KeyspaceCommands.encoding(entry.value))
            case .refcount:
                // Redis shares the objects of the integers 0 to 9999, when a command made them from their content.
                let shared =
                    entry.value.encoding == .fromContent
                    && (entry.value.flatBytes.flatMap(RedisInteger.parse).map { $0 >= 0 && $0 < 10_000 } ?? false)
                return .number(shared ? Int64(Int32.max) : 1)
            case .freq: return .notTracked
            }
        }
        switch answer {
        case .missing: reply.null()
        case .text(let text): reply.bulk(text)
        case .number(let number): reply.integer(number)
        case .notTracked:
            throw CommandError(
                "An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when "
                    + "switching between policies at runtime LRU and LFU data will take some time to adjust."
            )
        }
    }

    /// OBJECT ENCODING of a value: a string made from its content is `int` when it is a Redis integer of at most 20
    /// characters, `embstr` up to 44 bytes, else `raw` (Redis's `tryObjectEncoding`); one built in place (APPEND,
    /// SETRANGE) is `raw`, and one formatted as text (INCRBYFLOAT) is `embstr` or `raw` by length.
    static func encoding(_ value: Value) -> String {
        switch value.kind {
        case .string:
            switch value.encoding {
            case .raw: return "raw"
            case .text: return value.count <= 44 ? "embstr" : "raw"
            case .fromContent, .copied:
                if value.count <= 20, let bytes = value.flatBytes, RedisInteger.parse(bytes) != nil { return "int" }
                return value.count <= 44 ? "embstr" : "raw"
            }
        }
    }

    static let objectHelp: [String] = [
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        "HELP",
        "    Prints this help.",
    ]
}

// MARK: RENAME, RENAMENX, COPY, MOVE, SWAPDB

extension KeyspaceCommands {
    /// RENAME, RENAMENX, COPY, MOVE, SWAPDB.
    static let moves: [CommandSpec] = [
        CommandSpec("rename", arity: 3, flags: [.write], keys: (1, 2, 1)) { context, reply throws(CommandError) in
            _ = try KeyspaceCommands.rename(context, onlyIfMissing: false)
            reply.simple("OK")
        },
        CommandSpec("renamenx", arity: 3, flags: [.write, .fast], keys: (1, 2, 1)) {
            context,
            reply throws(CommandError) in
            reply.integer(try KeyspaceCommands.rename(context, onlyIfMissing: true) ? 1 : 0)
        },
        CommandSpec("copy", arity: -3, flags: [.write], keys: (1, 2, 1)) { context, reply throws(CommandError) in
            reply.integer(try KeyspaceCommands.copy(context) ? 1 : 0)
        },
        CommandSpec("move", arity: 3, flags: [.write, .fast], keys: (1, 1, 1)) { context, reply throws(CommandError) in
            reply.integer(try KeyspaceCommands.move(context) ? 1 : 0)
        },
        CommandSpec("swapdb", arity: 3, flags: [.write, .fast, .exclusive]) { context, reply throws(CommandError) in
            let first = try KeyspaceCommands.databaseIndex(context, 1, message: "invalid first DB index")
            let second = try KeyspaceCommands.databaseIndex(context, 2, message: "invalid second DB index")
            let databases = 0..<context.worker.databaseCount
            guard databases.contains(first) && databases.contains(second) else { throw .databaseOutOfRange }
            if first != second {
                context.exclusively { ex in ex.swapDatabases(first, second) }
            }
            reply.simple("OK")
        },
    ]

    static let sameObject = CommandError("source and destination objects are the same")

    /// The expiry that carries a key's current one over to another key.
    static func carried(_ entry: Entry) -> Expiry {
        entry.expiresAt == 0 ? .none : .at(entry.expiresAt)
    }

    /// Argument `index` as a C `int` (Redis's `getIntFromObjectOrReply`).
    static func int32(_ context: CommandContext, _ index: Int) throws(CommandError) -> Int {
        let value = try context.integer(index)
        guard value >= Int64(Int32.min) && value <= Int64(Int32.max) else {
            throw CommandError("value is out of range, value must between -2147483648 and 2147483647")
        }
        return Int(value)
    }

    /// A SWAPDB index: any failure to read a C `int` gives `message`.
    static func databaseIndex(_ context: CommandContext, _ index: Int, message: String) throws(CommandError) -> Int {
        guard let value = RedisInteger.parse(context.arguments.bytes(index)),
            value >= Int64(Int32.min) && value <= Int64(Int32.max)
        else { throw CommandError(message) }
        return Int(value)
    }

    /// A database index for MOVE and COPY ... DB: a C `int` within the configured databases.
    static func targetDatabase(_ context: CommandContext, _ index: Int) throws(CommandError) -> Int {
        let target = try KeyspaceCommands.int32(context, index)
        guard target >= 0 && target < context.worker.databaseCount else { throw .databaseOutOfRange }
        return target
    }

    /// RENAME and RENAMENX: moves the value and its expiry to the new name in one transaction, deleting the old.
    ///
    /// A missing source is an error; renaming a key to itself changes nothing. Returns false when RENAMENX found
    /// the destination taken (or the names equal).
    static func rename(_ context: CommandContext, onlyIfMissing: Bool) throws(CommandError) -> Bool {
        let same = context.arguments.bytes(1).elementsEqual(context.arguments.bytes(2))
        let outcome: Result<Bool, CommandError> = context.transact(same ? [1] : [1, 2]) { tx, keys in
            guard let entry = tx.get(keys[0]) else { return .failure(CommandError("no such key")) }
            if same { return .success(!onlyIfMissing) }
            if onlyIfMissing && tx.exists(keys[1]) { return .success(false) }
            // The destination takes the value first, then the source goes: deleting first would free a value
            // that this transaction made (a RENAME after SET inside MULTI).
            tx.setMoving(keys[1], value: entry.value, expiry: KeyspaceCommands.carried(entry))
            tx.delete(keys[0])
            return .success(true)
        }
        return try outcome.get()
    }

    /// COPY source destination [DB index] [REPLACE]: copies the bytes and the expiry, in one transaction.
    static func copy(_ context: CommandContext) throws(CommandError) -> Bool {
        var replace = false
        var target = context.session.database
        var index = 3
        while index < context.arguments.count {
            if context.argument(index, is: "REPLACE") {
                replace = true
            } else if context.argument(index, is: "DB") && index + 1 < context.arguments.count {
                target = try KeyspaceCommands.targetDatabase(context, index + 1)
                index += 1
            } else {
                throw .syntax
            }
            index += 1
        }
        if target == context.session.database && context.arguments.bytes(1).elementsEqual(context.arguments.bytes(2)) {
            throw KeyspaceCommands.sameObject
        }
        var found = false
        let copied = context.transact([1, 2]) { tx, keys -> Bool in
            let source = tx.database
            found = false
            guard let entry = tx.get(keys[0]) else { return false }
            found = true
            tx.select(database: target)
            defer { tx.select(database: source) }
            if !replace && tx.exists(keys[1]) { return false }
            tx.setCopy(
                keys[1],
                of: entry.value,
                expiry: KeyspaceCommands.carried(entry),
                encoding: entry.value.encoding == .fromContent ? .copied : entry.value.encoding
            )
            return true
        }
        context.countLookups(found: found ? 1 : 0, of: 1)
        return copied
    }

    /// MOVE key db: moves the value and its expiry to another database unless the key exists there.
    static func move(_ context: CommandContext) throws(CommandError) -> Bool {
        let target = try KeyspaceCommands.targetDatabase(context, 2)
        guard target != context.session.database else { throw KeyspaceCommands.sameObject }
        return context.transact([1]) { tx, keys -> Bool in
            let key = keys[0]
            let source = tx.database
            guard let entry = tx.get(key) else { return false }
            tx.select(database: target)
            guard !tx.exists(key) else {
                tx.select(database: source)
                return false
            }
            tx.setMoving(key, value: entry.value, expiry: KeyspaceCommands.carried(entry))
            tx.select(database: source)
            tx.delete(key)
            return true
        }
    }
}

// MARK: KEYS, SCAN, RANDOMKEY

extension KeyspaceCommands {
    /// KEYS, SCAN, RANDOMKEY.
    static let iteration: [CommandSpec] = [
        CommandSpec("keys", arity: 2, flags: [.readonly]) { context, reply in
            let keys = KeyspaceCommands.collect(
                context,
                cursor: 0,
                count: Int.max,
                pattern: 1,
                type: nil,
                removingExpired: false
            ).keys
            KeyspaceCommands.writeKeys(keys, &reply)
        },
        CommandSpec("scan", arity: -2, flags: [.readonly]) { context, reply throws(CommandError) in
            guard let cursor = context.withBytes(1, KeyspaceCommands.parseCursor) else {
                throw CommandError("invalid cursor")
            }
            var count = 10
            var pattern: Int? = nil
            var type: [UInt8]? = nil
            var index = 2
            while index < context.arguments.count {
                guard index + 1 < context.arguments.count else { throw .syntax }
                if context.argument(index, is: "COUNT") {
                    let value = try context.integer(index + 1)
                    guard value >= 1 else { throw .syntax }
                    count = Int(value)
                } else if context.argument(index, is: "MATCH") {
                    pattern = index + 1
                } else if context.argument(index, is: "TYPE") {
                    type = context.withBytes(index + 1) { $0.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 } }
                } else {
                    throw .syntax
                }
                index += 2
            }
            let (next, keys) = KeyspaceCommands.collect(
                context,
                cursor: cursor,
                count: count,
                pattern: pattern,
                type: type,
                removingExpired: true
            )
            reply.arrayHeader(2)
            reply.bulk(String(next))
            KeyspaceCommands.writeKeys(keys, &reply)
        },
        CommandSpec("randomkey", arity: 1, flags: [.readonly]) { context, reply in
            if let key = KeyspaceCommands.randomKey(context) {
                key.withUnsafeBytes { reply.bulk($0) }
            } else {
                reply.null()
            }
        },
    ]

    /// The keys of one SCAN step (KEYS: of a whole iteration) that match `pattern` (an argument position; `*`
    /// matches all) and `type` (a lowercase type name), with the next cursor.
    ///
    /// Inside EXEC the walk gives candidate keys and the transaction decides which it sees, its own writes
    /// included; otherwise the engine's live walk answers directly, and with `removingExpired` (SCAN) the expired
    /// keys it passes that match the pattern are removed, as Redis's SCAN deletes them (its KEYS does not).
    static func collect(
        _ context: CommandContext,
        cursor: UInt64,
        count: Int,
        pattern: Int?,
        type: [UInt8]?,
        removingExpired: Bool
    ) -> (next: UInt64, keys: [[UInt8]]) {
        // Like Redis, a lone `*` skips matching. Without a pattern the command's name stands in, never matched.
        let all = pattern.map { context.arguments[$0].readableBytesView.elementsEqual([UInt8(ascii: "*")]) } ?? true
        return context.withBytes(pattern ?? 0) { patternBytes in
            func wanted(_ key: KeyBytes) -> Bool { all || Glob.matches(patternBytes, key) }
            func typeMatches(_ kind: ValueKind) -> Bool {
                type.map { $0.elementsEqual(KeyspaceCommands.typeName(kind).utf8) } ?? true
            }
            var keys: [[UInt8]] = []
            guard let tx = context.transaction else {
                let next = context.worker.scan(
                    database: context.session.database,
                    cursor: cursor,
                    count: count,
                    removingExpired: { removingExpired && wanted($0) }
                ) { key, entry in
                    if typeMatches(entry.value.kind) && wanted(key) { keys.append(Array(key)) }
                }
                return (next, keys)
            }
            var candidates: [[UInt8]] = []
            let next = context.worker.scanKeys(database: tx.database, cursor: cursor, count: count) { key in
                if wanted(key) { candidates.append(Array(key)) }
            }
            for key in candidates {
                let kind = key.withUnsafeBytes { removingExpired ? tx.get($0)?.value.kind : tx.peek($0)?.value.kind }
                if let kind, typeMatches(kind) { keys.append(key) }
            }
            return (next, keys)
        }
    }

    static func writeKeys(_ keys: [[UInt8]], _ reply: inout RESPReplyWriter) {
        reply.arrayHeader(keys.count)
        for key in keys {
            key.withUnsafeBytes { reply.bulk($0) }
        }
    }

    /// RANDOMKEY: any live key; inside EXEC, a key the transaction sees (its own writes included): the keys from a
    /// random cursor on, wrapping around once, until a step finds one.
    static func randomKey(_ context: CommandContext) -> [UInt8]? {
        guard let tx = context.transaction else {
            return context.worker.randomKey(database: context.session.database)
        }
        let start = UInt64.random(in: .min ... .max)
        var cursor = start
        var wrapped = false
        while true {
            var seen: [[UInt8]] = []
            var candidates: [[UInt8]] = []
            let next = context.worker.scanKeys(database: tx.database, cursor: cursor, count: 16) { key in
                candidates.append(Array(key))
            }
            for key in candidates where key.withUnsafeBytes({ tx.exists($0) }) {
                seen.append(key)
            }
            if let key = seen.randomElement() { return key }
            if next == 0 {
                if wrapped || start == 0 { return nil }
                wrapped = true
            } else if wrapped && next > start {
                return nil
            }
            cursor = next
        }
    }

    /// A SCAN cursor as Redis reads it with `strtoul`: no leading space, an optional sign (a negative cursor wraps),
    /// decimal digits to the end (or to a NUL byte), no overflow; an empty cursor is 0.
    static func parseCursor(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
        let end = bytes.firstIndex(of: 0) ?? bytes.count
        guard end > 0 else { return 0 }
        let first = bytes[0]
        if first == 32 || (first >= 9 && first <= 13) { return nil }
        var index = 0
        var negative = false
        if first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
            negative = first == UInt8(ascii: "-")
            index = 1
        }
        guard index < end else { return nil }
        var value: UInt64 = 0
        while index < end {
            let byte = bytes[index]
            guard byte >= 48 && byte <= 57 else { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte - 48))
            guard !overflow1 && !overflow2 else { return nil }
            value = sum
            index += 1
        }
        return negative ? 0 &- value : value
    }
}
