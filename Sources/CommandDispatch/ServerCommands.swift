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
    static let all: [CommandSpec] = [
        CommandSpec("info", arity: -1, flags: []) { context, reply in
            reply.verbatim(ServerCommands.info(context))
        },
        // Weft has no replication: it is always a master with no replicas, at offset 0 (as a Redis master that
        // never had one).
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
        CommandSpec("shutdown", arity: -1, flags: [.admin, .noQueue]) { context, reply throws(CommandError) in
            for index in 1..<context.arguments.count {
                let known = ["NOSAVE", "SAVE", "NOW", "FORCE", "ABORT"].contains { context.argument(index, is: $0) }
                guard known else { throw .syntax }
            }
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
    /// COMMAND GETKEYS command args..., COMMAND HELP. (Subcommand names and arities are checked before it runs.)
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
        } else if context.argument(1, is: "GETKEYS") {
            let keys = try ServerCommands.keyArguments(context, table: table)
            reply.arrayHeader(keys.count)
            for index in keys { reply.bulk(context.arguments.bytes(index)) }
        } else if context.argument(1, is: "HELP") {
            ObservabilityCommands.help("COMMAND", ServerCommands.commandHelp, &reply)
        } else if context.argument(1, is: "INFO") {
            let names = count == 2 ? everything.map(\.name) : (2..<count).map { context.string($0) }
            reply.arrayHeader(names.count)
            for name in names {
                if let spec = table.spec(named: name) { ServerCommands.commandInfo(spec, &reply) } else { reply.null() }
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

    /// COMMAND HELP's lines (Redis 7.0's, GETKEYSANDFLAGS included, which Weft does not serve yet).
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

    /// COMMAND GETKEYS: the positions of the key arguments of the command given from argument 2 on, found as Redis's
    /// getKeysSubcommandImpl finds them: the command (a container's subcommand), then whether it takes keys at all,
    /// then its arity.
    static func keyArguments(_ context: CommandContext, table: CommandTable) throws(CommandError) -> [Int] {
        let count = context.arguments.count - 2
        guard let spec = table.spec(named: context.string(2).lowercased()) else {
            throw CommandError("Invalid command specified")
        }
        var arity = spec.arity
        var keys = Array(spec.keyStride(argumentCount: count).map { $0 + 2 })
        if let subcommands = spec.subcommands {
            let name = context.string(3).lowercased()
            guard let subcommandArity = subcommands[name] else { throw CommandError("Invalid command specified") }
            arity = subcommandArity
            // OBJECT's subcommands but HELP take the key after the subcommand; no other container has keys.
            guard spec.name == "object" && name != "help" else {
                throw CommandError("The command has no key arguments")
            }
            keys = count > 2 ? [4] : []
        } else if spec.firstKey == 0 {
            throw CommandError("The command has no key arguments")
        }
        guard arity >= 0 ? count == arity : count >= -arity else {
            throw CommandError("Invalid number of arguments specified for command")
        }
        guard !keys.isEmpty else { throw CommandError("Invalid arguments specified for command") }
        return keys
    }

    /// One COMMAND entry: name, arity, flags, first key, last key, step, ACL categories, tips, key specs,
    /// subcommands.
    static func commandInfo(_ spec: CommandSpec, _ reply: inout RESPReplyWriter) {
        reply.arrayHeader(10)
        reply.bulk(spec.name)
        reply.integer(Int64(spec.arity))
        var flags: [String] = []
        if spec.flags.contains(.write) { flags.append("write") }
        if spec.flags.contains(.readonly) { flags.append("readonly") }
        if spec.flags.contains(.fast) { flags.append("fast") }
        if spec.flags.contains(.admin) { flags.append("admin") }
        if spec.flags.contains(.noQueue) { flags.append("no_multi") }
        reply.arrayHeader(flags.count)
        for flag in flags { reply.simple(flag) }
        reply.integer(Int64(spec.firstKey))
        reply.integer(Int64(spec.lastKey))
        reply.integer(Int64(spec.keyStep))
        let categories = CommandCategories.byName[spec.name] ?? []
        reply.arrayHeader(categories.count)
        for category in categories { reply.simple(category) }
        for _ in 0..<3 { reply.arrayHeader(0) }
    }
}
