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
    private var decoder: RESPRequestDecoder
    private var session: ClientSession
    /// Bytes received but not yet decoded into a whole request.
    private var pending: ByteBuffer?
    private var closing = false

    init(worker: Worker, table: CommandTable, limits: RESPLimits, id: Int64) {
        self.worker = worker
        self.table = table
        self.decoder = RESPRequestDecoder(limits: limits)
        self.session = ClientSession(id: id)
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
        do {
            while !self.closing, let arguments = try self.decoder.next(&self.pending!) {
                self.table.execute(arguments, session: &self.session, worker: self.worker, reply: &reply)
                if self.session.closeAfterReply { self.closing = true }
            }
        } catch {
            reply.error("ERR \(error.message)")
            self.closing = true
        }
        if self.pending!.readableBytes == 0 {
            self.pending = nil
        } else if self.pending!.readerIndex > 1 << 16 {
            self.pending!.discardReadBytes()
        }
        if reply.buffer.readableBytes > 0 {
            context.write(self.wrapOutboundOut(reply.buffer), promise: nil)
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

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
