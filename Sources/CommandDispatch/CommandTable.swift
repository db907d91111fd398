import NIOCore
import RESPCodec
import TransactionEngine

/// The command table: every command Weft serves, by lowercase name, and the dispatcher that runs one.
package struct CommandTable: Sendable {
    private var commands: [String: CommandSpec] = [:]
    /// The same specs in an open-addressing table by a hash of the lowercase name (a power of two, at most a
    /// quarter full), so that dispatch finds a command without allocating or hashing twice.
    private var slots: [CommandSpec?] = Array(repeating: nil, count: 1024)
    /// Each slot's lowercase name as bytes, compared with the request's name.
    private var slotNames: [[UInt8]] = Array(repeating: [], count: 1024)
    /// The name of each row of the command statistics: a command (`get`) or a container's subcommand (`config|get`).
    package private(set) var statisticsNames: [String] = []
    /// A container's subcommand rows, by the container's row and the subcommand's lowercase name.
    private var subcommandSlots: [Int: [String: Int]] = [:]
    /// By statistics row: whether MONITOR never shows the command (Redis's `admin` flag).
    private var hiddenFromMonitor: [Bool] = []
    /// By statistics row: whether the command reads or writes keys (Redis's `readonly`, `write` and
    /// `may_replicate` flags), which a connection in MONITOR mode may not run.
    private var touchesKeyspace: [Bool] = []
    /// The connections in MONITOR mode; every copy of the table shares it.
    package let monitors = MonitorFeed()

    /// The table with every command family registered.
    package static let standard: CommandTable = {
        var table = CommandTable()
        table.register(ConnectionCommands.all)
        table.register(StringCommands.all)
        table.register(BitCommands.all)
        table.register(KeyspaceCommands.all)
        table.register(TransactionCommands.all)
        table.register(ServerCommands.all)
        table.register(ConfigCommands.all)
        table.register(ObservabilityCommands.all)
        table.register(DumpCommands.all)
        table.register(MonitorCommands.all)
        return table
    }()

    mutating func register(_ specs: [CommandSpec]) {
        for spec in specs {
            precondition(self.commands[spec.name] == nil, "command \(spec.name) registered twice")
            spec.statisticsSlot = self.statisticsNames.count
            self.addStatisticsRow(spec.name, spec: spec)
            for subcommand in (spec.subcommands ?? [:]).keys.sorted() {
                self.subcommandSlots[spec.statisticsSlot, default: [:]][subcommand] = self.statisticsNames.count
                self.addStatisticsRow("\(spec.name)|\(subcommand)", spec: spec)
            }
            self.commands[spec.name] = spec
            precondition(self.commands.count * 4 <= self.slots.count, "the command table is too full")
            let name = Array(spec.name.utf8)
            let mask = self.slots.count - 1
            var slot = name.withUnsafeBytes { Int(truncatingIfNeeded: CommandTable.nameHash($0)) } & mask
            while self.slots[slot] != nil {
                slot = (slot + 1) & mask
            }
            self.slots[slot] = spec
            self.slotNames[slot] = name
        }
    }

    /// Adds the statistics row of a command or subcommand (`config|get`), with the flags MONITOR looks at: Redis's,
    /// from `CommandInfoTable`, or else the spec's.
    private mutating func addStatisticsRow(_ name: String, spec: CommandSpec) {
        self.statisticsNames.append(name)
        if let flags = CommandInfoTable.byName[name]?.flags {
            self.hiddenFromMonitor.append(flags.contains("admin"))
            self.touchesKeyspace.append(flags.contains { $0 == "readonly" || $0 == "write" || $0 == "may_replicate" })
        } else {
            self.hiddenFromMonitor.append(spec.flags.contains(.admin))
            self.touchesKeyspace.append(!spec.flags.isDisjoint(with: [.readonly, .write]))
        }
    }

    /// The statistics row of a command's arguments (its subcommand's, for a container), or -1 when it names no
    /// command or no subcommand of it.
    func statisticsSlot(of arguments: CommandArguments) -> Int {
        guard let spec = self.spec(forName: arguments.bytes(0)) else { return -1 }
        guard spec.subcommands != nil else { return spec.statisticsSlot }
        guard arguments.count >= 2 else { return -1 }
        return self.subcommandSlot(spec, String(decoding: arguments.bytes(1), as: UTF8.self).lowercased())
    }

    /// Feeds a command that ran to the monitors (see `MonitorFeed`), unless it is one they never see; a caller that
    /// monitors gets its own line in `reply`.
    func feedMonitors(
        _ arguments: CommandArguments,
        slot: Int,
        database: Int,
        session: ClientSession,
        reply: inout RESPReplyWriter
    ) {
        guard slot < 0 || !self.hiddenFromMonitor[slot] else { return }
        // A client closing after this reply (QUIT) gets nothing more, its own line included.
        let callerMonitors = session.monitoring && !session.closeAfterReply
        let line = self.monitors.feed(
            arguments,
            database: database,
            address: session.address,
            caller: session.id,
            callerMonitors: callerMonitors
        )
        if let line, callerMonitors {
            reply.buffer.writeBytes(line)
        }
    }

    /// The spec of a command name (any case).
    package func spec(named name: String) -> CommandSpec? {
        self.commands[name.lowercased()]
    }

    /// The spec of the command named `bytes`, in any case, without allocating; nil for an unknown name.
    package func spec(forName bytes: UnsafeRawBufferPointer) -> CommandSpec? {
        let mask = self.slots.count - 1
        var slot = Int(truncatingIfNeeded: CommandTable.nameHash(bytes)) & mask
        while true {
            guard let spec = self.slots[slot] else { return nil }
            if CommandTable.equalsLowercased(bytes, self.slotNames[slot]) { return spec }
            slot = (slot + 1) & mask
        }
    }

    /// Whether a command `session`'s MULTI queued has any of `flags` (is EXEC a write, a denyoom command?).
    package func queue(of session: ClientSession, has flags: CommandSpec.Flags) -> Bool {
        session.queued.contains { !(self.spec(for: $0)?.flags.isDisjoint(with: flags) ?? true) }
    }

    /// The spec of a command MULTI queued; nil for an unknown name.
    package func spec(for command: QueuedCommand) -> CommandSpec? {
        command.withBytes(0) { self.spec(forName: $0) }
    }

    /// True when `bytes`, lowercased, are `name`.
    @inline(__always) static func equalsLowercased(_ bytes: UnsafeRawBufferPointer, _ name: [UInt8]) -> Bool {
        guard bytes.count == name.count else { return false }
        return name.withUnsafeBufferPointer { expected in
            for index in 0..<expected.count where CommandTable.lower(bytes[index]) != expected[index] {
                return false
            }
            return true
        }
    }

    @inline(__always) static func lower(_ byte: UInt8) -> UInt8 {
        byte >= 65 && byte <= 90 ? byte + 32 : byte
    }

    /// FNV-1a over the lowercased bytes.
    static func nameHash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(CommandTable.lower(byte))) &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    /// Every command, for COMMAND COUNT and the like.
    package var count: Int { self.commands.count }

    /// Every command's spec.
    package var allSpecs: [CommandSpec] { Array(self.commands.values) }

    /// The statistics row of a container's subcommand (lowercase), or -1.
    func subcommandSlot(_ spec: CommandSpec, _ subcommand: String) -> Int {
        self.subcommandSlots[spec.statisticsSlot]?[subcommand] ?? -1
    }

    /// Runs one command and writes its reply (a result or an error) to `reply`; between MULTI and EXEC, queues it.
    ///
    /// With `statistics`, it also counts the command for INFO commandstats (a call with its time, a rejection before
    /// it ran, or a failure it answered with an error), every error reply by its code (errorstats), and offers the
    /// command to the slow log. This is the one place every command passes, so the counting costs two monotonic clock
    /// reads (about one in a batch: see `CommandStatistics.startBatch`), a few plain stores to this loop's counters and one
    /// comparison with the slow log's threshold.
    ///
    /// - Parameters:
    ///   - arguments: the command name first; never empty.
    ///   - transaction: EXEC's transaction, when the command runs inside EXEC.
    ///   - exclusive: EXEC's exclusive transaction, when the EXEC holds the exclusive gate.
    ///   - mayRefuse: the server's `mayRefuse` (read once per batch by the caller): only then is the server asked
    ///     for a `refusal` (MISCONF, LOADING) before the command runs.
    ///   - statistics: the counters of the event loop running the command (nil: not counted).
    ///   - found: the command's spec when the caller has already looked it up (`prepare`); nil to look it up.
    ///   - pauseCheck: the caller's cheap look at CLIENT PAUSE (true while one may be in force): then, after every
    ///     check that answers at once, the server says whether the pause holds the command.
    /// - Returns: false when CLIENT PAUSE holds the command: nothing ran and nothing was written; the caller keeps
    ///   it for when the pause ends.
    @discardableResult
    package func execute(
        _ arguments: CommandArguments,
        spec found: CommandSpec? = nil,
        session: inout ClientSession,
        worker: Worker,
        reply: inout RESPReplyWriter,
        transaction: Transaction? = nil,
        exclusive: ExclusiveTransaction? = nil,
        server: (any ServerContext)? = nil,
        mayRefuse: Bool = false,
        pauseCheck: Bool = false,
        statistics: CommandStatistics? = nil
    ) -> Bool {
        // Borrowed without reference counting for the rest of the command (see `CommandContext`).
        let counters = statistics.map { Unmanaged.passUnretained($0) }
        let chained = counters?._withUnsafeGuaranteedRef { $0.takeLastEnd() } ?? 0
        reply.protocolVersion = session.protocolVersion
        guard let spec = found ?? self.spec(forName: arguments.bytes(0)) else {
            let error = CommandError.unknownCommand(
                Array(arguments.bytes(0)),
                arguments: arguments.indices.dropFirst().lazy.map { Array(arguments.bytes($0)) }
            )
            CommandTable.reject(error.replyText, spec: nil, slot: -1, &session, &reply, statistics, worker: worker)
            return true
        }
        var slot = spec.statisticsSlot
        var fullName = spec.name
        guard spec.accepts(argumentCount: arguments.count) else {
            let text = CommandError.wrongArity(spec.name).replyText
            CommandTable.reject(text, spec: spec, slot: slot, &session, &reply, statistics, worker: worker)
            return true
        }
        if let subcommands = spec.subcommands, arguments.count >= 2 {
            let name = String(decoding: arguments.bytes(1), as: UTF8.self).lowercased()
            guard let arity = subcommands[name] else {
                let given = CommandError.shown(arguments.bytes(1), limit: 128)
                let text = "ERR unknown subcommand '\(given)'. Try \(spec.name.uppercased()) HELP."
                CommandTable.reject(text, spec: spec, slot: -1, &session, &reply, statistics, worker: worker)
                return true
            }
            slot = self.subcommandSlot(spec, name)
            fullName = "\(spec.name)|\(name)"
            guard arity >= 0 ? arguments.count == arity : arguments.count >= -arity else {
                let text = CommandError.wrongArity("\(spec.name)|\(name)").replyText
                CommandTable.reject(text, spec: spec, slot: slot, &session, &reply, statistics, worker: worker)
                return true
            }
        }
        if !session.authenticated && !spec.flags.contains(.noAuth) {
            let text = "NOAUTH Authentication required."
            CommandTable.reject(text, spec: spec, slot: slot, &session, &reply, statistics, worker: worker)
            return true
        }
        if session.inMulti && spec.flags.contains(.noMulti) {
            let text = "ERR Command not allowed inside a transaction"
            CommandTable.reject(text, spec: spec, slot: slot, &session, &reply, statistics, worker: worker)
            return true
        }
        if spec.flags.contains(.protected) {
            let text = ServerCommands.debugRefusal
            CommandTable.reject(text, spec: spec, slot: slot, &session, &reply, statistics, worker: worker)
            return true
        }
        // Commands inside EXEC were checked when EXEC itself was. `mayRefuse` comes first: asking the server
        // through its existential costs a retain and a release.
        if mayRefuse, transaction == nil, exclusive == nil, let server,
            let refusal = server.refusal(for: spec, session: session)
        {
            CommandTable.reject(refusal, spec: spec, slot: slot, &session, &reply, statistics, worker: worker)
            return true
        }
        // MONITOR mode: no key may be read or written (Redis's check for replicas, which monitors are).
        if session.monitoring, slot >= 0, self.touchesKeyspace[slot] {
            let text = "ERR Replica can't interact with the keyspace"
            CommandTable.reject(text, spec: spec, slot: slot, &session, &reply, statistics, worker: worker)
            return true
        }
        // CLIENT PAUSE, after every check above, as in Redis's processCommand (commands inside EXEC were held, if at
        // all, as EXEC). Under WRITE it holds what writes: a write command, queued or not, or an EXEC whose queue
        // has one.
        // Monitors are replicas to Redis, which a pause never holds.
        if pauseCheck, transaction == nil, exclusive == nil, !session.monitoring, let server {
            let writes =
                spec.flags.contains(.write)
                || (spec.name == "exec" && self.queue(of: session, has: .write))
            if server.pauseHolds(writes: writes) { return false }
        }
        if session.inMulti && !spec.flags.contains(.noQueue) {
            session.queued.append(QueuedCommand(arguments))
            reply.simple("QUEUED")
            return true
        }
        session.commandsProcessed += 1
        session.lastCommand = fullName
        // In a batch, the previous command's end is this one's start (see `CommandStatistics.startBatch`).
        let started: UInt64 = counters == nil ? 0 : chained != 0 ? chained : MonotonicClock.nanoseconds()
        var failure: String? = nil
        withUnsafeMutablePointer(to: &session) { session in
            // The context borrows the session in place: no copy, no reference counting.
            var context = CommandContext(worker: worker, session: session, arguments: arguments)
            context.transaction = transaction
            context.exclusive = exclusive
            context.server = server
            context.statisticsReference = counters
            do throws(CommandError) {
                try spec.handler(context, &reply)
            } catch {
                let text = error.replyText
                reply.error(text)
                failure = text
            }
        }
        reply.protocolVersion = session.protocolVersion
        counters?._withUnsafeGuaranteedRef { statistics in
            let ended = MonotonicClock.nanoseconds()
            let elapsed = ended &- started
            statistics.markEnd(ended)
            statistics.countCall(slot: slot, nanoseconds: elapsed, error: failure)
            if elapsed >= statistics.slowLog.thresholdNanoseconds {
                statistics.offerToSlowLog(arguments, nanoseconds: elapsed, session: session)
            }
        }
        // Commands inside EXEC are fed by EXEC, once it has committed.
        if transaction == nil, exclusive == nil,
            session.monitoring || self.monitors.count.load(ordering: .relaxed) > 0
        {
            self.feedMonitors(arguments, slot: slot, database: session.database, session: session, reply: &reply)
        }
        return true
    }

    /// Looks up the spec of each command of a batch of pipelined requests into `specs` (nil for an unknown
    /// name), and when the batch has several commands, starts loading the index entries, cells and values of the
    /// keys they name (see `Worker.prefetch(database:keys:)`), so that their cache misses overlap before they run
    /// one by one. The server then passes each spec to `execute`.
    ///
    /// The prefetch is only a hint: wrong arities and key-less commands are skipped here and answered when they
    /// run; at most 64 keys are prefetched per call.
    ///
    /// - Parameters:
    ///   - commands: the batch, each command's name first; a command without arguments is skipped (nil spec).
    ///   - specs: replaced by one spec per command.
    ///   - database: the client's database when the batch starts.
    ///   Specs live as long as the table (for ever, for `standard`), so they are held unretained: a batch costs no
    ///   reference counting on objects every event loop shares.
    package func prepare(
        _ commands: [CommandArguments],
        specs: inout [Unmanaged<CommandSpec>?],
        database: Int,
        worker: Worker
    ) {
        specs.removeAll(keepingCapacity: true)
        for arguments in commands {
            // No arguments: a command the caller will look up itself.
            guard !arguments.isEmpty else {
                specs.append(nil)
                continue
            }
            specs.append(self.spec(forName: arguments.bytes(0)).map { Unmanaged.passUnretained($0) })
        }
        guard commands.count > 1 else { return }
        worker.prefetch(database: database) { sink in
            var budget = 64
            // By index, with the spec lent: the shared specs are not retained.
            for index in specs.indices {
                guard let held = specs[index] else { continue }
                let arguments = commands[index]
                let spent = held._withUnsafeGuaranteedRef { spec -> Bool in
                    guard spec.accepts(argumentCount: arguments.count) else { return false }
                    for position in spec.keyStride(argumentCount: arguments.count) {
                        guard budget > 0 else { return true }
                        sink(arguments.bytes(position))
                        budget -= 1
                    }
                    return false
                }
                if spent { return }
            }
        }
    }

    /// Answers a command refused before it ran (unknown, wrong arity, NOAUTH, a refused write) and counts the
    /// refusal. Inside MULTI the transaction is marked failed.
    ///
    /// A refused EXEC, in or out of MULTI, is Redis's `execCommandAbort`: the transaction and the watches are
    /// discarded and the reply is `EXECABORT Transaction discarded because of: ` and the error (without `ERR `).
    private static func reject(
        _ text: String,
        spec: CommandSpec?,
        slot: Int,
        _ session: inout ClientSession,
        _ reply: inout RESPReplyWriter,
        _ statistics: CommandStatistics?,
        worker: Worker
    ) {
        if let spec, spec.name == "exec" {
            TransactionCommands.endMulti(&session, worker: worker)
            let reason = text.hasPrefix("ERR ") ? String(text.dropFirst(4)) : text
            let abort = "EXECABORT Transaction discarded because of: \(reason)"
            reply.error(abort)
            statistics?.countRejection(slot: slot, error: abort)
            return
        }
        reply.error(text)
        statistics?.countRejection(slot: slot, error: text)
        if session.inMulti { session.multiFailed = true }
    }
}

