import Foundation
import Synchronization
import TestSupport
import Testing

/// The keyspace commands over loopback, with Redis 7's replies and error texts.
@Suite("Keyspace commands")
struct KeyspaceCommandTests {
    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    static func integer(_ reply: Reply) -> Int64? {
        if case .integer(let value) = reply { return value }
        return nil
    }

    /// The keys of an array reply, sorted (order follows hashes, as in Redis it follows the dict).
    static func keys(_ reply: Reply) -> [String] {
        guard case .array(let items?) = reply else { return ["<not an array: \(reply)>"] }
        return items.map { item in
            if case .bulk(let bytes?) = item { return String(decoding: bytes, as: UTF8.self) }
            return "<\(item)>"
        }.sorted()
    }

    /// A SCAN reply's cursor and keys.
    static func scan(_ reply: Reply) -> (cursor: String, keys: [String])? {
        guard case .array(let parts?) = reply, parts.count == 2, case .bulk(let cursor?) = parts[0] else { return nil }
        return (String(decoding: cursor, as: UTF8.self), KeyspaceCommandTests.keys(parts[1]))
    }

    @Test("EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT: NX, XX, GT, LT, past times delete, errors in Redis's order")
    func expire() throws {
        let server = try TestServer()
        let c = try server.client()
        _ = try c.call("SET", "k", "v")
        #expect(try c.call("EXPIRE", "nokey", "10") == .integer(0))
        #expect(try c.call("EXPIRE", "k", "100") == .integer(1))
        #expect(try c.call("TTL", "k") == .integer(100))
        #expect(try c.call("EXPIRE", "k", "50", "GT") == .integer(0))
        #expect(try c.call("EXPIRE", "k", "200", "gt") == .integer(1))
        #expect(try c.call("TTL", "k") == .integer(200))
        #expect(try c.call("PEXPIRE", "k", "300000", "LT") == .integer(0))
        #expect(try c.call("PEXPIRE", "k", "150000", "LT") == .integer(1))
        #expect(try c.call("EXPIRE", "k", "10", "NX") == .integer(0))
        #expect(try c.call("EXPIRE", "k", "10", "XX") == .integer(1))
        #expect(try c.call("TTL", "k") == .integer(10))
        // No expiry counts as an infinite TTL: GT never passes, LT always does.
        _ = try c.call("SET", "p", "v")
        #expect(try c.call("EXPIRE", "p", "100", "XX") == .integer(0))
        #expect(try c.call("EXPIRE", "p", "100", "GT") == .integer(0))
        #expect(try c.call("EXPIRE", "p", "100", "LT") == .integer(1))
        _ = try c.call("PERSIST", "p")
        #expect(try c.call("EXPIRE", "p", "100", "NX") == .integer(1))
        // A time in the past deletes the key and answers 1.
        #expect(try c.call("EXPIRE", "p", "-5", "LT") == .integer(1))
        #expect(try c.call("EXISTS", "p") == .integer(0))
        _ = try c.call("SET", "p", "v")
        #expect(try c.call("PEXPIREAT", "p", "1") == .integer(1))
        #expect(try c.call("EXISTS", "p") == .integer(0))
        _ = try c.call("SET", "p", "v")
        #expect(try c.call("EXPIRE", "p", "0") == .integer(1))
        #expect(try c.call("GET", "p") == .null)
        // Absolute times.
        _ = try c.call("SET", "a", "v")
        #expect(try c.call("EXPIREAT", "a", "99999999999") == .integer(1))
        #expect(try c.call("PEXPIRETIME", "a") == .integer(99_999_999_999_000))
        #expect(try c.call("PEXPIREAT", "a", "9223372036854775807") == .integer(1))
        #expect(try c.call("PEXPIRETIME", "a") == .integer(Int64.max))
        #expect(try c.call("EXPIRETIME", "a") == .integer(9_223_372_036_854_776))
        // Errors: options first, then the number, then overflow (even for a missing key).
        let incompatible = Reply.error("ERR NX and XX, GT or LT options at the same time are not compatible")
        #expect(try c.call("EXPIRE", "k", "10", "NX", "XX") == incompatible)
        #expect(try c.call("EXPIRE", "k", "10", "nx", "gt") == incompatible)
        #expect(try c.call("EXPIRE", "k", "abc", "NX", "LT") == incompatible)
        #expect(
            try c.call("EXPIRE", "k", "10", "GT", "LT")
                == .error("ERR GT and LT options at the same time are not compatible")
        )
        #expect(try c.call("EXPIRE", "k", "10", "foo") == .error("ERR Unsupported option foo"))
        #expect(try c.call("EXPIRE", "k", "abc", "foo") == .error("ERR Unsupported option foo"))
        #expect(try c.call("EXPIRE", "k", "1.5") == .error("ERR value is not an integer or out of range"))
        #expect(
            try c.call("EXPIRE", "nokey", "99999999999999999")
                == .error("ERR invalid expire time in 'expire' command")
        )
        #expect(
            try c.call("EXPIRE", "k", "9223372036854775") == .error("ERR invalid expire time in 'expire' command")
        )
        #expect(
            try c.call("PEXPIRE", "k", "9223372036854775807")
                == .error("ERR invalid expire time in 'pexpire' command")
        )
        #expect(
            try c.call("EXPIREAT", "k", "9223372036854775807")
                == .error("ERR invalid expire time in 'expireat' command")
        )
        #expect(try c.call("EXPIRE", "k") == .error("ERR wrong number of arguments for 'expire' command"))
        #expect(try c.call("TTL", "k") == .integer(10))
    }

    @Test("EXPIRETIME, PEXPIRETIME, PERSIST, TOUCH, TYPE")
    func expiryAndInspection() throws {
        let server = try TestServer()
        let c = try server.client()
        #expect(try c.call("EXPIRETIME", "nokey") == .integer(-2))
        #expect(try c.call("PEXPIRETIME", "nokey") == .integer(-2))
        _ = try c.call("SET", "k", "v")
        #expect(try c.call("EXPIRETIME", "k") == .integer(-1))
        #expect(try c.call("PEXPIRETIME", "k") == .integer(-1))
        _ = try c.call("PEXPIREAT", "k", "99999999999500")
        #expect(try c.call("EXPIRETIME", "k") == .integer(100_000_000_000))
        _ = try c.call("PEXPIREAT", "k", "99999999999499")
        #expect(try c.call("EXPIRETIME", "k") == .integer(99_999_999_999))
        #expect(try c.call("PEXPIRETIME", "k") == .integer(99_999_999_999_499))
        let before = KeyspaceCommandTests.now()
        _ = try c.call("EXPIRE", "k", "100")
        let at = try #require(KeyspaceCommandTests.integer(try c.call("PEXPIRETIME", "k")))
        #expect(at >= before + 100_000 && at <= KeyspaceCommandTests.now() + 100_000)
        #expect(try c.call("PERSIST", "k") == .integer(1))
        #expect(try c.call("PERSIST", "k") == .integer(0))
        #expect(try c.call("PERSIST", "nokey") == .integer(0))
        #expect(try c.call("TTL", "k") == .integer(-1))
        _ = try c.call("SET", "j", "v")
        #expect(try c.call("TOUCH", "k", "j", "nokey", "k") == .integer(3))
        #expect(try c.call("TOUCH", "nokey") == .integer(0))
        #expect(try c.call("TOUCH") == .error("ERR wrong number of arguments for 'touch' command"))
        #expect(try c.call("TYPE", "k") == .simple("string"))
        #expect(try c.call("TYPE", "nokey") == .simple("none"))
        #expect(try c.call("TYPE") == .error("ERR wrong number of arguments for 'type' command"))
        #expect(try c.call("EXPIRETIME") == .error("ERR wrong number of arguments for 'expiretime' command"))
        #expect(try c.call("PERSIST", "a", "b") == .error("ERR wrong number of arguments for 'persist' command"))
    }

    @Test("OBJECT ENCODING, REFCOUNT, FREQ, HELP, and Redis's errors")
    func object() throws {
        let server = try TestServer()
        let c = try server.client()
        let cases: [(String, String)] = [
            ("12345", "int"), ("-9223372036854775808", "int"), ("9223372036854775808", "embstr"),
            ("012", "embstr"), (" 1", "embstr"), ("1.5", "embstr"), ("", "embstr"),
            (String(repeating: "x", count: 44), "embstr"), (String(repeating: "x", count: 45), "raw"),
            (String(repeating: "1", count: 45), "raw"),
        ]
        for (value, encoding) in cases {
            _ = try c.call("SET", "k", value)
            #expect(try c.call("OBJECT", "ENCODING", "k") == .bulk(encoding), "\(value)")
        }
        #expect(try c.call("object", "encoding", "nokey") == .null)
        _ = try c.call("SET", "n", "9999")
        #expect(try c.call("OBJECT", "REFCOUNT", "n") == .integer(2_147_483_647))
        _ = try c.call("SET", "n", "10000")
        #expect(try c.call("OBJECT", "REFCOUNT", "n") == .integer(1))
        #expect(try c.call("OBJECT", "REFCOUNT", "nokey") == .null)
        #expect(try c.call("OBJECT", "FREQ", "nokey") == .null)
        #expect(
            try c.call("OBJECT", "FREQ", "n")
                == .error(
                    "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that "
                        + "when switching between policies at runtime LRU and LFU data will take some time to adjust."
                )
        )
        guard case .array(let help?) = try c.call("OBJECT", "HELP") else {
            Issue.record("OBJECT HELP is not an array")
            return
        }
        #expect(help.count == 15)
        #expect(help.first == .simple("OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"))
        #expect(try c.call("OBJECT") == .error("ERR wrong number of arguments for 'object' command"))
        #expect(
            try c.call("OBJECT", "ENCODING") == .error("ERR wrong number of arguments for 'object|encoding' command")
        )
        #expect(
            try c.call("OBJECT", "Encoding", "k", "x")
                == .error("ERR wrong number of arguments for 'object|encoding' command")
        )
        #expect(try c.call("OBJECT", "HELP", "x") == .error("ERR wrong number of arguments for 'object|help' command"))
        #expect(try c.call("OBJECT", "foo") == .error("ERR unknown subcommand 'foo'. Try OBJECT HELP."))
        #expect(try c.call("OBJECT", "foo", "k") == .error("ERR unknown subcommand 'foo'. Try OBJECT HELP."))
    }

    @Test("RENAME and RENAMENX move the value and its TTL in one step")
    func rename() throws {
        let server = try TestServer()
        let c = try server.client()
        #expect(try c.call("RENAME", "nokey", "b") == .error("ERR no such key"))
        #expect(try c.call("RENAME", "nokey", "nokey") == .error("ERR no such key"))
        #expect(try c.call("RENAMENX", "nokey", "b") == .error("ERR no such key"))
        _ = try c.call("SET", "a", "1")
        #expect(try c.call("RENAME", "a", "a") == .ok)
        #expect(try c.call("RENAMENX", "a", "a") == .integer(0))
        #expect(try c.call("GET", "a") == .bulk("1"))
        _ = try c.call("SET", "b", "2")
        #expect(try c.call("RENAMENX", "a", "b") == .integer(0))
        #expect(try c.call("GET", "b") == .bulk("2"))
        _ = try c.call("EXPIRE", "b", "100")
        _ = try c.call("EXPIRE", "a", "500")
        #expect(try c.call("RENAME", "a", "b") == .ok)
        #expect(try c.call("EXISTS", "a") == .integer(0))
        #expect(try c.call("GET", "b") == .bulk("1"))
        #expect(try c.call("TTL", "b") == .integer(500))
        // No TTL on the source: the destination loses its own.
        _ = try c.call("SET", "x", "plain")
        _ = try c.call("EXPIRE", "b", "100")
        #expect(try c.call("RENAME", "x", "b") == .ok)
        #expect(try c.call("TTL", "b") == .integer(-1))
        #expect(try c.call("RENAMENX", "b", "fresh") == .integer(1))
        #expect(try c.call("GET", "fresh") == .bulk("plain"))
        #expect(try c.call("DBSIZE") == .integer(1))
        #expect(try c.call("RENAME", "a") == .error("ERR wrong number of arguments for 'rename' command"))
        // Binary names.
        #expect(try c.call(bytes: [Array("SET".utf8), [0, 255], Array("bin".utf8)]) == .ok)
        #expect(try c.call(bytes: [Array("RENAME".utf8), [0, 255], [13, 10]]) == .ok)
        #expect(try c.call(bytes: [Array("GET".utf8), [13, 10]]) == .bulk("bin"))
    }

    @Test("COPY copies bytes and TTL, to another database too; DB and REPLACE options")
    func copy() throws {
        let server = try TestServer()
        let c = try server.client()
        _ = try c.call("SET", "b", "1")
        #expect(try c.call("COPY", "b", "b") == .error("ERR source and destination objects are the same"))
        #expect(try c.call("COPY", "b", "b", "DB", "0") == .error("ERR source and destination objects are the same"))
        #expect(try c.call("COPY", "b", "b", "DB", "1") == .integer(1))
        #expect(try c.call("COPY", "b", "c", "DB") == .error("ERR syntax error"))
        #expect(try c.call("COPY", "b", "c", "DB", "x") == .error("ERR value is not an integer or out of range"))
        #expect(try c.call("COPY", "b", "c", "DB", "16") == .error("ERR DB index is out of range"))
        #expect(try c.call("COPY", "b", "c", "DB", "-1") == .error("ERR DB index is out of range"))
        #expect(
            try c.call("COPY", "b", "c", "DB", "4294967296")
                == .error("ERR value is out of range, value must between -2147483648 and 2147483647")
        )
        #expect(try c.call("COPY", "b", "c", "REPLACE", "foo") == .error("ERR syntax error"))
        #expect(try c.call("COPY", "b", "c", "foo", "DB", "x") == .error("ERR syntax error"))
        #expect(try c.call("COPY", "nokey", "c") == .integer(0))
        #expect(try c.call("COPY", "b", "c") == .integer(1))
        _ = try c.call("SET", "b", "2")
        _ = try c.call("EXPIRE", "b", "100")
        #expect(try c.call("COPY", "b", "c") == .integer(0))
        #expect(try c.call("GET", "c") == .bulk("1"))
        #expect(try c.call("COPY", "b", "c", "replace") == .integer(1))
        #expect(try c.call("GET", "c") == .bulk("2"))
        #expect(try c.call("TTL", "c") == .integer(100))
        // The copy is independent of its source.
        _ = try c.call("APPEND", "b", "x")
        #expect(try c.call("GET", "c") == .bulk("2"))
        #expect(try c.call("COPY", "b", "d", "DB", "2", "REPLACE") == .integer(1))
        _ = try c.call("SELECT", "2")
        #expect(try c.call("GET", "d") == .bulk("2x"))
        #expect(try c.call("TTL", "d") == .integer(100))
        _ = try c.call("SELECT", "1")
        #expect(try c.call("GET", "b") == .bulk("1"))
        #expect(try c.call("COPY", "a") == .error("ERR wrong number of arguments for 'copy' command"))
    }

    @Test("MOVE moves a key and its TTL to another database unless it exists there")
    func move() throws {
        let server = try TestServer()
        let c = try server.client()
        _ = try c.call("SET", "k", "v")
        _ = try c.call("EXPIRE", "k", "100")
        #expect(try c.call("MOVE", "k", "0") == .error("ERR source and destination objects are the same"))
        #expect(try c.call("MOVE", "nokey", "0") == .error("ERR source and destination objects are the same"))
        #expect(try c.call("MOVE", "k", "16") == .error("ERR DB index is out of range"))
        #expect(try c.call("MOVE", "k", "-1") == .error("ERR DB index is out of range"))
        #expect(try c.call("MOVE", "k", "x") == .error("ERR value is not an integer or out of range"))
        #expect(
            try c.call("MOVE", "k", "2147483648")
                == .error("ERR value is out of range, value must between -2147483648 and 2147483647")
        )
        #expect(try c.call("MOVE", "nokey", "1") == .integer(0))
        #expect(try c.call("MOVE", "k", "1") == .integer(1))
        #expect(try c.call("EXISTS", "k") == .integer(0))
        #expect(try c.call("DBSIZE") == .integer(0))
        _ = try c.call("SET", "k", "other")
        #expect(try c.call("MOVE", "k", "1") == .integer(0))
        #expect(try c.call("GET", "k") == .bulk("other"))
        _ = try c.call("SELECT", "1")
        #expect(try c.call("GET", "k") == .bulk("v"))
        #expect(try c.call("TTL", "k") == .integer(100))
        #expect(try c.call("DBSIZE") == .integer(1))
        #expect(try c.call("MOVE", "k", "0") == .integer(0))
        #expect(try c.call("MOVE", "k", "2") == .integer(1))
        #expect(try c.call("MOVE", "k") == .error("ERR wrong number of arguments for 'move' command"))
    }

    @Test("SWAPDB exchanges two databases; errors for bad and out-of-range indexes")
    func swapdb() throws {
        let server = try TestServer()
        let c = try server.client()
        let other = try server.client()
        _ = try c.call("SET", "a", "0")
        _ = try other.call("SELECT", "1")
        _ = try other.call("SET", "b", "1")
        #expect(try c.call("SWAPDB", "0", "1") == .ok)
        #expect(try c.call("GET", "b") == .bulk("1"))
        #expect(try c.call("EXISTS", "a") == .integer(0))
        #expect(try other.call("GET", "a") == .bulk("0"))
        #expect(try c.call("SWAPDB", "0", "0") == .ok)
        #expect(try c.call("GET", "b") == .bulk("1"))
        #expect(try c.call("SWAPDB", "x", "1") == .error("ERR invalid first DB index"))
        #expect(try c.call("SWAPDB", "0", "x") == .error("ERR invalid second DB index"))
        #expect(try c.call("SWAPDB", "99999999999", "x") == .error("ERR invalid first DB index"))
        #expect(try c.call("SWAPDB", "0", "16") == .error("ERR DB index is out of range"))
        #expect(try c.call("SWAPDB", "-1", "0") == .error("ERR DB index is out of range"))
        #expect(try c.call("SWAPDB", "0") == .error("ERR wrong number of arguments for 'swapdb' command"))
        // A watched key in a swapped database fails the EXEC.
        _ = try c.call("WATCH", "b")
        #expect(try other.call("SWAPDB", "0", "1") == .ok)
        _ = try c.call("MULTI")
        _ = try c.call("GET", "b")
        #expect(try c.call("EXEC") == .array(nil))
        // Inside MULTI it runs with the rest of the transaction.
        _ = try c.call("MULTI")
        _ = try c.call("SET", "m", "1")
        _ = try c.call("SWAPDB", "0", "3")
        _ = try c.call("EXISTS", "m")
        #expect(try c.call("EXEC") == .array([.ok, .ok, .integer(0)]))
        _ = try c.call("SELECT", "3")
        #expect(try c.call("GET", "m") == .bulk("1"))
    }

    @Test("KEYS: glob patterns on bytes, expired keys hidden")
    func keys() throws {
        let server = try TestServer()
        let c = try server.client()
        for key in ["hello", "hallo", "hxllo", "hllo", "heeeello", "a*b", "a?b", "[x]", "h\\llo"] {
            _ = try c.call("SET", key, "v")
        }
        let matches: [(String, [String])] = [
            ("h?llo", ["h\\llo", "hallo", "hello", "hxllo"]),
            ("h*llo", ["h\\llo", "hallo", "heeeello", "hello", "hllo", "hxllo"]),
            ("h[ae]llo", ["hallo", "hello"]),
            ("h[^e]llo", ["h\\llo", "hallo", "hxllo"]),
            ("h[a-b]llo", ["hallo"]),
            ("h[b-a]llo", ["hallo"]),
            ("a\\*b", ["a*b"]),
            ("a\\?b", ["a?b"]),
            ("\\[x\\]", ["[x]"]),
            ("[[]x]", ["[x]"]),
            ("h\\\\llo", ["h\\llo"]),
            ("nothing*", []),
            ("h[a", []),
        ]
        for (pattern, expected) in matches {
            #expect(KeyspaceCommandTests.keys(try c.call("KEYS", pattern)) == expected, "\(pattern)")
        }
        #expect(KeyspaceCommandTests.keys(try c.call("KEYS", "*")).count == 9)
        _ = try c.call("PEXPIRE", "hello", "1")
        Thread.sleep(forTimeInterval: 0.01)
        #expect(KeyspaceCommandTests.keys(try c.call("KEYS", "h?llo")) == ["h\\llo", "hallo", "hxllo"])
        #expect(try c.call("KEYS") == .error("ERR wrong number of arguments for 'keys' command"))
        // Binary keys and patterns.
        _ = try c.call(bytes: [Array("SET".utf8), [0, 200, 10], Array("v".utf8)])
        #expect(try c.call(bytes: [Array("KEYS".utf8), [0, 63, 10]]) == .array([.bulk([0, 200, 10])]))
    }

    @Test("SCAN: a whole iteration returns every key; MATCH, COUNT, TYPE; cursor and option errors")
    func scan() throws {
        let server = try TestServer()
        let c = try server.client()
        for i in 0..<500 {
            _ = try c.call("SET", "key:\(i)", "v")
        }
        var cursor = "0"
        var seen: [String] = []
        var calls = 0
        repeat {
            guard let step = KeyspaceCommandTests.scan(try c.call("SCAN", cursor, "COUNT", "20")) else {
                Issue.record("SCAN reply is not [cursor, keys]")
                return
            }
            if step.cursor != "0" { #expect(step.keys.count >= 20) }
            seen += step.keys
            cursor = step.cursor
            calls += 1
            // Keys written meanwhile do not hide the others.
            _ = try c.call("SET", "new:\(calls)", "v")
        } while cursor != "0"
        #expect(Set(seen).isSuperset(of: (0..<500).map { "key:\($0)" }))
        #expect(calls >= 500 / 20)
        let all = KeyspaceCommandTests.scan(try c.call("SCAN", "0", "COUNT", "100000"))
        #expect(all?.cursor == "0")
        #expect(all?.keys.count == 500 + calls)
        let matched = KeyspaceCommandTests.scan(try c.call("SCAN", "0", "MATCH", "key:1?", "COUNT", "100000"))
        #expect(matched?.keys == (10..<20).map { "key:\($0)" })
        let typed = KeyspaceCommandTests.scan(try c.call("SCAN", "0", "TYPE", "STRING", "COUNT", "100000"))
        #expect(typed?.keys.count == 500 + calls)
        let none = KeyspaceCommandTests.scan(try c.call("SCAN", "0", "type", "hash", "COUNT", "100000"))
        #expect(none?.keys == [])
        // Redis reads the cursor with strtoul: empty, signs and leading zeros pass.
        #expect(KeyspaceCommandTests.scan(try c.call("SCAN", "", "COUNT", "100000"))?.keys.count == 500 + calls)
        #expect(KeyspaceCommandTests.scan(try c.call("SCAN", "+0", "COUNT", "100000"))?.keys.count == 500 + calls)
        #expect(try c.call("SCAN", "18446744073709551615") != .error("ERR invalid cursor"))
        for bad in ["x", " 0", "-", "+", "0x10", "18446744073709551616", "1 "] {
            #expect(try c.call("SCAN", bad) == .error("ERR invalid cursor"), "\(bad)")
        }
        #expect(try c.call("SCAN", "x", "COUNT", "0") == .error("ERR invalid cursor"))
        #expect(try c.call("SCAN", "0", "COUNT", "0") == .error("ERR syntax error"))
        #expect(try c.call("SCAN", "0", "COUNT", "-1") == .error("ERR syntax error"))
        #expect(try c.call("SCAN", "0", "COUNT", "x") == .error("ERR value is not an integer or out of range"))
        #expect(try c.call("SCAN", "0", "MATCH") == .error("ERR syntax error"))
        #expect(try c.call("SCAN", "0", "foo", "bar") == .error("ERR syntax error"))
        #expect(try c.call("SCAN") == .error("ERR wrong number of arguments for 'scan' command"))
    }

    @Test("RANDOMKEY: null when empty, else a live key")
    func randomKey() throws {
        let server = try TestServer()
        let c = try server.client()
        #expect(try c.call("RANDOMKEY") == .null)
        _ = try c.call("MSET", "a", "1", "b", "2", "c", "3")
        var seen = Set<String>()
        for _ in 0..<200 {
            guard case .bulk(let bytes?) = try c.call("RANDOMKEY") else {
                Issue.record("RANDOMKEY gave no key")
                return
            }
            seen.insert(String(decoding: bytes, as: UTF8.self))
        }
        #expect(seen == ["a", "b", "c"])
        _ = try c.call("DEL", "a", "b", "c")
        #expect(try c.call("RANDOMKEY") == .null)
        #expect(try c.call("RANDOMKEY", "x") == .error("ERR wrong number of arguments for 'randomkey' command"))
    }

    @Test("inside MULTI: RENAME, COPY, MOVE, KEYS, SCAN and RANDOMKEY see the transaction's own writes")
    func insideMulti() throws {
        let server = try TestServer()
        let c = try server.client()
        _ = try c.call("SET", "old", "x")
        _ = try c.call("MULTI")
        let queued: [[String]] = [
            ["SET", "a", "1"], ["RENAME", "a", "b"], ["GET", "a"], ["GET", "b"], ["RENAME", "b", "a"],
            ["COPY", "a", "c"], ["MOVE", "c", "1"], ["DEL", "old"], ["KEYS", "*"], ["SCAN", "0", "COUNT", "1000"],
            ["SELECT", "1"], ["RANDOMKEY"], ["SELECT", "0"], ["RENAME", "nokey", "x"],
        ]
        for command in queued {
            #expect(try c.call(bytes: command.map { Array($0.utf8) }) == .simple("QUEUED"))
        }
        let expected: [Reply] = [
            .ok, .ok, .null, .bulk("1"), .ok, .integer(1), .integer(1), .integer(1), .array([.bulk("a")]),
            .array([.bulk("0"), .array([.bulk("a")])]), .ok, .bulk("c"), .ok, .error("ERR no such key"),
        ]
        #expect(try c.call("EXEC") == .array(expected))
        #expect(KeyspaceCommandTests.keys(try c.call("KEYS", "*")) == ["a"])
        _ = try c.call("SELECT", "1")
        #expect(try c.call("GET", "c") == .bulk("1"))
    }

    @Test("RENAMENX, MOVE and COPY from many connections at once: each token exists exactly once")
    func concurrentMoves() throws {
        let server = try TestServer(ioThreads: 4)
        let setup = try server.client()
        // Four tokens move among eight names in databases 0 and 1; a name holds at most one token at a time.
        for token in 0..<4 {
            _ = try setup.call("SET", "slot:\(token)", "token:\(token)")
        }
        let names = (0..<8).map { "slot:\($0)" }
        let failures = Atomic<Int>(0)
        let moved = Atomic<Int>(0)
        runOnThreads(16) { index in
            do {
                let c = try server.client()
                var random = SystemRandomNumberGenerator()
                for round in 0..<150 {
                    let from = names.randomElement(using: &random)!
                    let to = names.randomElement(using: &random)!
                    let database = Int.random(in: 0...1, using: &random)
                    _ = try c.call("SELECT", "\(database)")
                    let reply: Reply
                    switch (index + round) % 4 {
                    case 0: reply = try c.call("RENAMENX", from, to)
                    case 1: reply = try c.call("MOVE", from, "\(1 - database)")
                    case 2:
                        _ = try c.call("MULTI")
                        _ = try c.call("RENAMENX", from, to)
                        _ = try c.call("MOVE", to, "\(1 - database)")
                        reply = try c.call("EXEC")
                    default:
                        // Copies go to names outside the ring: they never add or remove a token.
                        reply = try c.call("COPY", from, "copy:\(index)", "DB", "\(1 - database)", "REPLACE")
                    }
                    switch reply {
                    case .integer(1): moved.add(1, ordering: .relaxed)
                    case .integer(0), .array: break
                    case .error(let text) where text == "ERR no such key": break
                    default: failures.add(1, ordering: .relaxed)
                    }
                }
            } catch {
                failures.add(1, ordering: .relaxed)
            }
        }
        #expect(moved.load(ordering: .relaxed) > 0)
        var found: [String] = []
        for database in 0...1 {
            _ = try setup.call("SELECT", "\(database)")
            for name in names {
                if case .bulk(let bytes?) = try setup.call("GET", name) {
                    found.append(String(decoding: bytes, as: UTF8.self))
                }
            }
            for index in 0..<16 {
                if case .bulk(let bytes?) = try setup.call("GET", "copy:\(index)") {
                    #expect(String(decoding: bytes, as: UTF8.self).hasPrefix("token:"))
                }
            }
        }
        // MOVE and RENAMENX never overwrite, so no token is lost or doubled.
        #expect(failures.load(ordering: .relaxed) == 0)
        #expect(found.sorted() == (0..<4).map { "token:\($0)" })
    }

    @Test("commands declare Redis's arity")
    func specs() throws {
        let server = try TestServer()
        let c = try server.client()
        // Arity: the name alone is too few for every command below except RANDOMKEY.
        for name in ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT", "RENAME", "RENAMENX", "COPY", "MOVE", "SWAPDB"] {
            #expect(
                try c.call(name, "k") == .error("ERR wrong number of arguments for '\(name.lowercased())' command")
            )
        }
        for name in ["EXPIRETIME", "PEXPIRETIME", "PERSIST", "TOUCH", "TYPE", "OBJECT", "KEYS", "SCAN"] {
            #expect(try c.call(name) == .error("ERR wrong number of arguments for '\(name.lowercased())' command"))
        }
    }
}
