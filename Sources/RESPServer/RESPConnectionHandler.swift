import CommandDispatch
import NIOCore
import RESPCodec
import TransactionEngine

/// One client connection: decodes requests, runs each as it completes on this event loop's worker, and writes
/// the replies in request order. Replies to everything a read delivered leave in one flush (pipelining).
///
/// A malformed request gets Redis's `-ERR Protocol error: ...` reply and the connection closes; other
/// connections are not affected.
final class RESPConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let worker: Worker
    private let table: CommandTable
    private let record: ClientRecord
    private let server: RESPServer
    private var decoder: RESPRequestDecoder
    private var session: ClientSession
    /// Bytes received but not yet decoded into a whole request.
    private var pending: ByteBuffer?
    private var closing = false

    init(worker: Worker, table: CommandTable, limits: RESPLimits, record: ClientRecord, server: RESPServer) {
        self.worker = worker
        self.table = table
        self.record = record
        self.server = server
        self.decoder = RESPRequestDecoder(limits: limits)
        self.session = ClientSession(id: record.id)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.closing else { return }
        var incoming = self.unwrapInboundIn(data)
        if self.pending == nil {
            self.pending = incoming
        } else {
            self.pending!.writeBuffer(&incoming)
        }
        var reply = RESPReplyWriter(
            buffer: context.channel.allocator.buffer(capacity: 512),
            protocolVersion: self.session.protocolVersion
        )
        let before = self.session.commandsProcessed
        do {
            while !self.closing, let arguments = try self.decoder.next(&self.pending!) {
                self.table.execute(
                    arguments,
                    session: &self.session,
                    worker: self.worker,
                    reply: &reply,
                    server: self.server
                )
                if self.session.closeAfterReply { self.closing = true }
            }
        } catch {
            reply.error("ERR \(error.message)")
            self.closing = true
        }
        self.server.countCommands(self.session.commandsProcessed - before)
        self.record.update(from: self.session)
        self.decoder.releaseArguments()
        if self.pending!.readableBytes == 0 {
            self.pending = nil
        } else if self.pending!.readerIndex > 1 << 16 {
            self.pending!.discardReadBytes()
        }
        if reply.buffer.readableBytes > 0 {
            context.write(self.wrapOutboundOut(reply.buffer), promise: nil)
            // A client whose unsent replies pass the output limit is closed (client-output-buffer-limit).
            let limit = self.server.outputHardLimit.load(ordering: .relaxed)
            if limit > 0, let pending = try? context.channel.syncOptions?.getOption(.bufferedWritableBytes),
                pending > limit
            {
                self.closing = true
                context.close(promise: nil)
                return
            }
        }
        if self.closing {
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            let empty = context.channel.allocator.buffer(capacity: 0)
            context.writeAndFlush(self.wrapOutboundOut(empty)).whenComplete { _ in
                bound.value.close(promise: nil)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        TransactionCommands.releaseWatches(&self.session, worker: self.worker)
        context.fireChannelInactive()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    /// Backpressure: while the client does not read its replies, stop reading its requests.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        let writable = context.channel.isWritable
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