// MARK: Argument helpers

extension CommandContext {
    /// Argument `index` as a string (for option names and error texts).
    package func string(_ index: Int) -> String {
        String(decoding: self.arguments.bytes(index), as: UTF8.self)
    }

    /// Argument `index` compared with an uppercase option name, ignoring case.
    package func argument(_ index: Int, is option: String) -> Bool {
        let bytes = self.arguments.bytes(index)
        guard bytes.count == option.utf8.count else { return false }
        for (byte, expected) in zip(bytes, option.utf8) {
            let upper = byte >= 97 && byte <= 122 ? byte - 32 : byte
            if upper != expected { return false }
        }
        return true
    }

    /// Argument `index` as a 64-bit integer, parsed as Redis's string2ll does.
    package func integer(_ index: Int) throws(CommandError) -> Int64 {
        guard let value = RedisInteger.parse(self.arguments.bytes(index)) else { throw .notInteger }
        return value
    }

    /// Calls `body` with the bytes of argument `index` (a key or a value).
    package func withBytes<R>(_ index: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(self.arguments.bytes(index))
    }

    /// Calls `body` with the arguments at `indices`, which stay put while the command runs (what a multi-key
    /// transaction needs for its declared keys).
    package func withKeys<R>(_ indices: some Sequence<Int>, _ body: ([KeyBytes]) throws -> R) rethrows -> R {
        try body(indices.map { self.arguments.bytes($0) })
    }
}

