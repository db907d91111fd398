import CommandDispatch
import NIOCore
import NIOPosix
import RESPCodec
import Synchronization
import TransactionEngine

/// The network server: SwiftNIO event loops, one engine worker per loop, commands run synchronously on the
/// connection's loop.
///
/// Not yet done (issue 3): RESP3, MULTI/EXEC/WATCH, most commands, backpressure and output limits, maxclients,
/// idle timeout, SHUTDOWN.
package final class RESPServer: Sendable {
    /// What the server is started with.
    package struct Configuration: Sendable {
        /// Addresses to listen on; one starting with `-` may fail to bind (Redis's `bind 127.0.0.1 -::1`).
        package var bind: [String] = ["127.0.0.1", "-::1"]
        package var port = 6379
        /// Event loops; 0 means one per core.
        package var ioThreads = 0
        package var limits = RESPLimits()

        package init() {}
    }

    package let configuration: Configuration
    private let engine: TransactionEngine
    private let group: MultiThreadedEventLoopGroup
    private let channels = Mutex<[any Channel]>([])
    private let nextClientID = Atomic<Int64>(1)

    package init(configuration: Configuration, engine: TransactionEngine) {
        self.configuration = configuration
        self.engine = engine
        let threads = configuration.ioThreads > 0 ? configuration.ioThreads : System.coreCount
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
    }

    /// Binds every address and starts serving. Returns the port bound (useful with port 0).
    @discardableResult
    package func start() throws -> Int {
        var workers: [ObjectIdentifier: Worker] = [:]
        var first = true
        for loop in self.group.makeIterator() {
            let worker = self.engine.makeWorker()
            workers[ObjectIdentifier(loop)] = worker
            let sweeps = first
            first = false
            // Reclaim memory on idle loops, and (on one loop) sweep expired keys.
            loop.scheduleRepeatedTask(initialDelay: .milliseconds(100), delay: .milliseconds(100)) { _ in
                worker.collect()
                if sweeps {
                    for database in 0..<worker.databaseCount {
                        worker.sweep(database: database, shards: 16)
                    }
                }
            }
        }
        let table = CommandTable.standard
        let limits = self.configuration.limits
        let workersByLoop = workers
        let bootstrap = ServerBootstrap(group: self.group)
            .serverChannelOption(.backlog, value: 511)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] channel in
                let worker = workersByLoop[ObjectIdentifier(channel.eventLoop)]!
                let id = self.nextClientID.add(1, ordering: .relaxed).oldValue
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        RESPConnectionHandler(worker: worker, table: table, limits: limits, id: id)
                    )
                }
            }
        var port = self.configuration.port
        var bound: [any Channel] = []
        for address in self.configuration.bind {
            let optional = address.hasPrefix("-")
            let host = optional ? String(address.dropFirst()) : address
            do {
                let channel = try bootstrap.bind(host: host, port: port).wait()
                if port == 0, let actual = channel.localAddress?.port { port = actual }
                bound.append(channel)
            } catch where optional {
                continue
            }
        }
        self.channels.withLock { $0 = bound }
        return port
    }

    /// Blocks until every listening channel has closed.
    package func waitUntilClosed() throws {
        for channel in self.channels.withLock({ $0 }) {
            try channel.closeFuture.wait()
        }
    }

    /// Stops listening and shuts the event loops down.
    package func shutdown() throws {
        for channel in self.channels.withLock({ $0 }) {
            try? channel.close().wait()
        }
        try self.group.syncShutdownGracefully()
    }
}
