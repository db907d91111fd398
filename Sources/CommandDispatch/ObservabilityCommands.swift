import NIOCore
import RESPCodec
import TransactionEngine

/// SLOWLOG and LATENCY (redis `src/slowlog.c`, `src/latency.c`).
///
/// The dispatcher has already checked the subcommand and its arity (`CommandSpec.subcommandArities`). Weft keeps no
/// latency events, so LATENCY answers as a Redis whose latency monitor has recorded nothing.
enum ObservabilityCommands {
    static let all: [CommandSpec] = [
        CommandSpec("slowlog", arity: -2, flags: [.admin]) { context, reply throws(CommandError) in
            guard let server = context.server else { throw CommandError("SLOWLOG is not available here") }
            try ObservabilityCommands.slowlog(context, &reply, log: server.statistics.slowLog)
        },
        CommandSpec("latency", arity: -2, flags: [.admin]) { context, reply throws(CommandError) in
            try ObservabilityCommands.latency(context, &reply)
        },
    ]

    /// SLOWLOG GET [count] | LEN | RESET | HELP.
    static func slowlog(_ context: CommandContext, _ reply: inout RESPReplyWriter, log: SlowLog) throws(CommandError) {
        let count = context.arguments.count
        if context.argument(1, is: "GET") && count <= 3 {
            var limit = 10
            if count == 3 {
                guard let given = RedisInteger.parse(context.arguments.bytes(2)), given >= -1 else {
                    throw CommandError("count should be greater than or equal to -1")
                }
                limit = given == -1 ? Int.max : Int(given)
            }
            let entries = log.newest(limit)
            reply.arrayHeader(entries.count)
            for entry in entries {
                reply.arrayHeader(6)
                reply.integer(entry.id)
                reply.integer(entry.time)
                reply.integer(Int64(clamping: entry.microseconds))
                reply.arrayHeader(entry.arguments.count)
                for argument in entry.arguments {
                    argument.withUnsafeBytes { reply.bulk($0) }
                }
                reply.bulk(entry.address)
                reply.bulk(entry.name)
            }
        } else if context.argument(1, is: "LEN") && count == 2 {
            reply.integer(Int64(log.count))
        } else if context.argument(1, is: "RESET") && count == 2 {
            log.reset()
            reply.simple("OK")
        } else if context.argument(1, is: "HELP") && count == 2 {
            ObservabilityCommands.help(
                "SLOWLOG",
                [
                    "GET [<count>]",
                    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
                    "    Entries are made of:",
                    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
                    "    client name",
                    "LEN",
                    "    Return the length of the slowlog.",
                    "RESET",
                    "    Reset the slowlog.",
                ],
                &reply
            )
        } else {
            throw ObservabilityCommands.subcommandSyntax(context, "SLOWLOG")
        }
    }

    /// LATENCY LATEST | HISTORY event | RESET [event ...] | GRAPH event | HISTOGRAM [command ...] | DOCTOR | HELP: a
    /// latency monitor that is off and has recorded no event.
    static func latency(_ context: CommandContext, _ reply: inout RESPReplyWriter) throws(CommandError) {
        if context.argument(1, is: "LATEST") || context.argument(1, is: "HISTORY") {
            reply.arrayHeader(0)
        } else if context.argument(1, is: "RESET") {
            reply.integer(0)
        } else if context.argument(1, is: "GRAPH") {
            throw CommandError("No samples available for event '\(context.string(2))'")
        } else if context.argument(1, is: "HISTOGRAM") {
            reply.mapHeader(0)
        } else if context.argument(1, is: "DOCTOR") {
            // createLatencyReport's answer when the monitor is off (latency-monitor-threshold 0) and saw nothing.
            reply.verbatim(
                "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use "
                    + "\"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't "
                    + "in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n"
            )
        } else if context.argument(1, is: "HELP") {
            ObservabilityCommands.help(
                "LATENCY",
                [
                    "DOCTOR",
                    "    Return a human readable latency analysis report.",
                    "GRAPH <event>",
                    "    Return an ASCII latency graph for the <event> class.",
                    "HISTORY <event>",
                    "    Return time-latency samples for the <event> class.",
                    "LATEST",
                    "    Return the latest latency samples for all events.",
                    "RESET [<event> ...]",
                    "    Reset latency data of one or more <event> classes.",
                    "    (default: reset all data for all event classes)",
                    "HISTOGRAM [COMMAND ...]",
                    "    Return a cumulative distribution of latencies in the format of a histogram for the specified "
                        + "command names.",
                    "    If no commands are specified then all histograms are replied.",
                ],
                &reply
            )
        } else {
            throw ObservabilityCommands.subcommandSyntax(context, "LATENCY")
        }
    }

    /// Redis's addReplyHelp: the usage line, the lines, then HELP's own.
    static func help(_ command: String, _ lines: [String], _ reply: inout RESPReplyWriter) {
        let all =
            ["\(command) <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"] + lines
            + ["HELP", "    Prints this help."]
        reply.arrayHeader(all.count)
        for line in all { reply.simple(line) }
    }

    /// Redis's addReplySubcommandSyntaxError.
    static func subcommandSyntax(_ context: CommandContext, _ command: String) -> CommandError {
        CommandError(
            "unknown subcommand or wrong number of arguments for '\(context.string(1).prefix(128))'. "
                + "Try \(command) HELP."
        )
    }
}
