import Foundation
import Synchronization
import TestSupport
import Testing

/// INFO's sections and fields as Redis 7 prints them, commandstats and errorstats, SLOWLOG, CONFIG RESETSTAT and
/// LATENCY, over loopback against an in-process server.
@Suite("Observability: INFO, commandstats, errorstats, SLOWLOG, CONFIG RESETSTAT")
struct ObservabilityTests {
    func text(_ reply: Reply) -> String {
        if case .bulk(let bytes?) = reply { return String(decoding: bytes, as: UTF8.self) }
        return ""
    }

    /// The `# Section` headers of an INFO reply, in order.
    func headers(_ info: String) -> [String] {
        info.split(separator: "\r\n").filter { $0.hasPrefix("# ") }.map { String($0.dropFirst(2)) }
    }

    /// The `name:value` fields of an INFO reply.
    func fields(_ info: String) -> [String: String] {
        var fields: [String: String] = [:]
        for line in info.split(separator: "\r\n") where !line.hasPrefix("#") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return fields
    }

    /// `cmdstat_<name>`'s values as numbers (calls, usec, usec_per_call, rejected_calls, failed_calls), or nil.
    func commandStats(_ client: RESPTestClient, _ name: String) throws -> [String: Double]? {
        guard let line = self.fields(self.text(try client.call("INFO", "commandstats")))["cmdstat_\(name)"] else {
            return nil
        }
        var values: [String: Double] = [:]
        for pair in line.split(separator: ",") {
            let parts = pair.split(separator: "=")
            values[String(parts[0])] = Double(parts[1])
        }
        return values
    }

    func integerField(_ client: RESPTestClient, _ section: String, _ name: String) throws -> Int {
        Int(self.fields(self.text(try client.call("INFO", section)))[name] ?? "") ?? -1
    }

    @Test("INFO chooses sections as Redis does: default, all, everything, several names, any case")
    func sectionSelection() throws {
        let server = try TestServer()
        let c = try server.client()
        let defaults = [
            "Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Modules", "Errorstats",
            "Cluster", "Transactions", "Keyspace",
        ]
        #expect(self.headers(self.text(try c.call("INFO"))) == defaults)
        #expect(self.headers(self.text(try c.call("INFO", "default"))) == defaults)
        var all = defaults
        all.insert("Commandstats", at: 8)
        #expect(self.headers(self.text(try c.call("INFO", "all"))) == all)
        #expect(self.headers(self.text(try c.call("INFO", "EVERYTHING"))) == all)
        #expect(self.headers(self.text(try c.call("INFO", "default", "commandstats"))) == all)
        // Several names, any case, printed in Redis's order whatever the order asked.
        #expect(self.headers(self.text(try c.call("INFO", "cpu", "MEMORY", "Server"))) == ["Server", "Memory", "CPU"])
        #expect(self.text(try c.call("INFO", "nosuchsection")) == "")
        let keyspace = self.text(try c.call("INFO", "keyspace"))
        #expect(keyspace.hasPrefix("# Keyspace\r\n") && !keyspace.contains("# Server"))
    }

