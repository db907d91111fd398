import CommandDispatch
import CWeftSupport
import CommitLog
import NIOCore
import NIOPosix
import RESPCodec
import Synchronization
import TransactionEngine

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The network server: SwiftNIO event loops, one engine worker per loop, commands run synchronously on the
/// connection's loop.
///
/// Clients beyond `maxclients` get Redis's error and are closed; clients idle for `timeout` seconds are closed; a
/// client that does not read its replies stops being read (backpressure) once its output passes the high water
/// mark.
package final class RESPServer: ServerContext, @unchecked Sendable {
    /// What the server is started with.
    package struct Configuration: Sendable {
        /// Addresses to listen on; one starting with `-` may fail to bind (Redis's `bind 127.0.0.1 -::1`).
        package var bind: [String] = ["127.0.0.1", "-::1"]
        package var port = 6379
        /// Event loops; 0 means one per core this process may run on (`usableCoreCount`).
        package var ioThreads = 0
        package var limits = RESPLimits()
        package var maxClients = 10_000
        /// Seconds of inactivity after which a client is closed; 0 never.
        package var timeout = 0
        /// Databases, for CONFIG GET.
        package var databases = 16
        /// The config file read at start, for INFO.
        package var configFile = ""
        /// The working directory for the log (issue 4); set at start only.
        package var dir = "."
        /// Unsent reply bytes after which a client is closed.
        package var outputBufferLimits = OutputBufferLimits()
        /// The default user's password (`requirepass`); empty: none.
        package var requirePass = ""
        /// `protected-mode`: without a password, refuse clients that are not on the loopback interface.
        package var protectedMode = true
        /// `logfile`, for CONFIG GET (empty: standard output).
        package var logFile = ""
        /// `client-query-buffer-limit`: the most bytes of an incomplete request a client may send (1 GB).
        package var queryBufferLimit = 1 << 30
        /// `slowlog-log-slower-than` in microseconds (-1: off, 0: every command).
        package var slowlogLogSlowerThan: Int64 = 10_000
        /// `slowlog-max-len`: the slow log keeps this many of the latest entries.
        package var slowlogMaxLength = 128
        /// The allocator malloc is, for INFO memory's `mem_allocator` ("jemalloc-5.3.0" in weft-server, which links
        /// it; "libc" where nothing replaces glibc's, as in the tests).
        package var memoryAllocator = "libc"
        /// `maxmemory` in bytes (0: no limit). Past it, commands that may grow the data set are refused with OOM:
        /// the `noeviction` policy, the only one Weft has.
        package var maxMemory = 0

        package init() {}
    }

    /// Weft's own version (INFO's `weft_version`).
    package static let weftVersion = "0.1.0"

    package let configuration: Configuration
    let engine: TransactionEngine
    /// The engine's count of keys expired on access at the last CONFIG RESETSTAT.
    let expiredOnAccessAtReset = Atomic<UInt64>(0)
    /// The commit log's side of the server; nil when the server runs without one (tests).
    package let durability: Durability?
    private let group: MultiThreadedEventLoopGroup
    /// One per event loop: its worker and its connections waiting for the log.
    let loopStates: [LoopState]
    let threads: Int
    /// Event loops (io-threads).
    package var threadCount: Int { self.threads }
    private let listeners = Locked<[any Channel]>([])
    let clients = Locked<[Int64: ClientRecord]>([:])
    private let nextClientID = Atomic<Int64>(1)
    let maxClients: Atomic<Int>
    private let timeout: Atomic<Int>
    private let maxBulkLength: Atomic<Int>
    private let outputLimits: Locked<OutputBufferLimits>
    /// The normal class's hard limit, read by every connection after each read (0: none).
    let outputHardLimit: Atomic<Int>
    /// The normal class's soft limit (0: none); while either is set, handlers measure their unsent bytes.
    let outputSoftLimit: Atomic<Int>
    /// INFO's counters, commandstats, errorstats and the slow log; one `CommandStatistics` per loop.
    package let statistics: ServerStatistics
    /// INFO's run_id and master_replid: random, new at each start.
    let runID = RESPServer.randomHex()
    let replicationID = RESPServer.randomHex()
    let startedAt = ClientRecord.nowMilliseconds()
    let boundPort = Atomic<Int>(0)
    private let shutdownHandler = Locked<(@Sendable () -> Void)?>(nil)
    /// `client-query-buffer-limit`, read by every connection after each read.
    let queryBufferLimit: Atomic<Int>
    /// Directives CONFIG SET changed since start: what CONFIG REWRITE writes back.
    let changedDirectives = Locked<Set<String>>([])
    private let password: Locked<[UInt8]>
    private let hasPassword: Atomic<Bool>
    private let protectedMode: Atomic<Bool>
    /// Set by `shutdown()` once every client is closed: nothing is sent to the loops any more.
    private let loopsStopping = Atomic<Bool>(false)
    /// CLIENT PAUSE (`RESPServer+Pause.swift`): none, WRITE or ALL, and its end (`NIODeadline` uptime nanoseconds).
    let pauseMode = Atomic<Int>(0)
    let pauseEnd = Atomic<UInt64>(0)
    /// Serializes pause changes (each reads both atomics, then writes them).
    let pauseUpdate = Locked<Void>(())
    /// `maxmemory` (0: none), read once per batch.
    let maxMemory: Atomic<Int>

    /// The cores this process may run on: NIO's count (which honours a cgroup CPU quota or cpuset), but no more
    /// than the CPUs in the calling thread's affinity mask, which a process inherits from `taskset`, systemd's
    /// `CPUAffinity=` or `numactl`. A server pinned to fewer cores than the machine has then runs one event loop per
    /// core it has, not several loops taking turns on each. (`nproc` counts the same way.)
    package static func usableCoreCount() -> Int {
        let counted = System.coreCount
        // 0 when the mask cannot be read (more CPUs than its 1024 bits): then NIO's count stands.
        let allowed = Int(weft_affinity_cpu_count())
        return allowed > 0 ? min(counted, allowed) : counted
    }

    package init(configuration: Configuration, engine: TransactionEngine, durability: Durability? = nil) {
        self.configuration = configuration
        self.engine = engine
        self.durability = durability
        self.threads = configuration.ioThreads > 0 ? configuration.ioThreads : RESPServer.usableCoreCount()
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: self.threads)
        let slowLog = SlowLog(slowerThan: configuration.slowlogLogSlowerThan, maxLength: configuration.slowlogMaxLength)
        let statistics = ServerStatistics(loops: self.threads, slowLog: slowLog)
        self.statistics = statistics
        self.loopStates = self.group.makeIterator().enumerated().map { index, loop in
            LoopState(loop: loop, worker: engine.makeWorker(), statistics: statistics.loops[index])
        }
        self.maxClients = Atomic(configuration.maxClients)
        self.timeout = Atomic(configuration.timeout)
        self.maxBulkLength = Atomic(configuration.limits.maxBulkLength)
        self.outputLimits = Locked(configuration.outputBufferLimits)
        self.outputHardLimit = Atomic(configuration.outputBufferLimits.normal.hard)
        self.outputSoftLimit = Atomic(configuration.outputBufferLimits.normal.soft)
        self.password = Locked(Array(configuration.requirePass.utf8))
        self.queryBufferLimit = Atomic(configuration.queryBufferLimit)
        self.hasPassword = Atomic(!configuration.requirePass.isEmpty)
        self.protectedMode = Atomic(configuration.protectedMode)
        self.maxMemory = Atomic(configuration.maxMemory)
    }

    /// What SHUTDOWN calls (the executable exits there; tests just close the server).
    package func onShutdownRequest(_ handler: @escaping @Sendable () -> Void) {
        self.shutdownHandler.withLock { $0 = handler }
    }

    /// Binds every address and starts serving. Returns the port bound (useful with port 0).
    @discardableResult
    package func start() throws -> Int {
        var states: [ObjectIdentifier: LoopState] = [:]
        for (index, state) in self.loopStates.enumerated() {
            states[ObjectIdentifier(state.loop)] = state
            let housekeeper = index == 0
            let worker = state.worker
            // Reclaim memory on idle loops; on one loop, sweep expired keys and close idle clients, and once a second
            // see whether the log has grown enough to be rewritten.
            state.loop.scheduleRepeatedTask(initialDelay: .milliseconds(100), delay: .milliseconds(100)) { [self] _ in
                worker.collect()
                if housekeeper {
                    var expired = 0
                    // Not during CLIENT PAUSE: a paused server's data stays as it is (as Redis's does). Not while
                    // the log loads: replay keeps keys whose expiry has passed, since a later record may still
                    // change it (PERSIST) or the string (a patch), and only `finishRestore` removes them.
                    let loading = self.durability?.loading ?? false
                    for database in 0..<worker.databaseCount where !self.isPaused && !loading {
                        expired += worker.sweep(database: database, shards: 16).expired
                    }
                    if expired > 0 { self.statistics.expiredKeys.add(expired, ordering: .relaxed) }
                    self.sampleStatistics(worker: worker)
                    self.closeIdleClients()
                    self.enforceSoftLimits()
                }
            }
            if housekeeper, let durability = self.durability {
                state.loop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
                    durability.rewriteIfGrown()
                }
            }
        }
        let table = CommandTable.standard
        let statesByLoop = states
        let bootstrap = ServerBootstrap(group: self.group)
            .serverChannelOption(.backlog, value: 511)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 256 * 1024, high: 4 * 1024 * 1024))
            .childChannelInitializer { [self] channel in
                self.statistics.connectionsReceived.add(1, ordering: .relaxed)
                let id = self.nextClientID.add(1, ordering: .relaxed).oldValue
                let record = ClientRecord(id: id, channel: channel)
                let admitted = self.clients.withLock { clients -> Bool in
                    guard clients.count < self.maxClients.load(ordering: .relaxed) else { return false }
                    clients[id] = record
                    return true
                }
                guard admitted else {
                    self.statistics.rejectedConnections.add(1, ordering: .relaxed)
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            RejectingHandler(message: "-ERR max number of clients reached\r\n")
                        )
                    }
                }
                channel.closeFuture.whenComplete { _ in
                    _ = self.clients.withLock { $0.removeValue(forKey: id) }
                }
                if self.protectedMode.load(ordering: .relaxed), !self.hasPassword.load(ordering: .relaxed),
                    !RESPServer.isLoopback(channel.remoteAddress)
                {
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(RejectingHandler(message: RESPServer.protectedModeError))
                    }
                }
                var limits = self.configuration.limits
                limits.maxBulkLength = self.maxBulkLength.load(ordering: .relaxed)
                let state = statesByLoop[ObjectIdentifier(channel.eventLoop)]!
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        RESPConnectionHandler(
                            state: state,
                            table: table,
                            limits: limits,
                            record: record,
                            server: self
                        )
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
        self.listeners.withLock { $0 = bound }
        self.boundPort.store(port, ordering: .relaxed)
        return port
    }

    /// Makes every loop's worker append its commits to `log` (after recovery), waiting until each loop has done so.
    package func useLog(_ log: LogWriter?) throws {
        for state in self.loopStates {
            try state.loop.submit { state.useLog(log) }.wait()
        }
    }

    /// Called by the log writer (on its thread) when more of the log is durable: wakes the loops whose
    /// connections hold replies.
    package func logBecameDurable(_ point: DurablePoint) {
        self.durability?.flushSucceeded()
        // After shutdown has closed every client, the log's last flush finds the loops gone or going.
        guard !self.loopsStopping.load(ordering: .acquiring) else { return }
        for state in self.loopStates where state.hasWaiters.load(ordering: .sequentiallyConsistent) {
            state.loop.execute { state.release(through: point.epoch) }
        }
    }

    /// Redis's answer to a client refused by protected mode, word for word.
    static let protectedModeError =
        "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the "
        + "default user. In this mode connections are only accepted from the loopback interface. If you want to "
        + "connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable "
        + "protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by "
        + "connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly "
        + "accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively "
        + "you can just disable the protected mode by editing the Redis configuration file, and setting the protected "
        + "mode option to 'no', and then restarting the server. 3) If you started the server manually just for "
        + "testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the "
        + "default user. NOTE: You only need to do one of the above things in order for the server to start "
        + "accepting connections from the outside.\r\n"

    /// True for 127.0.0.0/8, ::1, IPv4-mapped loopback and Unix sockets.
    static func isLoopback(_ address: SocketAddress?) -> Bool {
        guard let address else { return false }
        switch address {
        case .unixDomainSocket: return true
        case .v4, .v6:
            guard let ip = address.ipAddress else { return false }
            return ip.hasPrefix("127.") || ip == "::1" || ip.hasPrefix("::ffff:127.")
        }
    }

    private func closeIdleClients() {
        let timeout = self.timeout.load(ordering: .relaxed)
        guard timeout > 0 else { return }
        let limit = ClientRecord.nowMilliseconds() - Int64(timeout) * 1000
        let idle = self.clients.withLock { clients in
            clients.values.filter {
                $0.lastInteraction.load(ordering: .relaxed) < limit
                    && !$0.state.withLock { $0.inMulti || $0.monitoring }
                    && !$0.blocked.load(ordering: .relaxed)
            }
        }
        for record in idle {
            record.channel.close(promise: nil)
        }
    }

    /// Closes clients whose unsent replies stayed over the normal class's soft limit for its seconds. The handler
    /// records the pending bytes after each write; a candidate is re-measured on its own loop before it is judged.
    private func enforceSoftLimits() {
        let limit = self.outputLimits.withLock { $0.normal }
        guard limit.soft > 0 else { return }
        let candidates = self.clients.withLock { clients in
            clients.values.filter {
                $0.outputBytes.load(ordering: .relaxed) > limit.soft || $0.overSoftLimitSince.load(ordering: .relaxed) != 0
            }
        }
        for record in candidates {
            record.channel.eventLoop.execute {
                let pending = (try? record.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
                let usage = ClientRecord.outputUsage(pending: pending)
                record.outputBytes.store(usage, ordering: .relaxed)
                guard usage > limit.soft else {
                    record.overSoftLimitSince.store(0, ordering: .relaxed)
                    return
                }
                let now = ClientRecord.nowMilliseconds()
                let since = record.overSoftLimitSince.load(ordering: .relaxed)
                if since == 0 {
                    record.overSoftLimitSince.store(now, ordering: .relaxed)
                } else if now - since >= Int64(limit.seconds) * 1000 {
                    ServerLog.warn(
                        "Client id=\(record.id) addr=\(record.remoteAddress) closed for overcoming of output buffer "
                            + "limits."
                    )
                    record.channel.close(promise: nil)
                }
            }
        }
    }

    /// Blocks until every listening channel has closed.
    package func waitUntilClosed() throws {
        for channel in self.listeners.withLock({ $0 }) {
            try channel.closeFuture.wait()
        }
    }

    /// Stops listening, closes every client (their pending replies are flushed first) and stops the loops.
    package func shutdown() throws {
        for channel in self.listeners.withLock({ $0 }) {
            try? channel.close().wait()
        }
        let open = self.clients.withLock { Array($0.values) }
        for record in open {
            try? record.channel.close().wait()
        }
        self.loopsStopping.store(true, ordering: .releasing)
        try self.group.syncShutdownGracefully()
    }

    // MARK: ServerContext

    package func clientList(ids: [Int64]?, caller: ClientSession) -> String {
        let records = self.clients.withLock { clients in
            if let ids { return ids.compactMap { clients[$0] } }
            return clients.values.sorted { $0.id < $1.id }
        }
        return records.map { $0.line(current: $0.id == caller.id ? ClientRecord.State(caller) : nil) }.joined()
    }

    package func killClients(_ filter: ClientFilter, caller: Int64) -> (killed: Int, caller: Bool) {
        guard filter.typeMatches else { return (0, false) }
        let matched = self.clients.withLock { clients in
            clients.values.filter { record in
                (filter.id.map { record.id == $0 } ?? true)
                    && (filter.address.map { record.remoteAddress == $0 } ?? true)
                    && (filter.localAddress.map { record.localAddress == $0 } ?? true)
                    && !(filter.skipCaller && record.id == caller)
            }
        }
        for record in matched where record.id != caller {
            record.channel.close(promise: nil)
        }
        return (matched.count, matched.contains { $0.id == caller })
    }

    package func configurationValues() -> [(name: String, value: String)] {
        [
            ("bind", self.configuration.bind.joined(separator: " ")),
            ("dir", self.configuration.dir),
            ("port", String(self.boundPort.load(ordering: .relaxed))),
            ("databases", String(self.configuration.databases)),
            ("io-threads", String(self.threads)),
            ("maxclients", String(self.maxClients.load(ordering: .relaxed))),
            ("timeout", String(self.timeout.load(ordering: .relaxed))),
            ("proto-max-bulk-len", String(self.maxBulkLength.load(ordering: .relaxed))),
            ("client-output-buffer-limit", self.outputLimits.withLock { $0.description }),
            // No RDB snapshots: Redis's value for "save" when they are off (redis-benchmark asks for it).
            ("save", ""),
            ("requirepass", String(decoding: self.password.withLock { $0 }, as: UTF8.self)),
            ("loglevel", ServerLog.currentLevel.name),
            ("client-query-buffer-limit", String(self.queryBufferLimit.load(ordering: .relaxed))),
            ("logfile", self.configuration.logFile),
            ("protected-mode", self.protectedMode.load(ordering: .relaxed) ? "yes" : "no"),
            ("slowlog-log-slower-than", String(self.statistics.slowLog.slowerThan)),
            ("slowlog-max-len", String(self.statistics.slowLog.maxLength)),
            ("maxmemory", String(self.maxMemory.load(ordering: .relaxed))),
            ("maxmemory-policy", "noeviction"),
            // weft-server never forks into the background; a service manager runs it (deploy/).
            ("daemonize", "no"),
        ] + (self.durability?.configurationValues() ?? [])
    }

    /// Directives CONFIG SET refuses whatever the value: they are fixed once the server runs.
    static let immutableDirectives: Set<String> = [
        "bind", "databases", "io-threads", "logfile", "appenddirname", "appendfilename", "aof-load-truncated",
        "aof-load-corrupt", "aof-backlog-limit", "daemonize",
    ]

    /// Directives Redis 7 protects (its default `enable-protected-configs no`): refused, with their own text.
    static let protectedDirectives: Set<String> = ["dir"]

    /// The log's directives, known to CONFIG SET even when the server runs without a log (tests).
    static let logDirectives: Set<String> = [
        "appendonly", "appendfsync", "appenddirname", "appendfilename", "aof-load-truncated", "aof-load-corrupt",
        "auto-aof-rewrite-percentage", "auto-aof-rewrite-min-size", "aof-backlog-limit",
    ]

    package func setConfiguration(_ pairs: [(name: String, value: String)]) throws(CommandError) {
        // Redis's configSetCommand: every name is checked first (unknown, immutable, given twice; the first
        // problem is the answer), then every value is parsed, and only then is anything applied.
        let known = Set(self.configurationValues().map(\.name)).union(RESPServer.logDirectives)
        var seen = Set<String>()
        for (typed, _) in pairs {
            let name = typed.lowercased()
            guard known.contains(name) else {
                throw CommandError("Unknown option or number of arguments for CONFIG SET - '\(typed)'")
            }
            if RESPServer.protectedDirectives.contains(name) {
                throw RESPServer.configFailure(typed, "can't set protected config")
            }
            if RESPServer.immutableDirectives.contains(name) {
                throw RESPServer.configFailure(typed, "can't set immutable config")
            }
            guard seen.insert(name).inserted else { throw RESPServer.configFailure(typed, "duplicate parameter") }
        }
        var changes: [() -> Void] = []
        for (typed, value) in pairs {
            changes.append(try self.configurationChange(typed.lowercased(), value))
        }
        for change in changes { change() }
        self.changedDirectives.withLock { changed in
            for (typed, _) in pairs { changed.insert(typed.lowercased()) }
        }
    }

    /// A multi-word directive's words as Redis's sdssplitlen makes them: split at every single space (so two spaces
    /// make an empty word), and none at all for "".
    static func words(_ value: String) -> [String] {
        value.isEmpty ? [] : value.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
    }

    /// `CONFIG SET failed (possibly related to argument 'name') - reason`
    static func configFailure(_ name: String, _ reason: String) -> CommandError {
        CommandError("CONFIG SET failed (possibly related to argument '\(name)') - \(reason)")
    }

    /// Parses `value` for directive `name` (lowercase) and returns what applies it, or throws Redis's error.
    private func configurationChange(_ name: String, _ value: String) throws(CommandError) -> () -> Void {
        func number(_ range: ClosedRange<Int64>) throws(CommandError) -> Int {
            Int(try RESPServer.integer(name, value, range))
        }
        func yesNo() throws(CommandError) -> Bool {
            guard ["yes", "no"].contains(value.lowercased()) else {
                throw RESPServer.configFailure(name, "argument must be 'yes' or 'no'")
            }
            return value.lowercased() == "yes"
        }
        switch name {
        case "maxclients":
            let limit = try number(1...Int64(UInt32.max))
            return { self.maxClients.store(limit, ordering: .relaxed) }
        case "timeout":
            let seconds = try number(0...Int64(Int32.max))
            return { self.timeout.store(seconds, ordering: .relaxed) }
        case "proto-max-bulk-len":
            // A memory value, as in Redis (`1mb`), then its bounds.
            guard let memory = OutputBufferLimits.memory(value) else {
                throw RESPServer.configFailure(name, "argument must be a memory value")
            }
            let bytes = Int(
                try RESPServer.bounded(
                    name,
                    Int64(memory),
                    Int64(RESPLimits.minimumBulkLength)...Int64(RESPLimits.maximumBulkLength)
                )
            )
            return { self.maxBulkLength.store(bytes, ordering: .relaxed) }
        case "client-output-buffer-limit":
            // Split at every space, as Redis's sdssplitlen: an extra space makes an empty word, so a wrong count.
            // Only "" gives no groups (and changes nothing).
            let words = RESPServer.words(value)
            let updated: OutputBufferLimits
            do throws(OutputBufferLimits.Invalid) {
                updated = try self.outputLimits.withLock { limits throws(OutputBufferLimits.Invalid) in
                    try limits.applying(words)
                }
            } catch {
                throw RESPServer.configFailure(name, error.message)
            }
            return {
                self.outputLimits.withLock { $0 = updated }
                self.outputHardLimit.store(updated.normal.hard, ordering: .relaxed)
                self.outputSoftLimit.store(updated.normal.soft, ordering: .relaxed)
            }
        case "client-query-buffer-limit":
            guard let bytes = OutputBufferLimits.memory(value) else {
                throw RESPServer.configFailure(name, "argument must be a memory value")
            }
            guard bytes >= 1 << 20 else {
                throw RESPServer.configFailure(name, "argument must be between 1048576 and \(Int64.max) inclusive")
            }
            return { self.queryBufferLimit.store(bytes, ordering: .relaxed) }
        case "loglevel":
            guard let level = ServerLog.Level(name: value) else {
                throw RESPServer.configFailure(
                    name,
                    "argument(s) must be one of the following: debug, verbose, notice, warning, nothing"
                )
            }
            return { ServerLog.setLevel(level) }
        case "slowlog-log-slower-than":
            let threshold = try RESPServer.integer(name, value, -1...Int64.max)
            return { self.statistics.slowLog.configure(slowerThan: threshold) }
        case "slowlog-max-len":
            let length = try number(0...Int64.max)
            return { self.statistics.slowLog.configure(maxLength: length) }
        case "requirepass":
            return {
                self.password.withLock { $0 = Array(value.utf8) }
                self.hasPassword.store(!value.isEmpty, ordering: .relaxed)
            }
        case "protected-mode":
            let on = try yesNo()
            return { self.protectedMode.store(on, ordering: .relaxed) }
        case "maxmemory":
            guard let bytes = OutputBufferLimits.memory(value) else {
                throw RESPServer.configFailure(name, "argument must be a memory value")
            }
            return {
                self.maxMemory.store(bytes, ordering: .relaxed)
                let used = self.engine.usedMemory
                if bytes > 0 && used > bytes {
                    ServerLog.warn(
                        "WARNING: the new maxmemory value set via CONFIG SET (\(bytes)) is smaller than the current "
                            + "memory usage (\(used)). This will result in key eviction and/or the inability to "
                            + "accept new write commands depending on the maxmemory-policy."
                    )
                }
            }
        case "maxmemory-policy":
            if let problem = RESPServer.maxMemoryPolicyProblem(value) { throw RESPServer.configFailure(name, problem) }
            return {}
        case "auto-aof-rewrite-percentage":
            let percentage = try number(0...Int64(Int32.max))
            return { _ = self.durability?.set("auto-aof-rewrite-percentage", percentage) }
        case "auto-aof-rewrite-min-size":
            guard let bytes = OutputBufferLimits.memory(value) else {
                throw RESPServer.configFailure(name, "argument couldn't be parsed into an integer")
            }
            return { _ = self.durability?.set("auto-aof-rewrite-min-size", bytes) }
        case "appendfsync":
            guard let policy = LogWriter.FsyncPolicy(rawValue: value.lowercased()) else {
                throw RESPServer.configFailure(name, "argument(s) must be one of the following: everysec, always, no")
            }
            guard let log = self.durability?.log else { throw RESPServer.configFailure(name, "the log is off") }
            return { log.setPolicy(policy) }
        case "port":
            // Redis moves its listener; Weft cannot yet: a valid port is refused as immutable.
            _ = try number(0...65535)
            throw RESPServer.configFailure(name, "can't set immutable config")
        case "save":
            // Weft takes no snapshots (the log is its persistence): "" (no save points) is the only setting it has.
            // What Redis's setConfigSaveOption refuses is refused with its text: anything but pairs of seconds (at
            // least 1) and changes (at least 0).
            guard !value.isEmpty else { return {} }
            let numbers = RESPServer.words(value).map { Int64($0) }
            let valid =
                !numbers.isEmpty && numbers.count % 2 == 0
                && stride(from: 0, to: numbers.count, by: 2).allSatisfy { index in
                    (numbers[index] ?? 0) >= 1 && (numbers[index + 1] ?? -1) >= 0
                }
            guard valid else { throw RESPServer.configFailure(name, "Invalid save parameters") }
            throw RESPServer.configFailure(name, "Weft takes no snapshots: its log is its persistence")
        case "appendonly":
            // Weft turns its log on or off only at start.
            _ = try yesNo()
            throw RESPServer.configFailure(name, "can't set immutable config")
        default:
            throw RESPServer.configFailure(name, "can't set immutable config")
        }
    }

    /// False when no command can be refused now (no recovery running, no failed log write, used memory within
    /// `maxmemory`): `refusal` need not be asked. Connections read it once per batch.
    package var mayRefuse: Bool { (self.durability?.mayRefuse ?? false) || self.isOverMaxMemory }

    /// Whether used memory is past `maxmemory` (one relaxed load when there is no limit).
    var isOverMaxMemory: Bool {
        let limit = self.maxMemory.load(ordering: .relaxed)
        return limit > 0 && self.engine.usedMemory > limit
    }

    /// What is wrong with a `maxmemory-policy`, or nil for `noeviction`: Weft evicts no keys, so Redis's other
    /// policies are refused by name rather than taken and not honoured.
    package static func maxMemoryPolicyProblem(_ value: String) -> String? {
        let policies = [
            "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu",
            "allkeys-random", "noeviction",
        ]
        let policy = value.lowercased()
        guard policies.contains(policy) else {
            return "argument(s) must be one of the following: " + policies.joined(separator: ", ")
        }
        return policy == "noeviction" ? nil : "Weft evicts no keys: only noeviction is supported"
    }

    package func refusal(for spec: CommandSpec, session: ClientSession) -> String? {
        // Redis's order: no OOM while loading or while clients are paused (isSafeToPerformEvictions: no evictions
        // then), OOM before MISCONF.
        let loading = self.durability?.loading ?? false
        if !loading, !self.isPaused, self.isOverMaxMemory, self.refusesOnOutOfMemory(spec, session: session) {
            return "OOM command not allowed when used memory > 'maxmemory'."
        }
        guard let durability = self.durability, durability.mayRefuse else { return nil }
        let isWrite =
            spec.name == "exec" ? CommandTable.standard.queue(of: session, has: .write) : spec.flags.contains(.write)
        return durability.refusal(isWrite: isWrite, name: spec.name)
    }

    /// processCommand's `reject_cmd_on_oom`: a command that may grow the data set (an EXEC whose queue has one),
    /// and inside MULTI anything but EXEC, DISCARD, QUIT and RESET (queuing takes memory too).
    private func refusesOnOutOfMemory(_ spec: CommandSpec, session: ClientSession) -> Bool {
        if spec.flags.contains(.denyOOM) { return true }
        if spec.name == "exec" { return CommandTable.standard.queue(of: session, has: .denyOOM) }
        return session.inMulti && !["discard", "quit", "reset"].contains(spec.name)
    }

    package var requiresPassword: Bool { self.hasPassword.load(ordering: .relaxed) }

    package var stringLimit: Int { self.maxBulkLength.load(ordering: .relaxed) }

    package var startTime: Int64 { self.startedAt / 1000 }

    package func unblockClient(id: Int64, error: Bool) -> Bool {
        guard let record = self.clients.withLock({ $0[id] }) else { return false }
        // Taken, so that a second CLIENT UNBLOCK finds the client no longer blocked.
        guard let unblock = record.takeUnblocker() else { return false }
        unblock(error)
        return true
    }

    package func authenticate(user: [UInt8], password: [UInt8]) -> Bool {
        let expected = self.password.withLock { $0 }
        guard !expected.isEmpty else { return user == Array("default".utf8) }
        // Constant time in the password's length: every byte is compared whatever differs first.
        var difference = UInt8(truncatingIfNeeded: expected.count ^ password.count)
        for index in 0..<max(expected.count, password.count) {
            let a = index < expected.count ? expected[index] : 0
            let b = index < password.count ? password[index] : 0
            difference |= a ^ b
        }
        return difference == 0 && user == Array("default".utf8)
    }

    package func rewriteLog() throws(CommandError) -> String {
        guard let durability = self.durability, durability.configuration.enabled else {
            throw CommandError("Weft's log is off (appendonly no): nothing to rewrite")
        }
        guard durability.startRewrite() else {
            throw CommandError("Background append only file rewriting already in progress")
        }
        return "Background append only file rewriting started"
    }

    package func requestShutdown() {
        let handler = self.shutdownHandler.withLock { $0 }
        // Off the event loop: shutting the loops down from one of them would wait for itself.
        DetachedThread.detach {
            if let handler { handler() } else { try? self.shutdown() }
        }
    }
}

/// A detached thread, for work that must not run on an event loop.
enum DetachedThread {
    static func detach(_ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Box(body))
        var thread = pthread_t()
        pthread_create(&thread, nil, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, box.toOpaque())
        pthread_detach(thread)
    }

    final class Box: Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
}
