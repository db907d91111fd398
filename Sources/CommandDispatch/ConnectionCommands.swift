import NIOCore
import RESPCodec
import TransactionEngine

/// PING, ECHO, SELECT, QUIT, HELLO, CLIENT (ID, SETNAME, GETNAME, SETINFO).
package enum ConnectionCommands {
    /// What HELLO reports. Like other Redis-compatible servers, Weft names itself `redis` with the Redis version
    /// whose behaviour it follows, so that clients enable the features they expect.
    package static let serverName = "redis"
    package static let serverVersion = "7.2.0"

    static let all: [CommandSpec] = [
        CommandSpec("ping", arity: -1, flags: [.fast]) { context, reply throws(CommandError) in
            switch context.arguments.count {
            case 1: reply.simple("PONG")
            case 2: reply.bulk(context.arguments.bytes(1))
            default: throw .wrongArity("ping")
            }
        },
        CommandSpec("echo", arity: 2, flags: [.fast]) { context, reply in
            reply.bulk(context.arguments.bytes(1))
        },
        CommandSpec("select", arity: 2, flags: [.fast]) { context, reply throws(CommandError) in
            let index = Int64(try KeyspaceCommands.int32(context, 1))
            guard index >= 0 && index < Int64(context.worker.databaseCount) else { throw .databaseOutOfRange }
            context.session.database = Int(index)
            context.transaction?.select(database: Int(index))
            reply.simple("OK")
        },
        CommandSpec("auth", arity: -2, flags: [.fast, .noAuth]) { context, reply throws(CommandError) in
            guard context.arguments.count <= 3 else { throw .syntax }
            let user = context.arguments.count == 3 ? Array(buffer: context.arguments[1]) : Array("default".utf8)
            let password = Array(buffer: context.arguments[context.arguments.count - 1])
            try ConnectionCommands.authenticate(context, user: user, password: password, explicitUser: context.arguments.count == 3)
            reply.simple("OK")
        },
        CommandSpec("quit", arity: -1, flags: [.fast, .noQueue, .noAuth]) { context, reply in
            context.session.closeAfterReply = true
            reply.simple("OK")
        },
        CommandSpec("reset", arity: 1, flags: [.fast, .noQueue, .noAuth]) { context, reply in
            // RESET: leave MULTI and MONITOR, drop watches, back to database 0, RESP2, no name, CLIENT REPLY ON, and
            // unauthenticated when the default user needs a password.
            TransactionCommands.endMulti(&context.session, worker: context.worker)
            context.session.authenticated = !(context.server?.requiresPassword ?? false)
            context.session.database = 0
            context.session.protocolVersion = 2
            context.session.name = ""
            context.session.monitoring = false
            // CLIENT REPLY ON, except that a RESET skipped by CLIENT REPLY SKIP stays unanswered; NO-EVICT stays (as
            // Redis 7.0's RESET).
            if context.session.replyMode != .skip { context.session.replyMode = .on }
            reply.protocolVersion = 2
            reply.simple("RESET")
        },
        CommandSpec("hello", arity: -1, flags: [.fast, .noAuth]) { context, reply throws(CommandError) in
            try ConnectionCommands.hello(context, &reply)
        },
        CommandSpec("client", arity: -2, flags: [.exclusive]) { context, reply throws(CommandError) in
            try ConnectionCommands.client(context, &reply)
        },
    ]

    /// HELLO [protover [AUTH username password] [SETNAME clientname]]
    /// AUTH and HELLO ... AUTH: only the default user exists. Without `requirepass`, `AUTH password` is an error and
    /// `AUTH default anything` passes (the default user has no password); with it, the password must match.
    static func authenticate(
        _ context: CommandContext,
        user: [UInt8],
        password: [UInt8],
        explicitUser: Bool
    ) throws(CommandError) {
        let server = context.server
        if !explicitUser && !(server?.requiresPassword ?? false) {
            throw CommandError(
                "AUTH <password> called without any password configured for the default user. "
                    + "Are you sure your configuration is correct?"
            )
        }
        guard let server, server.authenticate(user: user, password: password) else {
            throw CommandError(code: "WRONGPASS", "invalid username-password pair or user is disabled.")
        }
        context.session.authenticated = true
    }

    static func hello(_ context: CommandContext, _ reply: inout RESPReplyWriter) throws(CommandError) {
        var version = context.session.protocolVersion
        var name: String? = nil
        var credentials: (user: [UInt8], password: [UInt8])? = nil
        if context.arguments.count >= 2 {
            guard let requested = RedisInteger.parse(context.arguments.bytes(1)) else {
                throw CommandError("Protocol version is not an integer or out of range")
            }
            guard requested == 2 || requested == 3 else {
                throw CommandError(code: "NOPROTO", "unsupported protocol version")
            }
            version = Int(requested)
            var index = 2
            while index < context.arguments.count {
                let more = context.arguments.count - index - 1
                if context.argument(index, is: "AUTH") && more >= 2 {
                    credentials = (Array(buffer: context.arguments[index + 1]), Array(buffer: context.arguments[index + 2]))
                    index += 3
                } else if context.argument(index, is: "SETNAME") && more >= 1 {
                    let candidate = context.string(index + 1)
                    try ConnectionCommands.checkName(candidate)
                    name = candidate
                    index += 2
                } else {
                    throw CommandError("Syntax error in HELLO option '\(context.string(index))'")
                }
            }
        }
        if let credentials {
            try ConnectionCommands.authenticate(
                context, user: credentials.user, password: credentials.password, explicitUser: true
            )
        } else if !context.session.authenticated {
            throw CommandError(
                code: "NOAUTH",
                "HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> "
                    + "option can be used to authenticate the client and select the RESP protocol version at the same time"
            )
        }
        context.session.protocolVersion = version
        if let name { context.session.name = name }
        reply.protocolVersion = version
        reply.mapHeader(7)
        reply.bulk("server")
        reply.bulk(ConnectionCommands.serverName)
        reply.bulk("version")
        reply.bulk(ConnectionCommands.serverVersion)
        reply.bulk("proto")
        reply.integer(Int64(version))
        reply.bulk("id")
        reply.integer(context.session.id)
        reply.bulk("mode")
        reply.bulk("standalone")
        reply.bulk("role")
        reply.bulk("master")
        reply.bulk("modules")
        reply.arrayHeader(0)
    }

    /// Client names may not contain spaces, newlines or other special characters (Redis's rule).
    static func checkName(_ name: String) throws(CommandError) {
        for byte in name.utf8 where byte < 33 || byte > 126 {
            throw CommandError("Client names cannot contain spaces, newlines or special characters.")
        }
    }

    /// CLIENT ID | SETNAME name | GETNAME | SETINFO LIB-NAME|LIB-VER value | LIST [ID id...] | INFO |
    /// KILL addr | KILL ID id [ADDR addr].
    /// A client type of CLIENT LIST TYPE and CLIENT KILL TYPE (Redis's `getClientTypeByName`): true for `normal`,
    /// the only kind of client Weft has; false for `master`, `replica`, `slave` and `pubsub`; an error otherwise.
    static func clientType(_ context: CommandContext, _ index: Int) throws(CommandError) -> Bool {
        if context.argument(index, is: "NORMAL") { return true }
        if ["MASTER", "REPLICA", "SLAVE", "PUBSUB"].contains(where: { context.argument(index, is: $0) }) {
            return false
        }
        throw CommandError("Unknown client type '\(context.string(index))'")
    }

    static func client(_ context: CommandContext, _ reply: inout RESPReplyWriter) throws(CommandError) {
        let count = context.arguments.count
        if context.argument(1, is: "ID") && count == 2 {
            reply.integer(context.session.id)
        } else if context.argument(1, is: "SETNAME") && count == 3 {
            let name = context.string(2)
            try ConnectionCommands.checkName(name)
            context.session.name = name
            reply.simple("OK")
        } else if context.argument(1, is: "GETNAME") && count == 2 {
            if context.session.name.isEmpty { reply.null() } else { reply.bulk(context.session.name) }
        } else if context.argument(1, is: "SETINFO") && count == 4 {
            let value = context.string(3)
            if context.argument(2, is: "LIB-NAME") {
                try ConnectionCommands.checkName(value)
                context.session.libraryName = value
            } else if context.argument(2, is: "LIB-VER") {
                try ConnectionCommands.checkName(value)
                context.session.libraryVersion = value
            } else {
                throw CommandError("Unrecognized option '\(context.string(2))'")
            }
            reply.simple("OK")
        } else if context.argument(1, is: "LIST"), let server = context.server {
            var ids: [Int64]? = nil
            if count == 4 && context.argument(2, is: "TYPE") {
                // Every Weft client is a normal one.
                if !(try ConnectionCommands.clientType(context, 3)) { ids = [] }
            } else if count > 3 && context.argument(2, is: "ID") {
                ids = try (3..<count).map { index throws(CommandError) in
                    guard let id = RedisInteger.parse(context.arguments.bytes(index)) else {
                        throw CommandError("Invalid client ID")
                    }
                    return id
                }
            } else if count != 2 {
                throw .syntax
            }
            reply.verbatim(server.clientList(ids: ids, caller: context.session))
        } else if context.argument(1, is: "INFO") && count == 2, let server = context.server {
            reply.verbatim(server.clientList(ids: [context.session.id], caller: context.session))
        } else if context.argument(1, is: "KILL") && count == 3, let server = context.server {
            // The old form: CLIENT KILL addr:port, which may close the caller too.
            var filter = ClientFilter()
            filter.address = context.string(2)
            filter.skipCaller = false
            let result = server.killClients(filter, caller: context.session.id)
            guard result.killed > 0 else { throw CommandError("No such client") }
            if result.caller { context.session.closeAfterReply = true }
            reply.simple("OK")
        } else if context.argument(1, is: "KILL") && count > 3, let server = context.server {
            var filter = ClientFilter()
            var index = 2
            while index < count {
                guard index + 1 < count else { throw .syntax }
                if context.argument(index, is: "ID") {
                    guard let id = RedisInteger.parse(context.arguments.bytes(index + 1)), id > 0 else {
                        throw CommandError("client-id should be greater than 0")
                    }
                    filter.id = id
                } else if context.argument(index, is: "TYPE") {
                    filter.typeMatches = try ConnectionCommands.clientType(context, index + 1)
                } else if context.argument(index, is: "ADDR") {
                    filter.address = context.string(index + 1)
                } else if context.argument(index, is: "LADDR") {
                    filter.localAddress = context.string(index + 1)
                } else if context.argument(index, is: "USER") {
                    // Only the default user exists.
                    guard context.argument(index + 1, is: "DEFAULT") else {
                        throw CommandError("No such user '\(context.string(index + 1))'")
                    }
                } else if context.argument(index, is: "SKIPME") {
                    if context.argument(index + 1, is: "YES") {
                        filter.skipCaller = true
                    } else if context.argument(index + 1, is: "NO") {
                        filter.skipCaller = false
                    } else {
                        throw .syntax
                    }
                } else {
                    throw .syntax
                }
                index += 2
            }
            let result = server.killClients(filter, caller: context.session.id)
            if result.caller { context.session.closeAfterReply = true }
            reply.integer(Int64(result.killed))
        } else if context.argument(1, is: "PAUSE") && (count == 3 || count == 4), let server = context.server {
            // The mode first, then the timeout, as Redis checks them.
            var writesOnly = false
            if count == 4 {
                if context.argument(3, is: "WRITE") {
                    writesOnly = true
                } else if !context.argument(3, is: "ALL") {
                    throw CommandError("CLIENT PAUSE mode must be WRITE or ALL")
                }
            }
            guard let timeout = RedisInteger.parse(context.arguments.bytes(2)) else {
                throw CommandError("timeout is not an integer or out of range")
            }
            // Redis 7.0 takes any size (a pause past the end of time lasts until CLIENT UNPAUSE, or for ever
            // under ALL).
            guard timeout >= 0 else { throw CommandError("timeout is negative") }
            server.pauseClients(milliseconds: timeout, writesOnly: writesOnly)
            context.session.waitsForEveryLoop = true
            reply.simple("OK")
        } else if context.argument(1, is: "UNPAUSE") && count == 2, let server = context.server {
            server.unpauseClients()
            reply.simple("OK")
        } else if context.argument(1, is: "NO-EVICT") && count == 3 {
            context.session.noEvict = try ConnectionCommands.onOff(context, 2)
            reply.simple("OK")
        } else if context.argument(1, is: "REPLY") && count == 3 {
            // OFF and SKIP are not answered: their own reply is the first one dropped.
            if context.argument(2, is: "ON") {
                context.session.replyMode = .on
                reply.simple("OK")
            } else if context.argument(2, is: "OFF") {
                context.session.replyMode = .off
            } else if context.argument(2, is: "SKIP") {
                // Under OFF nothing is sent anyway; during a skipped command, the next one is skipped too.
                if context.session.replyMode != .off { context.session.replyMode = .skipNext }
            } else {
                throw .syntax
            }
        } else if context.argument(1, is: "UNBLOCK") && (count == 3 || count == 4) {
            if count == 4 && !context.argument(3, is: "TIMEOUT") && !context.argument(3, is: "ERROR") {
                throw CommandError("CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
            }
            guard let id = RedisInteger.parse(context.arguments.bytes(2)) else { throw .notInteger }
            // Only WAIT blocks a client in Weft; it is answered as if it had timed out, or with an error.
            let error = count == 4 && context.argument(3, is: "ERROR")
            reply.integer(context.server?.unblockClient(id: id, error: error) == true ? 1 : 0)
        } else if context.argument(1, is: "TRACKING") && count >= 3 {
            // Client-side caching is not served: tracking can only be off, and is.
            guard context.argument(2, is: "OFF") || context.argument(2, is: "ON") else { throw .syntax }
            // The options are checked first, as Redis parses them before it turns tracking on or off.
            var index = 3
            while index < count {
                if context.argument(index, is: "REDIRECT") || context.argument(index, is: "PREFIX") {
                    guard index + 1 < count else { throw .syntax }
                    index += 2
                } else if ["BCAST", "OPTIN", "OPTOUT", "NOLOOP"].contains(where: { context.argument(index, is: $0) }) {
                    index += 1
                } else {
                    throw .syntax
                }
            }
            guard context.argument(2, is: "OFF") else {
                throw CommandError("client-side caching (CLIENT TRACKING ON) is not supported by Weft yet")
            }
            reply.simple("OK")
        } else if context.argument(1, is: "GETREDIR") && count == 2 {
            reply.integer(-1)
        } else if context.argument(1, is: "TRACKINGINFO") && count == 2 {
            reply.mapHeader(3)
            reply.bulk("flags")
            reply.setHeader(1)
            reply.bulk("off")
            reply.bulk("redirect")
            reply.integer(-1)
            reply.bulk("prefixes")
            reply.arrayHeader(0)
        } else if context.argument(1, is: "CACHING") && count == 3 {
            throw CommandError(
                "CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled"
            )
        } else if context.argument(1, is: "HELP") && count == 2 {
            ObservabilityCommands.help("CLIENT", ConnectionCommands.clientHelp, &reply)
        } else {
            let sub = context.string(1)
            throw CommandError("unknown subcommand or wrong number of arguments for '\(sub)'. Try CLIENT HELP.")
        }
    }

    /// `ON` or `OFF` in any case at `index`; anything else is a syntax error.
    static func onOff(_ context: CommandContext, _ index: Int) throws(CommandError) -> Bool {
        if context.argument(index, is: "ON") { return true }
        if context.argument(index, is: "OFF") { return false }
        throw .syntax
    }

    /// CLIENT HELP's lines, Redis 7.0's (TRACKING ON is listed there; Weft does not serve it yet).
    static let clientHelp = [
        "CACHING (YES|NO)",
        "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
        "GETREDIR",
        "    Return the client ID we are redirecting to when tracking is enabled.",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "UNPAUSE",
        "    Stop the current client pause, resuming traffic.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Suspend all, or just write, clients for <timeout> milliseconds.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
        "    Unblock the specified blocked client.",
        "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
        "         [OPTIN] [OPTOUT] [NOLOOP]",
        "    Control server assisted client side caching.",
        "TRACKINGINFO",
        "    Report tracking status for the current connection.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.",
    ]
}
