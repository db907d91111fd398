import NIOCore
import RESPCodec
import TransactionEngine

/// CONFIG GET and CONFIG SET for the directives the server knows (redis `src/config.c`).
///
/// CONFIG RESETSTAT resets commandstats, errorstats and the stats counters (not the slow log). CONFIG REWRITE writes
/// the directives CONFIG SET changed back into the config file. Paths cannot be changed at run time.
enum ConfigCommands {
    static let all: [CommandSpec] = [
        CommandSpec("config", arity: -2, flags: [.admin]) { context, reply throws(CommandError) in
            guard let server = context.server else { throw CommandError("CONFIG is not available here") }
            let count = context.arguments.count
            if context.argument(1, is: "GET") {
                guard count >= 3 else { throw .wrongArity("config|get") }
                let patterns = (2..<count).map { Array(context.arguments[$0].readableBytesView) }
                let matching = server.configurationValues().filter { entry in
                    patterns.contains { Glob.matches($0, Array(entry.name.utf8), ignoringCase: true) }
                }
                reply.mapHeader(matching.count)
                for entry in matching {
                    reply.bulk(entry.name)
                    reply.bulk(entry.value)
                }
            } else if context.argument(1, is: "SET") {
                guard count >= 4 && count % 2 == 0 else { throw .wrongArity("config|set") }
                for index in stride(from: 2, to: count, by: 2) {
                    try server.setConfiguration(context.string(index), context.string(index + 1))
                }
                reply.simple("OK")
            } else if context.argument(1, is: "REWRITE") {
                try server.rewriteConfiguration()
                reply.simple("OK")
            } else if context.argument(1, is: "RESETSTAT") {
                server.resetStatistics()
                reply.simple("OK")
            } else {
                let sub = context.string(1)
                throw CommandError("unknown subcommand or wrong number of arguments for '\(sub)'. Try CONFIG HELP.")
            }
        }
    ]
}
