import CommandDispatch
import CommitLog
import NIOCore
import Synchronization
import TransactionEngine

/// What one event loop owns: its engine worker, its command statistics and the connections whose replies wait for
/// the log.
///
/// Everything but `hasWaiters` is touched only on `loop`: handlers call it from their callbacks, and the log's
/// flusher thread reaches it through `loop.execute`. (INFO reads `statistics` from any loop, through atomics.)
final class LoopState: @unchecked Sendable {
    let loop: any EventLoop
    let worker: Worker
    /// This loop's counters for INFO commandstats, errorstats and stats; written only on this loop.
    let statistics: CommandStatistics
    /// The log, once recovery has finished (set on the loop).
    private(set) var log: LogWriter? = nil
    private var waiters: [RESPConnectionHandler] = []
    /// Connections with replies written but not yet flushed in this turn of the loop (see `flushLater`).
    private var unflushed: [ChannelHandlerContext] = []
    /// Connections holding commands for CLIENT PAUSE, with their contexts.
    private var paused: [(handler: RESPConnectionHandler, context: ChannelHandlerContext)] = []
    /// True while `waiters` is not empty; read by the flusher thread to skip idle loops.
    let hasWaiters = Atomic<Bool>(false)

    init(loop: any EventLoop, worker: Worker, statistics: CommandStatistics) {
        self.loop = loop
        self.worker = worker
        self.statistics = statistics
    }

    /// Flushes `context`'s written replies once this turn of the loop has read every ready connection, as Redis's
    /// `handleClientsWithPendingWrites` does before it sleeps. Called on the loop by a handler's
    /// `channelReadComplete`.
    ///
    /// Flushing each connection as soon as its read is handled sends one reply, wakes the client, sends the next
    /// one after the client has gone back to sleep, and wakes it again: with many connections on one client
    /// process (redis-benchmark, a pooled application) the wake-ups cost more than the commands. NIO runs tasks
    /// queued from the loop after the I/O events of the current turn, without waking the selector, so one task
    /// flushes every connection that had replies in this turn, back to back.
    func flushLater(_ context: ChannelHandlerContext) {
        self.unflushed.append(context)
        if self.unflushed.count == 1 {
            self.loop.execute { self.flushAll() }
        }
    }

    /// Flushes every connection `flushLater` collected. Runs on the loop.
    private func flushAll() {
        var contexts: [ChannelHandlerContext] = []
        swap(&contexts, &self.unflushed)
        for context in contexts {
            context.flush()
        }
        contexts.removeAll(keepingCapacity: true)
        if self.unflushed.isEmpty { swap(&contexts, &self.unflushed) }
    }

    /// The task that looks at the pause when it should end, and that end: one per loop however many CLIENT PAUSE
    /// calls came.
    private var pauseLook: (task: Scheduled<Void>, end: UInt64)? = nil

    /// Makes sure this loop looks at the pause at `end` (uptime nanoseconds): ends it there if it has run out, and
    /// lets the paused connections go on. Runs on the loop.
    func lookAtPause(end: UInt64, server: RESPServer) {
        guard end > 0 else { return }
        if let look = self.pauseLook {
            if look.end >= end { return }
            look.task.cancel()
        }
        let task = self.loop.scheduleTask(deadline: .uptimeNanoseconds(end)) { [self] in
            self.pauseLook = nil
            server.endExpiredPause()
            self.resumePaused()
            // A pause lengthened meanwhile gets its own look.
            if server.pauseInForce { self.lookAtPause(end: server.pauseEnd.load(ordering: .acquiring), server: server) }
        }
        self.pauseLook = (task, end)
    }

    /// Drops the look at the pause's end (CLIENT UNPAUSE). Runs on the loop.
    func cancelPauseLook() {
        self.pauseLook?.task.cancel()
        self.pauseLook = nil
    }

    /// Registers a connection whose commands CLIENT PAUSE holds. Runs on the loop.
    func park(_ handler: RESPConnectionHandler, context: ChannelHandlerContext) {
        self.paused.append((handler, context))
    }

    /// Forgets a paused connection that closed. Runs on the loop.
    func unpark(_ handler: RESPConnectionHandler) {
        self.paused.removeAll { $0.handler === handler }
    }

    /// Lets every paused connection run what the pause no longer holds (they park again if it still does). Runs on
    /// the loop, when a pause ends or CLIENT UNPAUSE is called.
    func resumePaused() {
        guard !self.paused.isEmpty else { return }
        let connections = self.paused
        self.paused = []
        for (handler, context) in connections {
            handler.resumeAfterPause(context: context)
        }
    }

    /// Starts logging this loop's commits. Runs on the loop.
    func useLog(_ log: LogWriter?) {
        self.loop.preconditionInEventLoop()
        self.log = log
        self.worker.useLog(log)
    }

    /// Holds this loop while the log's backlog is past its limit (`LogWriter.waitForBacklog`): backpressure when
    /// the disk falls behind the commits. Called by a handler before each batch of commands, outside any
    /// transaction; one load of a counter when the log keeps up.
    @inline(__always) func waitForLogBacklog() {
        guard let log = self.log, log.isOverBacklog else { return }
        log.waitForBacklog()
    }

    /// True when a reply to a commit of `epoch` must wait for the log.
    @inline(__always) func mustWait(forEpoch epoch: UInt64) -> Bool {
        guard epoch > 0, let log = self.log, log.policy == .always else { return false }
        return log.durableEpoch < epoch
    }

    /// Registers a handler whose held replies need `epoch` durable; it is called back on this loop.
    func wait(_ handler: RESPConnectionHandler, epoch: UInt64) {
        self.waiters.append(handler)
        self.hasWaiters.store(true, ordering: .sequentiallyConsistent)
        guard let log = self.log else { return }
        // The flusher publishes the durable epoch, then looks at `hasWaiters`: if it looked before the store above,
        // this re-check sees its epoch.
        if log.durableEpoch >= epoch {
            self.release(through: log.durableEpoch)
        } else {
            log.requestFlush()
        }
    }

    /// Sends the held replies of every waiter whose epoch is now durable. Runs on the loop.
    func release(through epoch: UInt64) {
        guard !self.waiters.isEmpty else { return }
        var still: [RESPConnectionHandler] = []
        for handler in self.waiters where !handler.releaseHeldReplies(durableEpoch: epoch) {
            still.append(handler)
        }
        self.waiters = still
        self.hasWaiters.store(!still.isEmpty, ordering: .sequentiallyConsistent)
    }
}
