// Redis 7.0's COMMAND DOCS texts (redis `src/commands/*.json`), as redis-server 7.0.15 answers them.

extension CommandDocs {
    /// Redis's `bitmap` group: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO.
    static let bitmaps: [String: CommandDoc] = [
        "setbit": CommandDoc(
            "Sets or clears the bit at offset in the string value stored at key",
            since: "2.2.0",
            group: "bitmap",
            complexity: "O(1)",
            arguments: [
                .key("key", spec: 0),
                .integer("offset"),
                .integer("value"),
            ]
        ),
        "getbit": CommandDoc(
            "Returns the bit value at offset in the string value stored at key",
            since: "2.2.0",
            group: "bitmap",
            complexity: "O(1)",
            arguments: [
                .key("key", spec: 0),
                .integer("offset"),
            ]
        ),
        "bitcount": CommandDoc(
            "Count set bits in a string",
            since: "2.6.0",
            group: "bitmap",
            complexity: "O(N)",
            history: [("7.0.0", "Added the `BYTE|BIT` option.")],
            arguments: [
                .key("key", spec: 0),
                .block(
                    "index",
                    .optional,
                    of: [
                        .integer("start"),
                        .integer("end"),
                        .oneof(
                            "index_unit",
                            since: "7.0.0",
                            .optional,
                            of: [
                                .token("BYTE"),
                                .token("BIT"),
                            ]
                        ),
                    ]
                ),
            ]
        ),
        "bitpos": CommandDoc(
            "Find first bit set or clear in a string",
            since: "2.8.7",
            group: "bitmap",
            complexity: "O(N)",
            history: [("7.0.0", "Added the `BYTE|BIT` option.")],
            arguments: [
                .key("key", spec: 0),
                .integer("bit"),
                .block(
                    "index",
                    .optional,
                    of: [
                        .integer("start"),
                        .block(
                            "end_index",
                            .optional,
                            of: [
                                .integer("end"),
                                .oneof(
                                    "index_unit",
                                    since: "7.0.0",
                                    .optional,
                                    of: [
                                        .token("BYTE"),
                                        .token("BIT"),
                                    ]
                                ),
                            ]
                        ),
                    ]
                ),
            ]
        ),
        "bitop": CommandDoc(
            "Perform bitwise operations between strings",
            since: "2.6.0",
            group: "bitmap",
            complexity: "O(N)",
            arguments: [
                .string("operation"),
                .key("destkey", spec: 0),
                .key("key", spec: 1, .multiple),
            ]
        ),
        "bitfield": CommandDoc(
            "Perform arbitrary bitfield integer operations on strings",
            since: "3.2.0",
            group: "bitmap",
            complexity: "O(1) for each subcommand specified",
            arguments: [
                .key("key", spec: 0),
                .oneof(
                    "operation",
                    [.optional, .multiple],
                    of: [
                        .block(
                            "encoding_offset",
                            token: "GET",
                            of: [
                                .string("encoding"),
                                .integer("offset"),
                            ]
                        ),
                        .block(
                            "write",
                            of: [
                                .oneof(
                                    "wrap_sat_fail",
                                    token: "OVERFLOW",
                                    .optional,
                                    of: [
                                        .token("WRAP"),
                                        .token("SAT"),
                                        .token("FAIL"),
                                    ]
                                ),
                                .oneof(
                                    "write_operation",
                                    of: [
                                        .block(
                                            "encoding_offset_value",
                                            token: "SET",
                                            of: [
                                                .string("encoding"),
                                                .integer("offset"),
                                                .integer("value"),
                                            ]
                                        ),
                                        .block(
                                            "encoding_offset_increment",
                                            token: "INCRBY",
                                            of: [
                                                .string("encoding"),
                                                .integer("offset"),
                                                .integer("increment"),
                                            ]
                                        ),
                                    ]
                                ),
                            ]
                        ),
                    ]
                ),
            ]
        ),
        "bitfield_ro": CommandDoc(
            "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD",
            since: "6.0.0",
            group: "bitmap",
            complexity: "O(1) for each subcommand specified",
            arguments: [
                .key("key", spec: 0),
                .block(
                    "encoding_offset",
                    token: "GET",
                    [.optional, .multiple, .multipleToken],
                    of: [
                        .string("encoding"),
                        .integer("offset"),
                    ]
                ),
            ]
        ),
    ]
}
