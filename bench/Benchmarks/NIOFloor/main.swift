// weft-nio-floor: the least a RESP server on SwiftNIO can do per request, as a yardstick for `bench/load/net.sh`.
//
//   weft-nio-floor PORT IO_THREADS
//
// It is built as weft-server's transport is: one ServerBootstrap, `IO_THREADS` event loops, TCP_NODELAY, one
// handler per connection that writes each read's replies and flushes them once the loop's read batch is done. But it
// parses nothing and stores nothing: it counts the requests in what it reads (a line starting with `*`, which is how
// redis-benchmark's multibulk requests start and what their short arguments never do) and answers `+OK` to each.
//
// So its ops/s and CPU per request, against Redis's, are the bound SwiftNIO's channel path sets on weft-server
// before any command runs. It is not a server: never point a real client at it.
import Foundation
import NIOCore
import NIOPosix

/// Answers `+OK` to every request it counts; see the file comment.
final class FloorHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Whether the next byte read starts a line (requests may be split across reads).
    private var atLineStart = true
    /// The last reply buffer, reused as weft-server reuses its own.
    private var replyBuffer: ByteBuffer? = nil

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let incoming = self.unwrapInboundIn(data)
        var requests = 0
        var atLineStart = self.atLineStart
        incoming.withUnsafeReadableBytes { bytes in
            for byte in bytes {
                if atLineStart && byte == UInt8(ascii: "*") { requests += 1 }
                atLineStart = byte == UInt8(ascii: "\n")
            }
        }
        self.atLineStart = atLineStart
        guard requests > 0 else { return }
        var reply = self.replyBuffer ?? context.channel.allocator.buffer(capacity: 512)
        self.replyBuffer = nil
        reply.clear()
        for _ in 0..<requests {
            reply.writeStaticString("+OK\r\n")
        }
        context.write(self.wrapOutboundOut(reply), promise: nil)
        self.replyBuffer = reply
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }
}

let arguments = CommandLine.arguments
guard arguments.count == 3, let port = Int(arguments[1]), let threads = Int(arguments[2]), threads > 0 else {
    print("usage: weft-nio-floor PORT IO_THREADS")
    exit(2)
}
let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
let channel = try ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 511)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(FloorHandler())
        }
    }
    .bind(host: "127.0.0.1", port: port)
    .wait()
try channel.closeFuture.wait()
