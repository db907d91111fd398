// Redis 7.0's COMMAND DOCS texts (redis `src/commands/*.json`), as redis-server 7.0.15 answers them.

extension CommandDocs {
    /// Redis's `string` group: APPEND, GET, SET and the other string commands.
    static let strings: [String: CommandDoc] = [
        "append": CommandDoc(
            "Append a value to a key",
            since: "2.0.0",
            group: "string",
            complexity: """
                O(1). The amortized time complexity is O(1) assuming the appended value is small and the already \
                present value is of any size, since the dynamic string library used by Redis will double the free \
                space available on every reallocation.
                """,
            arguments: [.key("key", spec: 0), .string("value")]
        ),
        "decr": CommandDoc(
            "Decrement the integer value of a key by one",
            since: "1.0.0",
            group: "string",
            complexity: "O(1)",
            arguments: [.key("key", spec: 0)]
        ),
        "decrby": CommandDoc(
            "Decrement the integer value of a key by the given number",
            since: "1.0.0",
            group: "string",
            complexity: "O(1)",
            arguments: [.key("key", spec: 0), .integer("decrement")]
        ),
        "get": CommandDoc(
            "Get the value of a key",
            since: "1.0.0",
            group: "string",
            complexity: "O(1)",
            arguments: [.key("key", spec: 0)]
        ),
        "getdel": CommandDoc(
            "Get the value of a key and delete the key",
            since: "6.2.0",
            group: "string",
            complexity: "O(1)",
            arguments: [.key("key", spec: 0)]
        ),
        "getex": CommandDoc(
            "Get the value of a key and optionally set its expiration",
            since: "6.2.0",
            group: "string",
            complexity: "O(1)",
            arguments: [
                .key("key", spec: 0),
                .oneof(
                    "expiration",
                    .optional,
                    of: [
                        .integer("seconds", token: "EX"),
                        .integer("milliseconds", token: "PX"),
                        .unixTime("unix-time-seconds", token: "EXAT"),
                        .unixTime("unix-time-milliseconds", token: "PXAT"),
                        .token("PERSIST"),
                    ]
                ),
            ]
        ),
        "getrange": CommandDoc(
            "Get a substring of the string stored at a key",
            since: "2.4.0",
            group: "string",
            complexity: """
                O(N) where N is the length of the returned string. The complexity is ultimately determined by the \
                returned length, but because creating a substring from an existing string is very cheap, it can be \
                considered O(1) for small strings.
                """,
            arguments: [.key("key", spec: 0), .integer("start"), .integer("end")]
        ),
        "getset": CommandDoc(
            "Set the string value of a key and return its old value",
            since: "1.0.0",
            group: "string",
            complexity: "O(1)",
            deprecated: ("6.2.0", "`SET` with the `!GET` argument"),
            arguments: [.key("key", spec: 0), .string("value")]
        ),
        "incr": CommandDoc(
            "Increment the integer value of a key by one",
            since: "1.0.0",
            group: "string",
            complexity: "O(1)",
            arguments: [.key("key", spec: 0)]
        ),
        "incrby": CommandDoc(
            "Increment the integer value of a key by the given amount",
            since: "1.0.0",
            group: "string",
            complexity: "O(1)",
            arguments: [.key("key", spec: 0), .integer("increment")]
        ),
        "incrbyfloat": CommandDoc(
            "Increment the float value of a key by the given amount",
            since: "2.6.0",
            group: "string",
            complexity: "O(1)",
            arguments: [.key("key", spec: 0), .double("increment")]
        ),
        "lcs": CommandDoc(
            "Find longest common substring",
            since: "7.0.0",
            group: "string",
            complexity: "O(N*M) where N and M are the lengths of s1 and s2, respectively",
            arguments: [
                .key("key1", spec: 0),
                .key("key2", spec: 0),
                .token("LEN", .optional),
                .token("IDX", .optional),
                .integer("len", token: "MINMATCHLEN", .optional),
                .token("WITHMATCHLEN", .optional),
            ]
        ),
        "mget": CommandDoc(
            "Get the values of all the given keys",
            since: "1.0.0",
            group: "string",
            complexity: "O(N) where N is the number of keys to retrieve.",
            arguments: [.key("key", spec: 0, .multiple)]
        ),
        "mset": CommandDoc(
            "Set multiple keys to multiple values",
            since: "1.0.1",
            group: "string",
            complexity: "O(N) where N is the number of keys to set.",
            arguments: [.block("key_value", .multiple, of: [.key("key", spec: 0), .string("value")])]
        ),
        "msetnx": CommandDoc(
            "Set multiple keys to multiple values, only if none of the keys exist",
            since: "1.0.1",
            group: "string",
            complexity: "O(N) where N is the number of keys to set.",
            arguments: [.block("key_value", .multiple, of: [.key("key", spec: 0), .string("value")])]
        ),
        "psetex": CommandDoc(
            "Set the value and expiration in milliseconds of a key",
            since: "2.6.0",
            group: "string",
            complexity: "O(1)",
            arguments: [.key("key", spec: 0), .integer("milliseconds"), .string("value")]
        ),
        "set": CommandDoc(
            "Set the string value of a key",
            since: "1.0.0",
            group: "string",
            complexity: "O(1)",
            history: [
                ("2.6.12", "Added the `EX`, `PX`, `NX` and `XX` options."),
                ("6.0.0", "Added the `KEEPTTL` option."),
                ("6.2.0", "Added the `GET`, `EXAT` and `PXAT` option."),
                ("7.0.0", "Allowed the `NX` and `GET` options to be used together."),
            ],
            arguments: [
                .key("key", spec: 0),
                .string("value"),
                .oneof("condition", since: "2.6.12", .optional, of: [.token("NX"), .token("XX")]),
                .token("GET", since: "6.2.0", .optional),
                .oneof(
                    "expiration",
                    .optional,
                    of: [
                        .integer("seconds", token: "EX", since: "2.6.12"),
                        .integer("milliseconds", token: "PX", since: "2.6.12"),
                        .unixTime("unix-time-seconds", token: "EXAT", since: "6.2.0"),
                        .unixTime("unix-time-milliseconds", token: "PXAT", since: "6.2.0"),
                        .token("KEEPTTL", since: "6.0.0"),
                    ]
                ),
            ]
        ),
        "setex": CommandDoc(
            "Set the value and expiration of a key",
            since: "2.0.0",
            group: "string",
            complexity: "O(1)",
            arguments: [.key("key", spec: 0), .integer("seconds"), .string("value")]
        ),
        "setnx": CommandDoc(
            "Set the value of a key, only if the key does not exist",
            since: "1.0.0",
            group: "string",
            complexity: "O(1)",
            arguments: [.key("key", spec: 0), .string("value")]
        ),
        "setrange": CommandDoc(
            "Overwrite part of a string at key starting at the specified offset",
            since: "2.2.0",
            group: "string",
            complexity: """
                O(1), not counting the time taken to copy the new string in place. Usually, this string is very small \
                so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the \
                value argument.
                """,
            arguments: [.key("key", spec: 0), .integer("offset"), .string("value")]
        ),
        "strlen": CommandDoc(
            "Get the length of the value stored in a key",
            since: "2.2.0",
            group: "string",
            complexity: "O(1)",
            arguments: [.key("key", spec: 0)]
        ),
        "substr": CommandDoc(
            "Get a substring of the string stored at a key",
            since: "1.0.0",
            group: "string",
            complexity: """
                O(N) where N is the length of the returned string. The complexity is ultimately determined by the \
                returned length, but because creating a substring from an existing string is very cheap, it can be \
                considered O(1) for small strings.
                """,
            deprecated: ("2.0.0", "`GETRANGE`"),
            arguments: [.key("key", spec: 0), .integer("start"), .integer("end")]
        ),
    ]

    /// Redis's `transactions` group: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
    static let transactions: [String: CommandDoc] = [
        "discard": CommandDoc(
            "Discard all commands issued after MULTI",
            since: "2.0.0",
            group: "transactions",
            complexity: "O(N), when N is the number of queued commands"
        ),
        "exec": CommandDoc(
            "Execute all commands issued after MULTI",
            since: "1.2.0",
            group: "transactions",
            complexity: "Depends on commands in the transaction"
        ),
        "multi": CommandDoc(
            "Mark the start of a transaction block",
            since: "1.2.0",
            group: "transactions",
            complexity: "O(1)"
        ),
        "unwatch": CommandDoc(
            "Forget about all watched keys",
            since: "2.2.0",
            group: "transactions",
            complexity: "O(1)"
        ),
        "watch": CommandDoc(
            "Watch the given keys to determine execution of the MULTI/EXEC block",
            since: "2.2.0",
            group: "transactions",
            complexity: "O(1) for every key.",
            arguments: [.key("key", spec: 0, .multiple)]
        ),
    ]
}
