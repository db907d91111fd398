import Foundation
import Synchronization
import Testing
import TransactionEngine

@Suite("Server commands and limits over loopback")
struct ServerCommandTests {
    func text(_ reply: Reply) -> String {
        if case .bulk(let bytes?) = reply { return String(decoding: bytes, as: UTF8.self) }
        return ""
    }

    @Test("INFO has Redis's sections and fields, and Weft's transactions section")
    func info() throws {
        let server = try TestServer()
        let c = try server.client()
        _ = try c.call("SET", "a", "1", "EX", "100")
        _ = try c.call("SET", "b", "2")
        let info = self.text(try c.call("INFO"))
        for field in [
            "# Server", "redis_version:", "tcp_port:\(server.port)", "# Clients", "connected_clients:1",
            "# Stats", "total_commands_processed:", "# Memory", "used_memory:", "# Transactions", "tx_commits:",
            "# Keyspace", "db0:keys=2,expires=1,avg_ttl=0", "role:master",
        ] {
            #expect(info.contains(field), "missing \(field)")
        }
        let keyspace = self.text(try c.call("INFO", "keyspace"))
        #expect(keyspace.hasPrefix("# Keyspace\r\n") && !keyspace.contains("# Server"))
    }

    @Test("CLIENT LIST, INFO and KILL; RESET; TIME; COMMAND")
    func clientsAndMisc() throws {
        let server = try TestServer()
        let c = try server.client()
        let victim = try server.client()
        _ = try victim.call("CLIENT", "SETNAME", "victim")
        let list = self.text(try c.call("CLIENT", "LIST"))
        #expect(list.split(separator: "\n").count == 2)
        #expect(list.contains("name=victim"))
        guard case .integer(let victimID) = try victim.call("CLIENT", "ID") else {
            Issue.record("no id")
            return
        }
        #expect(self.text(try c.call("CLIENT", "INFO")).hasPrefix("id="))
        #expect(try c.call("CLIENT", "KILL", "ID", String(victimID)) == .integer(1))
        #expect(victim.isClosed())
        #expect(try c.call("CLIENT", "KILL", "ID", "99999") == .integer(0))

        _ = try c.call("SELECT", "2")
        _ = try c.call("MULTI")
        #expect(try c.call("RESET") == .simple("RESET"))
        #expect(try c.call("SET", "k", "v") == .ok)
        #expect(try c.call("SELECT", "0") == .ok)
        #expect(try c.call("GET", "k") == .bulk("v"))

        guard case .array(let time?) = try c.call("TIME"), time.count == 2 else {
            Issue.record("TIME")
            return
        }
        guard case .integer(let count) = try c.call("COMMAND", "COUNT") else {
            Issue.record("COMMAND COUNT")
            return
        }
        #expect(count > 30)
        guard case .array(let entries?) = try c.call("COMMAND", "INFO", "get", "nosuch") else {
            Issue.record("COMMAND INFO")
            return
        }
        #expect(entries.count == 2 && entries[1] == .null)
        if case .array(let get?) = entries[0] {
            #expect(get[0] == .bulk("get") && get[1] == .integer(2) && get[3] == .integer(1))
        }
    }

    @Test("maxclients refuses the extra client with Redis's error; the others go on")
    func maxClients() throws {
        let server = try TestServer(maxClients: 2)
        let first = try server.client()
        let second = try server.client()
        let third = try server.client()
        #expect(try third.read() == .error("ERR max number of clients reached"))
        #expect(third.isClosed())
        #expect(try first.call("PING") == .simple("PONG"))
        #expect(try second.call("PING") == .simple("PONG"))
    }

    @Test("an idle client is closed after the timeout")
    func idleTimeout() throws {
        let server = try TestServer(timeout: 1)
        let c = try server.client()
        #expect(try c.call("PING") == .simple("PONG"))
        Thread.sleep(forTimeInterval: 2.5)
        #expect(c.isClosed())
    }

