import CommandDispatch
import NIOCore
import TransactionEngine

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// INFO's server-side sections (redis `genRedisInfoString` in `src/server.c`), CONFIG RESETSTAT, and the 100 ms
/// statistics sample.
extension RESPServer {
    package func infoSections(
        engine: EngineStatistics,
        wanted: (String) -> Bool
    ) -> [(name: String, fields: [(String, String)])] {
        var sections: [(name: String, fields: [(String, String)])] = []
        if wanted("server") { sections.append(("Server", self.serverFields())) }
        if wanted("clients") { sections.append(("Clients", self.clientFields())) }
        if wanted("memory") { sections.append(("Memory", self.memoryFields(usedMemory: engine.usedMemory))) }
        if wanted("persistence") {
            let fields = self.durability?.infoFields(lastSaveTime: self.startTime)
            sections.append(("Persistence", fields ?? [("loading", "0"), ("aof_enabled", "0")]))
        }
        if wanted("stats") { sections.append(("Stats", self.statsFields())) }
        if wanted("replication") { sections.append(("Replication", self.replicationFields())) }
        if wanted("cpu") { sections.append(("CPU", RESPServer.cpuFields())) }
        if wanted("cluster") { sections.append(("Cluster", [("cluster_enabled", "0")])) }
        return sections
    }

    private func serverFields() -> [(String, String)] {
        let now = ClientRecord.nowMilliseconds()
        let uptime = (now - self.startedAt) / 1000
        var name = utsname()
        uname(&name)
        func text<T>(_ field: T) -> String {
            withUnsafeBytes(of: field) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
        }
        return [
            ("redis_version", ConnectionCommands.serverVersion),
            ("weft_version", RESPServer.weftVersion),
            ("redis_git_sha1", "00000000"),
            ("redis_git_dirty", "0"),
            ("redis_build_id", "0"),
            ("redis_mode", "standalone"),
            ("os", "\(text(name.sysname)) \(text(name.release)) \(text(name.machine))"),
            ("arch_bits", String(MemoryLayout<Int>.size * 8)),
            ("monotonic_clock", "POSIX clock_gettime"),
            ("multiplexing_api", "epoll"),
            ("atomicvar_api", "c11-builtin"),
            ("gcc_version", "0.0.0"),
            ("process_id", String(getpid())),
            ("process_supervised", "no"),
            ("run_id", self.runID),
            ("tcp_port", String(self.boundPort.load(ordering: .relaxed))),
            ("server_time_usec", String(now * 1000)),
            ("uptime_in_seconds", String(uptime)),
            ("uptime_in_days", String(uptime / 86400)),
            ("hz", "10"),
            ("configured_hz", "10"),
            // Redis's LRU clock: seconds, 24 bits.
            ("lru_clock", String((now / 1000) & ((1 << 24) - 1))),
            ("executable", RESPServer.executablePath()),
            ("config_file", self.configuration.configFile),
            ("io_threads_active", String(self.threads)),
        ]
    }

    private func clientFields() -> [(String, String)] {
        [
            ("connected_clients", String(self.clients.withLock { $0.count })),
            ("cluster_connections", "0"),
            ("maxclients", String(self.maxClients.load(ordering: .relaxed))),
            ("client_recent_max_input_buffer", "0"),
            ("client_recent_max_output_buffer", "0"),
            ("blocked_clients", String(self.clients.withLock { $0.values.filter { $0.blocked.load(ordering: .relaxed) }.count })),
            ("tracking_clients", "0"),
            ("clients_in_timeout_table", "0"),
        ]
    }