    @Test("INFO memory, stats, cpu, replication and server have the fields dashboards read")
    func fieldsDashboardsRead() throws {
        let server = try TestServer()
        let c = try server.client()
        #expect(try c.call("SET", "k", String(repeating: "v", count: 1000)) == .ok)
        let info = self.fields(self.text(try c.call("INFO", "everything")))
        for name in [
            "used_memory", "used_memory_rss", "used_memory_peak", "maxmemory", "total_connections_received",
            "total_commands_processed", "instantaneous_ops_per_sec", "total_net_input_bytes", "total_net_output_bytes",
            "rejected_connections", "expired_keys", "keyspace_hits", "keyspace_misses", "total_error_replies",
            "connected_clients", "uptime_in_seconds", "process_id", "tcp_port", "master_repl_offset",
        ] {
            #expect(Int(info[name] ?? "") != nil, "\(name) is not an integer: \(info[name] ?? "missing")")
        }
        for name in [
            "used_cpu_sys", "used_cpu_user", "used_cpu_sys_children", "used_cpu_user_children",
            "mem_fragmentation_ratio", "instantaneous_input_kbps", "instantaneous_output_kbps",
        ] {
            #expect(Double(info[name] ?? "") != nil, "\(name) is not a number: \(info[name] ?? "missing")")
        }
        #expect(Int(info["used_memory"]!)! > 1000)
        #expect(Int(info["used_memory_rss"]!)! > Int(info["used_memory"]!)!)
        #expect(Int(info["used_memory_peak"]!)! >= Int(info["used_memory"]!)!)
        #expect(info["used_memory_human"]?.hasSuffix("K") == true || info["used_memory_human"]?.hasSuffix("M") == true)
        #expect(info["maxmemory"] == "0" && info["maxmemory_policy"] == "noeviction")
        #expect(info["mem_allocator"] == "libc")
        #expect(info["role"] == "master" && info["cluster_enabled"] == "0")
        #expect(info["used_cpu_sys_children"] == "0.000000")
        #expect(info["used_cpu_user"]?.split(separator: ".").last?.count == 6)
        #expect(info["run_id"]?.count == 40 && info["master_replid"]?.count == 40)
        #expect(info["tcp_port"] == String(server.port))
    }

