import NIOCore
import RESPCodec
import TransactionEngine

/// What a command handler works with: the engine worker of its event loop, the session and the arguments (the
/// name first). The reply is written to the `RESPReplyWriter` passed beside it.
///
/// A context lives only while its command runs (`CommandTable.execute` makes it), so it borrows what it points at
/// instead of retaining it. The worker and the statistics are held `Unmanaged`, not `unowned(unsafe)`: Swift turns
/// each load of an `unowned(unsafe)` reference into a retain and a release that the optimizer must keep, so the
/// per-command paths reach them through `withWorker` and `withStatistics`, which borrow without reference counting.
package struct CommandContext {
    /// The event loop's worker, which it keeps for the server's lifetime.
    private let workerReference: Unmanaged<Worker>
    /// The caller's session, borrowed in place for the command (no copy, no swap).
    private let sessionPointer: UnsafeMutablePointer<ClientSession>
    package let arguments: CommandArguments
    /// Set while the command runs inside EXEC: it then reads and writes through this transaction.
    package var transaction: Transaction? = nil
    /// Set while the command runs inside an EXEC that holds the exclusive gate (one with FLUSHDB/FLUSHALL).
    package var exclusive: ExclusiveTransaction? = nil
    /// The server running the command, for INFO, CLIENT, CONFIG and SHUTDOWN (nil in tests without one).
    /// Unowned: the server outlives every command it runs.
    package unowned(unsafe) var server: (any ServerContext)? = nil
    /// The event loop's counters (keyspace hits and misses, EXEC's inner commands); nil in tests without a server.
    /// The loop's state keeps them for the server's lifetime.
    var statisticsReference: Unmanaged<CommandStatistics>? = nil

    /// Only `CommandTable.execute` makes contexts; `session` must stay valid while this one is used.
    init(worker: Worker, session: UnsafeMutablePointer<ClientSession>, arguments: CommandArguments) {
        self.workerReference = Unmanaged.passUnretained(worker)
        self.sessionPointer = session
        self.arguments = arguments
    }

    /// The event loop's worker (a strong reference: for paths that are not per command, else `withWorker`).
    package var worker: Worker {
        self.workerReference.takeUnretainedValue()
    }

    /// Calls `body` with the worker, borrowed without reference counting.
    @inline(__always) package func withWorker<R>(_ body: (Worker) -> R) -> R {
        self.workerReference._withUnsafeGuaranteedRef(body)
    }

    /// The event loop's counters (a strong reference: for paths that are not per command, else `withStatistics`).
    package var statistics: CommandStatistics? {
        get { self.statisticsReference?.takeUnretainedValue() }
        set { self.statisticsReference = newValue.map { Unmanaged.passUnretained($0) } }
    }

    /// Calls `body` with the counters, borrowed without reference counting; does nothing without them.
    @inline(__always) package func withStatistics(_ body: (CommandStatistics) -> Void) {
        self.statisticsReference?._withUnsafeGuaranteedRef(body)
    }

    /// The client's session.
    package var session: ClientSession {
        _read { yield self.sessionPointer.pointee }
        nonmutating _modify { yield &self.sessionPointer.pointee }
    }

    /// `proto-max-bulk-len`, the longest string a command may make (`ServerContext.stringLimit`).
    package var stringLimit: Int64 {
        Int64(self.server?.stringLimit ?? StringCommands.defaultStringLimit)
    }

    /// Redis's `checkStringLength`: `size + append` bytes, or nil when that is above `stringLimit` or overflows.
    package func checkedLength(_ size: Int64, _ append: Int) -> Int? {
        let (total, overflow) = size.addingReportingOverflow(Int64(append))
        guard !overflow, total <= self.stringLimit else { return nil }
        return Int(total)
    }

    /// The command's name as the client sent it, lowercased (for error texts).
    package var name: String {
        String(decoding: self.arguments.bytes(0), as: UTF8.self).lowercased()
    }
}

