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
            reply.bulk(ServerCommands.info(context))
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
            // Enough for redis-cli's hints: each command with an empty documentation map.
            let names = count == 2 ? everything.map(\.name) : (2..<count).map { context.string($0) }
            let known = names.compactMap { table.spec(named: $0) }
            reply.mapHeader(known.count)
            for spec in known {
                reply.bulk(spec.name)
                reply.mapHeader(0)
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

    /// INFO [section ...]: Redis's sections and field names, plus Weft's `transactions`.
    static func info(_ context: CommandContext) -> String {
        let requested = (1..<context.arguments.count).map { context.string($0).lowercased() }
        let all = requested.isEmpty || requested.contains("all") || requested.contains("everything")
            || requested.contains("default")
        func wanted(_ name: String) -> Bool { all || requested.contains(name) }
        var sections: [(name: String, fields: [(String, String)])] = context.server?.infoSections() ?? []
        let stats = context.worker.statistics()
        sections.append(
            (
                "Memory",
                [
                    ("used_memory", String(stats.usedMemory)),
                    ("used_memory_human", ServerCommands.human(stats.usedMemory)),
                ]
            )
        )
        sections.append(
            (
                "Transactions",
                [
                    ("tx_commits", String(stats.commits)),
                    ("tx_aborts", String(stats.aborts)),
                    ("tx_retries", String(stats.retries)),
                    ("tx_fallbacks_to_locking", String(stats.fallbacks)),
                    ("tx_exclusive_runs", String(stats.exclusiveRuns)),
                    ("tx_watch_failures", String(stats.watchFailures)),
                ]
            )
        )
        var keyspace: [(String, String)] = []
        for (index, keys) in stats.keysPerDatabase.enumerated() where keys > 0 {
            let expires = context.worker.expiresCount(database: index)
            keyspace.append(("db\(index)", "keys=\(keys),expires=\(expires),avg_ttl=0"))
        }
        sections.append(("Keyspace", keyspace))
        var text = ""
        for section in sections where wanted(section.name.lowercased()) {
            if !text.isEmpty { text += "\r\n" }
            text += "# \(section.name)\r\n"
            for (name, value) in section.fields {
                text += "\(name):\(value)\r\n"
            }
        }
        return text
    }

    /// Bytes as Redis's bytesToHuman writes them (1.50K, 2.00M).
    static func human(_ bytes: Int) -> String {
        let value = Double(bytes)
        func format(_ v: Double, _ unit: String) -> String {
            let hundredths = Int((v * 100).rounded())
            let fraction = hundredths % 100
            return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)\(unit)"
        }
        if bytes < 1024 { return "\(bytes)B" }
        if bytes < 1024 * 1024 { return format(value / 1024, "K") }
        if bytes < 1024 * 1024 * 1024 { return format(value / 1024 / 1024, "M") }
        return format(value / 1024 / 1024 / 1024, "G")
    }
}
