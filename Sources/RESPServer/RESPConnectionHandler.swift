import CommandDispatch
import CommitLog
import NIOCore
import RESPCodec
import TransactionEngine

/// One client connection: decodes requests, runs each as it completes on this event loop's worker, and writes
/// the replies in request order. Replies to everything a read delivered leave in one flush (pipelining).
///
/// A malformed request gets Redis's `-ERR Protocol error: ...` reply and the connection closes; other
/// connections are not affected.
///
/// Under `appendfsync always`, replies to a read that committed writes are held until the log is durable through
/// their epoch; after CLIENT PAUSE, until every event loop has finished what it was running. While replies are
/// held, later replies queue behind them, so they stay in request order.
final class RESPConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let state: LoopState
    private let worker: Worker
    private let table: CommandTable
    private let record: ClientRecord
    private let server: RESPServer
    private var decoder: RESPRequestDecoder
    /// Where each command of the batch being run lies (see `channelRead`).
    private enum BatchEntry {
        /// Decoded whole by `RESPRequestDecoder.nextWhole`: `count` spans in `batchSpans` from `start`, indices in
        /// `pending`, which stays put while the batch runs.
        case whole(start: Int, count: Int)
        /// Decoded by `RESPRequestDecoder.next(_:into:)` (it arrived in pieces, or inline): `slowCommands[index]`.
        case decoded(index: Int)
    }
    /// The batch's commands, in order; the arrays are reused from batch to batch.
    private var batch: [BatchEntry] = []
    private var batchSpans: [ArgumentSpan] = []
    private var slowCommands: [[ByteBuffer]] = []
    /// The whole commands' arguments while the batch runs, for `CommandTable.prepare`.
    private var batchArguments: [CommandArguments] = []
    /// The specs of `batch`'s commands, looked up once by `CommandTable.prepare` (nil for a command not decoded
    /// whole: it looks its spec up as it runs).
    private var batchSpecs: [Unmanaged<CommandSpec>?] = []
    /// At most this many pipelined requests are decoded ahead of running them.
    private static let batchLimit = 32
    /// The reply buffer of the last read, kept for the next one when it is no bigger than `keptReplyCapacity`.
    private var replyBuffer: ByteBuffer? = nil
    private static let keptReplyCapacity = 64 * 1024
    private var session: ClientSession
    /// Bytes received but not yet decoded into a whole request.
    private var pending: ByteBuffer?
    private var closing = false
    /// Replies waiting for the log, and the epoch they need durable.
    private var held: ByteBuffer? = nil
    private var heldEpoch: UInt64 = 0
    private var heldContext: ChannelHandlerContext? = nil
    private var closeAfterRelease = false
    /// Whether this handler is on its `LoopState`'s list of connections waiting for the log.
    private var waitsForLog = false
    /// CLIENT PAUSE calls whose pass over every event loop has not yet come back: replies are held meanwhile.
    private var awaitedLoopPasses = 0
    /// Commands CLIENT PAUSE holds, in order, as copies of their arguments. While any is held nothing newer runs:
    /// reads go on filling `pending`, and `LoopState` calls `resumeAfterPause` when the pause may have ended.
    private var postponed: [QueuedCommand] = []
    /// A protocol error decoded after the held commands: answered, and the connection closed, once they have run.
    private var postponedFailure: RESPProtocolError? = nil
    /// Why a batch stopped before its end; its later commands wait in `postponed`.
    private enum BatchStop {
        /// CLIENT PAUSE holds a command: the connection parks until the pause ends.
        case heldByPause
        /// This connection's CLIENT PAUSE ran: the rest waits for every loop's pass (`everyLoopPassed`).
        case waitingForLoops
        /// A WAIT blocked the connection: the rest waits for its answer (`endWait`).
        case blocked
    }
    /// Whether this handler is on its `LoopState`'s list of paused connections.
    private var parked = false
    /// While the connection is blocked in a WAIT: its timer (nil when it waits for CLIENT UNBLOCK alone). Nothing
    /// more of the connection's runs meanwhile; reads go on filling `pending`.
    private var waiting = false
    private var waitTimer: Scheduled<Void>? = nil
    /// Counts the connection's WAITs, so that a timer or an unblock meant for one never ends a later one.
    private var waitGeneration: UInt64 = 0
    /// CLIENT REPLY SKIP was in force for the blocked WAIT: its answer is not sent (Redis keeps the skip until a
    /// blocked command ends).
    private var waitReplySkipped = false
    /// While the connection is in MONITOR mode: what the feed hands its lines to.
    private var monitorSink: MonitorConnection? = nil

    init(state: LoopState, table: CommandTable, limits: RESPLimits, record: ClientRecord, server: RESPServer) {
        self.state = state
        self.worker = state.worker
        self.table = table
        self.record = record
        self.server = server
        self.decoder = RESPRequestDecoder(limits: limits)
        self.session = ClientSession(id: record.id)
        self.session.authenticated = !server.requiresPassword
        self.session.address = record.remoteAddress
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.closing else { return }
        var incoming = self.unwrapInboundIn(data)
        let statistics = self.state.statistics
        statistics.countRead(bytes: incoming.readableBytes)
        if self.pending == nil {
            self.pending = incoming
        } else {
            self.pending!.writeBuffer(&incoming)
        }
        // client-query-buffer-limit: a request still incomplete past the limit closes the client, without a reply.
        let queryLimit = self.server.queryBufferLimit.load(ordering: .relaxed)
        if self.pending!.readableBytes > queryLimit {
            ServerLog.warn(
                "Closing client that reached max query buffer length: id=\(self.record.id) "
                    + "addr=\(self.record.remoteAddress) (qbuf initial bytes: \(self.pending!.readableBytes))"
            )
            self.closing = true
            self.pending = nil
            context.close(promise: nil)
            return
        }
        // CLIENT PAUSE holds this client, its own CLIENT PAUSE waits for every loop, or a WAIT blocks it: the bytes
        // wait in `pending`.
        if !self.postponed.isEmpty || self.awaitedLoopPasses > 0 || self.waiting {
            self.record.queryBytes.store(self.pending?.readableBytes ?? 0, ordering: .relaxed)
            return
        }
        self.process(context: context)
    }

    /// Runs what CLIENT PAUSE held, then what `pending` holds; called on the loop by `LoopState` when a pause may
    /// have ended.
    func resumeAfterPause(context: ChannelHandlerContext) {
        self.parked = false
        self.record.blocked.store(false, ordering: .relaxed)
        guard !self.closing, context.channel.isActive else {
            self.postponed.removeAll()
            return
        }
        self.process(context: context)
        self.state.flushLater(context)
    }

    /// Runs the commands held by a pause, then every whole request in `pending`, and writes (or holds) the replies.
    private func process(context: ChannelHandlerContext) {
        let statistics = self.state.statistics
        // The last read's reply buffer is reused: by now NIO has usually written it and let go, so clearing it
        // keeps its storage instead of allocating anew (if NIO still holds it, clearing allocates, as before).
        var buffer = self.replyBuffer ?? context.channel.allocator.buffer(capacity: 512)
        self.replyBuffer = nil
        buffer.clear()
        var reply = RESPReplyWriter(buffer: buffer, protocolVersion: self.session.protocolVersion)
        var failure: RESPProtocolError? = nil
        if !self.postponed.isEmpty && self.awaitedLoopPasses == 0 && !self.waiting {
            self.runPostponed(&reply, statistics: statistics, context: context)
            // A protocol error read after what was held is answered once all of it has run and been answered: not
            // while a WAIT among it still blocks.
            if self.postponed.isEmpty && self.session.waitMilliseconds == nil {
                failure = self.postponedFailure
                self.postponedFailure = nil
            }
        }
        var stopped: BatchStop? = nil
        while !self.closing && self.postponed.isEmpty && failure == nil && self.pending != nil
            && self.awaitedLoopPasses == 0 && !self.session.waitsForEveryLoop && !self.waiting
            && self.session.waitMilliseconds == nil
        {
            // Decode a batch of whole requests, start loading their keys, then run them in order: the keys' cache
            // misses overlap instead of coming one per command. A request readable whole is located in `pending`
            // without copying or slicing; the others (in pieces, inline) go through the decoder's slices.
            var count = 0
            var slowCount = 0
            // A client that has yet to authenticate gets Redis's tighter limits, and one request at a time: an AUTH
            // runs before the request after it is read, as Redis reads them.
            let batchLimit = self.session.authenticated ? RESPConnectionHandler.batchLimit : 1
            self.decoder.limits.unauthenticated = !self.session.authenticated
            do {
                while count < batchLimit {
                    let start = self.batchSpans.count
                    if self.decoder.nextWhole(&self.pending!, spans: &self.batchSpans) {
                        self.batch.append(.whole(start: start, count: self.batchSpans.count - start))
                        count += 1
                        continue
                    }
                    if slowCount == self.slowCommands.count { self.slowCommands.append([]) }
                    guard try self.decoder.next(&self.pending!, into: &self.slowCommands[slowCount]) else { break }
                    self.batch.append(.decoded(index: slowCount))
                    slowCount += 1
                    count += 1
                }
            } catch {
                failure = error
            }
            statistics.startBatch()
            // Before any command of the batch runs (outside every transaction): wait here while the log's disk is
            // behind, as Redis's loop waits in write(2).
            self.state.waitForLogBacklog()
            // Once per batch: whether a command may be refused (a failed log write, a restore running).
            let mayRefuse = self.server.mayRefuse
            // `pending` is not changed while the batch runs, so the spans' bytes stay where they are.
            self.pending!.withVeryUnsafeBytes { storage in
                self.batchSpans.withUnsafeBufferPointer { spans in
                    let base = storage.baseAddress!
                    func arguments(_ start: Int, _ count: Int) -> CommandArguments {
                        CommandArguments(base: base, spans: UnsafeBufferPointer(rebasing: spans[start..<(start + count)]))
                    }
                    if count > 0 {
                        // A command not decoded whole gets no arguments here (no spec, no prefetch): it looks its
                        // spec up as it runs.
                        for entry in self.batch {
                            switch entry {
                            case .whole(let start, let count): self.batchArguments.append(arguments(start, count))
                            case .decoded: self.batchArguments.append(arguments(0, 0))
                            }
                        }
                        self.table.prepare(
                            self.batchArguments,
                            specs: &self.batchSpecs,
                            database: self.session.database,
                            worker: self.worker
                        )
                    }
                    for index in 0..<count where !self.closing {
                        let ran = self.withBatchEntry(index, arguments) { arguments, spec in
                            self.run(arguments, spec: spec, &reply, mayRefuse: mayRefuse, statistics: statistics)
                        }
                        // CLIENT PAUSE holds this command: it and the batch's later commands are kept, copied, for
                        // when the pause ends. This connection's CLIENT PAUSE ran: the later ones wait until every
                        // loop has passed, so that none runs beside a command another loop began before it.
                        if !ran || self.session.waitsForEveryLoop || self.session.waitMilliseconds != nil {
                            for later in (ran ? index + 1 : index)..<count {
                                self.withBatchEntry(later, arguments) { arguments, _ in
                                    self.postponed.append(QueuedCommand(arguments))
                                }
                            }
                            stopped = !ran ? .heldByPause : self.session.waitsForEveryLoop ? .waitingForLoops : .blocked
                            break
                        }
                    }
                }
            }
            statistics.endBatch()
            // Drop the slices of `pending` that the slow path made, so that compacting `pending` copies nothing.
            for index in 0..<slowCount {
                self.slowCommands[index].removeAll(keepingCapacity: true)
            }
            self.batch.removeAll(keepingCapacity: true)
            // A huge request's spans are not kept for ever.
            self.batchSpans.removeAll(keepingCapacity: self.batchSpans.capacity <= 4096)
            self.batchArguments.removeAll(keepingCapacity: true)
            self.batchSpecs.removeAll(keepingCapacity: true)
            if let stopped {
                self.postponedFailure = failure
                failure = nil
                if stopped == .heldByPause { self.park(context) }
                break
            }
            if failure != nil || count < batchLimit { break }
        }
        if let failure, !self.closing {
            let text = "ERR \(failure.message)"
            if self.session.replyMode != .off && self.session.replyMode != .skip { reply.error(text) }
            statistics.countError(text)
            self.closing = true
        }
        if self.session.monitoring != (self.monitorSink != nil) { self.updateMonitoring(context) }
        if let milliseconds = self.session.waitMilliseconds { self.startWait(milliseconds, context: context) }
        if reply.buffer.readableBytes > 0 { statistics.countWrite(bytes: reply.buffer.readableBytes) }
        self.record.update(from: self.session)
        self.decoder.releaseArguments()
        if self.pending?.readableBytes == 0 {
            self.pending = nil
        } else if let readerIndex = self.pending?.readerIndex, readerIndex > 1 << 16 {
            self.pending!.discardReadBytes()
        }
        if self.session.waitsForEveryLoop {
            // CLIENT PAUSE: its OK, and every later reply, wait until no loop still runs a command begun before it.
            self.session.waitsForEveryLoop = false
            self.awaitedLoopPasses += 1
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            self.server.afterEveryLoop(on: context.eventLoop) { bound.value.0.everyLoopPassed(bound.value.1) }
        }
        let epoch = self.worker.takeCommittedEpoch()
        if self.held != nil || self.awaitedLoopPasses > 0 || self.state.mustWait(forEpoch: epoch) {
            self.hold(reply.buffer, epoch: epoch, context: context)
            if self.closing { self.closeAfterRelease = true }
            return
        }
        self.record.queryBytes.store(self.pending?.readableBytes ?? 0, ordering: .relaxed)
        if reply.buffer.readableBytes > 0 {
            context.write(self.wrapOutboundOut(reply.buffer), promise: nil)
            if reply.buffer.capacity <= RESPConnectionHandler.keptReplyCapacity { self.replyBuffer = reply.buffer }
            if self.closedOverOutputLimit(context) { return }
        }
        if self.closing {
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            let empty = context.channel.allocator.buffer(capacity: 0)
            context.writeAndFlush(self.wrapOutboundOut(empty)).whenComplete { _ in
                bound.value.close(promise: nil)
            }
        }
    }

    /// Only while an output limit is set are the unsent bytes measured after each write: a client past the hard
    /// limit is closed (client-output-buffer-limit); the soft limit is the housekeeper's
    /// (RESPServer.enforceSoftLimits). Otherwise CLIENT LIST's omem follows the writability changes.
    private func closedOverOutputLimit(_ context: ChannelHandlerContext) -> Bool {
        let limit = self.server.outputHardLimit.load(ordering: .relaxed)
        guard limit > 0 || self.server.outputSoftLimit.load(ordering: .relaxed) > 0 else { return false }
        let pending = (try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
        let usage = ClientRecord.outputUsage(pending: pending)
        self.record.outputBytes.store(usage, ordering: .relaxed)
        guard limit > 0, usage > limit else { return false }
        self.closing = true
        context.close(promise: nil)
        return true
    }

    /// Blocks the connection after a WAIT that asked for replicas: it is answered 0 when `milliseconds` have passed
    /// (never, for 0), or when CLIENT UNBLOCK asks, from any loop.
    private func startWait(_ milliseconds: Int64, context: ChannelHandlerContext) {
        self.session.waitMilliseconds = nil
        self.waiting = true
        self.waitGeneration &+= 1
        let generation = self.waitGeneration
        self.record.blocked.store(true, ordering: .relaxed)
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let record = self.record
        // Whoever takes the unblocker answers the WAIT: CLIENT UNBLOCK (from any loop) or the timer. So an UNBLOCK
        // that answered 1 always gets its reply to the client, even when the timer was due in the same turn.
        let loop = context.eventLoop
        record.setUnblocker { error in
            loop.execute { bound.value.0.endWait(error: error, generation: generation, context: bound.value.1) }
        }
        // A timeout past what a timer can hold (about 292 years) never ends, as in Redis 7.0, whose deadline overflows.
        if milliseconds > 0 && milliseconds <= Int64.max / 1_000_000 {
            self.waitTimer = context.eventLoop.scheduleTask(in: .milliseconds(milliseconds)) {
                guard record.takeUnblocker() != nil else { return }
                bound.value.0.endWait(error: false, generation: generation, context: bound.value.1)
            }
        }
    }

    /// Answers the WAIT that blocked the connection (0 replicas, or CLIENT UNBLOCK's error), after any held replies,
    /// then runs what came after it. Runs on the loop.
    private func endWait(error: Bool, generation: UInt64, context: ChannelHandlerContext) {
        guard self.waiting, generation == self.waitGeneration else { return }
        self.waiting = false
        self.waitTimer?.cancel()
        self.waitTimer = nil
        _ = self.record.takeUnblocker()
        self.record.blocked.store(false, ordering: .relaxed)
        let skipped = self.waitReplySkipped
        self.waitReplySkipped = false
        guard !self.closing, context.channel.isActive else { return }
        // The answer counts as the client's last interaction (for the idle timeout), as Redis's reply does.
        self.record.update(from: self.session)
        let text = "UNBLOCKED client unblocked via CLIENT UNBLOCK"
        if error { self.state.statistics.countError(text) }
        if self.session.replyMode != .off && !skipped {
            var reply = RESPReplyWriter(
                buffer: context.channel.allocator.buffer(capacity: 64),
                protocolVersion: self.session.protocolVersion
            )
            if error {
                reply.error(text)
            } else {
                reply.integer(0)
            }
            self.writeOutOfTurn(reply.buffer, context: context)
        }
        if !self.closing && (!self.postponed.isEmpty || self.pending != nil) {
            self.process(context: context)
        }
        self.state.flushLater(context)
    }

    /// Joins or leaves the monitors after MONITOR or RESET changed the session's mode.
    private func updateMonitoring(_ context: ChannelHandlerContext) {
        if self.session.monitoring {
            let sink = MonitorConnection(handler: self, context: context)
            self.monitorSink = sink
            self.table.monitors.add(id: self.record.id, sink: sink)
        } else {
            self.table.monitors.remove(id: self.record.id)
            self.monitorSink = nil
        }
    }

    /// Writes lines the monitor feed gathered from other connections (after any held replies, as Redis appends
    /// them to the reply buffer); flushed with this turn's other replies. Runs on the loop.
    func writeMonitorLines(_ lines: [UInt8], context: ChannelHandlerContext) {
        guard self.monitorSink != nil, !self.closing, context.channel.isActive else { return }
        // CLIENT REPLY OFF silences the feed too, as in Redis, and so does SKIP until the skipped command has run.
        guard self.session.replyMode != .off && self.session.replyMode != .skip else { return }
        var buffer = context.channel.allocator.buffer(capacity: lines.count)
        buffer.writeBytes(lines)
        self.writeOutOfTurn(buffer, context: context)
        self.state.flushLater(context)
    }

    /// Writes what is sent outside a read's batch (monitor lines, a WAIT's answer): behind the replies held for the
    /// log, if any, else at once under the output limits. The caller flushes.
    private func writeOutOfTurn(_ buffer: ByteBuffer, context: ChannelHandlerContext) {
        var buffer = buffer
        self.state.statistics.countWrite(bytes: buffer.readableBytes)
        if self.held != nil {
            self.held!.writeBuffer(&buffer)
            return
        }
        context.write(self.wrapOutboundOut(buffer), promise: nil)
        _ = self.closedOverOutputLimit(context)
    }

    /// Calls `body` with the arguments of the batch's entry `index` and its spec when `prepare` found it (lent
    /// without a retain: the handler holds the table).
    @inline(__always)
    private func withBatchEntry<R>(
        _ index: Int,
        _ arguments: (Int, Int) -> CommandArguments,
        _ body: (CommandArguments, CommandSpec?) -> R
    ) -> R {
        switch self.batch[index] {
        case .whole(let start, let count):
            if index < self.batchSpecs.count, let held = self.batchSpecs[index] {
                return held._withUnsafeGuaranteedRef { body(arguments(start, count), $0) }
            }
            return body(arguments(start, count), nil)
        case .decoded(let slow):
            return CommandArguments.with(self.slowCommands[slow]) { body($0, nil) }
        }
    }

    /// Runs one command, then applies CLIENT REPLY and QUIT. Returns false when CLIENT PAUSE holds the command
    /// (one relaxed load tells whether to ask): it did not run.
    @inline(__always)
    private func run(
        _ arguments: CommandArguments,
        spec: CommandSpec?,
        _ reply: inout RESPReplyWriter,
        mayRefuse: Bool,
        statistics: CommandStatistics
    ) -> Bool {
        let mark = reply.buffer.writerIndex
        let ran = self.table.execute(
            arguments,
            spec: spec,
            session: &self.session,
            worker: self.worker,
            reply: &reply,
            server: self.server,
            mayRefuse: mayRefuse,
            pauseCheck: self.server.pauseInForce,
            statistics: statistics
        )
        guard ran else { return false }
        if self.session.replyMode != .on {
            if self.session.waitMilliseconds != nil { self.waitReplySkipped = self.session.replyMode == .skip }
            self.applyReplyMode(&reply, from: mark)
        }
        if self.session.closeAfterReply { self.closing = true }
        return true
    }

    /// Runs the commands a pause held, in order, while the pause lets them; parks again on the first it still holds.
    private func runPostponed(
        _ reply: inout RESPReplyWriter,
        statistics: CommandStatistics,
        context: ChannelHandlerContext
    ) {
        self.state.waitForLogBacklog()
        let mayRefuse = self.server.mayRefuse
        statistics.startBatch()
        while let command = self.postponed.first, !self.closing {
            let ran = command.withArguments { arguments in
                self.run(arguments, spec: nil, &reply, mayRefuse: mayRefuse, statistics: statistics)
            }
            guard ran else {
                self.park(context)
                break
            }
            self.postponed.removeFirst()
            // A CLIENT PAUSE among them: the rest wait for every loop's pass; a WAIT that blocked: for its answer.
            if self.session.waitsForEveryLoop || self.session.waitMilliseconds != nil { break }
        }
        statistics.endBatch()
        if self.closing { self.postponed.removeAll() }
    }

    /// Puts this handler on its loop's list of paused connections (once).
    private func park(_ context: ChannelHandlerContext) {
        guard !self.parked else { return }
        self.parked = true
        self.record.blocked.store(true, ordering: .relaxed)
        self.state.park(self, context: context)
    }

    /// CLIENT REPLY, after each command: drops what the command wrote when its reply is not to be sent, and moves
    /// SKIP on (the command after CLIENT REPLY SKIP is the one skipped).
    private func applyReplyMode(_ reply: inout RESPReplyWriter, from mark: Int) {
        switch self.session.replyMode {
        case .on: return
        case .off: reply.buffer.moveWriterIndex(to: mark)
        case .skipNext: self.session.replyMode = .skip
        case .skip:
            reply.buffer.moveWriterIndex(to: mark)
            self.session.replyMode = .on
        }
    }

    /// Keeps `buffer` until the log is durable through `epoch` (and through what earlier held replies need), and
    /// until every loop has passed since the last CLIENT PAUSE.
    private func hold(_ buffer: ByteBuffer, epoch: UInt64, context: ChannelHandlerContext) {
        var buffer = buffer
        if self.held == nil {
            self.held = buffer
            self.heldEpoch = epoch
            self.heldContext = context
        } else {
            self.held!.writeBuffer(&buffer)
            self.heldEpoch = max(self.heldEpoch, epoch)
        }
        if !self.waitsForLog && self.state.mustWait(forEpoch: self.heldEpoch) {
            self.waitsForLog = true
            self.state.wait(self, epoch: self.heldEpoch)
        }
    }

    /// Writes the held replies if the log is durable through their epoch (and no loop pass is awaited); returns
    /// false to keep waiting for the log. Called on the loop by `LoopState`.
    func releaseHeldReplies(durableEpoch: UInt64) -> Bool {
        guard self.held != nil else {
            self.waitsForLog = false
            return true
        }
        guard durableEpoch >= self.heldEpoch else { return false }
        self.waitsForLog = false
        if self.awaitedLoopPasses == 0 { self.sendHeld() }
        return true
    }

    /// Every event loop has passed since a CLIENT PAUSE of this connection (`RESPServer.afterEveryLoop`): the
    /// held replies go once the log, too, lets them, and the commands that came after the PAUSE run. Runs on the
    /// loop.
    private func everyLoopPassed(_ context: ChannelHandlerContext) {
        self.awaitedLoopPasses -= 1
        guard self.awaitedLoopPasses == 0 else { return }
        if self.held != nil && !self.waitsForLog {
            if self.state.mustWait(forEpoch: self.heldEpoch) {
                self.waitsForLog = true
                self.state.wait(self, epoch: self.heldEpoch)
            } else {
                self.sendHeld()
            }
        }
        guard !self.parked, !self.waiting, !self.closing, context.channel.isActive,
            !self.postponed.isEmpty || self.pending != nil
        else { return }
        self.process(context: context)
        self.state.flushLater(context)
    }

    /// Writes and flushes the held replies (then closes, after QUIT or a protocol error).
    private func sendHeld() {
        guard let held = self.held, let context = self.heldContext else { return }
        self.held = nil
        self.heldContext = nil
        self.heldEpoch = 0
        if self.closeAfterRelease {
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(self.wrapOutboundOut(held)).whenComplete { _ in
                bound.value.close(promise: nil)
            }
        } else if context.channel.isActive {
            context.writeAndFlush(self.wrapOutboundOut(held), promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        TransactionCommands.releaseWatches(&self.session, worker: self.worker)
        if self.monitorSink != nil {
            self.table.monitors.remove(id: self.record.id)
            self.monitorSink = nil
        }
        if self.waiting {
            self.waiting = false
            self.waitTimer?.cancel()
            self.waitTimer = nil
            _ = self.record.takeUnblocker()
            self.postponed.removeAll()
        }
        if self.parked || !self.postponed.isEmpty {
            // What a pause held for a client that left never runs, and its memory goes now, not at the pause's end.
            self.closing = true
            self.postponed.removeAll()
            self.pending = nil
            self.state.unpark(self)
            self.parked = false
        }
        context.fireChannelInactive()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // Each read's replies were written without a flush; they leave with those of every other connection that
        // was read in this turn of the loop.
        self.state.flushLater(context)
    }

    /// Backpressure: while the client does not read its replies, stop reading its requests.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        let writable = context.channel.isWritable
        let pending = (try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
        self.record.outputBytes.store(ClientRecord.outputUsage(pending: pending), ordering: .relaxed)
        context.channel.setOption(.autoRead, value: writable).whenSuccess {}
        if writable { context.read() }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// Answers a connection that may not be served (maxclients) with one error line, then closes it.
final class RejectingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let message: String

    init(message: String) {
        self.message = message
    }

    func channelActive(context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: self.message.utf8.count)
        buffer.writeString(self.message)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(self.wrapOutboundOut(buffer)).whenComplete { _ in
            bound.value.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}

/// A connection in MONITOR mode as the feed sees it: lines fed from any event loop are gathered here and written on
/// the connection's own loop, all that gathered in one write.
final class MonitorConnection: MonitorSink, @unchecked Sendable {
    private let loop: any EventLoop
    private let target: NIOLoopBound<(RESPConnectionHandler, ChannelHandlerContext)>
    /// Lines not yet handed to the loop.
    private let gathered = Locked<[UInt8]>([])

    /// Made on the connection's loop.
    init(handler: RESPConnectionHandler, context: ChannelHandlerContext) {
        self.loop = context.eventLoop
        self.target = NIOLoopBound((handler, context), eventLoop: context.eventLoop)
    }

    func deliver(_ line: [UInt8]) {
        let first = self.gathered.withLock { gathered in
            defer { gathered.append(contentsOf: line) }
            return gathered.isEmpty
        }
        if first { self.loop.execute { self.writeGathered() } }
    }

    private func writeGathered() {
        let lines = self.gathered.withLock { gathered in
            defer { gathered = [] }
            return gathered
        }
        let (handler, context) = self.target.value
        handler.writeMonitorLines(lines, context: context)
    }
}