    @Test("1,000 concurrent connections each get their own answers")
    func thousandConnections() throws {
        let server = try TestServer(ioThreads: 2)
        var clients: [RESPTestClient] = []
        for i in 0..<1000 {
            let c = try server.client()
            try c.send(raw: RESPTestClient.encode([Array("SET".utf8), Array("conn:\(i)".utf8), Array("\(i)".utf8)]))
            clients.append(c)
        }
        for c in clients { #expect(try c.read() == .ok) }
        for (i, c) in clients.enumerated() where i % 97 == 0 {
            #expect(try c.call("GET", "conn:\(i)") == .bulk("\(i)"))
        }
        #expect(try clients[0].call("DBSIZE") == .integer(1000))
    }

    @Test("a 100 MB value round-trips")
    func hugeValue() throws {
        let server = try TestServer()
        let c = try server.client()
        var value = [UInt8](repeating: 0x61, count: 100 * 1024 * 1024)
        value[0] = 0x00
        value[value.count - 1] = 0x0d
        #expect(try c.call(bytes: [Array("SET".utf8), Array("huge".utf8), value]) == .ok)
        #expect(try c.call("STRLEN", "huge") == .integer(Int64(value.count)))
        #expect(try c.call(bytes: [Array("GET".utf8), Array("huge".utf8)]) == .bulk(value))
    }

    @Test("requests that arrive in pieces, with arguments large and small, in place and copied, keep their bytes")
    func requestsInPieces() throws {
        let server = try TestServer()
        let c = try server.client()
        // MSET of 10 keys with 100 KB values: more than the eight large arguments used in place, so some are copied;
        // every value differs, so a mix-up shows.
        var arguments: [[UInt8]] = [Array("MSET".utf8)]
        for i in 0..<10 {
            arguments.append(Array("piece:\(i)".utf8))
            var value = [UInt8](repeating: UInt8(0x61 + i), count: 100 * 1024 + i)
            value[i] = 0x00
            arguments.append(value)
        }
        arguments.append(Array("small".utf8))
        arguments.append(Array("s".utf8))
        let request = RESPTestClient.encode(arguments)
        // In pieces, so that the server reads the request over several reads and decodes it on the slow path.
        var offset = 0
        while offset < request.count {
            let end = min(offset + 7_919, request.count)
            try c.send(raw: Array(request[offset..<end]))
            offset = end
            usleep(200)
        }
        #expect(try c.read() == .ok)
        for i in 0..<10 {
            #expect(try c.call(bytes: [Array("GET".utf8), Array("piece:\(i)".utf8)]) == .bulk(arguments[2 + 2 * i]))
        }
        #expect(try c.call("GET", "small") == .bulk("s"))
        // An inline request (the slow path too) and a whole one after it in the same read.
        try c.send(raw: "SET inline v1\r\n" + "*3\r\n$3\r\nSET\r\n$5\r\nwhole\r\n$2\r\nv2\r\n")
        #expect(try c.read() == .ok)
        #expect(try c.read() == .ok)
        #expect(try c.call("MGET", "inline", "whole") == .array([.bulk("v1"), .bulk("v2")]))
    }

    @Test("a client whose unsent replies pass client-output-buffer-limit is disconnected; CONFIG shows the limit")
    func outputLimit() throws {
        let server = try TestServer(outputHardLimit: 1 << 20)
        let setup = try server.client()
        _ = try setup.call("SET", "big", String(repeating: "x", count: 256 * 1024))
        guard case .array(let config?) = try setup.call("CONFIG", "GET", "client-output-buffer-limit") else {
            Issue.record("CONFIG GET")
            return
        }
        #expect(config.count == 2 && self.text(config[1]).hasPrefix("normal 1048576 0 0"))
        let greedy = try server.client()
        var request: [UInt8] = []
        for _ in 0..<32 { request += RESPTestClient.encode([Array("GET".utf8), Array("big".utf8)]) }
        try greedy.send(raw: request)
        Thread.sleep(forTimeInterval: 0.5)
        // 8 MB of replies against a 1 MB limit: the server closed the connection.
        var received = 0
        while (try? greedy.read()) != nil { received += 1 }
        #expect(received < 32)
        #expect(greedy.isClosed())
        #expect(try setup.call("PING") == .simple("PONG"))
    }

    @Test("a client that never reads its replies does not stop the others")
    func backpressure() throws {
        let server = try TestServer()
        let setup = try server.client()
        _ = try setup.call("SET", "big", String(repeating: "x", count: 1 << 20))
        let greedy = try server.client()
        var request: [UInt8] = []
        for _ in 0..<64 { request += RESPTestClient.encode([Array("GET".utf8), Array("big".utf8)]) }
        // 64 MB of replies that nobody reads; the server stops reading this client.
        let payload = request
        DispatchQueue.global().async { greedy.trySend(raw: payload) }
        Thread.sleep(forTimeInterval: 0.5)
        let other = try server.client()
        #expect(try other.call("PING") == .simple("PONG"))
        #expect(try other.call("INCR", "n") == .integer(1))
    }
}
