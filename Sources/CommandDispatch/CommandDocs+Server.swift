// Redis 7.0's COMMAND DOCS texts (redis `src/commands/*.json`), as redis-server 7.0.15 answers them.

extension CommandDocs {
    /// Redis's `connection` group: PING, HELLO, SELECT, CLIENT and its subcommands.
    static let connection: [String: CommandDoc] = [
        "auth": CommandDoc(
            "Authenticate to the server",
            since: "1.0.0",
            group: "connection",
            complexity: "O(N) where N is the number of passwords defined for the user",
            history: [("6.0.0", "Added ACL style (username and password).")],
            arguments: [.string("username", since: "6.0.0", .optional), .string("password")]
        ),
        "client": CommandDoc(
            "A container for client connection commands",
            since: "2.4.0",
            group: "connection",
            complexity: "Depends on subcommand.",
            subcommands: [
                "client|caching": CommandDoc(
                    "Instruct the server about tracking or not keys in the next request",
                    since: "6.0.0",
                    group: "connection",
                    complexity: "O(1)",
                    arguments: [.oneof("mode", of: [.token("YES"), .token("NO")])]
                ),
                "client|getname": CommandDoc(
                    "Get the current connection name",
                    since: "2.6.9",
                    group: "connection",
                    complexity: "O(1)"
                ),
                "client|getredir": CommandDoc(
                    "Get tracking notifications redirection client ID if any",
                    since: "6.0.0",
                    group: "connection",
                    complexity: "O(1)"
                ),
                "client|help": CommandDoc(
                    "Show helpful text about the different subcommands",
                    since: "5.0.0",
                    group: "connection",
                    complexity: "O(1)"
                ),
                "client|id": CommandDoc(
                    "Returns the client ID for the current connection",
                    since: "5.0.0",
                    group: "connection",
                    complexity: "O(1)"
                ),
                "client|info": CommandDoc(
                    "Returns information about the current client connection.",
                    since: "6.2.0",
                    group: "connection",
                    complexity: "O(1)"
                ),
                "client|kill": CommandDoc(
                    "Kill the connection of a client",
                    since: "2.4.0",
                    group: "connection",
                    complexity: "O(N) where N is the number of client connections",
                    history: [
                        ("2.8.12", "Added new filter format."),
                        ("2.8.12", "`ID` option."),
                        ("3.2.0", "Added `master` type in for `TYPE` option."),
                        (
                            "5.0.0",
                            """
                            Replaced `slave` `TYPE` with `replica`. `slave` still supported for backward \
                            compatibility.
                            """
                        ),
                        ("6.2.0", "`LADDR` option."),
                    ],
                    arguments: [
                        .oneof(
                            "filter",
                            of: [
                                .string("ip:port", deprecatedSince: "2.8.12"),
                                .oneof(
                                    "new-format",
                                    .multiple,
                                    of: [
                                        .integer("client-id", token: "ID", since: "2.8.12", .optional),
                                        .oneof(
                                            "normal_master_slave_pubsub",
                                            token: "TYPE",
                                            since: "2.8.12",
                                            .optional,
                                            of: [
                                                .token("NORMAL"),
                                                .token("MASTER", since: "3.2.0"),
                                                .token("SLAVE"),
                                                .token("REPLICA", since: "5.0.0"),
                                                .token("PUBSUB"),
                                            ]
                                        ),
                                        .string("username", token: "USER", .optional),
                                        .string("ip:port", token: "ADDR", .optional),
                                        .string("ip:port", token: "LADDR", since: "6.2.0", .optional),
                                        .string("yes/no", token: "SKIPME", .optional),
                                    ]
                                ),
                            ]
                        )
                    ]
                ),
                "client|list": CommandDoc(
                    "Get the list of client connections",
                    since: "2.4.0",
                    group: "connection",
                    complexity: "O(N) where N is the number of client connections",
                    history: [
                        ("2.8.12", "Added unique client `id` field."),
                        ("5.0.0", "Added optional `TYPE` filter."),
                        ("6.0.0", "Added `user` field."),
                        (
                            "6.2.0",
                            """
                            Added `argv-mem`, `tot-mem`, `laddr` and `redir` fields and the optional `ID` filter.
                            """
                        ),
                        ("7.0.0", "Added `resp`, `multi-mem`, `rbs` and `rbp` fields."),
                        ("7.0.3", "Added `ssub` field."),
                    ],
                    arguments: [
                        .oneof(
                            "normal_master_replica_pubsub",
                            token: "TYPE",
                            since: "5.0.0",
                            .optional,
                            of: [
                                .token("NORMAL"),
                                .token("MASTER"),
                                .token("REPLICA"),
                                .token("PUBSUB"),
                            ]
                        ),
                        .block("id", token: "ID", since: "6.2.0", .optional, of: [.integer("client-id", .multiple)]),
                    ]
                ),
                "client|no-evict": CommandDoc(
                    "Set client eviction mode for the current connection",
                    since: "7.0.0",
                    group: "connection",
                    complexity: "O(1)",
                    arguments: [.oneof("enabled", of: [.token("ON"), .token("OFF")])]
                ),
                "client|pause": CommandDoc(
                    "Stop processing commands from clients for some time",
                    since: "2.9.50",
                    group: "connection",
                    complexity: "O(1)",
                    history: [("6.2.0", "`CLIENT PAUSE WRITE` mode added along with the `mode` option.")],
                    arguments: [
                        .integer("timeout"),
                        .oneof("mode", since: "6.2.0", .optional, of: [.token("WRITE"), .token("ALL")]),
                    ]
                ),
                "client|reply": CommandDoc(
                    "Instruct the server whether to reply to commands",
                    since: "3.2.0",
                    group: "connection",
                    complexity: "O(1)",
                    arguments: [.oneof("on_off_skip", of: [.token("ON"), .token("OFF"), .token("SKIP")])]
                ),
                "client|setname": CommandDoc(
                    "Set the current connection name",
                    since: "2.6.9",
                    group: "connection",
                    complexity: "O(1)",
                    arguments: [.string("connection-name")]
                ),
                "client|tracking": CommandDoc(
                    "Enable or disable server assisted client side caching support",
                    since: "6.0.0",
                    group: "connection",
                    complexity: "O(1). Some options may introduce additional complexity.",
                    arguments: [
                        .oneof("status", of: [.token("ON"), .token("OFF")]),
                        .integer("client-id", token: "REDIRECT", .optional),
                        .string("prefix", token: "PREFIX", [.optional, .multiple, .multipleToken]),
                        .token("BCAST", .optional),
                        .token("OPTIN", .optional),
                        .token("OPTOUT", .optional),
                        .token("NOLOOP", .optional),
                    ]
                ),
                "client|trackinginfo": CommandDoc(
                    "Return information about server assisted client side caching for the current connection",
                    since: "6.2.0",
                    group: "connection",
                    complexity: "O(1)"
                ),
                "client|unblock": CommandDoc(
                    "Unblock a client blocked in a blocking command from a different connection",
                    since: "5.0.0",
                    group: "connection",
                    complexity: "O(log N) where N is the number of client connections",
                    arguments: [
                        .integer("client-id"),
                        .oneof("timeout_error", .optional, of: [.token("TIMEOUT"), .token("ERROR")]),
                    ]
                ),
                "client|unpause": CommandDoc(
                    "Resume processing of clients that were paused",
                    since: "6.2.0",
                    group: "connection",
                    complexity: "O(N) Where N is the number of paused clients"
                ),
            ]
        ),
        "echo": CommandDoc(
            "Echo the given string",
            since: "1.0.0",
            group: "connection",
            complexity: "O(1)",
            arguments: [.string("message")]
        ),
        "hello": CommandDoc(
            "Handshake with Redis",
            since: "6.0.0",
            group: "connection",
            complexity: "O(1)",
            history: [
                (
                    "6.2.0",
                    """
                    `protover` made optional; when called without arguments the command reports the current \
                    connection's context.
                    """
                )
            ],
            arguments: [
                .block(
                    "arguments",
                    .optional,
                    of: [
                        .integer("protover"),
                        .block(
                            "username_password",
                            token: "AUTH",
                            .optional,
                            of: [
                                .string("username"),
                                .string("password"),
                            ]
                        ),
                        .string("clientname", token: "SETNAME", .optional),
                    ]
                )
            ]
        ),
        "ping": CommandDoc(
            "Ping the server",
            since: "1.0.0",
            group: "connection",
            complexity: "O(1)",
            arguments: [.string("message", .optional)]
        ),
        "quit": CommandDoc(
            "Close the connection",
            since: "1.0.0",
            group: "connection",
            complexity: "O(1)"
        ),
        "reset": CommandDoc(
            "Reset the connection",
            since: "6.2.0",
            group: "connection",
            complexity: "O(1)"
        ),
        "select": CommandDoc(
            "Change the selected database for the current connection",
            since: "1.0.0",
            group: "connection",
            complexity: "O(1)",
            arguments: [.integer("index")]
        ),
    ]