    @Test("commandstats counts calls, time, rejections and failures; errorstats counts replies by code")
    func commandAndErrorStats() throws {
        let server = try TestServer()
        let c = try server.client()
        for _ in 0..<3 { #expect(try c.call("SET", "k", "1") == .ok) }
        #expect(try c.call("GET", "k") == .bulk("1"))
        #expect(try c.call("GET", "missing") == .null)
        #expect(try c.call("GET") == .error("ERR wrong number of arguments for 'get' command"))
        #expect(try c.call("SET", "k", "1", "EX", "0") == .error("ERR invalid expire time in 'set' command"))
        guard case .error = try c.call("NOSUCHCOMMAND", "x") else {
            Issue.record("unknown command answered")
            return
        }
        #expect(try c.call("CONFIG", "GET", "maxclients") != .null)
        guard case .error = try c.call("CONFIG", "NOSUCH") else {
            Issue.record("unknown subcommand answered")
            return
        }
        let set = try #require(try self.commandStats(c, "set"))
        #expect(set["calls"] == 4 && set["failed_calls"] == 1 && set["rejected_calls"] == 0)
        #expect(set["usec"]! >= 0 && set["usec_per_call"]! >= 0)
        let get = try #require(try self.commandStats(c, "get"))
        #expect(get["calls"] == 2 && get["rejected_calls"] == 1 && get["failed_calls"] == 0)
        #expect(try self.commandStats(c, "config|get")?["calls"] == 1)
        #expect(try self.commandStats(c, "nosuchcommand") == nil)
        #expect(try self.commandStats(c, "config") == nil)

        // NOAUTH: a rejection of the command, counted under its own code.
        #expect(try c.call("CONFIG", "SET", "requirepass", "secret") == .ok)
        let stranger = try server.client()
        #expect(try stranger.call("GET", "k") == .error("NOAUTH Authentication required."))
        #expect(try c.call("CONFIG", "SET", "requirepass", "") == .ok)
        #expect(try self.commandStats(c, "get")?["rejected_calls"] == 2)

        // EXECABORT: EXEC fails; the command refused while queueing is a rejection.
        #expect(try c.call("MULTI") == .ok)
        guard case .error = try c.call("NOSUCHCOMMAND") else {
            Issue.record("unknown command queued")
            return
        }
        guard case .error(let abort) = try c.call("EXEC"), abort.hasPrefix("EXECABORT") else {
            Issue.record("EXEC did not abort")
            return
        }
        #expect(try self.commandStats(c, "exec")?["failed_calls"] == 1)

        let errors = self.fields(self.text(try c.call("INFO", "errorstats")))
        // ERR: wrong arity, invalid expire, two unknown commands, unknown subcommand.
        #expect(errors["errorstat_ERR"] == "count=5")
        #expect(errors["errorstat_NOAUTH"] == "count=1")
        #expect(errors["errorstat_EXECABORT"] == "count=1")
        #expect(try self.integerField(c, "stats", "total_error_replies") == 7)
    }

    @Test("commandstats times a command from its own start, not from the end of an earlier read's commands")
    func commandTimeStartsWithTheCommand() throws {
        // Commands run back to back in a batch are timed from one clock read to the next; a command in a later
        // read must not count the pause since the last batch (nor a refused or queued command's end).
        let server = try TestServer()
        let c = try server.client()
        try c.send(raw: "NOSUCH\r\nSET a 1\r\nMULTI\r\nSET b 2\r\nEXEC\r\nGET a\r\n")
        guard case .error = try c.read() else {
            Issue.record("unknown command answered")
            return
        }
        #expect(try c.read() == .ok)
        #expect(try c.read() == .ok)
        #expect(try c.read() == .simple("QUEUED"))
        #expect(try c.read() == .array([.ok]))
        #expect(try c.read() == .bulk("1"))
        Thread.sleep(forTimeInterval: 0.3)
        #expect(try c.call("GET", "b") == .bulk("2"))
        try c.send(raw: "MULTI\r\nSET c 3\r\n")
        #expect(try c.read() == .ok)
        #expect(try c.read() == .simple("QUEUED"))
        Thread.sleep(forTimeInterval: 0.3)
        #expect(try c.call("EXEC") == .array([.ok]))
        // Two GETs and one EXEC, each well under the 300 ms pause before it.
        let get = try #require(try self.commandStats(c, "get"))
        #expect(get["calls"] == 2 && get["usec"]! < 250_000)
        let exec = try #require(try self.commandStats(c, "exec"))
        #expect(exec["calls"] == 2 && exec["usec"]! < 250_000)
    }

    @Test("EXEC counts each queued command once, and a discarded EXEC counts none")
    func execCountsOnce() throws {
        let server = try TestServer(ioThreads: 4)
        let clients = 4
        let rounds = 150
        let failures = Atomic<Int>(0)
        runOnThreads(clients) { _ in
            do {
                let c = try server.client()
                for _ in 0..<rounds {
                    _ = try c.call("MULTI")
                    _ = try c.call("INCR", "hot")
                    _ = try c.call("INCR", "hot2")
                    guard case .array(let results?) = try c.call("EXEC"), results.count == 2 else {
                        failures.add(1, ordering: .relaxed)
                        continue
                    }
                }
            } catch {
                failures.add(1, ordering: .relaxed)
            }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
        let c = try server.client()
        #expect(try c.call("GET", "hot") == .bulk(String(clients * rounds)))
        #expect(try self.commandStats(c, "incr")?["calls"] == Double(2 * clients * rounds))
        #expect(try self.commandStats(c, "exec")?["calls"] == Double(clients * rounds))

        // A failed WATCH: EXEC answers nil and its commands did not run.
        let other = try server.client()
        #expect(try c.call("WATCH", "hot") == .ok)
        #expect(try other.call("SET", "hot", "0") == .ok)
        #expect(try c.call("MULTI") == .ok)
        #expect(try c.call("INCR", "hot") == .simple("QUEUED"))
        #expect(try c.call("EXEC") == .array(nil))
        #expect(try self.commandStats(c, "incr")?["calls"] == Double(2 * clients * rounds))
    }

    @Test("stats: commands processed, keyspace hits and misses, network bytes, connections")
    func statsCounters() throws {
        let server = try TestServer()
        let c = try server.client()
        let before = self.fields(self.text(try c.call("INFO", "stats")))
        #expect(try c.call("SET", "a", "1") == .ok)
        #expect(try c.call("GET", "a") == .bulk("1"))
        #expect(try c.call("GET", "b") == .null)
        #expect(try c.call("MGET", "a", "b", "c") == .array([.bulk("1"), .null, .null]))
        let after = self.fields(self.text(try c.call("INFO", "stats")))
        func delta(_ name: String) -> Int { Int(after[name]!)! - Int(before[name]!)! }
        // The first INFO itself, SET, two GETs, MGET.
        #expect(delta("total_commands_processed") == 5)
        #expect(delta("keyspace_hits") == 2)
        #expect(delta("keyspace_misses") == 3)
        #expect(delta("total_net_input_bytes") > 60)
        #expect(delta("total_net_output_bytes") > Int(before["total_net_output_bytes"]!)! / 2)
        #expect(Int(after["total_connections_received"]!)! >= 1)
    }

    @Test("expired_keys counts keys the sweep removed")
    func expiredKeys() throws {
        let server = try TestServer()
        let c = try server.client()
        for i in 0..<5 { #expect(try c.call("SET", "e\(i)", "v", "PX", "1") == .ok) }
        var expired = 0
        for _ in 0..<100 {
            expired = try self.integerField(c, "stats", "expired_keys")
            if expired == 5 { break }
            usleep(50_000)
        }
        #expect(expired == 5)
    }

    @Test("a read removes the expired keys it finds: DBSIZE drops at once, expired_keys counts them, RESETSTAT zeroes")
    func expiredOnAccess() throws {
        let server = try TestServer()
        let c = try server.client()
        // 200 keys over 256 shards: the sweep (16 shards per 100 ms) reaches only a few before the reads do.
        let keys = (0..<200).map { "lazy\($0)" }
        for key in keys { #expect(try c.call("SET", key, "v", "PX", "20") == .ok) }
        usleep(60_000)
        #expect(try c.call(bytes: (["EXISTS"] + keys).map { Array($0.utf8) }) == .integer(0))
        #expect(try c.call("DBSIZE") == .integer(0))
        #expect(try self.integerField(c, "stats", "expired_keys") == 200)
        #expect(try c.call("CONFIG", "RESETSTAT") == .ok)
        #expect(try self.integerField(c, "stats", "expired_keys") == 0)
    }

    @Test("SLOWLOG GET, LEN, RESET and HELP; entries shortened as Redis shortens them; secrets redacted")
    func slowlog() throws {
        let server = try TestServer()
        let c = try server.client()
        #expect(try c.call("CONFIG", "GET", "slowlog-*") == .array([
            .bulk("slowlog-log-slower-than"), .bulk("10000"), .bulk("slowlog-max-len"), .bulk("128"),
        ]))
        #expect(try c.call("CONFIG", "SET", "slowlog-log-slower-than", "0") == .ok)
        #expect(try c.call("CLIENT", "SETNAME", "observer") == .ok)
        let long = String(repeating: "x", count: 200)
        #expect(try c.call("SET", "key", long) == .ok)
        guard case .array(let entries?) = try c.call("SLOWLOG", "GET", "1"), entries.count == 1,
            case .array(let entry?) = entries[0], entry.count == 6
        else {
            Issue.record("SLOWLOG GET 1")
            return
        }
        guard case .integer(let id) = entry[0], case .integer(let time) = entry[1], case .integer = entry[2] else {
            Issue.record("entry header")
            return
        }
        #expect(id >= 2)
        #expect(abs(time - Int64(Date().timeIntervalSince1970)) < 60)
        let cut = String(repeating: "x", count: 128) + "... (72 more bytes)"
        #expect(entry[3] == .array([.bulk("SET"), .bulk("key"), .bulk(cut)]))
        guard case .bulk(let address?) = entry[4] else {
            Issue.record("address")
            return
        }
        #expect(String(decoding: address, as: UTF8.self).hasPrefix("127.0.0.1:"))
        #expect(entry[5] == .bulk("observer"))

        // More than 32 arguments: 31 kept, the last place says how many more.
        let many = ["MSET"] + (0..<20).flatMap { ["k\($0)", "v\($0)"] }
        #expect(try c.call(bytes: many.map { Array($0.utf8) }) == .ok)
        guard case .array(let latest?) = try c.call("SLOWLOG", "GET", "1"), case .array(let mset?) = latest[0],
            case .array(let arguments?) = mset[3]
        else {
            Issue.record("SLOWLOG GET after MSET")
            return
        }
        #expect(arguments.count == 32)
        #expect(arguments[30] == .bulk("v14"))
        #expect(arguments[31] == .bulk("... (10 more arguments)"))

        // Passwords never reach the slow log.
        _ = try c.call("AUTH", "default", "hunter2")
        _ = try c.call("CONFIG", "SET", "requirepass", "hunter3")
        #expect(try c.call("CONFIG", "SET", "requirepass", "") == .ok)
        guard case .array(let recent?) = try c.call("SLOWLOG", "GET", "4") else {
            Issue.record("SLOWLOG GET 4")
            return
        }
        let logged = recent.compactMap { entry -> Reply? in
            guard case .array(let fields?) = entry else { return nil }
            return fields[3]
        }
        #expect(logged.contains(.array([.bulk("AUTH"), .bulk("(redacted)"), .bulk("(redacted)")])))
        #expect(logged.contains(.array([.bulk("CONFIG"), .bulk("SET"), .bulk("requirepass"), .bulk("(redacted)")])))

        // LEN, GET's counts, RESET (the RESET itself is then the only entry, as in Redis), errors.
        guard case .integer(let length) = try c.call("SLOWLOG", "LEN") else {
            Issue.record("SLOWLOG LEN")
            return
        }
        #expect(length >= 6)
        guard case .array(let every?) = try c.call("SLOWLOG", "GET", "-1") else {
            Issue.record("SLOWLOG GET -1")
            return
        }
        #expect(every.count == Int(length) + 1)
        guard case .array(let defaultCount?) = try c.call("SLOWLOG", "GET") else {
            Issue.record("SLOWLOG GET")
            return
        }
        #expect(defaultCount.count == 10)
        #expect(try c.call("SLOWLOG", "GET", "0") == .array([]))
        #expect(try c.call("SLOWLOG", "GET", "-2") == .error("ERR count should be greater than or equal to -1"))
        #expect(try c.call("SLOWLOG", "GET", "x") == .error("ERR count should be greater than or equal to -1"))
        #expect(
            try c.call("SLOWLOG", "GET", "1", "2")
                == .error("ERR unknown subcommand or wrong number of arguments for 'GET'. Try SLOWLOG HELP.")
        )
        #expect(try c.call("SLOWLOG", "LEN", "1") == .error("ERR wrong number of arguments for 'slowlog|len' command"))
        #expect(try c.call("SLOWLOG", "NOPE") == .error("ERR unknown subcommand 'NOPE'. Try SLOWLOG HELP."))
        guard case .array(let help?) = try c.call("SLOWLOG", "HELP") else {
            Issue.record("SLOWLOG HELP")
            return
        }
        #expect(help.first == .simple("SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"))
        #expect(help.last == .simple("    Prints this help."))
        #expect(try c.call("SLOWLOG", "RESET") == .ok)
        #expect(try c.call("SLOWLOG", "LEN") == .integer(1))

        // slowlog-max-len keeps the newest; -1 turns logging off.
        #expect(try c.call("CONFIG", "SET", "slowlog-max-len", "3") == .ok)
        for _ in 0..<5 { _ = try c.call("PING") }
        #expect(try c.call("SLOWLOG", "LEN") == .integer(3))
        #expect(try c.call("CONFIG", "SET", "slowlog-log-slower-than", "-1") == .ok)
        #expect(try c.call("SLOWLOG", "RESET") == .ok)
        for _ in 0..<5 { _ = try c.call("PING") }
        #expect(try c.call("SLOWLOG", "LEN") == .integer(0))
        #expect(
            try c.call("CONFIG", "SET", "slowlog-log-slower-than", "-2")
                == .error(
                    "ERR CONFIG SET failed (possibly related to argument 'slowlog-log-slower-than') - argument must be "
                        + "between -1 and 9223372036854775807 inclusive"
                )
        )
    }

    @Test("SLOWLOG: EXEC is not logged, the commands it ran are")
    func slowlogAndExec() throws {
        let server = try TestServer()
        let c = try server.client()
        #expect(try c.call("CONFIG", "SET", "slowlog-log-slower-than", "0") == .ok)
        #expect(try c.call("SLOWLOG", "RESET") == .ok)
        #expect(try c.call("MULTI") == .ok)
        #expect(try c.call("SET", "a", "1") == .simple("QUEUED"))
        #expect(try c.call("INCR", "a") == .simple("QUEUED"))
        #expect(try c.call("EXEC") == .array([.ok, .integer(2)]))
        guard case .array(let entries?) = try c.call("SLOWLOG", "GET", "-1") else {
            Issue.record("SLOWLOG GET")
            return
        }
        let names = entries.compactMap { entry -> Reply? in
            guard case .array(let fields?) = entry, case .array(let arguments?) = fields[3] else { return nil }
            return arguments.first
        }
        // Newest first: INCR and SET from EXEC, MULTI, the RESET.
        #expect(names == [.bulk("INCR"), .bulk("SET"), .bulk("MULTI"), .bulk("SLOWLOG")])
    }

    @Test("CONFIG RESETSTAT clears commandstats, errorstats and the stats counters, not the slow log")
    func resetStat() throws {
        let server = try TestServer()
        let c = try server.client()
        #expect(try c.call("CONFIG", "SET", "slowlog-log-slower-than", "0") == .ok)
        #expect(try c.call("SET", "a", "1") == .ok)
        #expect(try c.call("GET", "a") == .bulk("1"))
        _ = try c.call("NOSUCH")
        guard case .integer(let logged) = try c.call("SLOWLOG", "LEN") else {
            Issue.record("SLOWLOG LEN")
            return
        }
        #expect(try c.call("CONFIG", "RESETSTAT") == .ok)
        let info = self.text(try c.call("INFO", "all"))
        let fields = self.fields(info)
        // Only the RESETSTAT itself counted since.
        #expect(fields["total_commands_processed"] == "1")
        #expect(fields["cmdstat_config|resetstat"]?.hasPrefix("calls=1,") == true)
        #expect(fields["cmdstat_set"] == nil && fields["cmdstat_get"] == nil)
        #expect(!info.contains("errorstat_"))
        #expect(fields["total_error_replies"] == "0")
        #expect(fields["keyspace_hits"] == "0" && fields["keyspace_misses"] == "0")
        #expect(fields["total_connections_received"] == "0")
        #expect(Int(fields["total_net_input_bytes"]!)! < 100)
        guard case .integer(let still) = try c.call("SLOWLOG", "LEN") else {
            Issue.record("SLOWLOG LEN")
            return
        }
        #expect(still >= logged)
        #expect(try c.call("GET", "a") == .bulk("1"))
        #expect(try self.commandStats(c, "get")?["calls"] == 1)
    }

    @Test("LATENCY answers as a Redis whose monitor recorded nothing")
    func latency() throws {
        let server = try TestServer()
        let c = try server.client()
        #expect(try c.call("LATENCY", "LATEST") == .array([]))
        #expect(try c.call("LATENCY", "HISTORY", "command") == .array([]))
        #expect(try c.call("LATENCY", "RESET") == .integer(0))
        #expect(try c.call("LATENCY", "NOPE") == .error("ERR unknown subcommand 'NOPE'. Try LATENCY HELP."))
    }
}
