import NIOCore
import NIOPosix

/// Connects a channel to the server with the reply decoder and `handler` in its pipeline.
///
/// - Throws: what the connect throws (refused, timed out).
func connect(
    to options: Options,
    on loop: any EventLoop,
    handler: some ChannelInboundHandler & Sendable
) throws -> any Channel {
    try ClientBootstrap(group: loop)
        .channelOption(.socketOption(.tcp_nodelay), value: 1)
        .connectTimeout(.seconds(10))
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(ReplyDecoder()))
                try channel.pipeline.syncOperations.addHandler(handler)
            }
        }
        .connect(host: options.host, port: options.port)
        .wait()
}

/// Matches replies to requests in order, for the set-up and the checks.
///
/// Touched on its channel's event loop only (`SyncClient` hops there), hence `@unchecked Sendable`.
final class RequestHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = Reply
    typealias OutboundOut = ByteBuffer

    /// The server closed the connection with requests unanswered.
    struct Closed: Error, CustomStringConvertible {
        var description: String { "the server closed the set-up connection" }
    }

    /// One request: how many replies are still due, those in so far, and who waits.
    private struct Pending {
        var remaining: Int
        var replies: [Reply]
        let promise: EventLoopPromise<[Reply]>
    }

    private var pending = CircularBuffer<Pending>()
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    /// Writes `bytes` (`replies` commands) and returns their replies. Call on the event loop.
    func send(_ bytes: ByteBuffer, replies: Int, promise: EventLoopPromise<[Reply]>) {
        guard let context = self.context else {
            promise.fail(Closed())
            return
        }
        self.pending.append(Pending(remaining: replies, replies: [], promise: promise))
        context.writeAndFlush(self.wrapOutboundOut(bytes), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.pending.isEmpty else { return }
        self.pending[self.pending.startIndex].replies.append(self.unwrapInboundIn(data))
        self.pending[self.pending.startIndex].remaining -= 1
        if self.pending[self.pending.startIndex].remaining == 0 {
            let done = self.pending.removeFirst()
            done.promise.succeed(done.replies)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        while let waiting = self.pending.popFirst() { waiting.promise.fail(Closed()) }
        self.context = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        while let waiting = self.pending.popFirst() { waiting.promise.fail(error) }
        context.close(promise: nil)
    }
}

/// A blocking request/response client for the main thread: the set-up, the checks and INFO.
final class SyncClient {
    private let channel: any Channel
    private let handler = RequestHandler()

    /// Connects to the server `options` names.
    init(options: Options, loop: any EventLoop) throws {
        self.channel = try connect(to: options, on: loop, handler: self.handler)
    }

    /// Sends the commands `write` encodes (`replies` of them, pipelined) and waits for their replies.
    ///
    /// - Throws: if the connection fails or closes first.
    func call(replies: Int, _ write: (inout ByteBuffer) -> Void) throws -> [Reply] {
        var buffer = self.channel.allocator.buffer(capacity: 1024)
        write(&buffer)
        let bytes = buffer
        let handler = self.handler
        let promise = self.channel.eventLoop.makePromise(of: [Reply].self)
        self.channel.eventLoop.execute {
            handler.send(bytes, replies: replies, promise: promise)
        }
        return try promise.futureResult.wait()
    }

    /// Closes the connection.
    func close() {
        try? self.channel.close().wait()
    }
}
