extension CommandDocs {
    /// SLOWLOG and LATENCY, from Redis's `server` group (redis-server 7.0.15's COMMAND DOCS; LATENCY's
    /// subcommands are documented as Redis documents them, DOCTOR included).
    static let observability: [String: CommandDoc] = [
        "slowlog": CommandDoc(
            "A container for slow log commands", since: "2.2.12", group: "server",
            complexity: "Depends on subcommand.",
            subcommands: [
                "slowlog|get": CommandDoc(
                    "Get the slow log's entries", since: "2.2.12", group: "server",
                    complexity: "O(N) where N is the number of entries returned",
                    history: [("4.0.0", "Added client IP address, port and name to the reply.")],
                    arguments: [.integer("count", [.optional])]
                ),
                "slowlog|help": CommandDoc(
                    "Show helpful text about the different subcommands", since: "6.2.0", group: "server",
                    complexity: "O(1)"
                ),
                "slowlog|len": CommandDoc(
                    "Get the slow log's length", since: "2.2.12", group: "server", complexity: "O(1)"
                ),
                "slowlog|reset": CommandDoc(
                    "Clear all entries from the slow log", since: "2.2.12", group: "server",
                    complexity: "O(N) where N is the number of entries in the slowlog"
                ),
            ]
        ),
        "latency": CommandDoc(
            "A container for latency diagnostics commands", since: "2.8.13", group: "server",
            complexity: "Depends on subcommand.",
            subcommands: [
                "latency|doctor": CommandDoc(
                    "Return a human readable latency analysis report.", since: "2.8.13", group: "server",
                    complexity: "O(1)"
                ),
                "latency|graph": CommandDoc(
                    "Return a latency graph for the event.", since: "2.8.13", group: "server", complexity: "O(1)",
                    arguments: [.string("event")]
                ),
                "latency|help": CommandDoc(
                    "Show helpful text about the different subcommands.", since: "2.8.13", group: "server",
                    complexity: "O(1)"
                ),
                "latency|histogram": CommandDoc(
                    "Return the cumulative distribution of latencies of a subset of commands or all.", since: "7.0.0",
                    group: "server",
                    complexity: "O(N) where N is the number of commands with latency information being retrieved.",
                    arguments: [.string("command", [.optional, .multiple])]
                ),
                "latency|history": CommandDoc(
                    "Return timestamp-latency samples for the event.", since: "2.8.13", group: "server",
                    complexity: "O(1)",
                    arguments: [.string("event")]
                ),
                "latency|latest": CommandDoc(
                    "Return the latest latency samples for all events.", since: "2.8.13", group: "server",
                    complexity: "O(1)"
                ),
                "latency|reset": CommandDoc(
                    "Reset latency data for one or more events.", since: "2.8.13", group: "server",
                    complexity: "O(1)",
                    arguments: [.string("event", [.optional, .multiple])]
                ),
            ]
        ),
    ]
}
