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
                let matching = ConfigCommands.matching(
                    (2..<count).map { Array(context.arguments[$0].readableBytesView) },
                    in: server.configurationValues()
                )
                reply.mapHeader(matching.count)
                for entry in matching {
                    reply.bulk(entry.name)
                    reply.bulk(entry.value)
                }
            } else if context.argument(1, is: "SET") {
                guard count >= 4 else { throw .wrongArity("config|set") }
                guard count % 2 == 0 else { throw .syntax }
                try server.setConfiguration(
                    stride(from: 2, to: count, by: 2).map { (context.string($0), context.string($0 + 1)) }
                )
                reply.simple("OK")
            } else if context.argument(1, is: "REWRITE") {
                try server.rewriteConfiguration()
                reply.simple("OK")
            } else if context.argument(1, is: "RESETSTAT") {
                server.resetStatistics()
                reply.simple("OK")
            } else if context.argument(1, is: "HELP") && count == 2 {
                ObservabilityCommands.help("CONFIG", ConfigCommands.help, &reply)
            } else {
                throw ObservabilityCommands.subcommandSyntax(context, "CONFIG")
            }
        }
    ]

    /// CONFIG HELP's lines, as Redis 7.0's.
    static let help = [
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
    ]

    /// CONFIG GET's answer, as Redis's `configGetCommand` builds it: a pattern without `*`, `?` or `[` names one
    /// directive (in any case) and the reply repeats it as the client typed it; a glob adds every directive it
    /// matches, under its own name. A directive appears once, however many patterns name it.
    static func matching(
        _ patterns: [[UInt8]],
        in entries: [(name: String, value: String)]
    ) -> [(name: String, value: String)] {
        var found: [(name: String, value: String)] = []
        var seen = Set<String>()
        for pattern in patterns {
            if !pattern.contains(where: { "*?[".utf8.contains($0) }) {
                let typed = String(decoding: pattern, as: UTF8.self)
                let name = typed.lowercased()
                if let entry = entries.first(where: { $0.name == name }), seen.insert(name).inserted {
                    found.append((typed, entry.value))
                }
                continue
            }
            for entry in entries where !seen.contains(entry.name) {
                if Glob.matches(pattern, Array(entry.name.utf8), ignoringCase: true) {
                    seen.insert(entry.name)
                    found.append(entry)
                }
            }
        }
        return found
    }
}
