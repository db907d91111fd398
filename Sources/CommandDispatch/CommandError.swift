/// An error a command returns to its client: a Redis error code and Redis's message text.
package struct CommandError: Error, Equatable, Sendable {
    /// The code that starts the reply (`ERR`, `WRONGTYPE`, `EXECABORT`).
    package var code: String
    /// The message after the code, as Redis words it.
    package var message: String

    package init(code: String = "ERR", _ message: String) {
        self.code = code
        self.message = message
    }

    /// The reply line without the leading `-` and trailing CRLF.
    package var replyText: String { "\(self.code) \(self.message)" }

    package static let syntax = CommandError("syntax error")
    package static let notInteger = CommandError("value is not an integer or out of range")
    package static let overflow = CommandError("increment or decrement would overflow")
    package static let databaseOutOfRange = CommandError("DB index is out of range")
    package static let wrongType = CommandError(
        code: "WRONGTYPE",
        "Operation against a key holding the wrong kind of value"
    )

    /// `wrong number of arguments for 'get' command`
    package static func wrongArity(_ name: String) -> CommandError {
        CommandError("wrong number of arguments for '\(name.lowercased())' command")
    }

    /// `invalid expire time in 'set' command`
    package static func invalidExpire(_ name: String) -> CommandError {
        CommandError("invalid expire time in '\(name.lowercased())' command")
    }

    /// Client bytes as Redis's `%.*s` puts them in an error: up to the first NUL, at most `limit` bytes. (Bytes that
    /// are not UTF-8 come out as U+FFFD, where Redis sends them as they are.)
    package static func shown(_ bytes: some Collection<UInt8>, limit: Int = Int.max) -> String {
        String(decoding: bytes.prefix { $0 != 0 }.prefix(limit), as: UTF8.self)
    }

    /// Redis's text for an unknown command: the name cut to 128 bytes, then arguments quoted one by one while the
    /// list is shorter than 128 bytes, the last one cut to what is left of the 128 (`processCommand`).
    package static func unknownCommand(_ name: [UInt8], arguments: some Sequence<[UInt8]>) -> CommandError {
        var list: [UInt8] = []
        for argument in arguments {
            guard list.count < 128 else { break }
            let room = 128 - list.count
            list.append(UInt8(ascii: "'"))
            list += argument.prefix { $0 != 0 }.prefix(room)
            list += Array("' ".utf8)
        }
        let text = "unknown command '\(CommandError.shown(name, limit: 128))', with args beginning with: "
            + String(decoding: list, as: UTF8.self)
        return CommandError(text)
    }
}
