import NIOCore
import RESPCodec
import TransactionEngine

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// INFO, COMMAND, TIME, SHUTDOWN (redis `src/server.c`).
enum ServerCommands {
    /// Redis's refusal of DEBUG under `enable-debug-command no`.
    static let debugRefusal =
        "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a "
        + "local connection, otherwise you need to set this option in the configuration file, and then restart the "
        + "server."

    static let all: [CommandSpec] = [
        CommandSpec("info", arity: -1, flags: []) { context, reply in
            reply.verbatim(ServerCommands.info(context))
        },
        // Weft has no replication: it is always a master with no replicas, at offset 0 (as a Redis master that
        // never had one).
        CommandSpec("memory", arity: -2, flags: []) { context, reply throws(CommandError) in
            try ServerCommands.memory(context, &reply)
        },
        // Refused before it runs (the `protected` flag), as Redis 7 refuses it by default.
        CommandSpec("debug", arity: -2, flags: [.admin, .protected]) { _, _ throws(CommandError) in
            throw CommandError(String(ServerCommands.debugRefusal.dropFirst(4)))
        },
        // WAIT numreplicas timeout: Weft has no replicas, so no write is ever acknowledged by one. As a Redis master
        // without replicas, asking for none (or asking inside EXEC) answers 0 at once; asking for some blocks the
        // client until the timeout (0: until CLIENT UNBLOCK), then answers 0.
        CommandSpec("wait", arity: 3, flags: []) { context, reply throws(CommandError) in
            let replicas = try context.integer(1)
            guard let timeout = RedisInteger.parse(context.arguments.bytes(2)) else {
                throw CommandError("timeout is not an integer or out of range")
            }
            guard timeout >= 0 else { throw CommandError("timeout is negative") }
            if replicas <= 0 || context.transaction != nil || context.exclusive != nil {
                reply.integer(0)
                return
            }
            context.session.waitMilliseconds = timeout
        },
        // Weft writes no RDB snapshots: as a Redis started with `save ""`, the last save is the server's start.
        CommandSpec("lastsave", arity: 1, flags: [.fast]) { context, reply in
            reply.integer(context.server?.startTime ?? 0)
        },
        CommandSpec("role", arity: 1, flags: [.fast]) { _, reply in
            reply.arrayHeader(3)
            reply.bulk("master")
            reply.integer(0)
            reply.arrayHeader(0)
        },
        CommandSpec("time", arity: 1, flags: [.fast]) { context, reply in
            var spec = timespec()
            clock_gettime(CLOCK_REALTIME, &spec)
            reply.arrayHeader(2)
            reply.bulk(String(spec.tv_sec))
            reply.bulk(String(spec.tv_nsec / 1000))
        },
        CommandSpec("shutdown", arity: -1, flags: [.admin, .noMulti]) { context, reply throws(CommandError) in
            // Redis's `shutdownCommand`: NOW and FORCE change nothing here (no replicas to wait for, no save to
            // fail), and a shutdown, once begun, is not one that ABORT can stop.
            var save = false
            var noSave = false
            var other = false
            var abort = false
            for index in 1..<context.arguments.count {
                if context.argument(index, is: "NOSAVE") {
                    noSave = true
                } else if context.argument(index, is: "SAVE") {
                    save = true
                } else if context.argument(index, is: "NOW") || context.argument(index, is: "FORCE") {
                    other = true
                } else if context.argument(index, is: "ABORT") {
                    abort = true
                } else {
                    throw .syntax
                }
            }
            if (abort && (save || noSave || other)) || (save && noSave) { throw .syntax }
            if abort { throw CommandError("No shutdown in progress.") }
            guard let server = context.server else { throw CommandError("SHUTDOWN is not available here") }
            // Redis closes the connection without a reply when it shuts down.
            context.session.closeAfterReply = true
            server.requestShutdown()
        },
        CommandSpec("bgrewriteaof", arity: 1, flags: [.admin]) { context, reply throws(CommandError) in
            guard let server = context.server else { throw CommandError("BGREWRITEAOF is not available here") }
            reply.simple(try server.rewriteLog())
        },
        CommandSpec("command", arity: -1, flags: []) { context, reply throws(CommandError) in
            try ServerCommands.command(context, &reply, table: CommandTable.standard)
        },
    ]