/// Redis's integer syntax (string2ll): an optional '-', digits, no leading zeros, no '+', no spaces, in range.
package enum RedisInteger {
    package static func parse(_ buffer: ByteBuffer) -> Int64? {
        buffer.withUnsafeReadableBytes { self.parse($0) }
    }

    package static func parse(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        guard !bytes.isEmpty, bytes.count <= 20 else { return nil }
        if bytes.count == 1 && bytes[0] == 48 { return 0 }
        var index = 0
        let negative = bytes[0] == 45
        if negative {
            index = 1
            guard bytes.count > 1 else { return nil }
        }
        guard bytes[index] >= 49 && bytes[index] <= 57 else { return nil }
        var magnitude: UInt64 = 0
        while index < bytes.count {
            let byte = bytes[index]
            guard byte >= 48 && byte <= 57 else { return nil }
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte - 48))
            guard !overflow1 && !overflow2 else { return nil }
            magnitude = sum
            index += 1
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }
}

// MARK: Running against the engine

extension CommandContext {
    /// Runs `body` on the key at `index`: in EXEC's transaction if there is one, else in a single-key locked
    /// transaction (which never aborts).
    ///
    /// This and `read` and `transact` call the engine's non-generic entry points (`_declare`, `_runAttempts`,
    /// `_lookup`): Swift does not specialize the engine's generic `run` and `get` across the module boundary, and
    /// their unspecialized calls cost a run-time metadata lookup per command.
    package func write<R>(_ index: Int, _ body: (Transaction, KeyBytes) -> R) -> R {
        self.withBytes(index) { key in
            if let transaction = self.transaction { return body(transaction, key) }
            self.withWorker { $0._declare(key) }
            return self.runDeclared(mode: .locked) { tx in body(tx, key) }
        }
    }

