import NIOCore
import RESPCodec
import TransactionEngine

/// What a command handler works with: the engine worker of its event loop, the session and the arguments (the
/// name first). The reply is written to the `RESPReplyWriter` passed beside it.
package struct CommandContext {
    package let worker: Worker
    package var session: ClientSession
    package let arguments: [ByteBuffer]

    /// The command's name as the client sent it, lowercased (for error texts).
    package var name: String {
        String(buffer: self.arguments[0]).lowercased()
    }
}

/// One command in the table: its name, arity, flags and key positions, as Redis's command JSON gives them, and
/// its handler.
package struct CommandSpec: Sendable {
    /// Flags that the dispatcher and, later, MULTI and the log read.
    package struct Flags: OptionSet, Sendable {
        package let rawValue: UInt32
        package init(rawValue: UInt32) { self.rawValue = rawValue }

        package static let write = Flags(rawValue: 1 << 0)
        package static let readonly = Flags(rawValue: 1 << 1)
        package static let fast = Flags(rawValue: 1 << 2)
        package static let admin = Flags(rawValue: 1 << 3)
    }

    package typealias Handler = @Sendable (inout CommandContext, inout RESPReplyWriter) throws(CommandError) -> Void

    /// Lowercase name.
    package let name: String
    /// Argument count including the name; negative means "at least -arity".
    package let arity: Int
    package let flags: Flags
    /// First key position (0: no keys), last key position (negative counts from the end), step.
    package let firstKey: Int
    package let lastKey: Int
    package let keyStep: Int
    package let handler: Handler

    package init(
        _ name: String,
        arity: Int,
        flags: Flags,
        keys: (first: Int, last: Int, step: Int) = (0, 0, 0),
        handler: @escaping Handler
    ) {
        self.name = name
        self.arity = arity
        self.flags = flags
        self.firstKey = keys.first
        self.lastKey = keys.last
        self.keyStep = keys.step
        self.handler = handler
    }

    /// True when `count` arguments (name included) satisfy the arity.
    package func accepts(argumentCount count: Int) -> Bool {
        self.arity >= 0 ? count == self.arity : count >= -self.arity
    }
}