    /// Redis's `server` group: INFO, CONFIG, COMMAND and the other server commands.
    static let server: [String: CommandDoc] = [
        "bgrewriteaof": CommandDoc(
            "Asynchronously rewrite the append-only file",
            since: "1.0.0",
            group: "server",
            complexity: "O(1)"
        ),
        "command": CommandDoc(
            "Get array of Redis command details",
            since: "2.8.13",
            group: "server",
            complexity: "O(N) where N is the total number of Redis commands",
            subcommands: [
                "command|count": CommandDoc(
                    "Get total number of Redis commands",
                    since: "2.8.13",
                    group: "server",
                    complexity: "O(1)"
                ),
                "command|docs": CommandDoc(
                    "Get array of specific Redis command documentation",
                    since: "7.0.0",
                    group: "server",
                    complexity: "O(N) where N is the number of commands to look up",
                    arguments: [.string("command-name", [.optional, .multiple])]
                ),
                "command|getkeys": CommandDoc(
                    "Extract keys given a full Redis command",
                    since: "2.8.13",
                    group: "server",
                    complexity: "O(N) where N is the number of arguments to the command"
                ),
                "command|getkeysandflags": CommandDoc(
                    "Extract keys and access flags given a full Redis command",
                    since: "7.0.0",
                    group: "server",
                    complexity: "O(N) where N is the number of arguments to the command"
                ),
                "command|help": CommandDoc(
                    "Show helpful text about the different subcommands",
                    since: "5.0.0",
                    group: "server",
                    complexity: "O(1)"
                ),
                "command|info": CommandDoc(
                    "Get array of specific Redis command details, or all when no argument is given.",
                    since: "2.8.13",
                    group: "server",
                    complexity: "O(N) where N is the number of commands to look up",
                    history: [("7.0.0", "Allowed to be called with no argument to get info on all commands.")],
                    arguments: [.string("command-name", [.optional, .multiple])]
                ),
                "command|list": CommandDoc(
                    "Get an array of Redis command names",
                    since: "7.0.0",
                    group: "server",
                    complexity: "O(N) where N is the total number of Redis commands",
                    arguments: [
                        .oneof(
                            "filterby",
                            token: "FILTERBY",
                            .optional,
                            of: [
                                .string("module-name", token: "MODULE"),
                                .string("category", token: "ACLCAT"),
                                .pattern("pattern", token: "PATTERN"),
                            ]
                        )
                    ]
                ),
            ]
        ),
        "config": CommandDoc(
            "A container for server configuration commands",
            since: "2.0.0",
            group: "server",
            complexity: "Depends on subcommand.",
            subcommands: [
                "config|get": CommandDoc(
                    "Get the values of configuration parameters",
                    since: "2.0.0",
                    group: "server",
                    complexity: "O(N) when N is the number of configuration parameters provided",
                    history: [("7.0.0", "Added the ability to pass multiple pattern parameters in one call")],
                    arguments: [.block("parameter", .multiple, of: [.string("parameter")])]
                ),
                "config|help": CommandDoc(
                    "Show helpful text about the different subcommands",
                    since: "5.0.0",
                    group: "server",
                    complexity: "O(1)"
                ),
                "config|resetstat": CommandDoc(
                    "Reset the stats returned by INFO",
                    since: "2.0.0",
                    group: "server",
                    complexity: "O(1)"
                ),
                "config|rewrite": CommandDoc(
                    "Rewrite the configuration file with the in memory configuration",
                    since: "2.8.0",
                    group: "server",
                    complexity: "O(1)"
                ),
                "config|set": CommandDoc(
                    "Set configuration parameters to the given values",
                    since: "2.0.0",
                    group: "server",
                    complexity: "O(N) when N is the number of configuration parameters provided",
                    history: [("7.0.0", "Added the ability to set multiple parameters in one call.")],
                    arguments: [.block("parameter_value", .multiple, of: [.string("parameter"), .string("value")])]
                ),
            ]
        ),
        "dbsize": CommandDoc(
            "Return the number of keys in the selected database",
            since: "1.0.0",
            group: "server",
            complexity: "O(1)"
        ),
        "debug": CommandDoc(
            "A container for debugging commands",
            since: "1.0.0",
            group: "server",
            complexity: "Depends on subcommand.",
            systemCommand: true
        ),
        "flushall": CommandDoc(
            "Remove all keys from all databases",
            since: "1.0.0",
            group: "server",
            complexity: "O(N) where N is the total number of keys in all databases",
            history: [
                ("4.0.0", "Added the `ASYNC` flushing mode modifier."),
                ("6.2.0", "Added the `SYNC` flushing mode modifier."),
            ],
            arguments: [
                .oneof("async", .optional, of: [.token("ASYNC", since: "4.0.0"), .token("SYNC", since: "6.2.0")])
            ]
        ),
        "flushdb": CommandDoc(
            "Remove all keys from the current database",
            since: "1.0.0",
            group: "server",
            complexity: "O(N) where N is the number of keys in the selected database",
            history: [
                ("4.0.0", "Added the `ASYNC` flushing mode modifier."),
                ("6.2.0", "Added the `SYNC` flushing mode modifier."),
            ],
            arguments: [
                .oneof("async", .optional, of: [.token("ASYNC", since: "4.0.0"), .token("SYNC", since: "6.2.0")])
            ]
        ),
        "info": CommandDoc(
            "Get information and statistics about the server",
            since: "1.0.0",
            group: "server",
            complexity: "O(1)",
            history: [("7.0.0", "Added support for taking multiple section arguments.")],
            arguments: [.string("section", [.optional, .multiple])]
        ),
        "lastsave": CommandDoc(
            "Get the UNIX time stamp of the last successful save to disk",
            since: "1.0.0",
            group: "server",
            complexity: "O(1)"
        ),
        "memory": CommandDoc(
            "A container for memory diagnostics commands",
            since: "4.0.0",
            group: "server",
            complexity: "Depends on subcommand.",
            subcommands: [
                "memory|doctor": CommandDoc(
                    "Outputs memory problems report",
                    since: "4.0.0",
                    group: "server",
                    complexity: "O(1)"
                ),
                "memory|help": CommandDoc(
                    "Show helpful text about the different subcommands",
                    since: "4.0.0",
                    group: "server",
                    complexity: "O(1)"
                ),
                "memory|malloc-stats": CommandDoc(
                    "Show allocator internal stats",
                    since: "4.0.0",
                    group: "server",
                    complexity: "Depends on how much memory is allocated, could be slow"
                ),
                "memory|purge": CommandDoc(
                    "Ask the allocator to release memory",
                    since: "4.0.0",
                    group: "server",
                    complexity: "Depends on how much memory is allocated, could be slow"
                ),
                "memory|stats": CommandDoc(
                    "Show memory usage details",
                    since: "4.0.0",
                    group: "server",
                    complexity: "O(1)"
                ),
                "memory|usage": CommandDoc(
                    "Estimate the memory usage of a key",
                    since: "4.0.0",
                    group: "server",
                    complexity: "O(N) where N is the number of samples.",
                    arguments: [
                        .key("key", spec: 0),
                        .integer("count", token: "SAMPLES", .optional),
                    ]
                ),
            ]
        ),
        "monitor": CommandDoc(
            "Listen for all requests received by the server in real time",
            since: "1.0.0",
            group: "server"
        ),
        "role": CommandDoc(
            "Return the role of the instance in the context of replication",
            since: "2.8.12",
            group: "server",
            complexity: "O(1)"
        ),
        "shutdown": CommandDoc(
            "Synchronously save the dataset to disk and then shut down the server",
            since: "1.0.0",
            group: "server",
            complexity: """
                O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise \
                O(1)
                """,
            history: [("7.0.0", "Added the `NOW`, `FORCE` and `ABORT` modifiers.")],
            arguments: [
                .oneof("nosave_save", .optional, of: [.token("NOSAVE"), .token("SAVE")]),
                .token("NOW", since: "7.0.0", .optional),
                .token("FORCE", since: "7.0.0", .optional),
                .token("ABORT", since: "7.0.0", .optional),
            ]
        ),
        "swapdb": CommandDoc(
            "Swaps two Redis databases",
            since: "4.0.0",
            group: "server",
            complexity: "O(N) where N is the count of clients watching or blocking on keys from both databases.",
            arguments: [.integer("index1"), .integer("index2")]
        ),
        "time": CommandDoc(
            "Return the current server time",
            since: "2.6.0",
            group: "server",
            complexity: "O(1)"
        ),
    ]
}