    /// used_memory is the engine's accounting (cells, values, index tables); RSS is the process's, from
    /// /proc/self/statm, so the fragmentation ratio also counts the server's own buffers and code.
    private func memoryFields(usedMemory: Int) -> [(String, String)] {
        let used = max(usedMemory, 0)
        self.notePeakMemory(used)
        let peak = max(self.statistics.peakMemory.load(ordering: .relaxed), used)
        let rss = RESPServer.residentBytes()
        let system = RESPServer.systemMemoryBytes()
        return [
            ("used_memory", String(used)),
            ("used_memory_human", InfoText.human(used)),
            ("used_memory_rss", String(rss)),
            ("used_memory_rss_human", InfoText.human(rss)),
            ("used_memory_peak", String(peak)),
            ("used_memory_peak_human", InfoText.human(peak)),
            ("used_memory_peak_perc", InfoText.fixed(peak > 0 ? Double(used) * 100 / Double(peak) : 100) + "%"),
            ("total_system_memory", String(system)),
            ("total_system_memory_human", InfoText.human(system)),
            ("maxmemory", String(self.maxMemory.load(ordering: .relaxed))),
            ("maxmemory_human", InfoText.human(self.maxMemory.load(ordering: .relaxed))),
            ("maxmemory_policy", "noeviction"),
            ("mem_fragmentation_ratio", InfoText.fixed(used > 0 ? Double(rss) / Double(used) : 0)),
            ("mem_fragmentation_bytes", String(rss - used)),
            ("mem_allocator", self.configuration.memoryAllocator),
            ("lazyfree_pending_objects", "0"),
            ("lazyfreed_objects", "0"),
        ]
    }

    private func statsFields() -> [(String, String)] {
        let totals = self.statistics.totals()
        let rates = self.statistics.instantaneous()
        return [
            ("total_connections_received", String(self.statistics.connectionsReceived.load(ordering: .relaxed))),
            ("total_commands_processed", String(totals.commandsProcessed)),
            ("instantaneous_ops_per_sec", String(rates.opsPerSecond)),
            ("total_net_input_bytes", String(totals.netInputBytes)),
            ("total_net_output_bytes", String(totals.netOutputBytes)),
            ("total_net_repl_input_bytes", "0"),
            ("total_net_repl_output_bytes", "0"),
            ("instantaneous_input_kbps", InfoText.fixed(rates.inputKbps)),
            ("instantaneous_output_kbps", InfoText.fixed(rates.outputKbps)),
            ("instantaneous_input_repl_kbps", "0.00"),
            ("instantaneous_output_repl_kbps", "0.00"),
            ("rejected_connections", String(self.statistics.rejectedConnections.load(ordering: .relaxed))),
            ("sync_full", "0"),
            ("sync_partial_ok", "0"),
            ("sync_partial_err", "0"),
            ("expired_keys", String(self.expiredKeys)),
            ("expired_stale_perc", "0.00"),
            ("expired_time_cap_reached_count", "0"),
            ("expire_cycle_cpu_milliseconds", "0"),
            ("evicted_keys", "0"),
            ("evicted_clients", "0"),
            ("total_eviction_exceeded_time", "0"),
            ("current_eviction_exceeded_time", "0"),
            ("keyspace_hits", String(totals.keyspaceHits)),
            ("keyspace_misses", String(totals.keyspaceMisses)),
            ("pubsub_channels", "0"),
            ("pubsub_patterns", "0"),
            ("pubsubshard_channels", "0"),
            ("latest_fork_usec", "0"),
            ("total_forks", "0"),
            ("migrate_cached_sockets", "0"),
            ("slave_expires_tracked_keys", "0"),
            ("active_defrag_hits", "0"),
            ("active_defrag_misses", "0"),
            ("active_defrag_key_hits", "0"),
            ("active_defrag_key_misses", "0"),
            ("total_active_defrag_time", "0"),
            ("current_active_defrag_time", "0"),
            ("tracking_total_keys", "0"),
            ("tracking_total_items", "0"),
            ("tracking_total_prefixes", "0"),
            ("unexpected_error_replies", "0"),
            ("total_error_replies", String(totals.errorReplies)),
            ("dump_payload_sanitizations", "0"),
            ("total_reads_processed", String(totals.readsProcessed)),
            ("total_writes_processed", String(totals.writesProcessed)),
            ("io_threaded_reads_processed", "0"),
            ("io_threaded_writes_processed", "0"),
        ]
    }

    private func replicationFields() -> [(String, String)] {
        [
            ("role", "master"),
            ("connected_slaves", "0"),
            ("master_failover_state", "no-failover"),
            ("master_replid", self.replicationID),
            ("master_replid2", String(repeating: "0", count: 40)),
            ("master_repl_offset", "0"),
            ("second_repl_offset", "-1"),
            ("repl_backlog_active", "0"),
            ("repl_backlog_size", "1048576"),
            ("repl_backlog_first_byte_offset", "0"),
            ("repl_backlog_histlen", "0"),
        ]
    }

