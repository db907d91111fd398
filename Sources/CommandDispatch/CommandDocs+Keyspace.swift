// Redis 7.0's COMMAND DOCS texts (redis `src/commands/*.json`), as redis-server 7.0.15 answers them.

extension CommandDocs {
    /// Redis's `generic` group: DEL, EXPIRE, SCAN and the other commands on keys of any type.
    static let keyspace: [String: CommandDoc] = [
        "copy": CommandDoc(
            "Copy a key",
            since: "6.2.0",
            group: "generic",
            complexity: """
                O(N) worst case for collections, where N is the number of nested items. O(1) for string values.
                """,
            arguments: [
                .key("source", spec: 0),
                .key("destination", spec: 1),
                .integer("destination-db", token: "DB", .optional),
                .token("REPLACE", .optional),
            ]
        ),
        "del": CommandDoc(
            "Delete a key",
            since: "1.0.0",
            group: "generic",
            complexity: """
                O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than \
                a string, the individual complexity for this key is O(M) where M is the number of elements in the \
                list, set, sorted set or hash. Removing a single key that holds a string value is O(1).
                """,
            arguments: [.key("key", spec: 0, .multiple)]
        ),
        "dump": CommandDoc(
            "Return a serialized version of the value stored at the specified key.",
            since: "2.6.0",
            group: "generic",
            complexity: """
                O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects \
                composing the value and M their average size. For small string values the time complexity is thus \
                O(1)+O(1*M) where M is small, so simply O(1).
                """,
            arguments: [.key("key", spec: 0)]
        ),
        "exists": CommandDoc(
            "Determine if a key exists",
            since: "1.0.0",
            group: "generic",
            complexity: "O(N) where N is the number of keys to check.",
            history: [("3.0.3", "Accepts multiple `key` arguments.")],
            arguments: [.key("key", spec: 0, .multiple)]
        ),
        "expire": CommandDoc(
            "Set a key's time to live in seconds",
            since: "1.0.0",
            group: "generic",
            complexity: "O(1)",
            history: [("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`.")],
            arguments: [
                .key("key", spec: 0),
                .integer("seconds"),
                .oneof(
                    "condition",
                    since: "7.0.0",
                    .optional,
                    of: [
                        .token("NX"),
                        .token("XX"),
                        .token("GT"),
                        .token("LT"),
                    ]
                ),
            ]
        ),
        "expireat": CommandDoc(
            "Set the expiration for a key as a UNIX timestamp",
            since: "1.2.0",
            group: "generic",
            complexity: "O(1)",
            history: [("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`.")],
            arguments: [
                .key("key", spec: 0),
                .unixTime("unix-time-seconds"),
                .oneof(
                    "condition",
                    since: "7.0.0",
                    .optional,
                    of: [
                        .token("NX"),
                        .token("XX"),
                        .token("GT"),
                        .token("LT"),
                    ]
                ),
            ]
        ),
        "expiretime": CommandDoc(
            "Get the expiration Unix timestamp for a key",
            since: "7.0.0",
            group: "generic",
            complexity: "O(1)",
            arguments: [.key("key", spec: 0)]
        ),
        "keys": CommandDoc(
            "Find all keys matching the given pattern",
            since: "1.0.0",
            group: "generic",
            complexity: """
                O(N) with N being the number of keys in the database, under the assumption that the key names in the \
                database and the given pattern have limited length.
                """,
            arguments: [.pattern("pattern")]
        ),
        "move": CommandDoc(
            "Move a key to another database",
            since: "1.0.0",
            group: "generic",
            complexity: "O(1)",
            arguments: [.key("key", spec: 0), .integer("db")]
        ),
        "object": CommandDoc(
            "A container for object introspection commands",
            since: "2.2.3",
            group: "generic",
            complexity: "Depends on subcommand.",
            subcommands: [
                "object|encoding": CommandDoc(
                    "Inspect the internal encoding of a Redis object",
                    since: "2.2.3",
                    group: "generic",
                    complexity: "O(1)",
                    arguments: [.key("key", spec: 0)]
                ),
                "object|freq": CommandDoc(
                    "Get the logarithmic access frequency counter of a Redis object",
                    since: "4.0.0",
                    group: "generic",
                    complexity: "O(1)",
                    arguments: [.key("key", spec: 0)]
                ),
                "object|help": CommandDoc(
                    "Show helpful text about the different subcommands",
                    since: "6.2.0",
                    group: "generic",
                    complexity: "O(1)"
                ),
                "object|idletime": CommandDoc(
                    "Get the time since a Redis object was last accessed",
                    since: "2.2.3",
                    group: "generic",
                    complexity: "O(1)",
                    arguments: [.key("key", spec: 0)]
                ),
                "object|refcount": CommandDoc(
                    "Get the number of references to the value of the key",
                    since: "2.2.3",
                    group: "generic",
                    complexity: "O(1)",
                    arguments: [.key("key", spec: 0)]
                ),
            ]
        ),
        "persist": CommandDoc(
            "Remove the expiration from a key",
            since: "2.2.0",
            group: "generic",
            complexity: "O(1)",
            arguments: [.key("key", spec: 0)]
        ),
        "pexpire": CommandDoc(
            "Set a key's time to live in milliseconds",
            since: "2.6.0",
            group: "generic",
            complexity: "O(1)",
            history: [("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`.")],
            arguments: [
                .key("key", spec: 0),
                .integer("milliseconds"),
                .oneof(
                    "condition",
                    since: "7.0.0",
                    .optional,
                    of: [
                        .token("NX"),
                        .token("XX"),
                        .token("GT"),
                        .token("LT"),
                    ]
                ),
            ]
        ),
        "pexpireat": CommandDoc(
            "Set the expiration for a key as a UNIX timestamp specified in milliseconds",
            since: "2.6.0",
            group: "generic",
            complexity: "O(1)",
            history: [("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`.")],
            arguments: [
                .key("key", spec: 0),
                .unixTime("unix-time-milliseconds"),
                .oneof(
                    "condition",
                    since: "7.0.0",
                    .optional,
                    of: [
                        .token("NX"),
                        .token("XX"),
                        .token("GT"),
                        .token("LT"),
                    ]
                ),
            ]
        ),
        "pexpiretime": CommandDoc(
            "Get the expiration Unix timestamp for a key in milliseconds",
            since: "7.0.0",
            group: "generic",
            complexity: "O(1)",
            arguments: [.key("key", spec: 0)]
        ),
        "pttl": CommandDoc(
            "Get the time to live for a key in milliseconds",
            since: "2.6.0",
            group: "generic",
            complexity: "O(1)",
            history: [("2.8.0", "Added the -2 reply.")],
            arguments: [.key("key", spec: 0)]
        ),
        "randomkey": CommandDoc(
            "Return a random key from the keyspace",
            since: "1.0.0",
            group: "generic",
            complexity: "O(1)"
        ),
        "rename": CommandDoc(
            "Rename a key",
            since: "1.0.0",
            group: "generic",
            complexity: "O(1)",
            arguments: [.key("key", spec: 0), .key("newkey", spec: 1)]
        ),
        "renamenx": CommandDoc(
            "Rename a key, only if the new key does not exist",
            since: "1.0.0",
            group: "generic",
            complexity: "O(1)",
            history: [
                ("3.2.0", "The command no longer returns an error when source and destination names are the same.")
            ],
            arguments: [.key("key", spec: 0), .key("newkey", spec: 1)]
        ),
        "restore": CommandDoc(
            "Create a key using the provided serialized value, previously obtained using DUMP.",
            since: "2.6.0",
            group: "generic",
            complexity: """
                O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the \
                number of Redis objects composing the value and M their average size. For small string values the \
                time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values \
                the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).
                """,
            history: [
                ("3.0.0", "Added the `REPLACE` modifier."),
                ("5.0.0", "Added the `ABSTTL` modifier."),
                ("5.0.0", "Added the `IDLETIME` and `FREQ` options."),
            ],
            arguments: [
                .key("key", spec: 0),
                .integer("ttl"),
                .string("serialized-value"),
                .token("REPLACE", since: "3.0.0", .optional),
                .token("ABSTTL", since: "5.0.0", .optional),
                .integer("seconds", token: "IDLETIME", since: "5.0.0", .optional),
                .integer("frequency", token: "FREQ", since: "5.0.0", .optional),
            ]
        ),
        "scan": CommandDoc(
            "Incrementally iterate the keys space",
            since: "2.8.0",
            group: "generic",
            complexity: """
                O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to \
                return back to 0. N is the number of elements inside the collection.
                """,
            history: [("6.0.0", "Added the `TYPE` subcommand.")],
            arguments: [
                .integer("cursor"),
                .pattern("pattern", token: "MATCH", .optional),
                .integer("count", token: "COUNT", .optional),
                .string("type", token: "TYPE", since: "6.0.0", .optional),
            ]
        ),
        "touch": CommandDoc(
            "Alters the last access time of a key(s). Returns the number of existing keys specified.",
            since: "3.2.1",
            group: "generic",
            complexity: "O(N) where N is the number of keys that will be touched.",
            arguments: [.key("key", spec: 0, .multiple)]
        ),
        "ttl": CommandDoc(
            "Get the time to live for a key in seconds",
            since: "1.0.0",
            group: "generic",
            complexity: "O(1)",
            history: [("2.8.0", "Added the -2 reply.")],
            arguments: [.key("key", spec: 0)]
        ),
        "type": CommandDoc(
            "Determine the type stored at key",
            since: "1.0.0",
            group: "generic",
            complexity: "O(1)",
            arguments: [.key("key", spec: 0)]
        ),
        "unlink": CommandDoc(
            "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.",
            since: "4.0.0",
            group: "generic",
            complexity: """
                O(1) for each key removed regardless of its size. Then the command does O(N) work in a different \
                thread in order to reclaim memory, where N is the number of allocations the deleted objects where \
                composed of.
                """,
            arguments: [.key("key", spec: 0, .multiple)]
        ),
        "wait": CommandDoc(
            "Wait for the synchronous replication of all the write commands sent in the context of the current connection",
            since: "3.0.0",
            group: "generic",
            complexity: "O(1)",
            arguments: [.integer("numreplicas"), .integer("timeout")]
        ),
    ]
}