    /// Reads the key at `index`: in EXEC's transaction if there is one, else through the lock-free read. Counts a
    /// keyspace hit or miss (INFO stats), as Redis's lookupKeyRead does, unless `counting` is false (MEMORY USAGE,
    /// which Redis answers from the dictionary).
    package func read<R>(_ index: Int, counting: Bool = true, _ body: (Entry?) -> R) -> R {
        self.withBytes(index) { key in
            if let transaction = self.transaction {
                let entry = transaction.get(key)
                if counting { self.countLookups(found: entry == nil ? 0 : 1, of: 1) }
                return body(entry)
            }
            return self.withWorker { worker in
                worker.pin()
                defer { worker.unpin() }
                let entry = worker._lookup(database: self.session.database, key: key)
                if counting { self.countLookups(found: entry == nil ? 0 : 1, of: 1) }
                return body(entry)
            }
        }
    }

    /// Counts `found` keyspace hits and the rest of `total` lookups as misses (INFO stats), as Redis's
    /// lookupKeyRead counts each key a command reads. A command that reads through `transact` or `write` counts
    /// after it returns, since the body may run more than once.
    @inline(__always) package func countLookups(found: Int, of total: Int) {
        self.withStatistics { $0.countLookups(hits: found, misses: total - found) }
    }

