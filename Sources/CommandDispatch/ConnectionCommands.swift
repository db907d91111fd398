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
            case 2: reply.bulk(context.arguments[1])
            default: throw .wrongArity("ping")
            }
        },
        CommandSpec("echo", arity: 2, flags: [.fast]) { context, reply in
            reply.bulk(context.arguments[1])
        },
        CommandSpec("select", arity: 2, flags: [.fast]) { context, reply throws(CommandError) in
            let index = try context.integer(1)
            guard index >= 0 && index < Int64(context.worker.databaseCount) else { throw .databaseOutOfRange }
            context.session.database = Int(index)
            context.transaction?.select(database: Int(index))
            reply.simple("OK")
        },
        CommandSpec("quit", arity: -1, flags: [.fast, .noQueue]) { context, reply in
            context.session.closeAfterReply = true
            reply.simple("OK")
        },
        CommandSpec("reset", arity: 1, flags: [.fast, .noQueue]) { context, reply in
            // RESET: leave MULTI, drop watches, back to database 0, RESP2, no name.
            TransactionCommands.endMulti(&context)
            context.session.database = 0
            context.session.protocolVersion = 2
            context.session.name = ""
            reply.protocolVersion = 2
            reply.simple("RESET")
        },
        CommandSpec("hello", arity: -1, flags: [.fast]) { context, reply throws(CommandError) in
            try ConnectionCommands.hello(&context, &reply)
        },
        CommandSpec("client", arity: -2, flags: []) { context, reply throws(CommandError) in
            try ConnectionCommands.client(&context, &reply)
        },
    ]

    /// HELLO [protover [AUTH username password] [SETNAME clientname]]
    static func hello(_ context: inout CommandContext, _ reply: inout RESPReplyWriter) throws(CommandError) {
        var version = context.session.protocolVersion
        var name: String? = nil
        if context.arguments.count >= 2 {
            guard let requested = RedisInteger.parse(context.arguments[1]) else {
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
                    // No password can be configured yet: Redis answers AUTH for a passwordless default user so.
                    throw CommandError(
                        "AUTH <password> called without any password configured for the default user. "
                            + "Are you sure your configuration is correct?"
                    )
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
    static func client(_ context: inout CommandContext, _ reply: inout RESPReplyWriter) throws(CommandError) {
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
            var ids: Set<Int64>? = nil
            if count > 2 {
                guard context.argument(2, is: "ID"), count > 3 else { throw .syntax }
                var wanted = Set<Int64>()
                for index in 3..<count {
                    guard let id = RedisInteger.parse(context.arguments[index]), id > 0 else {
                        throw CommandError("Invalid client ID")
                    }
                    wanted.insert(id)
                }
                ids = wanted
            }
            reply.bulk(server.clientList(ids: ids))
        } else if context.argument(1, is: "INFO") && count == 2, let server = context.server {
            reply.bulk(server.clientList(ids: [context.session.id]))
        } else if context.argument(1, is: "KILL") && count == 3, let server = context.server {
            // The old form: CLIENT KILL addr:port.
            guard server.killClients(ids: [], address: context.string(2)) > 0 else {
                throw CommandError("No such client")
            }
            reply.simple("OK")
        } else if context.argument(1, is: "KILL") && count >= 4 && count % 2 == 0, let server = context.server {
            var ids = Set<Int64>()
            var address: String? = nil
            for index in stride(from: 2, to: count, by: 2) {
                if context.argument(index, is: "ID") {
                    guard let id = RedisInteger.parse(context.arguments[index + 1]), id > 0 else {
                        throw CommandError("client-id should be greater than 0")
                    }
                    ids.insert(id)
                } else if context.argument(index, is: "ADDR") {
                    address = context.string(index + 1)
                } else {
                    throw .syntax
                }
            }
            reply.integer(Int64(server.killClients(ids: ids, address: address)))
        } else {
            let sub = context.string(1)
            throw CommandError("unknown subcommand or wrong number of arguments for '\(sub)'. Try CLIENT HELP.")
        }
    }
}
