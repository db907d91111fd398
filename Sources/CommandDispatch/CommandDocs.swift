import NIOCore
import RESPCodec

/// The documentation `COMMAND DOCS` answers for one command (redis `src/commands/*.json`, as redis-server 7.0.15
/// replies it): what redis-cli builds its command-line hints from.
///
/// The writer puts the fields in Redis's order (`addReplyCommandDocs` in `src/server.c`): summary, since, group,
/// complexity, doc_flags, deprecated_since, replaced_by, history, arguments, subcommands; a field without a value
/// is left out, as Redis leaves it out.
package struct CommandDoc: Sendable {
    /// One line on what the command does.
    package let summary: String
    /// The Redis version that introduced it.
    package let since: String
    /// Redis's command group (`string`, `generic`, `connection`, `server`, `transactions`).
    package let group: String
    package let complexity: String?
    /// The version that deprecated the command and what replaces it; `doc_flags` is then `deprecated`.
    package let deprecated: (since: String, replacedBy: String)?
    /// Redis's `syscmd` doc flag: a command for the server's operators, not applications (DEBUG).
    package let systemCommand: Bool
    /// Changes by Redis version, oldest first.
    package let history: [(version: String, change: String)]
    package let arguments: [CommandArgumentDoc]
    /// A container's subcommands by full name (`client|list`); written in name order (Redis writes its hash order,
    /// which changes at every start).
    package let subcommands: [String: CommandDoc]

    /// A command's documentation; the labels follow the JSON field names.
    package init(
        _ summary: String,
        since: String,
        group: String,
        complexity: String? = nil,
        deprecated: (since: String, replacedBy: String)? = nil,
        systemCommand: Bool = false,
        history: [(version: String, change: String)] = [],
        arguments: [CommandArgumentDoc] = [],
        subcommands: [String: CommandDoc] = [:]
    ) {
        self.summary = summary
        self.since = since
        self.group = group
        self.complexity = complexity
        self.deprecated = deprecated
        self.systemCommand = systemCommand
        self.history = history
        self.arguments = arguments
        self.subcommands = subcommands
    }

    /// Writes the documentation map (maps and sets become flat arrays in RESP2, as Redis writes them).
    ///
    /// - Complexity: O(n) in the size of the documentation.
    package func write(to reply: inout RESPReplyWriter) {
        var count = 3
        if self.complexity != nil { count += 1 }
        if self.deprecated != nil { count += 2 }
        if self.deprecated != nil || self.systemCommand { count += 1 }
        if !self.history.isEmpty { count += 1 }
        if !self.arguments.isEmpty { count += 1 }
        if !self.subcommands.isEmpty { count += 1 }
        reply.mapHeader(count)
        reply.bulk("summary")
        reply.bulk(self.summary)
        reply.bulk("since")
        reply.bulk(self.since)
        reply.bulk("group")
        reply.bulk(self.group)
        if let complexity = self.complexity {
            reply.bulk("complexity")
            reply.bulk(complexity)
        }
        if self.deprecated != nil || self.systemCommand {
            reply.bulk("doc_flags")
            reply.setHeader(self.deprecated != nil && self.systemCommand ? 2 : 1)
            if self.deprecated != nil { reply.simple("deprecated") }
            if self.systemCommand { reply.simple("syscmd") }
        }
        if let deprecated = self.deprecated {
            reply.bulk("deprecated_since")
            reply.bulk(deprecated.since)
            reply.bulk("replaced_by")
            reply.bulk(deprecated.replacedBy)
        }
        if !self.history.isEmpty {
            reply.bulk("history")
            reply.setHeader(self.history.count)
            for entry in self.history {
                reply.arrayHeader(2)
                reply.bulk(entry.version)
                reply.bulk(entry.change)
            }
        }
        if !self.arguments.isEmpty {
            reply.bulk("arguments")
            CommandArgumentDoc.write(self.arguments, to: &reply)
        }
        if !self.subcommands.isEmpty {
            reply.bulk("subcommands")
            reply.mapHeader(self.subcommands.count)
            for name in self.subcommands.keys.sorted() {
                reply.bulk(name)
                self.subcommands[name]!.write(to: &reply)
            }
        }
    }
}

