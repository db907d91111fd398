/// An error a command returns to its client: a Redis error code and Redis's message text.
///
/// The command table and the command families arrive with the server (issue 3).
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
}
