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
    /// True while `waiters` is not empty; read by the flusher thread to skip idle loops.
    let hasWaiters = Atomic<Bool>(false)

    init(loop: any EventLoop, worker: Worker, statistics: CommandStatistics) {
        self.loop = loop
        self.worker = worker
        self.statistics = statistics
    }

    /// Starts logging this loop's commits. Runs on the loop.
    func useLog(_ log: LogWriter?) {
        self.loop.preconditionInEventLoop()
        self.log = log
        self.worker.useLog(log)
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