/// One argument in a command's documentation: a leaf (`string`, `integer`, `double`, `key`, `pattern`,
/// `unix-time`, `pure-token`) or a group of arguments (`oneof`, `block`).
///
/// The static builders (`.key`, `.string`, `.token`, `.oneof`…) keep the tables in `CommandDocs` one line an
/// argument. A pure token's name is its token in lowercase, as in every Redis 7.0 command Weft serves.
package struct CommandArgumentDoc: Sendable {
    /// The `type` field.
    package enum Kind: String, Sendable {
        case string, integer, double, key, pattern, oneof, block
        case unixTime = "unix-time"
        case pureToken = "pure-token"
    }

    /// The `flags` field.
    package struct Flags: OptionSet, Sendable {
        package let rawValue: UInt8
        package init(rawValue: UInt8) { self.rawValue = rawValue }

        package static let optional = Flags(rawValue: 1 << 0)
        package static let multiple = Flags(rawValue: 1 << 1)
        /// The token repeats with each value (`PREFIX a PREFIX b`).
        package static let multipleToken = Flags(rawValue: 1 << 2)
    }

    package let name: String
    package let kind: Kind
    /// For a key: the index of its key spec in `COMMAND INFO`.
    package let keySpecIndex: Int?
    /// The literal word before the value (`EX`), or the word itself for a pure token.
    package let token: String?
    package let since: String?
    package let deprecatedSince: String?
    package let flags: Flags
    /// The alternatives of a `oneof`, the parts of a `block`.
    package let arguments: [CommandArgumentDoc]

    /// An argument of any kind; the builders below are shorter.
    package init(
        _ name: String,
        kind: Kind,
        keySpecIndex: Int? = nil,
        token: String? = nil,
        since: String? = nil,
        deprecatedSince: String? = nil,
        flags: Flags = [],
        arguments: [CommandArgumentDoc] = []
    ) {
        self.name = name
        self.kind = kind
        self.keySpecIndex = keySpecIndex
        self.token = token
        self.since = since
        self.deprecatedSince = deprecatedSince
        self.flags = flags
        self.arguments = arguments
    }

    /// A key, with the index of its key spec.
    static func key(_ name: String, spec: Int, since: String? = nil, _ flags: Flags = []) -> Self {
        Self(name, kind: .key, keySpecIndex: spec, since: since, flags: flags)
    }

    /// A string value.
    static func string(
        _ name: String,
        token: String? = nil,
        since: String? = nil,
        deprecatedSince: String? = nil,
        _ flags: Flags = []
    ) -> Self {
        Self(name, kind: .string, token: token, since: since, deprecatedSince: deprecatedSince, flags: flags)
    }

    /// An integer value.
    static func integer(_ name: String, token: String? = nil, since: String? = nil, _ flags: Flags = []) -> Self {
        Self(name, kind: .integer, token: token, since: since, flags: flags)
    }

    /// A floating-point value.
    static func double(_ name: String, token: String? = nil, since: String? = nil, _ flags: Flags = []) -> Self {
        Self(name, kind: .double, token: token, since: since, flags: flags)
    }

    /// A glob-style pattern.
    static func pattern(_ name: String, token: String? = nil, since: String? = nil, _ flags: Flags = []) -> Self {
        Self(name, kind: .pattern, token: token, since: since, flags: flags)
    }

    /// A Unix time in seconds or milliseconds.
    static func unixTime(_ name: String, token: String? = nil, since: String? = nil, _ flags: Flags = []) -> Self {
        Self(name, kind: .unixTime, token: token, since: since, flags: flags)
    }

    /// A word alone (`NX`); its name is the word in lowercase.
    static func token(_ token: String, since: String? = nil, _ flags: Flags = []) -> Self {
        Self(token.lowercased(), kind: .pureToken, token: token, since: since, flags: flags)
    }

    /// Exactly one of `arguments`.
    static func oneof(
        _ name: String,
        token: String? = nil,
        since: String? = nil,
        _ flags: Flags = [],
        of arguments: [Self]
    ) -> Self {
        Self(name, kind: .oneof, token: token, since: since, flags: flags, arguments: arguments)
    }

    /// All of `arguments`, in order.
    static func block(
        _ name: String,
        token: String? = nil,
        since: String? = nil,
        _ flags: Flags = [],
        of arguments: [Self]
    ) -> Self {
        Self(name, kind: .block, token: token, since: since, flags: flags, arguments: arguments)
    }

    /// Writes an argument list as Redis's `addReplyCommandArgList` does: an array of maps.
    static func write(_ arguments: [CommandArgumentDoc], to reply: inout RESPReplyWriter) {
        reply.arrayHeader(arguments.count)
        for argument in arguments {
            argument.write(to: &reply)
        }
    }

    private func write(to reply: inout RESPReplyWriter) {
        let grouped = self.kind == .oneof || self.kind == .block
        var count = 2
        if self.keySpecIndex != nil { count += 1 }
        if self.token != nil { count += 1 }
        if self.since != nil { count += 1 }
        if self.deprecatedSince != nil { count += 1 }
        if !self.flags.isEmpty { count += 1 }
        if grouped { count += 1 }
        reply.mapHeader(count)
        reply.bulk("name")
        reply.bulk(self.name)
        reply.bulk("type")
        reply.bulk(self.kind.rawValue)
        if let keySpecIndex = self.keySpecIndex {
            reply.bulk("key_spec_index")
            reply.integer(Int64(keySpecIndex))
        }
        if let token = self.token {
            reply.bulk("token")
            reply.bulk(token)
        }
        if let since = self.since {
            reply.bulk("since")
            reply.bulk(since)
        }
        if let deprecatedSince = self.deprecatedSince {
            reply.bulk("deprecated_since")
            reply.bulk(deprecatedSince)
        }
        if !self.flags.isEmpty {
            reply.bulk("flags")
            let names = [(Flags.optional, "optional"), (.multiple, "multiple"), (.multipleToken, "multiple_token")]
                .filter { self.flags.contains($0.0) }
            reply.setHeader(names.count)
            for (_, name) in names { reply.simple(name) }
        }
        if grouped {
            reply.bulk("arguments")
            CommandArgumentDoc.write(self.arguments, to: &reply)
        }
    }
}

