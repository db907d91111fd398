import NIOCore

/// One connection's load: it issues operations until the window ends, checks every reply and times every operation.
///
/// `transfer`, `mixed` and `counter` go in batches of `pipeline` operations, written at once; the next batch goes
/// when every reply of this one is in, and an operation's latency runs from its batch's write to its last reply
/// (as redis-benchmark's `-P`). `transfer-watch` is a conversation (WATCH and GET, then MULTI...EXEC or UNWATCH, and
/// again on a nil EXEC), one at a time, and its latency runs from the first WATCH to the committing EXEC's reply.
///
/// Once the window has ended, the connection finishes what it has in flight (so that every transaction it sent has
/// been answered before the checks at the end read the data), succeeds `promise` with its result and closes.
/// A connection that closes early, or errs, fails `promise`.
///
/// All state is touched on the channel's event loop only: `start` is called there (`eventLoop.execute`), and the
/// rest are channel callbacks; hence `@unchecked Sendable`, which lets the main thread hand it to the bootstrap.
final class LoadConnection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = Reply
    typealias OutboundOut = ByteBuffer

    /// The connection closed before the run ended.
    struct ClosedEarly: Error, CustomStringConvertible {
        var description: String { "the server closed a load connection during the run" }
    }

    /// Operations were still in flight long after the window ended (the server stopped answering, or a
    /// transfer-watch kept failing).
    struct Stuck: Error, CustomStringConvertible {
        let description: String
    }

    /// The steps of a transfer-watch conversation.
    private enum WatchStep {
        /// WATCH acct:a acct:b, GET acct:a: two replies.
        case watching
        /// MULTI, DECRBY, INCRBY, EXEC: four replies.
        case committing
        /// UNWATCH (the balance was short): one reply.
        case unwatching
    }

    /// How long after the window's end a connection may still be busy before it gives up.
    static let graceNanoseconds: UInt64 = 60_000_000_000

    private let plan: LoadPlan
    private let promise: EventLoopPromise<ConnectionResult>
    private var random: SplitMix64
    private var result = ConnectionResult()
    private var context: ChannelHandlerContext?
    private var windowEnd: UInt64 = 0
    private var finished = false
    private var watchdog: Scheduled<Void>?

    /// Batches: when the batch was written, which operation and which of its replies comes next, and for `mixed`
    /// whether each operation is a SET.
    private var batchStart: UInt64 = 0
    private var opIndex = 0
    private var replyIndex = 0
    private var isSet: [Bool] = []
    /// Whether the current operation has seen an error (an operation counts once however many replies erred).
    private var opFailed = false

    /// transfer-watch: the step, the transfer being made, and when its first WATCH went.
    private var step = WatchStep.watching
    private var from = 0
    private var to = 0
    private var amount = 0
    private var opStart: UInt64 = 0

    /// - Parameters:
    ///   - plan: the run's shared plan.
    ///   - seed: this connection's random seed.
    ///   - promise: succeeded with the result when the connection has finished.
    init(plan: LoadPlan, seed: UInt64, promise: EventLoopPromise<ConnectionResult>) {
        self.plan = plan
        self.random = SplitMix64(state: seed)
        self.promise = promise
        self.isSet = [Bool](repeating: false, count: plan.pipeline)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Starts issuing operations until `windowEnd` (a monotonic time in nanoseconds). Call on the event loop.
    func start(windowEnd: UInt64) {
        guard let context = self.context else {
            self.fail(ClosedEarly())
            return
        }
        self.windowEnd = windowEnd
        self.watchdog = context.eventLoop.scheduleTask(
            deadline: .uptimeNanoseconds(windowEnd + Self.graceNanoseconds)
        ) {
            self.fail(Stuck(description: "a load connection still had operations in flight 60 s after the run"))
        }
        self.next()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.finished else { return }
        let reply = self.unwrapInboundIn(data)
        if self.plan.workload == .transferWatch {
            self.watchReply(reply)
        } else {
            self.batchReply(reply)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.fail(ClosedEarly())
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.fail(error)
        context.close(promise: nil)
    }

    // MARK: Operations

    /// The next batch or conversation, or the end.
    private func next() {
        guard let context = self.context else { return }
        if Self.now() >= self.windowEnd {
            self.finish()
            return
        }
        var buffer = context.channel.allocator.buffer(capacity: 128 * self.plan.pipeline)
        if self.plan.workload == .transferWatch {
            let (from, to) = self.plan.chooser.pair(&self.random)
            self.from = from
            self.to = to
            self.amount = 1 + self.random.below(self.plan.maxAmount)
            self.opStart = Self.now()
            self.writeWatch(&buffer)
        } else {
            for index in 0..<self.plan.pipeline {
                self.writeOperation(index, &buffer)
            }
            self.opIndex = 0
            self.replyIndex = 0
            self.batchStart = Self.now()
        }
        context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
    }

    /// Writes operation `index` of a batch.
    private func writeOperation(_ index: Int, _ buffer: inout ByteBuffer) {
        switch self.plan.workload {
        case .transfer:
            let (from, to) = self.plan.chooser.pair(&self.random)
            let amount = 1 + self.random.below(self.plan.maxAmount)
            Self.writeTransaction(from: from, to: to, amount: amount, &buffer)
        case .mixed:
            let key = self.plan.chooser.next(&self.random)
            let set = self.random.below(10) == 0
            self.isSet[index] = set
            if set {
                let offset = self.random.below(LoadPlan.valueOffsets)
                let value = self.plan.values.getSlice(at: offset, length: self.plan.valueSize)!
                buffer.writeCommandHeader(3)
                buffer.writeBulk("SET")
                buffer.writeBulk(prefix: "key:", number: key)
                buffer.writeBulk(bytes: value)
            } else {
                buffer.writeCommandHeader(2)
                buffer.writeBulk("GET")
                buffer.writeBulk(prefix: "key:", number: key)
            }
        case .counter:
            buffer.writeCommandHeader(2)
            buffer.writeBulk("INCR")
            buffer.writeBulk(prefix: "counter:", number: self.plan.chooser.next(&self.random))
        case .transferWatch, .fill:
            preconditionFailure("\(self.plan.workload) does not run in batches")
        }
    }

    /// MULTI / DECRBY acct:from amount / INCRBY acct:to amount / EXEC.
    private static func writeTransaction(from: Int, to: Int, amount: Int, _ buffer: inout ByteBuffer) {
        buffer.writeCommand("MULTI")
        buffer.writeCommandHeader(3)
        buffer.writeBulk("DECRBY")
        buffer.writeBulk(prefix: "acct:", number: from)
        buffer.writeBulk(number: amount)
        buffer.writeCommandHeader(3)
        buffer.writeBulk("INCRBY")
        buffer.writeBulk(prefix: "acct:", number: to)
        buffer.writeBulk(number: amount)
        buffer.writeCommand("EXEC")
    }

    /// WATCH acct:from acct:to / GET acct:from.
    private func writeWatch(_ buffer: inout ByteBuffer) {
        buffer.writeCommandHeader(3)
        buffer.writeBulk("WATCH")
        buffer.writeBulk(prefix: "acct:", number: self.from)
        buffer.writeBulk(prefix: "acct:", number: self.to)
        buffer.writeCommandHeader(2)
        buffer.writeBulk("GET")
        buffer.writeBulk(prefix: "acct:", number: self.from)
        self.step = .watching
        self.replyIndex = 0
    }

    // MARK: Replies

    /// A reply to an operation of the current batch.
    private func batchReply(_ reply: Reply) {
        let repliesPerOperation: Int
        switch self.plan.workload {
        case .transfer:
            repliesPerOperation = 4
            self.checkTransactionReply(reply, position: self.replyIndex, watched: false)
        case .mixed:
            repliesPerOperation = 1
            if self.isSet[self.opIndex] {
                if !reply.isSimple("OK") { self.noteError("SET answered \(reply.summary)") }
            } else {
                switch reply {
                case .bulk(let bytes) where bytes.readableBytes == self.plan.valueSize: break
                case .null: self.result.misses += 1
                default: self.noteError("GET answered \(reply.summary), expected \(self.plan.valueSize) bytes")
                }
            }
        case .counter:
            repliesPerOperation = 1
            if case .integer = reply {
                self.result.increments += 1
            } else {
                self.noteError("INCR answered \(reply.summary)")
            }
        case .transferWatch, .fill:
            preconditionFailure("\(self.plan.workload) does not run in batches")
        }
        self.replyIndex += 1
        guard self.replyIndex == repliesPerOperation else { return }
        self.replyIndex = 0
        self.complete(since: self.batchStart)
        self.opIndex += 1
        if self.opIndex == self.plan.pipeline { self.next() }
    }

    /// Checks reply `position` (0: MULTI, 1: DECRBY, 2: INCRBY, 3: EXEC) of a transaction. An EXEC that a WATCH
    /// aborted (nil) is fine only when `watched`.
    private func checkTransactionReply(_ reply: Reply, position: Int, watched: Bool) {
        switch position {
        case 0:
            if !reply.isSimple("OK") { self.noteError("MULTI answered \(reply.summary)") }
        case 1, 2:
            if !reply.isSimple("QUEUED") { self.noteError("a queued command answered \(reply.summary)") }
        default:
            switch reply {
            case .array(let items) where items.count == 2:
                for item in items {
                    guard case .integer = item else {
                        self.noteError("EXEC answered [\(items.map(\.summary).joined(separator: ", "))]")
                        return
                    }
                }
            case .null where watched: break
            default: self.noteError("EXEC answered \(reply.summary)")
            }
        }
    }

    /// A reply in a transfer-watch conversation.
    private func watchReply(_ reply: Reply) {
        guard let context = self.context else { return }
        let position = self.replyIndex
        self.replyIndex += 1
        switch self.step {
        case .watching:
            if position == 0 {
                if !reply.isSimple("OK") { self.noteError("WATCH answered \(reply.summary)") }
                return
            }
            var buffer = context.channel.allocator.buffer(capacity: 256)
            self.replyIndex = 0
            if let balance = reply.bulkInteger, balance >= self.amount {
                Self.writeTransaction(from: self.from, to: self.to, amount: self.amount, &buffer)
                self.step = .committing
            } else {
                if reply.bulkInteger == nil { self.noteError("GET of an account answered \(reply.summary)") }
                buffer.writeCommand("UNWATCH")
                self.step = .unwatching
            }
            context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
        case .committing:
            self.checkTransactionReply(reply, position: position, watched: true)
            guard position == 3 else { return }
            if case .null = reply {
                self.result.retries += 1
                if Self.now() < self.windowEnd + Self.graceNanoseconds / 2 {
                    var buffer = context.channel.allocator.buffer(capacity: 128)
                    self.writeWatch(&buffer)
                    context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
                    return
                }
                self.noteError("a transfer-watch was still retrying 30 s after the run")
            }
            self.complete(since: self.opStart)
            self.next()
        case .unwatching:
            if !reply.isSimple("OK") { self.noteError("UNWATCH answered \(reply.summary)") }
            if !self.opFailed { self.result.declined += 1 }
            self.result.completed += 1
            self.finishOperation()
            self.next()
        }
    }

    // MARK: Bookkeeping

    /// Records an operation that started at `start` and has just completed.
    private func complete(since start: UInt64) {
        let end = Self.now()
        _ = self.result.histogram.record(end >= start ? end - start : 0)
        self.result.completed += 1
        if end <= self.windowEnd { self.result.ops += 1 }
        self.finishOperation()
    }

    private func finishOperation() {
        if self.opFailed { self.result.errors += 1 }
        self.opFailed = false
    }

    private func noteError(_ message: String) {
        self.opFailed = true
        if self.result.firstError == nil { self.result.firstError = message }
    }

    private func finish() {
        guard !self.finished else { return }
        self.finished = true
        self.watchdog?.cancel()
        self.promise.succeed(self.result)
        self.context?.close(promise: nil)
    }

    private func fail(_ error: any Error) {
        guard !self.finished else { return }
        self.finished = true
        self.watchdog?.cancel()
        self.promise.fail(error)
        self.context?.close(promise: nil)
    }

    /// Monotonic time in nanoseconds.
    static func now() -> UInt64 {
        NIODeadline.now().uptimeNanoseconds
    }
}
