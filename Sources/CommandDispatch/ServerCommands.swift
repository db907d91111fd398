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

    /// COMMAND, COMMAND COUNT, COMMAND INFO name..., COMMAND DOCS [name...], COMMAND LIST.
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
        } else if context.argument(1, is: "LIST") && count == 2 {
            reply.arrayHeader(everything.count)
            for spec in everything { reply.bulk(spec.name) }
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
        for _ in 0..<4 { reply.arrayHeader(0) }
    }
}
