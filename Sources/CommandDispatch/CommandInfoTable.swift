/// What COMMAND INFO says of each command Weft serves beyond its name, arity and key positions, as redis-server
/// 7.0.15 lists it: Redis's command flags, request and response tips, and key specs (redis `src/commands/*.json`),
/// and the arity and key positions of the containers' subcommands. Generated from redis-server 7.0.15's
/// COMMAND INFO; `CommandInfoTests` checks that each top-level entry agrees with Weft's own `CommandSpec`
/// (arity, key positions, write/readonly/fast/admin flags), so the table cannot claim what the dispatcher does not
/// do. COMMAND GETKEYS and GETKEYSANDFLAGS find keys through the key specs, as Redis does.
package enum CommandInfoTable {
    /// One command's or subcommand's entry.
    package struct Entry: Sendable {
        package let arity: Int
        /// Redis's flags (`write`, `denyoom`, `noscript`, ...), in Redis's order.
        package let flags: [String]
        /// First key, last key, step (the legacy key positions).
        package let keys: (first: Int, last: Int, step: Int)
        package let tips: [String]
        package let keySpecs: [KeySpec]

        init(arity: Int, flags: [String], keys: (Int, Int, Int), tips: [String] = [], keySpecs: [KeySpec] = []) {
            self.arity = arity
            self.flags = flags
            self.keys = keys
            self.tips = tips
            self.keySpecs = keySpecs
        }
    }

    /// A key spec: where the keys of a command start (`begin`) and how they go on (`find`), with what the command
    /// does to them (`RW`, `access`, `update`, ...).
    package struct KeySpec: Sendable {
        package let notes: String?
        package let flags: [String]
        package let begin: BeginSearch
        package let find: FindKeys

        init(notes: String? = nil, flags: [String], begin: BeginSearch, find: FindKeys) {
            self.notes = notes
            self.flags = flags
            self.begin = begin
            self.find = find
        }
    }

    package enum BeginSearch: Sendable {
        /// At this argument.
        case index(Int)
        /// After this keyword, searched from `startFrom` (backwards from the end when negative).
        case keyword(String, startFrom: Int)
        case unknown
    }

    package enum FindKeys: Sendable {
        /// Up to `lastKey` (from the end when negative; with `limit`, a part of the rest), every `step`.
        case range(lastKey: Int, step: Int, limit: Int)
        /// The argument at `index` (from the beginning) holds how many keys follow from `firstKey`.
        case keyNumber(index: Int, firstKey: Int, step: Int)
        case unknown
    }

    /// Full name (`get`, `client|list`) to its entry.
    package static let byName: [String: Entry] = [
        "append": Entry(
            arity: 3,
            flags: ["write", "denyoom", "fast"],
            keys: (1, 1, 1),
            keySpecs: [
                KeySpec(
                    flags: ["RW", "insert"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "auth": Entry(
            arity: -2,
            flags: ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"],
            keys: (0, 0, 0)
        ),
        "bgrewriteaof": Entry(
            arity: 1,
            flags: ["admin", "noscript", "no_async_loading"],
            keys: (0, 0, 0)
        ),
        "bitcount": Entry(
            arity: -2,
            flags: ["readonly"],
            keys: (1, 1, 1),
            keySpecs: [
                KeySpec(
                    flags: ["RO", "access"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "bitfield": Entry(
            arity: -2,
            flags: ["write", "denyoom"],
            keys: (1, 1, 1),
            keySpecs: [
                KeySpec(
                    notes: "This command allows both access and modification of the key",
                    flags: ["RW", "access", "update", "variable_flags"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "bitfield_ro": Entry(
            arity: -2,
            flags: ["readonly", "fast"],
            keys: (1, 1, 1),
            keySpecs: [
                KeySpec(
                    flags: ["RO", "access"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "bitop": Entry(
            arity: -4,
            flags: ["write", "denyoom"],
            keys: (2, -1, 1),
            keySpecs: [
                KeySpec(
                    flags: ["OW", "update"],
                    begin: .index(2),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                ),
                KeySpec(
                    flags: ["RO", "access"],
                    begin: .index(3),
                    find: .range(lastKey: -1, step: 1, limit: 0)
                ),
            ]
        ),
        "bitpos": Entry(
            arity: -3,
            flags: ["readonly"],
            keys: (1, 1, 1),
            keySpecs: [
                KeySpec(
                    flags: ["RO", "access"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "client": Entry(
            arity: -2,
            flags: [],
            keys: (0, 0, 0)
        ),
        "client|caching": Entry(
            arity: 3,
            flags: ["noscript", "loading", "stale"],
            keys: (0, 0, 0)
        ),
        "client|getname": Entry(
            arity: 2,
            flags: ["noscript", "loading", "stale"],
            keys: (0, 0, 0)
        ),
        "client|getredir": Entry(
            arity: 2,
            flags: ["noscript", "loading", "stale"],
            keys: (0, 0, 0)
        ),
        "client|help": Entry(
            arity: 2,
            flags: ["loading", "stale"],
            keys: (0, 0, 0)
        ),
        "client|id": Entry(
            arity: 2,
            flags: ["noscript", "loading", "stale"],
            keys: (0, 0, 0)
        ),
        "client|info": Entry(
            arity: 2,
            flags: ["noscript", "loading", "stale"],
            keys: (0, 0, 0),
            tips: ["nondeterministic_output"]
        ),
        "client|kill": Entry(
            arity: -3,
            flags: ["admin", "noscript", "loading", "stale"],
            keys: (0, 0, 0)
        ),
        "client|list": Entry(
            arity: -2,
            flags: ["admin", "noscript", "loading", "stale"],
            keys: (0, 0, 0),
            tips: ["nondeterministic_output"]
        ),
        "client|no-evict": Entry(
            arity: 3,
            flags: ["admin", "noscript", "loading", "stale"],
            keys: (0, 0, 0)
        ),
        "client|pause": Entry(
            arity: -3,
            flags: ["admin", "noscript", "loading", "stale"],
            keys: (0, 0, 0)
        ),
        "client|reply": Entry(
            arity: 3,
            flags: ["noscript", "loading", "stale"],
            keys: (0, 0, 0)
        ),
        "client|setname": Entry(
            arity: 3,
            flags: ["noscript", "loading", "stale"],
            keys: (0, 0, 0)
        ),
        "client|tracking": Entry(
            arity: -3,
            flags: ["noscript", "loading", "stale"],
            keys: (0, 0, 0)
        ),
        "client|trackinginfo": Entry(
            arity: 2,
            flags: ["noscript", "loading", "stale"],
            keys: (0, 0, 0)
        ),
        "client|unblock": Entry(
            arity: -3,
            flags: ["admin", "noscript", "loading", "stale"],
            keys: (0, 0, 0)
        ),
        "client|unpause": Entry(
            arity: 2,
            flags: ["admin", "noscript", "loading", "stale"],
            keys: (0, 0, 0)
        ),
        "command": Entry(
            arity: -1,
            flags: ["loading", "stale"],
            keys: (0, 0, 0),
            tips: ["nondeterministic_output_order"]
        ),
        "command|count": Entry(
            arity: 2,
            flags: ["loading", "stale"],
            keys: (0, 0, 0)
        ),
        "command|docs": Entry(
            arity: -2,
            flags: ["loading", "stale"],
            keys: (0, 0, 0),
            tips: ["nondeterministic_output_order"]
        ),
        "command|getkeys": Entry(
            arity: -4,
            flags: ["loading", "stale"],
            keys: (0, 0, 0)
        ),
        "command|getkeysandflags": Entry(
            arity: -4,
            flags: ["loading", "stale"],
            keys: (0, 0, 0)
        ),
        "command|help": Entry(
            arity: 2,
            flags: ["loading", "stale"],
            keys: (0, 0, 0)
        ),
        "command|info": Entry(
            arity: -2,
            flags: ["loading", "stale"],
            keys: (0, 0, 0),
            tips: ["nondeterministic_output_order"]
        ),
        "command|list": Entry(
            arity: -2,
            flags: ["loading", "stale"],
            keys: (0, 0, 0),
            tips: ["nondeterministic_output_order"]
        ),
        "config": Entry(
            arity: -2,
            flags: [],
            keys: (0, 0, 0)
        ),
        "config|get": Entry(
            arity: -3,
            flags: ["admin", "noscript", "loading", "stale"],
            keys: (0, 0, 0)
        ),
        "config|help": Entry(
            arity: 2,
            flags: ["loading", "stale"],
            keys: (0, 0, 0)
        ),
        "config|resetstat": Entry(
            arity: 2,
            flags: ["admin", "noscript", "loading", "stale"],
            keys: (0, 0, 0)
        ),
        "config|rewrite": Entry(
            arity: 2,
            flags: ["admin", "noscript", "loading", "stale"],
            keys: (0, 0, 0)
        ),
        "config|set": Entry(
            arity: -4,
            flags: ["admin", "noscript", "loading", "stale"],
            keys: (0, 0, 0),
            tips: ["request_policy:all_nodes", "response_policy:all_succeeded"]
        ),
        "copy": Entry(
            arity: -3,
            flags: ["write", "denyoom"],
            keys: (1, 2, 1),
            keySpecs: [
                KeySpec(
                    flags: ["RO", "access"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                ),
                KeySpec(
                    flags: ["OW", "update"],
                    begin: .index(2),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                ),
            ]
        ),
        "dbsize": Entry(
            arity: 1,
            flags: ["readonly", "fast"],
            keys: (0, 0, 0),
            tips: ["request_policy:all_shards", "response_policy:agg_sum"]
        ),
        "debug": Entry(
            arity: -2,
            flags: ["admin", "noscript", "loading", "stale"],
            keys: (0, 0, 0)
        ),
        "decr": Entry(
            arity: 2,
            flags: ["write", "denyoom", "fast"],
            keys: (1, 1, 1),
            keySpecs: [
                KeySpec(
                    flags: ["RW", "access", "update"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "decrby": Entry(
            arity: 3,
            flags: ["write", "denyoom", "fast"],
            keys: (1, 1, 1),
            keySpecs: [
                KeySpec(
                    flags: ["RW", "access", "update"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "del": Entry(
            arity: -2,
            flags: ["write"],
            keys: (1, -1, 1),
            tips: ["request_policy:multi_shard", "response_policy:agg_sum"],
            keySpecs: [
                KeySpec(
                    flags: ["RM", "delete"],
                    begin: .index(1),
                    find: .range(lastKey: -1, step: 1, limit: 0)
                )
            ]
        ),
        "discard": Entry(
            arity: 1,
            flags: ["noscript", "loading", "stale", "fast", "allow_busy"],
            keys: (0, 0, 0)
        ),
        "dump": Entry(
            arity: 2,
            flags: ["readonly"],
            keys: (1, 1, 1),
            tips: ["nondeterministic_output"],
            keySpecs: [
                KeySpec(
                    flags: ["RO", "access"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "echo": Entry(
            arity: 2,
            flags: ["loading", "stale", "fast"],
            keys: (0, 0, 0)
        ),
        "exec": Entry(
            arity: 1,
            flags: ["noscript", "loading", "stale", "skip_slowlog"],
            keys: (0, 0, 0)
        ),
        "exists": Entry(
            arity: -2,
            flags: ["readonly", "fast"],
            keys: (1, -1, 1),
            tips: ["request_policy:multi_shard", "response_policy:agg_sum"],
            keySpecs: [
                KeySpec(
                    flags: ["RO"],
                    begin: .index(1),
                    find: .range(lastKey: -1, step: 1, limit: 0)
                )
            ]
        ),
        "expire": Entry(
            arity: -3,
            flags: ["write", "fast"],
            keys: (1, 1, 1),
            keySpecs: [
                KeySpec(
                    flags: ["RW", "update"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "expireat": Entry(
            arity: -3,
            flags: ["write", "fast"],
            keys: (1, 1, 1),
            keySpecs: [
                KeySpec(
                    flags: ["RW", "update"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "expiretime": Entry(
            arity: 2,
            flags: ["readonly", "fast"],
            keys: (1, 1, 1),
            keySpecs: [
                KeySpec(
                    flags: ["RO", "access"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "flushall": Entry(
            arity: -1,
            flags: ["write"],
            keys: (0, 0, 0),
            tips: ["request_policy:all_shards", "response_policy:all_succeeded"]
        ),
        "flushdb": Entry(
            arity: -1,
            flags: ["write"],
            keys: (0, 0, 0),
            tips: ["request_policy:all_shards", "response_policy:all_succeeded"]
        ),
        "get": Entry(
            arity: 2,
            flags: ["readonly", "fast"],
            keys: (1, 1, 1),
            keySpecs: [
                KeySpec(
                    flags: ["RO", "access"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "getbit": Entry(
            arity: 3,
            flags: ["readonly", "fast"],
            keys: (1, 1, 1),
            keySpecs: [
                KeySpec(
                    flags: ["RO", "access"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "getdel": Entry(
            arity: 2,
            flags: ["write", "fast"],
            keys: (1, 1, 1),
            keySpecs: [
                KeySpec(
                    flags: ["RW", "access", "delete"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "getex": Entry(
            arity: -2,
            flags: ["write", "fast"],
            keys: (1, 1, 1),
            keySpecs: [
                KeySpec(
                    notes: "RW and UPDATE because it changes the TTL",
                    flags: ["RW", "access", "update"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "getrange": Entry(
            arity: 4,
            flags: ["readonly"],
            keys: (1, 1, 1),
            keySpecs: [
                KeySpec(
                    flags: ["RO", "access"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "getset": Entry(
            arity: 3,
            flags: ["write", "denyoom", "fast"],
            keys: (1, 1, 1),
            keySpecs: [
                KeySpec(
                    flags: ["RW", "access", "update"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "hello": Entry(
            arity: -1,
            flags: ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"],
            keys: (0, 0, 0)
        ),
        "incr": Entry(
            arity: 2,
            flags: ["write", "denyoom", "fast"],
            keys: (1, 1, 1),
            keySpecs: [
                KeySpec(
                    flags: ["RW", "access", "update"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "incrby": Entry(
            arity: 3,
            flags: ["write", "denyoom", "fast"],
            keys: (1, 1, 1),
            keySpecs: [
                KeySpec(
                    flags: ["RW", "access", "update"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "incrbyfloat": Entry(
            arity: 3,
            flags: ["write", "denyoom", "fast"],
            keys: (1, 1, 1),
            keySpecs: [
                KeySpec(
                    flags: ["RW", "access", "update"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "info": Entry(
            arity: -1,
            flags: ["loading", "stale"],
            keys: (0, 0, 0),
            tips: ["nondeterministic_output", "request_policy:all_shards", "response_policy:special"]
        ),
        "keys": Entry(
            arity: 2,
            flags: ["readonly"],
            keys: (0, 0, 0),
            tips: ["request_policy:all_shards", "nondeterministic_output_order"]
        ),
        "lastsave": Entry(
            arity: 1,
            flags: ["loading", "stale", "fast"],
            keys: (0, 0, 0),
            tips: ["nondeterministic_output"]
        ),
        "latency": Entry(
            arity: -2,
            flags: [],
            keys: (0, 0, 0)
        ),
        "latency|doctor": Entry(
            arity: 2,
            flags: ["admin", "noscript", "loading", "stale"],
            keys: (0, 0, 0),
            tips: ["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"]
        ),
        "latency|graph": Entry(
            arity: 3,
            flags: ["admin", "noscript", "loading", "stale"],
            keys: (0, 0, 0),
            tips: ["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"]
        ),
        "latency|help": Entry(
            arity: 2,
            flags: ["loading", "stale"],
            keys: (0, 0, 0)
        ),
        "latency|histogram": Entry(
            arity: -2,
            flags: ["admin", "noscript", "loading", "stale"],
            keys: (0, 0, 0),
            tips: ["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"]
        ),
        "latency|history": Entry(
            arity: 3,
            flags: ["admin", "noscript", "loading", "stale"],
            keys: (0, 0, 0),
            tips: ["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"]
        ),
        "latency|latest": Entry(
            arity: 2,
            flags: ["admin", "noscript", "loading", "stale"],
            keys: (0, 0, 0),
            tips: ["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"]
        ),
        "latency|reset": Entry(
            arity: -2,
            flags: ["admin", "noscript", "loading", "stale"],
            keys: (0, 0, 0),
            tips: ["request_policy:all_nodes", "response_policy:all_succeeded"]
        ),
        "lcs": Entry(
            arity: -3,
            flags: ["readonly"],
            keys: (1, 2, 1),
            keySpecs: [
                KeySpec(
                    flags: ["RO", "access"],
                    begin: .index(1),
                    find: .range(lastKey: 1, step: 1, limit: 0)
                )
            ]
        ),
        "memory": Entry(
            arity: -2,
            flags: [],
            keys: (0, 0, 0)
        ),
        "memory|help": Entry(
            arity: 2,
            flags: ["loading", "stale"],
            keys: (0, 0, 0)
        ),
        "memory|usage": Entry(
            arity: -3,
            flags: ["readonly"],
            keys: (2, 2, 1),
            keySpecs: [
                KeySpec(
                    flags: ["RO"],
                    begin: .index(2),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "mget": Entry(
            arity: -2,
            flags: ["readonly", "fast"],
            keys: (1, -1, 1),
            tips: ["request_policy:multi_shard"],
            keySpecs: [
                KeySpec(
                    flags: ["RO", "access"],
                    begin: .index(1),
                    find: .range(lastKey: -1, step: 1, limit: 0)
                )
            ]
        ),
        "monitor": Entry(
            arity: 1,
            flags: ["admin", "noscript", "loading", "stale"],
            keys: (0, 0, 0)
        ),
        "move": Entry(
            arity: 3,
            flags: ["write", "fast"],
            keys: (1, 1, 1),
            keySpecs: [
                KeySpec(
                    flags: ["RW", "access", "update"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "mset": Entry(
            arity: -3,
            flags: ["write", "denyoom"],
            keys: (1, -1, 2),
            tips: ["request_policy:multi_shard", "response_policy:all_succeeded"],
            keySpecs: [
                KeySpec(
                    flags: ["OW", "update"],
                    begin: .index(1),
                    find: .range(lastKey: -1, step: 2, limit: 0)
                )
            ]
        ),
        "msetnx": Entry(
            arity: -3,
            flags: ["write", "denyoom"],
            keys: (1, -1, 2),
            tips: ["request_policy:multi_shard", "response_policy:agg_min"],
            keySpecs: [
                KeySpec(
                    flags: ["OW", "insert"],
                    begin: .index(1),
                    find: .range(lastKey: -1, step: 2, limit: 0)
                )
            ]
        ),
        "multi": Entry(
            arity: 1,
            flags: ["noscript", "loading", "stale", "fast", "allow_busy"],
            keys: (0, 0, 0)
        ),
        "object": Entry(
            arity: -2,
            flags: [],
            keys: (0, 0, 0)
        ),
        "object|encoding": Entry(
            arity: 3,
            flags: ["readonly"],
            keys: (2, 2, 1),
            tips: ["nondeterministic_output"],
            keySpecs: [
                KeySpec(
                    flags: ["RO"],
                    begin: .index(2),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "object|freq": Entry(
            arity: 3,
            flags: ["readonly"],
            keys: (2, 2, 1),
            tips: ["nondeterministic_output"],
            keySpecs: [
                KeySpec(
                    flags: ["RO"],
                    begin: .index(2),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "object|help": Entry(
            arity: 2,
            flags: ["loading", "stale"],
            keys: (0, 0, 0)
        ),
        "object|idletime": Entry(
            arity: 3,
            flags: ["readonly"],
            keys: (2, 2, 1),
            tips: ["nondeterministic_output"],
            keySpecs: [
                KeySpec(
                    flags: ["RO"],
                    begin: .index(2),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "object|refcount": Entry(
            arity: 3,
            flags: ["readonly"],
            keys: (2, 2, 1),
            tips: ["nondeterministic_output"],
            keySpecs: [
                KeySpec(
                    flags: ["RO"],
                    begin: .index(2),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "persist": Entry(
            arity: 2,
            flags: ["write", "fast"],
            keys: (1, 1, 1),
            keySpecs: [
                KeySpec(
                    flags: ["RW", "update"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "pexpire": Entry(
            arity: -3,
            flags: ["write", "fast"],
            keys: (1, 1, 1),
            keySpecs: [
                KeySpec(
                    flags: ["RW", "update"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "pexpireat": Entry(
            arity: -3,
            flags: ["write", "fast"],
            keys: (1, 1, 1),
            keySpecs: [
                KeySpec(
                    flags: ["RW", "update"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "pexpiretime": Entry(
            arity: 2,
            flags: ["readonly", "fast"],
            keys: (1, 1, 1),
            keySpecs: [
                KeySpec(
                    flags: ["RO", "access"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "ping": Entry(
            arity: -1,
            flags: ["fast"],
            keys: (0, 0, 0),
            tips: ["request_policy:all_shards", "response_policy:all_succeeded"]
        ),
        "psetex": Entry(
            arity: 4,
            flags: ["write", "denyoom"],
            keys: (1, 1, 1),
            keySpecs: [
                KeySpec(
                    flags: ["OW", "update"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "pttl": Entry(
            arity: 2,
            flags: ["readonly", "fast"],
            keys: (1, 1, 1),
            tips: ["nondeterministic_output"],
            keySpecs: [
                KeySpec(
                    flags: ["RO", "access"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "quit": Entry(
            arity: -1,
            flags: ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"],
            keys: (0, 0, 0)
        ),
        "randomkey": Entry(
            arity: 1,
            flags: ["readonly"],
            keys: (0, 0, 0),
            tips: ["request_policy:all_shards", "nondeterministic_output"]
        ),
        "rename": Entry(
            arity: 3,
            flags: ["write"],
            keys: (1, 2, 1),
            keySpecs: [
                KeySpec(
                    flags: ["RW", "access", "delete"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                ),
                KeySpec(
                    flags: ["OW", "update"],
                    begin: .index(2),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                ),
            ]
        ),
        "renamenx": Entry(
            arity: 3,
            flags: ["write", "fast"],
            keys: (1, 2, 1),
            keySpecs: [
                KeySpec(
                    flags: ["RW", "access", "delete"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                ),
                KeySpec(
                    flags: ["OW", "insert"],
                    begin: .index(2),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                ),
            ]
        ),
        "reset": Entry(
            arity: 1,
            flags: ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"],
            keys: (0, 0, 0)
        ),
        "restore": Entry(
            arity: -4,
            flags: ["write", "denyoom"],
            keys: (1, 1, 1),
            keySpecs: [
                KeySpec(
                    flags: ["OW", "update"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "role": Entry(
            arity: 1,
            flags: ["noscript", "loading", "stale", "fast"],
            keys: (0, 0, 0)
        ),
        "scan": Entry(
            arity: -2,
            flags: ["readonly"],
            keys: (0, 0, 0),
            tips: ["nondeterministic_output", "request_policy:special"]
        ),
        "select": Entry(
            arity: 2,
            flags: ["loading", "stale", "fast"],
            keys: (0, 0, 0)
        ),
        "set": Entry(
            arity: -3,
            flags: ["write", "denyoom"],
            keys: (1, 1, 1),
            keySpecs: [
                KeySpec(
                    notes: "RW and ACCESS due to the optional `GET` argument",
                    flags: ["RW", "access", "update", "variable_flags"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "setbit": Entry(
            arity: 4,
            flags: ["write", "denyoom"],
            keys: (1, 1, 1),
            keySpecs: [
                KeySpec(
                    flags: ["RW", "access", "update"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "setex": Entry(
            arity: 4,
            flags: ["write", "denyoom"],
            keys: (1, 1, 1),
            keySpecs: [
                KeySpec(
                    flags: ["OW", "update"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "setnx": Entry(
            arity: 3,
            flags: ["write", "denyoom", "fast"],
            keys: (1, 1, 1),
            keySpecs: [
                KeySpec(
                    flags: ["OW", "insert"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "setrange": Entry(
            arity: 4,
            flags: ["write", "denyoom"],
            keys: (1, 1, 1),
            keySpecs: [
                KeySpec(
                    flags: ["RW", "update"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "shutdown": Entry(
            arity: -1,
            flags: ["admin", "noscript", "loading", "stale", "no_multi", "allow_busy"],
            keys: (0, 0, 0)
        ),
        "slowlog": Entry(
            arity: -2,
            flags: [],
            keys: (0, 0, 0)
        ),
        "slowlog|get": Entry(
            arity: -2,
            flags: ["admin", "loading", "stale"],
            keys: (0, 0, 0),
            tips: ["request_policy:all_nodes", "nondeterministic_output"]
        ),
        "slowlog|help": Entry(
            arity: 2,
            flags: ["loading", "stale"],
            keys: (0, 0, 0)
        ),
        "slowlog|len": Entry(
            arity: 2,
            flags: ["admin", "loading", "stale"],
            keys: (0, 0, 0),
            tips: ["request_policy:all_nodes", "response_policy:agg_sum", "nondeterministic_output"]
        ),
        "slowlog|reset": Entry(
            arity: 2,
            flags: ["admin", "loading", "stale"],
            keys: (0, 0, 0),
            tips: ["request_policy:all_nodes", "response_policy:all_succeeded"]
        ),
        "strlen": Entry(
            arity: 2,
            flags: ["readonly", "fast"],
            keys: (1, 1, 1),
            keySpecs: [
                KeySpec(
                    flags: ["RO"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "substr": Entry(
            arity: 4,
            flags: ["readonly"],
            keys: (1, 1, 1),
            keySpecs: [
                KeySpec(
                    flags: ["RO", "access"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "swapdb": Entry(
            arity: 3,
            flags: ["write", "fast"],
            keys: (0, 0, 0)
        ),
        "time": Entry(
            arity: 1,
            flags: ["loading", "stale", "fast"],
            keys: (0, 0, 0),
            tips: ["nondeterministic_output"]
        ),
        "touch": Entry(
            arity: -2,
            flags: ["readonly", "fast"],
            keys: (1, -1, 1),
            tips: ["request_policy:multi_shard", "response_policy:agg_sum"],
            keySpecs: [
                KeySpec(
                    flags: ["RO"],
                    begin: .index(1),
                    find: .range(lastKey: -1, step: 1, limit: 0)
                )
            ]
        ),
        "ttl": Entry(
            arity: 2,
            flags: ["readonly", "fast"],
            keys: (1, 1, 1),
            tips: ["nondeterministic_output"],
            keySpecs: [
                KeySpec(
                    flags: ["RO", "access"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "type": Entry(
            arity: 2,
            flags: ["readonly", "fast"],
            keys: (1, 1, 1),
            keySpecs: [
                KeySpec(
                    flags: ["RO"],
                    begin: .index(1),
                    find: .range(lastKey: 0, step: 1, limit: 0)
                )
            ]
        ),
        "unlink": Entry(
            arity: -2,
            flags: ["write", "fast"],
            keys: (1, -1, 1),
            tips: ["request_policy:multi_shard", "response_policy:agg_sum"],
            keySpecs: [
                KeySpec(
                    flags: ["RM", "delete"],
                    begin: .index(1),
                    find: .range(lastKey: -1, step: 1, limit: 0)
                )
            ]
        ),
        "unwatch": Entry(
            arity: 1,
            flags: ["noscript", "loading", "stale", "fast", "allow_busy"],
            keys: (0, 0, 0)
        ),
        "wait": Entry(
            arity: 3,
            flags: ["noscript"],
            keys: (0, 0, 0),
            tips: ["request_policy:all_shards", "response_policy:agg_min"]
        ),
        "watch": Entry(
            arity: -2,
            flags: ["noscript", "loading", "stale", "fast", "allow_busy"],
            keys: (1, -1, 1),
            keySpecs: [
                KeySpec(
                    flags: ["RO"],
                    begin: .index(1),
                    find: .range(lastKey: -1, step: 1, limit: 0)
                )
            ]
        ),

    ]
}
