import Foundation
import RESPServer
import Synchronization
import TestSupport
import Testing
import TransactionEngine

/// A server on an ephemeral port, in process, for one test. A watchdog names the test if it is still running after
/// `scaled(.seconds(120))`, and releasing the server stops it within a time limit (see `deinit`).
final class TestServer: @unchecked Sendable {
    let server: RESPServer
    let engine: TransactionEngine
    let port: Int
    private let watchdog: Watchdog

    init(ioThreads: Int = 2, maxClients: Int = 10_000, timeout: Int = 0, outputHardLimit: Int = 0) throws {
        var configuration = RESPServer.Configuration()
        configuration.bind = ["127.0.0.1"]
        configuration.port = 0
        configuration.ioThreads = ioThreads
        configuration.maxClients = maxClients
        configuration.timeout = timeout
        configuration.outputBufferLimits.normal.hard = outputHardLimit
        self.engine = TransactionEngine()
        self.server = RESPServer(configuration: configuration, engine: self.engine)
        self.port = try self.server.start()
        self.watchdog = Watchdog("starting its test server")
    }

    func client() throws -> RESPTestClient { try RESPTestClient(port: self.port) }

    /// Stops the server on another thread and waits at most `scaled(.seconds(30))`: `RESPServer.shutdown()` waits
    /// without a limit for each channel to close and for the event loops to stop, so a stuck loop would otherwise
    /// hold the whole test run. Past the limit, an issue names the test and the server is left behind.
    deinit {
        self.watchdog.cancel()
        let server = self.server
        runOnThread("the test server's shutdown", limit: scaled(.seconds(30))) { try? server.shutdown() }
    }
}

@Suite("Server over loopback")
struct ServerTests {
    @Test("connection commands: PING, ECHO, SELECT, QUIT")
    func connection() throws {
        let server = try TestServer()
        let client = try server.client()
        #expect(try client.call("PING") == .simple("PONG"))
        #expect(try client.call("ping", "hi") == .bulk("hi"))
        #expect(try client.call("ECHO", "x y") == .bulk("x y"))
        #expect(try client.call("SET", "k", "db0") == .ok)
        #expect(try client.call("SELECT", "1") == .ok)
        #expect(try client.call("GET", "k") == .null)
        #expect(try client.call("SELECT", "16") == .error("ERR DB index is out of range"))
        #expect(try client.call("SELECT", "x") == .error("ERR value is not an integer or out of range"))
        #expect(try client.call("SELECT", "0") == .ok)
        #expect(try client.call("GET", "k") == .bulk("db0"))
        #expect(try client.call("QUIT") == .ok)
        #expect(client.isClosed())
    }

    @Test("strings: SET options, GET, SETNX, GETDEL, INCR family, APPEND, STRLEN, MSET, MGET")
    func strings() throws {
        let server = try TestServer()
        let c = try server.client()
        #expect(try c.call("SET", "s", "v") == .ok)
        #expect(try c.call("SET", "s", "w", "NX") == .null)
        #expect(try c.call("SET", "s", "w", "XX", "GET") == .bulk("v"))
        #expect(try c.call("SET", "missing", "w", "XX") == .null)
        #expect(try c.call("SET", "s", "x", "NX", "XX") == .error("ERR syntax error"))
        #expect(try c.call("SET", "s", "x", "EX", "0") == .error("ERR invalid expire time in 'set' command"))
        #expect(try c.call("SET", "s", "x", "EX", "ten") == .error("ERR value is not an integer or out of range"))
        #expect(try c.call("SET", "s", "x", "EX", "10", "PX", "5") == .error("ERR syntax error"))
        #expect(try c.call("SET", "s", "x", "EX") == .error("ERR syntax error"))
        #expect(try c.call("SET", "t", "x", "EX", "100") == .ok)
        #expect(try c.call("TTL", "t") == .integer(100))
        #expect(try c.call("SET", "t", "y", "KEEPTTL") == .ok)
        #expect(try c.call("PTTL", "t").description.hasPrefix(":"))
        #expect(try c.call("TTL", "s") == .integer(-1))
        #expect(try c.call("TTL", "nope") == .integer(-2))
        #expect(try c.call("SETNX", "n", "1") == .integer(1))
        #expect(try c.call("SETNX", "n", "2") == .integer(0))
        #expect(try c.call("INCR", "n") == .integer(2))
        #expect(try c.call("INCRBY", "n", "-5") == .integer(-3))
        #expect(try c.call("DECRBY", "n", "-9223372036854775808") == .error("ERR decrement would overflow"))
        #expect(try c.call("SET", "big", "9223372036854775807") == .ok)
        #expect(try c.call("INCR", "big") == .error("ERR increment or decrement would overflow"))
        #expect(try c.call("INCR", "s") == .error("ERR value is not an integer or out of range"))
        #expect(try c.call("SET", "sp", " 1") == .ok)
        #expect(try c.call("INCR", "sp") == .error("ERR value is not an integer or out of range"))
        #expect(try c.call("APPEND", "a", "Hello ") == .integer(6))
        #expect(try c.call("APPEND", "a", "World") == .integer(11))
        #expect(try c.call("STRLEN", "a") == .integer(11))
        #expect(try c.call("GETDEL", "a") == .bulk("Hello World"))
        #expect(try c.call("GETDEL", "a") == .null)
        #expect(try c.call("MSET", "m1", "1", "m2", "2") == .ok)
        #expect(try c.call("MSET", "m1", "1", "m2") == .error("ERR wrong number of arguments for 'mset' command"))
        #expect(try c.call("MGET", "m1", "nope", "m2") == .array([.bulk("1"), .null, .bulk("2")]))
    }

