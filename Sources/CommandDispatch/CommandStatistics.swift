import NIOCore
import CommitLog
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `CLOCK_MONOTONIC` in nanoseconds: what command durations are measured with.
package enum MonotonicClock {
    /// Now, in nanoseconds since an arbitrary start (a vDSO call, no system call).
    @inline(__always) package static func nanoseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
    }
}

/// One event loop's counters for INFO: calls, time, rejections and failures per command row (a command, or a
/// container's subcommand such as `config|get`), error replies by code, network bytes and keyspace hits.
///
/// Contract:
/// 1. Only the loop that owns it writes it. An increment is therefore a relaxed load and a relaxed store of an
///    `Atomic` (no read-modify-write, no lock, no allocation); any thread may read the counters with relaxed
///    loads, and INFO sums the loops (`ServerStatistics`).
/// 2. Nothing here is ever set back to zero: CONFIG RESETSTAT records the sums as a baseline that INFO subtracts, so
///    a reset from another loop never races with the owner's stores. Error codes, which are rare, are counted in a
///    dictionary under a mutex and cleared by the reset.
/// 3. While EXEC runs its queue (`beginDeferring` ... `endDeferring`), what its commands count is held back, so that
///    an attempt the engine re-runs is not counted twice, and a discarded EXEC counts nothing.
package final class CommandStatistics: @unchecked Sendable {
    /// The counters after the command rows.
    package enum Total: Int, CaseIterable {
        case netInputBytes, netOutputBytes, readsProcessed, writesProcessed, keyspaceHits, keyspaceMisses
        case errorReplies
    }

    /// Counters per command row: calls, nanoseconds, rejected calls, failed calls.
    static let countersPerRow = 4
    /// Command rows (`CommandTable.statisticsNames`).
    package let rows: Int
    /// Counters in all: the rows' and the totals.
    let counterCount: Int
    private let counters: UnsafeMutablePointer<Atomic<UInt64>>
    /// The server's slow log, shared by every loop.
    package let slowLog: SlowLog
    /// Error replies by code (errorstats).
    let errorCodes = Locked<[String: UInt64]>([:])
    /// While a caller runs a batch of commands back to back (`startBatch` ... `endBatch`), when the last command
    /// timed ended, or 0. The next command's time starts there, so that a batch costs about one clock read per
    /// command instead of two. A command that is not timed (rejected, queued) leaves it 0, so that the next one
    /// reads the clock. Owner loop only.
    private var lastEnd: UInt64 = 0
    private var chaining = false
    /// Starts a batch: the commands that follow are timed from the previous one's end.
    package func startBatch() {
        self.chaining = true
        self.lastEnd = 0
    }

    /// Ends the batch `startBatch` began.
    package func endBatch() {
        self.chaining = false
        self.lastEnd = 0
    }

    /// The previous command's end if this one can start there, else 0; either way the mark is used up.
    @inline(__always) package func takeLastEnd() -> UInt64 {
        let end = self.lastEnd
        self.lastEnd = 0
        return end
    }

    /// Marks `ended` as the start of the next command of the batch, if there is one.
    @inline(__always) package func markEnd(_ ended: UInt64) {
        if self.chaining { self.lastEnd = ended }
    }

    /// True while EXEC's commands run (owner loop only).
    private var deferring = false
    /// What EXEC's commands counted in the current attempt (owner loop only).
    private var deferred: [Deferred] = []

    /// Something counted while deferring.
    private enum Deferred {
        case call(slot: Int, nanoseconds: UInt64, error: String?)
        case rejection(slot: Int, error: String)
        case lookups(hits: Int, misses: Int)
        case slow(SlowLog.Entry)
    }

    /// Errorstats keeps at most this many codes, as Redis's does; further codes count only in the total.
    static let maximumErrorCodes = 128

    /// Counters for `rows` command rows, all zero, on their own cache lines.
    package init(rows: Int, slowLog: SlowLog) {
        self.rows = rows
        self.counterCount = rows * CommandStatistics.countersPerRow + Total.allCases.count
        let bytes = (self.counterCount * MemoryLayout<Atomic<UInt64>>.stride + 127) & ~127
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 128)
        self.counters = raw.bindMemory(to: Atomic<UInt64>.self, capacity: self.counterCount)
        for index in 0..<self.counterCount {
            (self.counters + index).initialize(to: Atomic(0))
        }
        self.slowLog = slowLog
    }

    deinit {
        UnsafeMutableRawPointer(self.counters).deallocate()
    }

    @inline(__always) private func add(_ index: Int, _ amount: UInt64) {
        let counter = self.counters + index
        counter.pointee.store(counter.pointee.load(ordering: .relaxed) &+ amount, ordering: .relaxed)
    }

    @inline(__always) private func add(_ total: Total, _ amount: UInt64) {
        self.add(self.rows &* CommandStatistics.countersPerRow &+ total.rawValue, amount)
    }

    /// Counter `index` as of now (any thread).
    func load(_ index: Int) -> UInt64 {
        (self.counters + index).pointee.load(ordering: .relaxed)
    }

    // MARK: Counting (owner loop only)

    /// A command that ran: its time, and its error reply if it answered with one (a failed call).
    @inline(__always) func countCall(slot: Int, nanoseconds: UInt64, error: String?) {
        guard !self.deferring else {
            self.deferred.append(.call(slot: slot, nanoseconds: nanoseconds, error: error))
            return
        }
        if slot >= 0 {
            let base = slot &* CommandStatistics.countersPerRow
            self.add(base, 1)
            self.add(base &+ 1, nanoseconds)
        }
        if let error { self.countFailure(slot: slot, error: error) }
    }

    @inline(never) private func countFailure(slot: Int, error: String) {
        if slot >= 0 { self.add(slot * CommandStatistics.countersPerRow + 3, 1) }
        self.countError(error)
    }

    /// A command refused before it ran (unknown, wrong arity, NOAUTH, LOADING...): its error reply, and a rejected
    /// call of its row when it has one (-1: an unknown command or subcommand).
    @inline(never) func countRejection(slot: Int, error: String) {
        guard !self.deferring else {
            self.deferred.append(.rejection(slot: slot, error: error))
            return
        }
        if slot >= 0 { self.add(slot * CommandStatistics.countersPerRow + 2, 1) }
        self.countError(error)
    }

    /// An error reply (without the leading `-`), counted by its code: the first word when a space comes within 32
    /// bytes, else `ERR` (Redis's afterErrorReply). The connection handler calls it for protocol errors.
    @inline(never) package func countError(_ text: String) {
        self.add(.errorReplies, 1)
        let code = CommandStatistics.errorCode(text)
        self.errorCodes.withLock { codes in
            if let count = codes[code] {
                codes[code] = count + 1
            } else if codes.count < CommandStatistics.maximumErrorCodes {
                codes[code] = 1
            }
        }
    }

    /// The code of an error reply text.
    static func errorCode(_ text: String) -> String {
        let utf8 = text.utf8
        guard let space = utf8.prefix(32).firstIndex(of: 32), space != utf8.startIndex else { return "ERR" }
        return String(text[..<space])
    }

    /// Keys found and not found by reads (keyspace_hits, keyspace_misses).
    @inline(__always) package func countLookups(hits: Int, misses: Int) {
        guard !self.deferring else {
            self.deferred.append(.lookups(hits: hits, misses: misses))
            return
        }
        self.add(.keyspaceHits, UInt64(hits))
        self.add(.keyspaceMisses, UInt64(misses))
    }

    /// Bytes of one read from a client (total_net_input_bytes, total_reads_processed).
    @inline(__always) package func countRead(bytes: Int) {
        self.add(.netInputBytes, UInt64(bytes))
        self.add(.readsProcessed, 1)
    }

    /// Bytes of the replies to one read (total_net_output_bytes, total_writes_processed).
    @inline(__always) package func countWrite(bytes: Int) {
        self.add(.netOutputBytes, UInt64(bytes))
        self.add(.writesProcessed, 1)
    }

    /// Called by the dispatcher when a command took at least the slow log's threshold. EXEC itself is not logged
    /// (Redis's SKIP_SLOWLOG); the commands it ran are, one by one.
    @inline(never) func offerToSlowLog(_ arguments: CommandArguments, nanoseconds: UInt64, session: ClientSession) {
        guard String(decoding: arguments.bytes(0), as: UTF8.self).lowercased() != "exec" else { return }
        let entry = SlowLog.Entry(
            arguments: arguments,
            microseconds: nanoseconds / 1000,
            address: session.address,
            name: session.name
        )
        if self.deferring {
            self.deferred.append(.slow(entry))
        } else {
            self.slowLog.add(entry)
        }
    }

    // MARK: EXEC

    /// Holds back what the next commands count until `endDeferring` (EXEC, before it runs its queue).
    package func beginDeferring() {
        self.deferring = true
        self.deferred.removeAll(keepingCapacity: true)
    }

    /// Forgets what the current attempt counted: the engine runs EXEC's queue again.
    package func restartDeferring() {
        self.deferred.removeAll(keepingCapacity: true)
    }

    /// Counts what was held back when `apply` (EXEC committed), or forgets it (the transaction was discarded).
    package func endDeferring(apply: Bool) {
        self.deferring = false
        if apply {
            for event in self.deferred {
                switch event {
                case .call(let slot, let nanoseconds, let error):
                    self.countCall(slot: slot, nanoseconds: nanoseconds, error: error)
                case .rejection(let slot, let error):
                    self.countRejection(slot: slot, error: error)
                case .lookups(let hits, let misses):
                    self.countLookups(hits: hits, misses: misses)
                case .slow(let entry):
                    self.slowLog.add(entry)
                }
            }
        }
        self.deferred.removeAll(keepingCapacity: true)
    }
}
