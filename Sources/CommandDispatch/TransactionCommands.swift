import NIOCore
import RESPCodec
import TransactionEngine

/// MULTI, EXEC, DISCARD, WATCH, UNWATCH (redis `src/multi.c`).
///
/// EXEC runs every queued command as one engine transaction: optimistic, re-run invisibly on conflict, with the
/// WATCH tokens validated under the commit's locks. An EXEC that queued FLUSHDB or FLUSHALL runs under the
/// exclusive gate instead, each command in turn, which nobody else can interleave with.
package enum TransactionCommands {
    static let all: [CommandSpec] = [
        CommandSpec("multi", arity: 1, flags: [.fast, .noQueue]) { context, reply throws(CommandError) in
            guard !context.session.inMulti else { throw CommandError("MULTI calls can not be nested") }
            context.session.inMulti = true
            context.session.multiFailed = false
            context.session.queued = []
            reply.simple("OK")
        },
        CommandSpec("discard", arity: 1, flags: [.fast, .noQueue]) { context, reply throws(CommandError) in
            guard context.session.inMulti else { throw CommandError("DISCARD without MULTI") }
            TransactionCommands.endMulti(&context.session, worker: context.worker)
            reply.simple("OK")
        },
        CommandSpec("watch", arity: -2, flags: [.fast, .noQueue], keys: (1, -1, 1)) {
            context,
            reply throws(CommandError) in
            guard !context.session.inMulti else { throw CommandError("WATCH inside MULTI is not allowed") }
            for index in 1..<context.arguments.count {
                let token = context.withBytes(index) { key in
                    context.worker.watch(database: context.session.database, key: key)
                }
                context.session.watches.append(token)
            }
            reply.simple("OK")
        },
        CommandSpec("unwatch", arity: 1, flags: [.fast]) { context, reply in
            // Inside EXEC the watches are EXEC's, released once its commit has checked them (Redis has let them go
            // before the first queued command runs); an attempt that runs again must not release them twice.
            if context.session.runningExec == 0 {
                TransactionCommands.releaseWatches(&context.session, worker: context.worker)
            }
            reply.simple("OK")
        },
        CommandSpec("exec", arity: 1, flags: [.noQueue]) { context, reply throws(CommandError) in
            let table = CommandTable.standard
            guard context.session.inMulti else { throw CommandError("EXEC without MULTI") }
            let queued = context.session.queued
            let failed = context.session.multiFailed
            let watches = context.session.watches
            TransactionCommands.leaveMulti(&context.session)
            // The tokens keep their cells from the sweep until the commit has checked them.
            defer { TransactionCommands.releaseWatches(&context.session, worker: context.worker) }
            if failed {
                throw CommandError(code: "EXECABORT", "Transaction discarded because of previous errors.")
            }
            context.session.runningExec = queued.count
            defer { context.session.runningExec = 0 }
            if queued.contains(where: { table.spec(for: $0).map(TransactionCommands.runsAlone) ?? false }) {
                TransactionCommands.execExclusively(queued, watches, table, context, &reply)
            } else {
                TransactionCommands.execOptimistically(queued, watches, table, context, &reply)
            }
        },
    ]

    /// Whether an EXEC that queues this command runs it under the exclusive gate, once, instead of in attempts that
    /// may run again: the `exclusive` commands, and the admin ones (CONFIG SET, BGREWRITEAOF...), whose deed and
    /// reply a second attempt would repeat.
    private static func runsAlone(_ spec: CommandSpec) -> Bool {
        spec.flags.contains(.exclusive) || spec.flags.contains(.admin)
    }

    private static func execOptimistically(
        _ queued: [QueuedCommand],
        _ watches: [WatchToken],
        _ table: CommandTable,
        _ context: CommandContext,
        _ reply: inout RESPReplyWriter
    ) {
        // Declare the keys that the commands name in the database they start in, for the fallback to locking.
        let start = context.session
        var positions: [(command: Int, argument: Int)] = []
        var database = start.database
        for (i, command) in queued.enumerated() {
            command.withArguments { arguments in
                guard let spec = table.spec(forName: arguments.bytes(0)) else { return }
                if spec.name == "select", let index = RedisInteger.parse(arguments.bytes(1)) { database = Int(index) }
                guard database == start.database else { return }
                for position in spec.keyPositions(argumentCount: arguments.count) {
                    positions.append((i, position))
                }
            }
        }
        let mark = reply.buffer.writerIndex
        var finalSession = start
        var finalDatabases: [Int] = []
        let worker = context.worker
        let server = context.server
        // What the commands count waits for the commit: a re-run attempt would count them twice.
        let statistics = context.statistics
        statistics?.beginDeferring()
        // The engine's non-generic entry points, as CommandContext.transact uses them (no run-time generic
        // metadata per EXEC).
        let sources = positions.lazy.map { QueuedKey(command: queued[$0.command], index: $0.argument) }
        let outcome = withStableKeys(sources) { keys -> RunOutcome in
            worker._declare(keys, watching: watches)
            defer { worker._forgetWatches() }
            let watching = !watches.isEmpty
            return worker._runAttempts(database: start.database, mode: .optimistic, watching: watching) { tx in
                // Every attempt starts from the same session and rewrites the reply from the mark.
                reply.buffer.moveWriterIndex(to: mark)
                statistics?.restartDeferring()
                var session = start
                finalDatabases = TransactionCommands.run(
                    queued,
                    table,
                    &session,
                    worker,
                    &reply,
                    transaction: tx,
                    exclusive: nil,
                    server,
                    statistics
                )
                finalSession = session
                return true
            }
        }
        let committed: Bool
        switch outcome {
        case .committed: committed = true
        case .watchFailed: committed = false
        case .threw: preconditionFailure("EXEC's body does not throw")
        }
        statistics?.endDeferring(apply: committed)
        if !committed {
            reply.buffer.moveWriterIndex(to: mark)
            reply.nullArray()
        } else {
            TransactionCommands.keep(finalSession, in: &context.session)
            TransactionCommands.feedMonitors(queued, finalDatabases, table, context.session, &reply)
        }
    }

    /// Feeds the commands an EXEC ran to the monitors, each with the database it left (the caller feeds EXEC).
    private static func feedMonitors(
        _ queued: [QueuedCommand],
        _ databases: [Int],
        _ table: CommandTable,
        _ session: ClientSession,
        _ reply: inout RESPReplyWriter
    ) {
        guard databases.count == queued.count else { return }
        for (command, database) in zip(queued, databases) {
            command.withArguments { arguments in
                let slot = table.statisticsSlot(of: arguments)
                table.feedMonitors(arguments, slot: slot, database: database, session: session, reply: &reply)
            }
        }
    }

    /// What the commands inside EXEC changed in the connection's state (SELECT, CLIENT SETNAME, HELLO's protocol
    /// and name, CLIENT SETINFO) stays after it; the MULTI state and the last command (EXEC) are the caller's.
    private static func keep(_ inner: ClientSession, in session: inout ClientSession) {
        var kept = inner
        kept.inMulti = session.inMulti
        kept.multiFailed = session.multiFailed
        kept.queued = session.queued
        kept.watches = session.watches
        kept.lastCommand = session.lastCommand
        session = kept
    }

    /// EXEC's reply: the array of the queued commands' replies, each command run in `transaction` or `exclusive`.
    /// Returns the database each command left, for the monitors (empty while nobody monitors).
    @discardableResult
    private static func run(
        _ queued: [QueuedCommand],
        _ table: CommandTable,
        _ session: inout ClientSession,
        _ worker: Worker,
        _ reply: inout RESPReplyWriter,
        transaction: Transaction?,
        exclusive: ExclusiveTransaction?,
        _ server: (any ServerContext)?,
        _ statistics: CommandStatistics?
    ) -> [Int] {
        let monitored = session.monitoring || table.monitors.count.load(ordering: .relaxed) > 0
        var databases: [Int] = []
        reply.arrayHeader(queued.count)
        for command in queued {
            command.withArguments { arguments in
                // Inside EXEC nothing is held by CLIENT PAUSE (EXEC itself was).
                _ = table.execute(
                    arguments,
                    session: &session,
                    worker: worker,
                    reply: &reply,
                    transaction: transaction,
                    exclusive: exclusive,
                    server: server,
                    statistics: statistics
                )
            }
            if monitored { databases.append(session.database) }
        }
        return databases
    }

    private static func execExclusively(
        _ queued: [QueuedCommand],
        _ watches: [WatchToken],
        _ table: CommandTable,
        _ context: CommandContext,
        _ reply: inout RESPReplyWriter
    ) {
        var session = context.session
        var databases: [Int] = []
        let worker = context.worker
        let server = context.server
        let statistics = context.statistics
        worker.runExclusive { exclusive in
            // Nobody else runs now: a transaction that changes nothing checks the watches, then each command runs
            // on its own, and no other client can see between them.
            let valid = worker.run(database: session.database, keys: [], watching: watches) { _ in } != nil
            guard valid else {
                reply.nullArray()
                return
            }
            databases = TransactionCommands.run(
                queued,
                table,
                &session,
                worker,
                &reply,
                transaction: nil,
                exclusive: exclusive,
                server,
                statistics
            )
        }
        TransactionCommands.keep(session, in: &context.session)
        TransactionCommands.feedMonitors(queued, databases, table, context.session, &reply)
    }


    /// Leaves MULTI state and releases the watches (DISCARD, RESET, a refused EXEC).
    static func endMulti(_ session: inout ClientSession, worker: Worker) {
        TransactionCommands.leaveMulti(&session)
        TransactionCommands.releaseWatches(&session, worker: worker)
    }

    /// Leaves MULTI state, keeping the watches (EXEC releases them after its commit has checked them).
    static func leaveMulti(_ session: inout ClientSession) {
        session.inMulti = false
        session.multiFailed = false
        session.queued = []
    }

    /// Releases every WATCH token of a session (UNWATCH, EXEC, DISCARD, the connection's end).
    package static func releaseWatches(_ session: inout ClientSession, worker: Worker) {
        for token in session.watches {
            worker.unwatch(token)
        }
        session.watches = []
    }
}

/// A key of a queued command, for `withStableKeys`.
private struct QueuedKey: KeySource {
    let command: QueuedCommand
    let index: Int

    func withKeyBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try self.command.withBytes(self.index, body)
    }
}