/// One command in the table: its name, arity, flags and key positions, as Redis's command JSON gives them, and
/// its handler.
///
/// A class, so that the dispatcher's lookup hands out one reference instead of copying the name, the handler and
/// the subcommands (three reference counts) for every command. Immutable once registered: `statisticsSlot` is set
/// while the table is built, before the table is shared.
package final class CommandSpec: @unchecked Sendable {
    /// Flags that the dispatcher and, later, MULTI and the log read.
    package struct Flags: OptionSet, Sendable {
        package let rawValue: UInt32
        package init(rawValue: UInt32) { self.rawValue = rawValue }

        package static let write = Flags(rawValue: 1 << 0)
        package static let readonly = Flags(rawValue: 1 << 1)
        package static let fast = Flags(rawValue: 1 << 2)
        package static let admin = Flags(rawValue: 1 << 3)
        /// Runs alone (FLUSHDB, FLUSHALL, SWAPDB; CLIENT, whose KILL or PAUSE a re-run attempt would repeat): an
        /// EXEC that queues it runs under the exclusive gate, once.
        package static let exclusive = Flags(rawValue: 1 << 4)
        /// Not queued by MULTI: runs at once (EXEC, DISCARD, MULTI, WATCH, QUIT, RESET), as in Redis's
        /// `processCommand`.
        package static let noQueue = Flags(rawValue: 1 << 5)
        /// Runs before the client has authenticated (AUTH, HELLO, QUIT, RESET): Redis's `no-auth`.
        package static let noAuth = Flags(rawValue: 1 << 6)
        /// May make the data set grow: refused while used memory is past `maxmemory` (Redis's `denyoom`, taken from
        /// `CommandInfoTable`).
        package static let denyOOM = Flags(rawValue: 1 << 7)
        /// Refused before it runs, as Redis refuses its `protected` commands under the default
        /// `enable-debug-command no` (DEBUG: Weft has no debugging commands to enable).
        package static let protected = Flags(rawValue: 1 << 8)
        /// Refused inside MULTI, which it then fails (SHUTDOWN): Redis's `no_multi`.
        package static let noMulti = Flags(rawValue: 1 << 9)
    }

    package typealias Handler = @Sendable (CommandContext, inout RESPReplyWriter) throws(CommandError) -> Void

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
    /// For a container command (CLIENT, CONFIG, COMMAND, OBJECT, SLOWLOG, LATENCY): its subcommands' arities, which
    /// the dispatcher checks before running or queueing it, as Redis's does.
    package let subcommands: [String: Int]?
    /// The command's row in each event loop's `CommandStatistics` (INFO commandstats), set when the table registers
    /// it; its subcommands' rows are the table's `subcommandSlot`.
    package internal(set) var statisticsSlot = -1

    /// Redis 7's container commands and the arity of each subcommand (name included), from its command table.
    static let subcommandArities: [String: [String: Int]] = [
        "object": ["encoding": 3, "freq": 3, "help": 2, "idletime": 3, "refcount": 3],
        "config": ["get": -3, "set": -4, "resetstat": 2, "rewrite": 2, "help": 2],
        "client": [
            "caching": 3, "getname": 2, "getredir": 2, "help": 2, "id": 2, "info": 2, "kill": -3, "list": -2,
            "no-evict": 3, "pause": -3, "reply": 3, "setinfo": 4, "setname": 3, "tracking": -3,
            "trackinginfo": 2, "unblock": -3, "unpause": 2,
        ],
        "command": ["count": 2, "docs": -2, "getkeys": -4, "getkeysandflags": -4, "help": 2, "info": -2, "list": -2],
        "slowlog": ["get": -2, "len": 2, "reset": 2, "help": 2],
        "memory": ["usage": -3, "help": 2],
        "latency": ["latest": 2, "history": 3, "reset": -2, "graph": 3, "histogram": -2, "doctor": 2, "help": 2],
    ]

    package init(
        _ name: String,
        arity: Int,
        flags: Flags,
        keys: (first: Int, last: Int, step: Int) = (0, 0, 0),
        handler: @escaping Handler
    ) {
        self.name = name
        self.arity = arity
        var flags = flags
        if CommandInfoTable.byName[name]?.flags.contains("denyoom") == true { flags.insert(.denyOOM) }
        self.flags = flags
        self.firstKey = keys.first
        self.lastKey = keys.last
        self.keyStep = keys.step
        self.handler = handler
        self.subcommands = CommandSpec.subcommandArities[name]
    }

    /// The positions of the key arguments in a call with `count` arguments.
    package func keyPositions(argumentCount count: Int) -> [Int] {
        Array(self.keyStride(argumentCount: count))
    }

    /// The same positions without allocating (empty for a command without keys).
    package func keyStride(argumentCount count: Int) -> StrideThrough<Int> {
        guard self.firstKey > 0, self.keyStep > 0, count > self.firstKey else {
            return stride(from: 1, through: 0, by: 1)
        }
        let last = self.lastKey < 0 ? count + self.lastKey : min(self.lastKey, count - 1)
        return stride(from: self.firstKey, through: last, by: self.keyStep)
    }

    /// True when `count` arguments (name included) satisfy the arity.
    package func accepts(argumentCount count: Int) -> Bool {
        self.arity >= 0 ? count == self.arity : count >= -self.arity
    }
}