    /// CPU time of the whole process (every loop and the log's threads), from getrusage. Weft forks no children.
    private static func cpuFields() -> [(String, String)] {
        var usage = rusage()
        #if canImport(Glibc)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        return [
            ("used_cpu_sys", InfoText.seconds(Int(usage.ru_stime.tv_sec), microseconds: Int(usage.ru_stime.tv_usec))),
            ("used_cpu_user", InfoText.seconds(Int(usage.ru_utime.tv_sec), microseconds: Int(usage.ru_utime.tv_usec))),
            ("used_cpu_sys_children", "0.000000"),
            ("used_cpu_user_children", "0.000000"),
        ]
    }

    // MARK: Process figures

    /// Resident bytes: the second field of /proc/self/statm, in pages (0 where there is no /proc).
    static func residentBytes() -> Int {
        let descriptor = open("/proc/self/statm", O_RDONLY)
        guard descriptor >= 0 else { return 0 }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 128)
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { return 0 }
        let fields = buffer[..<count].split(separator: UInt8(ascii: " "))
        guard fields.count >= 2, let pages = Int(String(decoding: fields[1], as: UTF8.self)) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    static func systemMemoryBytes() -> Int {
        Int(sysconf(Int32(_SC_PHYS_PAGES))) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    static func executablePath() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return "" }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// 40 random hexadecimal digits (run_id, master_replid).
    static func randomHex() -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef")
        return String((0..<40).map { _ in digits[Int(generator.next() % 16)] })
    }

    // MARK: Statistics upkeep

    /// The housekeeper's 100 ms step: the instantaneous rates' sample and the memory peak. Runs on its loop.
    func sampleStatistics(worker: Worker) {
        let engine = worker.statistics()
        self.statistics.sample(nowMilliseconds: ClientRecord.nowMilliseconds(), engineAborts: engine.aborts)
        self.notePeakMemory(engine.usedMemory)
    }

    private func notePeakMemory(_ used: Int) {
        var peak = self.statistics.peakMemory.load(ordering: .relaxed)
        while used > peak {
            let (exchanged, actual) = self.statistics.peakMemory.compareExchange(
                expected: peak,
                desired: used,
                ordering: .relaxed
            )
            if exchanged { break }
            peak = actual
        }
    }

    /// CONFIG RESETSTAT: commandstats, errorstats and the stats counters (Redis's resetServerStats,
    /// resetCommandTableStats and resetErrorTableStats), and the log's rewrite counters. The slow log stays.
    /// Expired keys removed since the start or the last CONFIG RESETSTAT: by the sweep, and by reads.
    private var expiredKeys: Int {
        let onAccess = self.engine.expiredOnAccess &- self.expiredOnAccessAtReset.load(ordering: .relaxed)
        return self.statistics.expiredKeys.load(ordering: .relaxed) + Int(truncatingIfNeeded: onAccess)
    }

    package func resetStatistics() {
        self.expiredOnAccessAtReset.store(self.engine.expiredOnAccess, ordering: .relaxed)
        self.statistics.reset()
        self.durability?.resetStatistics()
    }

    /// A CONFIG SET integer in `range`, with Redis's errors.
    static func integer(_ name: String, _ value: String, _ range: ClosedRange<Int64>) throws(CommandError) -> Int64 {
        guard let parsed = Int64(value) else {
            throw CommandError(
                "CONFIG SET failed (possibly related to argument '\(name)') - argument couldn't be parsed into an "
                    + "integer"
            )
        }
        return try RESPServer.bounded(name, parsed, range)
    }

    /// `value` if `range` holds it, else Redis's CONFIG SET error naming the bounds.
    static func bounded(_ name: String, _ value: Int64, _ range: ClosedRange<Int64>) throws(CommandError) -> Int64 {
        guard range.contains(value) else {
            throw CommandError(
                "CONFIG SET failed (possibly related to argument '\(name)') - argument must be between "
                    + "\(range.lowerBound) and \(range.upperBound) inclusive"
            )
        }
        return value
    }
}