    /// COMMAND, COMMAND COUNT, COMMAND INFO name..., COMMAND DOCS [name...], COMMAND LIST [FILTERBY ...],
    /// COMMAND GETKEYS|GETKEYSANDFLAGS command args..., COMMAND HELP. (Subcommand names and arities are checked before
    /// it runs.)
    static func command(
        _ context: CommandContext,
        _ reply: inout RESPReplyWriter,
        table: CommandTable
    ) throws(CommandError) {
        let count = context.arguments.count
        let everything = table.allSpecs.sorted { $0.name < $1.name }
        if count == 1 {
            reply.arrayHeader(everything.count)
            for spec in everything { ServerCommands.commandInfo(spec, &reply) }
        } else if context.argument(1, is: "COUNT") && count == 2 {
            reply.integer(Int64(everything.count))
        } else if context.argument(1, is: "LIST") {
            let listed = try ServerCommands.filtered(everything, context)
            reply.arrayHeader(listed.count)
            for name in listed { reply.bulk(name) }
        } else if context.argument(1, is: "GETKEYS") || context.argument(1, is: "GETKEYSANDFLAGS") {
            let withFlags = context.argument(1, is: "GETKEYSANDFLAGS")
            let keys = try ServerCommands.keyArguments(context, table: table)
            reply.arrayHeader(keys.count)
            for (index, flags) in keys {
                if withFlags {
                    reply.arrayHeader(2)
                    reply.bulk(context.arguments.bytes(index))
                    reply.setHeader(flags.count)
                    for flag in flags { reply.simple(flag) }
                } else {
                    reply.bulk(context.arguments.bytes(index))
                }
            }
        } else if context.argument(1, is: "HELP") {
            ObservabilityCommands.help("COMMAND", ServerCommands.commandHelp, &reply)
        } else if context.argument(1, is: "INFO") {
            let names = count == 2 ? everything.map(\.name) : (2..<count).map { context.string($0) }
            reply.arrayHeader(names.count)
            for name in names {
                // `parent|sub` names a subcommand, as in Redis 7.0.
                let parts = name.lowercased().split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false)
                if let spec = table.spec(named: String(parts[0])), parts.count == 1 {
                    ServerCommands.commandInfo(spec, &reply)
                } else if let spec = table.spec(named: String(parts[0])), parts.count == 2,
                    spec.subcommands?[String(parts[1])] != nil
                {
                    ServerCommands.commandInfo(spec, subcommand: String(parts[1]), &reply)
                } else {
                    reply.null()
                }
            }
        } else if context.argument(1, is: "DOCS") {
            // Redis 7.0's documentation (CommandDocs) of each named command Weft serves, `parent|sub` included;
            // unknown names are left out, as Redis leaves them out. redis-cli builds its hints from this.
            let names = count == 2 ? everything.map(\.name) : (2..<count).map { context.string($0) }
            let known = names.compactMap { name -> (name: String, doc: CommandDoc?)? in
                let parent = name.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false)[0]
                guard let spec = table.spec(named: String(parent)) else { return nil }
                if let found = CommandDocs.lookup(name) { return found }
                // A command of Weft's own, or one documented nowhere yet: an empty map, as before.
                return parent.count == name.count ? (spec.name, nil) : nil
            }
            reply.mapHeader(known.count)
            for (name, doc) in known {
                reply.bulk(name)
                if let doc { doc.write(to: &reply) } else { reply.mapHeader(0) }
            }
        } else {
            let sub = context.string(1)
            throw CommandError("unknown subcommand or wrong number of arguments for '\(sub)'. Try COMMAND HELP.")
        }
    }

    /// MEMORY USAGE key [SAMPLES count] and MEMORY HELP. USAGE counts what the key takes in Weft's heap: its cell
    /// (header and key bytes) and its value's allocation; SAMPLES is checked as Redis checks it and has nothing to
    /// sample (Weft has strings only). MEMORY DOCTOR, STATS, MALLOC-STATS and PURGE are not served.
    static func memory(_ context: CommandContext, _ reply: inout RESPReplyWriter) throws(CommandError) {
        if context.argument(1, is: "USAGE") {
            var index = 3
            while index < context.arguments.count {
                guard context.argument(index, is: "SAMPLES"), index + 1 < context.arguments.count else { throw .syntax }
                guard try context.integer(index + 1) >= 0 else { throw .syntax }
                index += 2
            }
            let keyCount = context.arguments.bytes(2).count
            let usage = context.read(2, counting: false) { entry in
                entry.map { Cell.allocationSize(keyCount: keyCount) + $0.value.allocatedBytes }
            }
            if let usage { reply.integer(Int64(usage)) } else { reply.null() }
        } else {
            ObservabilityCommands.help(
                "MEMORY",
                [
                    "USAGE <key> [SAMPLES <count>]",
                    "    Return memory in bytes used by <key> and its value. Nested values are",
                    "    sampled up to <count> times (default: 5, 0 means sample all).",
                ],
                &reply
            )
        }
    }

    /// COMMAND HELP's lines (Redis 7.0's).
    static let commandHelp = [
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full Redis command.",
    ]

    /// COMMAND LIST's names, containers' subcommands (`client|list`) included, as Redis lists them: all, or those
    /// of `FILTERBY PATTERN glob` (full names matched without case), `FILTERBY ACLCAT category` (a name without its
    /// `@`) or `FILTERBY MODULE name` (none: Weft has no modules).
    static func filtered(_ specs: [CommandSpec], _ context: CommandContext) throws(CommandError) -> [String] {
        let names = specs.flatMap { spec in
            [spec.name] + (spec.subcommands?.keys.sorted().map { "\(spec.name)|\($0)" } ?? [])
        }
        switch context.arguments.count {
        case 2: return names
        case 5 where context.argument(2, is: "FILTERBY"):
            let value = Array(context.arguments.bytes(4))
            if context.argument(3, is: "PATTERN") {
                return names.filter { Glob.matches(value, Array($0.utf8), ignoringCase: true) }
            } else if context.argument(3, is: "ACLCAT") {
                let category = "@" + String(decoding: value, as: UTF8.self).lowercased()
                return names.filter { CommandCategories.byName[$0]?.contains(category) == true }
            } else if context.argument(3, is: "MODULE") {
                return []
            }
        default: break
        }
        throw CommandError("syntax error")
    }

    /// COMMAND GETKEYS and GETKEYSANDFLAGS: the key arguments of the command given from argument 2 on, each with
    /// its key-spec flags, found as Redis's getKeysSubcommandImpl finds them: the command (a container's
    /// subcommand), then whether it takes keys at all, then its arity, then the keys its key specs find (SET and
    /// BITFIELD, whose flags depend on their arguments, through their own rules).
    static func keyArguments(
        _ context: CommandContext,
        table: CommandTable
    ) throws(CommandError) -> [(index: Int, flags: [String])] {
        let count = context.arguments.count - 2
        guard let spec = table.spec(named: context.string(2).lowercased()) else {
            throw CommandError("Invalid command specified")
        }
        var name = spec.name
        var arity = spec.arity
        if let subcommands = spec.subcommands, count >= 2 {
            let subcommand = context.string(3).lowercased()
            guard let subcommandArity = subcommands[subcommand] else { throw CommandError("Invalid command specified") }
            name += "|" + subcommand
            arity = subcommandArity
        }
        guard let entry = CommandInfoTable.byName[name], !entry.keySpecs.isEmpty else {
            throw CommandError("The command has no key arguments")
        }
        guard arity >= 0 ? count == arity : count >= -arity else {
            throw CommandError("Invalid number of arguments specified for command")
        }
        let keys: [(index: Int, flags: [String])]
        if name == "set" {
            keys = [(3, ServerCommands.setKeyFlags(context))]
        } else if name == "bitfield" {
            keys = [(3, ServerCommands.bitfieldKeyFlags(context))]
        } else {
            keys = ServerCommands.keysFromSpecs(entry.keySpecs, context, from: 2) ?? []
        }
        guard !keys.isEmpty else { throw CommandError("Invalid arguments specified for command") }
        return keys
    }

    /// Redis's getKeysUsingKeySpecs over the command at argument `base`: each spec's keys, in order, with its flags;
    /// nil when a spec does not fit the arguments (its keyword is missing, its range runs past the end).
    static func keysFromSpecs(
        _ specs: [CommandInfoTable.KeySpec],
        _ context: CommandContext,
        from base: Int
    ) -> [(index: Int, flags: [String])]? {
        let count = context.arguments.count - base
        var keys: [(index: Int, flags: [String])] = []
        for keySpec in specs {
            var first = 0
            switch keySpec.begin {
            case .index(let index):
                first = index
            case .keyword(let keyword, let startFrom):
                let start = startFrom > 0 ? startFrom : count + startFrom
                let end = startFrom > 0 ? count - 1 : 1
                // As Redis's loop: from `start` towards `end`, `end` itself not looked at.
                var index = start
                while index != end && index >= 1 && index < count {
                    if context.argument(base + index, is: keyword) {
                        first = index + 1
                        break
                    }
                    index += start <= end ? 1 : -1
                }
                if first == 0 { continue }
            case .unknown:
                return nil
            }
            let last: Int
            let step: Int
            switch keySpec.find {
            case .range(let lastKey, let keyStep, let limit):
                step = keyStep
                if lastKey >= 0 {
                    last = first + lastKey
                } else if limit == 0 {
                    last = count + lastKey
                } else {
                    last = first + ((count - first) / limit + lastKey)
                }
            case .keyNumber(let index, let firstKey, let keyStep):
                step = keyStep
                guard index < count - first,
                    let number = RedisInteger.parse(context.arguments.bytes(base + first + index)), number >= 0,
                    number <= Int64(count)
                else { return nil }
                first += firstKey
                last = first + Int(number) - 1
            case .unknown:
                return nil
            }
            guard last < count, last >= first, first < count else { return nil }
            for index in stride(from: first, through: last, by: step) {
                keys.append((base + index, keySpec.flags))
            }
        }
        return keys
    }

    /// SET's key flags (setGetKeys): read and written with GET, else overwritten.
    static func setKeyFlags(_ context: CommandContext) -> [String] {
        for index in 5..<max(context.arguments.count, 5) where context.argument(index, is: "GET") {
            return ["RW", "access", "update"]
        }
        return ["OW", "update"]
    }

    /// BITFIELD's key flags (bitfieldGetKeys): read-only when every operation is a GET (or OVERFLOW); anything else,
    /// a syntax error included, counts as a write.
    static func bitfieldKeyFlags(_ context: CommandContext) -> [String] {
        let count = context.arguments.count
        var index = 4
        while index < count {
            let remaining = count - index - 1
            if context.argument(index, is: "GET") && remaining >= 2 {
                index += 3
            } else if context.argument(index, is: "OVERFLOW") && remaining >= 1 {
                index += 2
            } else {
                return ["RW", "access", "update"]
            }
        }
        return ["RO", "access"]
    }

    /// One COMMAND entry, as Redis's addReplyCommandInfo writes it: name, arity, flags, first key, last key, step,
    /// ACL categories, tips, key specs, subcommands (each an entry of its own; sets in RESP3). A command Redis 7.0
    /// does not know (CLIENT SETINFO) gets Weft's own flags and no key specs.
    static func commandInfo(_ spec: CommandSpec, subcommand: String? = nil, _ reply: inout RESPReplyWriter) {
        let name = subcommand.map { "\(spec.name)|\($0)" } ?? spec.name
        let entry = CommandInfoTable.byName[name]
        reply.arrayHeader(10)
        reply.bulk(name)
        let flags: [String]
        if let subcommand {
            reply.integer(Int64(spec.subcommands?[subcommand] ?? entry?.arity ?? 0))
            flags = entry?.flags ?? []
        } else {
            reply.integer(Int64(spec.arity))
            flags = entry?.flags ?? ServerCommands.ownFlags(spec)
        }
        reply.setHeader(flags.count)
        for flag in flags { reply.simple(flag) }
        let keys = subcommand == nil ? (spec.firstKey, spec.lastKey, spec.keyStep) : entry.map { $0.keys } ?? (0, 0, 0)
        reply.integer(Int64(keys.0))
        reply.integer(Int64(keys.1))
        reply.integer(Int64(keys.2))
        let categories = CommandCategories.byName[name] ?? []
        reply.setHeader(categories.count)
        for category in categories { reply.simple(category) }
        let tips = entry?.tips ?? []
        reply.setHeader(tips.count)
        for tip in tips { reply.bulk(tip) }
        let keySpecs = entry?.keySpecs ?? []
        reply.setHeader(keySpecs.count)
        for keySpec in keySpecs { ServerCommands.write(keySpec, &reply) }
        // Subcommands: an array (in name order; Redis's is its hash table's), or an empty set when there are none.
        let subcommands = subcommand == nil ? (spec.subcommands?.keys.sorted() ?? []) : []
        if subcommands.isEmpty {
            reply.setHeader(0)
        } else {
            reply.arrayHeader(subcommands.count)
            for subcommand in subcommands { ServerCommands.commandInfo(spec, subcommand: subcommand, &reply) }
        }
    }

    /// The flags of a command Redis's table does not have, from its spec.
    static func ownFlags(_ spec: CommandSpec) -> [String] {
        var flags: [String] = []
        if spec.flags.contains(.write) { flags.append("write") }
        if spec.flags.contains(.readonly) { flags.append("readonly") }
        if spec.flags.contains(.admin) { flags.append("admin") }
        if spec.flags.contains(.noMulti) { flags.append("no_multi") }
        if spec.flags.contains(.fast) { flags.append("fast") }
        return flags
    }

    /// A key spec as addReplyCommandKeySpecs writes it: a map of notes (when there are), flags, begin_search and
    /// find_keys, each of the last two a type and a spec map.
    static func write(_ keySpec: CommandInfoTable.KeySpec, _ reply: inout RESPReplyWriter) {
        reply.mapHeader(keySpec.notes == nil ? 3 : 4)
        if let notes = keySpec.notes {
            reply.bulk("notes")
            reply.bulk(notes)
        }
        reply.bulk("flags")
        reply.setHeader(keySpec.flags.count)
        for flag in keySpec.flags { reply.simple(flag) }
        reply.bulk("begin_search")
        reply.mapHeader(2)
        reply.bulk("type")
        switch keySpec.begin {
        case .index(let index):
            reply.bulk("index")
            reply.bulk("spec")
            reply.mapHeader(1)
            reply.bulk("index")
            reply.integer(Int64(index))
        case .keyword(let keyword, let startFrom):
            reply.bulk("keyword")
            reply.bulk("spec")
            reply.mapHeader(2)
            reply.bulk("keyword")
            reply.bulk(keyword)
            reply.bulk("startfrom")
            reply.integer(Int64(startFrom))
        case .unknown:
            reply.bulk("unknown")
            reply.bulk("spec")
            reply.mapHeader(0)
        }
        reply.bulk("find_keys")
        reply.mapHeader(2)
        reply.bulk("type")
        switch keySpec.find {
        case .range(let lastKey, let step, let limit):
            reply.bulk("range")
            reply.bulk("spec")
            reply.mapHeader(3)
            reply.bulk("lastkey")
            reply.integer(Int64(lastKey))
            reply.bulk("keystep")
            reply.integer(Int64(step))
            reply.bulk("limit")
            reply.integer(Int64(limit))
        case .keyNumber(let index, let firstKey, let step):
            reply.bulk("keynum")
            reply.bulk("spec")
            reply.mapHeader(3)
            reply.bulk("keynumidx")
            reply.integer(Int64(index))
            reply.bulk("firstkey")
            reply.integer(Int64(firstKey))
            reply.bulk("keystep")
            reply.integer(Int64(step))
        case .unknown:
            reply.bulk("unknown")
            reply.bulk("spec")
            reply.mapHeader(0)
        }
    }
}