/// Every command's documentation by lowercase name: Redis 7.0's texts, one table per Redis group in the
/// `CommandDocs+*.swift` files.
package enum CommandDocs {
    /// The documentation of every command that has one.
    package static let all: [String: CommandDoc] = {
        var all: [String: CommandDoc] = [:]
        for group in [
            CommandDocs.strings, CommandDocs.bitmaps, CommandDocs.keyspace, CommandDocs.connection, CommandDocs.server,
            CommandDocs.transactions, CommandDocs.observability,
        ] {
            all.merge(group) { first, _ in first }
        }
        return all
    }()

    /// The documentation of `name` (any case), or of a subcommand as `parent|sub`, with the name COMMAND DOCS
    /// answers it under (lowercase, `client|list`); nil when Redis 7.0 has no such command.
    package static func lookup(_ name: String) -> (name: String, doc: CommandDoc)? {
        let lowered = name.lowercased()
        let parts = lowered.split(separator: "|", omittingEmptySubsequences: false)
        switch parts.count {
        case 1:
            return CommandDocs.all[lowered].map { (lowered, $0) }
        case 2:
            return CommandDocs.all[String(parts[0])]?.subcommands[lowered].map { (lowered, $0) }
        default:
            return nil
        }
    }
}

extension RESPReplyWriter {
    /// A set of `count` elements: `~count` in RESP3, an array in RESP2 (Redis's `addReplySetLen`).
    fileprivate mutating func setHeader(_ count: Int) {
        if self.protocolVersion == 3 {
            self.buffer.writeStaticString("~")
            self.buffer.writeString(String(count))
            self.buffer.writeStaticString("\r\n")
        } else {
            self.arrayHeader(count)
        }
    }
}