    /// Runs `body` over the keys at `indices` as one transaction: EXEC's, or an optimistic one of its own.
    /// `body` may run more than once; it must reset whatever it writes outside the transaction.
    package func transact<R>(_ indices: some Sequence<Int>, _ body: (Transaction, [KeyBytes]) -> R) -> R {
        self.withKeys(indices) { keys in
            if let transaction = self.transaction { return body(transaction, keys) }
            self.withWorker { $0._declare(keys, watching: []) }
            return self.runDeclared(mode: .optimistic) { tx in body(tx, keys) }
        }
    }

    /// Runs `body` as a transaction over the keys given to `Worker._declare`, in the client's database, until it
    /// commits (its body cannot throw, and nothing is watched), and returns what its last run returned.
    private func runDeclared<R>(mode: TransactionMode, _ body: (Transaction) -> R) -> R {
        var result: R? = nil
        let database = self.session.database
        _ = self.withWorker { worker in
            worker._runAttempts(database: database, mode: mode, watching: false) { tx in
                result = body(tx)
                return true
            }
        }
        return result!
    }

    /// Runs `body` alone: with EXEC's exclusive transaction if there is one, else under the exclusive gate.
    package func exclusively(_ body: (ExclusiveTransaction) -> Void) {
        if let exclusive = self.exclusive {
            body(exclusive)
        } else {
            self.worker.runExclusive(body)
        }
    }
}