    @Test("keys: DEL, EXISTS, DBSIZE, FLUSHDB, FLUSHALL; errors for unknown commands and arity")
    func keys() throws {
        let server = try TestServer()
        let c = try server.client()
        _ = try c.call("MSET", "a", "1", "b", "2", "c", "3")
        #expect(try c.call("EXISTS", "a", "a", "zz") == .integer(2))
        #expect(try c.call("DEL", "a", "b", "zz") == .integer(2))
        #expect(try c.call("DBSIZE") == .integer(1))
        #expect(try c.call("FLUSHDB", "bogus") == .error("ERR syntax error"))
        #expect(try c.call("FLUSHDB", "ASYNC") == .ok)
        #expect(try c.call("DBSIZE") == .integer(0))
        _ = try c.call("SET", "x", "1")
        #expect(try c.call("FLUSHALL") == .ok)
        #expect(try c.call("EXISTS", "x") == .integer(0))
        #expect(
            try c.call("NOSUCH", "a", "b")
                == .error("ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' ")
        )
        #expect(try c.call("GET") == .error("ERR wrong number of arguments for 'get' command"))
    }

    @Test("HELLO switches to RESP3 (nulls become _) and back; CLIENT ID, SETNAME, GETNAME, SETINFO")
    func helloAndClient() throws {
        let server = try TestServer()
        let c = try server.client()
        try c.send(raw: "HELLO 3\r\n")
        guard case .array(let fields?) = try c.read() else {
            Issue.record("HELLO did not answer a map")
            return
        }
        #expect(fields.count == 14)
        #expect(fields[4] == .bulk("proto") && fields[5] == .integer(3))
        try c.send(raw: "GET missing\r\n")
        #expect(try c.read() == .null)
        try c.send(raw: "HELLO 4\r\nHELLO x\r\n")
        #expect(try c.read() == .error("NOPROTO unsupported protocol version"))
        #expect(try c.read() == .error("ERR Protocol version is not an integer or out of range"))
        _ = try c.call("HELLO", "2")
        guard case .integer = try c.call("CLIENT", "ID") else {
            Issue.record("CLIENT ID is not an integer")
            return
        }
        #expect(try c.call("CLIENT", "GETNAME") == .null)
        #expect(try c.call("CLIENT", "SETNAME", "worker-1") == .ok)
        #expect(try c.call("CLIENT", "GETNAME") == .bulk("worker-1"))
        #expect(
            try c.call("CLIENT", "SETNAME", "bad name")
                == .error("ERR Client names cannot contain spaces, newlines or special characters.")
        )
        #expect(try c.call("CLIENT", "SETINFO", "LIB-NAME", "tests") == .ok)
    }

    @Test("binary-safe keys and values, and inline commands")
    func binaryAndInline() throws {
        let server = try TestServer()
        let c = try server.client()
        let key: [UInt8] = [0, 13, 10, 255]
        let value: [UInt8] = [13, 10, 0, 36, 42]
        #expect(try c.call(bytes: [Array("SET".utf8), key, value]) == .ok)
        #expect(try c.call(bytes: [Array("GET".utf8), key]) == .bulk(value))
        try c.send(raw: "SET inline \"a b\"\r\nGET inline\r\n\r\nPING\n")
        #expect(try c.read() == .ok)
        #expect(try c.read() == .bulk("a b"))
        #expect(try c.read() == .simple("PONG"))
    }

    @Test("pipelining 10,000 commands: replies in order")
    func pipelining() throws {
        let server = try TestServer()
        let c = try server.client()
        var request: [UInt8] = []
        for i in 0..<10_000 {
            request += RESPTestClient.encode([Array("INCR".utf8), Array("counter".utf8)])
            if i % 1000 == 0 { request += RESPTestClient.encode([Array("ECHO".utf8), Array("mark\(i)".utf8)]) }
        }
        try c.send(raw: request)
        var expected: Int64 = 0
        for i in 0..<10_000 {
            expected += 1
            #expect(try c.read() == .integer(expected))
            if i % 1000 == 0 { #expect(try c.read() == .bulk("mark\(i)")) }
        }
    }

    @Test("pipelined batches: SELECT, errors, MULTI and a protocol error inside one read keep their order")
    func pipelinedBatchEdges() throws {
        let server = try TestServer()
        let c = try server.client()
        // One read of more commands than a batch holds (32), mixing keys in two databases, an unknown command,
        // a wrong arity, MULTI/EXEC, and a protocol error at the end: every command before the error is answered
        // in order, with the effects of the ones before it (a SELECT changes where the next GET looks).
        var request = ""
        var expected: [Reply] = []
        for i in 0..<40 {
            request += "*3\r\n$3\r\nSET\r\n$\(String(i).count + 2)\r\nk-\(i)\r\n$2\r\nv\(i % 10)\r\n"
            expected.append(.ok)
        }
        request += "*2\r\n$6\r\nSELECT\r\n$1\r\n1\r\n*2\r\n$3\r\nGET\r\n$3\r\nk-1\r\n"
        expected += [.ok, .null]
        request += "*3\r\n$3\r\nSET\r\n$3\r\nk-1\r\n$2\r\ndb\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"
        expected += [.ok, .ok]
        request += "*2\r\n$3\r\nGET\r\n$3\r\nk-1\r\n*1\r\n$4\r\nNOPE\r\n*1\r\n$3\r\nGET\r\n"
        expected += [
            .bulk("v1"), .error("ERR unknown command 'NOPE', with args beginning with: "),
            .error("ERR wrong number of arguments for 'get' command"),
        ]
        request += "*1\r\n$5\r\nMULTI\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n*1\r\n$4\r\nEXEC\r\n"
        expected += [.ok, .simple("QUEUED"), .array([.integer(1)])]
        for i in 0..<40 {
            request += "*2\r\n$3\r\nGET\r\n$\(String(i).count + 2)\r\nk-\(i)\r\n"
            expected.append(.bulk("v\(i % 10)"))
        }
        request += "*1\r\n$foo\r\n*1\r\n$4\r\nPING\r\n"
        try c.send(raw: request)
        for reply in expected {
            #expect(try c.read() == reply)
        }
        #expect(try c.read() == .error("ERR Protocol error: invalid bulk length"))
        #expect(c.isClosed())
        let other = try server.client()
        #expect(try other.call("SELECT", "1") == .ok)
        #expect(try other.call("GET", "k-1") == .bulk("db"))
    }

    @Test("QUIT inside a pipelined batch: the commands after it do not run")
    func quitInsideBatch() throws {
        let server = try TestServer()
        let c = try server.client()
        var request: [UInt8] = []
        for _ in 0..<5 { request += RESPTestClient.encode([Array("INCR".utf8), Array("q".utf8)]) }
        request += RESPTestClient.encode([Array("QUIT".utf8)])
        for _ in 0..<5 { request += RESPTestClient.encode([Array("INCR".utf8), Array("q".utf8)]) }
        try c.send(raw: request)
        for i in 1...5 { #expect(try c.read() == .integer(Int64(i))) }
        #expect(try c.read() == .ok)
        #expect(c.isClosed())
        let other = try server.client()
        #expect(try other.call("GET", "q") == .bulk("5"))
    }

    @Test("a malformed request gets Redis's protocol error and closes only that connection")
    func protocolError() throws {
        let server = try TestServer()
        let bystander = try server.client()
        #expect(try bystander.call("SET", "k", "v") == .ok)
        let bad = try server.client()
        try bad.send(raw: "*1\r\n$foo\r\n")
        #expect(try bad.read() == .error("ERR Protocol error: invalid bulk length"))
        #expect(bad.isClosed())
        let worse = try server.client()
        try worse.send(raw: "*2\r\n$3\r\nGET\r\n:1\r\n")
        #expect(try worse.read() == .error("ERR Protocol error: expected '$', got ':'"))
        #expect(worse.isClosed())
        #expect(try bystander.call("GET", "k") == .bulk("v"))
    }

    @Test("many connections incrementing one counter in parallel lose nothing")
    func concurrentIncrements() throws {
        let server = try TestServer(ioThreads: 4)
        let connections = 32
        let perConnection = 200
        let failures = Atomic<Int>(0)
        runOnThreads(connections) { _ in
            do {
                let c = try server.client()
                for _ in 0..<perConnection {
                    if case .integer = try c.call("INCR", "shared") {} else { failures.add(1, ordering: .relaxed) }
                    _ = try c.call("MSET", "pair:a", "x", "pair:b", "x")
                }
            } catch {
                failures.add(1, ordering: .relaxed)
            }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
        let c = try server.client()
        #expect(try c.call("GET", "shared") == .bulk("\(connections * perConnection)"))
    }
}
