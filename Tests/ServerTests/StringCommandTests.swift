import Foundation
import Testing

/// SETEX, PSETEX, GETSET, GETEX, MSETNX, GETRANGE, SUBSTR, SETRANGE, INCRBYFLOAT (and SET's repeated options),
/// each reply and error text as Redis 7.0.15 gives it: the expected values were taken from a real redis-server.
@Suite("String commands over loopback")
struct StringCommandTests {
    @Test("SETEX and PSETEX set a value with a TTL; a time <= 0 or one that overflows is an invalid expire time")
    func setexAndPsetex() throws {
        let server = try TestServer()
        let c = try server.client()
        #expect(try c.call("SETEX", "k", "100", "v") == .ok)
        #expect(try c.call("GET", "k") == .bulk("v"))
        #expect(try c.call("TTL", "k") == .integer(100))
        #expect(try c.call("setex", "k", "0", "w") == .error("ERR invalid expire time in 'setex' command"))
        #expect(try c.call("SETEX", "k", "-5", "w") == .error("ERR invalid expire time in 'setex' command"))
        #expect(
            try c.call("SETEX", "k", "9223372036854775", "w") == .error("ERR invalid expire time in 'setex' command")
        )
        #expect(
            try c.call("SETEX", "k", "9223372036854775807", "w")
                == .error("ERR invalid expire time in 'setex' command")
        )
        #expect(try c.call("SETEX", "k", "abc", "w") == .error("ERR value is not an integer or out of range"))
        #expect(try c.call("SETEX", "k", "1.5", "w") == .error("ERR value is not an integer or out of range"))
        #expect(try c.call("SETEX", "k", "100") == .error("ERR wrong number of arguments for 'setex' command"))
        #expect(
            try c.call("SETEX", "k", "100", "v", "x") == .error("ERR wrong number of arguments for 'setex' command")
        )
        #expect(try c.call("GET", "k") == .bulk("v"))

        #expect(try c.call("PSETEX", "p", "100000", "v") == .ok)
        #expect(try c.call("TTL", "p") == .integer(100))
        #expect(try c.call("PSETEX", "p", "0", "v") == .error("ERR invalid expire time in 'psetex' command"))
        #expect(try c.call("PSETEX", "p", "-1", "v") == .error("ERR invalid expire time in 'psetex' command"))
        #expect(
            try c.call("PSETEX", "p", "9223372036854775807", "v")
                == .error("ERR invalid expire time in 'psetex' command")
        )
        #expect(try c.call("PSETEX", "p", "x", "v") == .error("ERR value is not an integer or out of range"))
        #expect(
            try c.call("PSETEX", "p", "1", "v", "2") == .error("ERR wrong number of arguments for 'psetex' command")
        )

        // A SETEX over a key with a TTL replaces it; a plain SET removes it.
        #expect(try c.call("SETEX", "k", "50", "w") == .ok)
        #expect(try c.call("TTL", "k") == .integer(50))
        #expect(try c.call("SET", "k", "x") == .ok)
        #expect(try c.call("TTL", "k") == .integer(-1))
    }

    @Test("GETSET returns the old value (or nil), stores the new one and clears the TTL")
    func getset() throws {
        let server = try TestServer()
        let c = try server.client()
        #expect(try c.call("GETSET", "g", "1") == .null)
        #expect(try c.call("GETSET", "g", "2") == .bulk("1"))
        #expect(try c.call("GET", "g") == .bulk("2"))
        #expect(try c.call("SETEX", "t", "100", "v") == .ok)
        #expect(try c.call("GETSET", "t", "w") == .bulk("v"))
        #expect(try c.call("TTL", "t") == .integer(-1))
        #expect(try c.call("GETSET", "g") == .error("ERR wrong number of arguments for 'getset' command"))
    }

    @Test("GETEX: EX, PX, EXAT, PXAT, PERSIST; option and expire errors in Redis's order")
    func getex() throws {
        let server = try TestServer()
        let c = try server.client()
        #expect(try c.call("SET", "e", "v") == .ok)
        #expect(try c.call("GETEX", "e") == .bulk("v"))
        #expect(try c.call("TTL", "e") == .integer(-1))
        #expect(try c.call("GETEX", "nosuch") == .null)
        #expect(try c.call("GETEX", "e", "EX", "100") == .bulk("v"))
        #expect(try c.call("TTL", "e") == .integer(100))
        #expect(try c.call("GETEX", "e", "PERSIST") == .bulk("v"))
        #expect(try c.call("TTL", "e") == .integer(-1))
        #expect(try c.call("GETEX", "e", "px", "200000") == .bulk("v"))
        #expect(try c.call("TTL", "e") == .integer(200))
        let at = Int(Date().timeIntervalSince1970) + 1000
        #expect(try c.call("GETEX", "e", "EXAT", String(at)) == .bulk("v"))
        guard case .integer(let left) = try c.call("TTL", "e") else {
            Issue.record("TTL is not an integer")
            return
        }
        #expect(left >= 998 && left <= 1000)
        #expect(try c.call("GETEX", "e", "PXAT", String(at * 1000 + 500_000)) == .bulk("v"))
        guard case .integer(let later) = try c.call("TTL", "e") else {
            Issue.record("TTL is not an integer")
            return
        }
        #expect(later >= 1498 && later <= 1500)
        // The last of repeated options wins; PERSIST may repeat.
        #expect(try c.call("GETEX", "e", "EX", "10", "EX", "20") == .bulk("v"))
        #expect(try c.call("TTL", "e") == .integer(20))
        #expect(try c.call("GETEX", "e", "PERSIST", "PERSIST") == .bulk("v"))
        #expect(try c.call("TTL", "e") == .integer(-1))

        let invalid = Reply.error("ERR invalid expire time in 'getex' command")
        let notInteger = Reply.error("ERR value is not an integer or out of range")
        #expect(try c.call("GETEX", "e", "EX", "0") == invalid)
        #expect(try c.call("GETEX", "e", "EX", "-1") == invalid)
        #expect(try c.call("GETEX", "e", "PX", "0") == invalid)
        #expect(try c.call("GETEX", "e", "EXAT", "0") == invalid)
        #expect(try c.call("GETEX", "e", "PXAT", "-3") == invalid)
        #expect(try c.call("GETEX", "e", "EX", "9223372036854775") == invalid)
        #expect(try c.call("GETEX", "e", "PX", "9223372036854775807") == invalid)
        #expect(try c.call("GETEX", "e", "EXAT", "9223372036854776") == invalid)
        #expect(try c.call("GETEX", "e", "EX", "abc") == notInteger)
        #expect(try c.call("GETEX", "e", "EX", "abc", "EX", "5") == .bulk("v"))
        #expect(try c.call("GETEX", "e", "EX", "5", "EX", "abc") == notInteger)
        #expect(try c.call("GETEX", "e", "PERSIST") == .bulk("v"))
        for options in [
            ["EX", "10", "PX", "10"], ["EX", "10", "PERSIST"], ["PERSIST", "EX", "10"], ["EX"], ["KEEPTTL"],
            ["NX"], ["GET"], ["EX", "abc", "NX"],
        ] {
            let reply = try c.call(bytes: (["GETEX", "e"] + options).map { Array($0.utf8) })
            #expect(reply == .error("ERR syntax error"), "GETEX e \(options)")
        }
        #expect(try c.call("TTL", "e") == .integer(-1))
        // A missing key answers nil before the expire time is looked at, but not before a syntax error.
        #expect(try c.call("GETEX", "nosuch", "EX", "0") == .null)
        #expect(try c.call("GETEX", "nosuch", "EX", "abc") == .null)
        #expect(try c.call("GETEX", "nosuch", "BOGUS") == .error("ERR syntax error"))
        // An absolute time not in the future answers the value and deletes the key.
        #expect(try c.call("GETEX", "e", "EXAT", "1") == .bulk("v"))
        #expect(try c.call("EXISTS", "e") == .integer(0))
        #expect(try c.call("SET", "e2", "w") == .ok)
        #expect(try c.call("GETEX", "e2", "PXAT", "1000") == .bulk("w"))
        #expect(try c.call("EXISTS", "e2") == .integer(0))
        #expect(try c.call("GETEX") == .error("ERR wrong number of arguments for 'getex' command"))
    }

    @Test("MSETNX sets every key or none; an even argument count is a wrong number of arguments")
    func msetnx() throws {
        let server = try TestServer()
        let c = try server.client()
        #expect(try c.call("MSETNX", "a", "1", "b", "2") == .integer(1))
        #expect(try c.call("MGET", "a", "b") == .array([.bulk("1"), .bulk("2")]))
        #expect(try c.call("MSETNX", "a", "9", "c", "3") == .integer(0))
        #expect(try c.call("MGET", "a", "b", "c") == .array([.bulk("1"), .bulk("2"), .null]))
        #expect(try c.call("MSETNX", "c", "3", "c", "4") == .integer(1))
        #expect(try c.call("GET", "c") == .bulk("4"))
        #expect(try c.call("MSETNX", "d") == .error("ERR wrong number of arguments for 'msetnx' command"))
        #expect(try c.call("MSETNX", "d", "1", "e") == .error("ERR wrong number of arguments for 'msetnx' command"))
        #expect(try c.call("MSETNX") == .error("ERR wrong number of arguments for 'msetnx' command"))
        #expect(try c.call("EXISTS", "d", "e") == .integer(0))
        // An expired key counts as missing.
        #expect(try c.call("PSETEX", "gone", "1", "x") == .ok)
        Thread.sleep(forTimeInterval: 0.01)
        #expect(try c.call("MSETNX", "gone", "y", "f", "z") == .integer(1))
        #expect(try c.call("MGET", "gone", "f") == .array([.bulk("y"), .bulk("z")]))
        #expect(try c.call("TTL", "gone") == .integer(-1))
    }

    @Test("GETRANGE and SUBSTR follow Redis 7's index rules")
    func getrange() throws {
        let server = try TestServer()
        let c = try server.client()
        #expect(try c.call("MSET", "s", "This is a string", "e", "", "n", "12345") == .ok)
        let cases: [(String, Int64, Int64, String)] = [
            ("s", 0, 3, "This"),
            ("s", -3, -1, "ing"),
            ("s", 0, -1, "This is a string"),
            ("s", 10, 100, "string"),
            ("s", 5, 3, ""),
            ("s", -1, -5, ""),
            ("s", -5, -1, "tring"),
            ("s", -100, -1, "This is a string"),
            ("s", -100, -99, "T"),
            ("s", -100, 5, "This i"),
            ("s", 0, -100, "T"),
            ("s", 3, -100, ""),
            ("s", 100, 200, ""),
            ("s", -1, -1, "g"),
            ("s", 15, 15, "g"),
            ("s", 16, 16, ""),
            ("s", 0, 0, "T"),
            ("s", -16, -16, "T"),
            ("s", -17, -17, "T"),
            ("s", -17, 0, "T"),
            ("s", -9_223_372_036_854_775_808, 9_223_372_036_854_775_807, "This is a string"),
            ("s", 9_223_372_036_854_775_807, -9_223_372_036_854_775_808, ""),
            ("s", -9_223_372_036_854_775_808, -9_223_372_036_854_775_808, "T"),
            ("e", 0, -1, ""),
            ("e", 0, 0, ""),
            ("e", -1, 0, ""),
            ("n", 1, -2, "234"),
            ("missing", 0, -1, ""),
        ]
        for (key, start, end, expected) in cases {
            let shown = "\(key) \(start) \(end)"
            #expect(try c.call("GETRANGE", key, String(start), String(end)) == .bulk(expected), "\(shown)")
            #expect(try c.call("SUBSTR", key, String(start), String(end)) == .bulk(expected), "\(shown)")
        }
        let notInteger = Reply.error("ERR value is not an integer or out of range")
        #expect(try c.call("GETRANGE", "s", "a", "1") == notInteger)
        #expect(try c.call("GETRANGE", "s", "1", "b") == notInteger)
        #expect(try c.call("GETRANGE", "s", "0", "9223372036854775808") == notInteger)
        #expect(try c.call("GETRANGE", "missing", "a", "1") == notInteger)
        #expect(try c.call("SUBSTR", "s", "x", "1") == notInteger)
        #expect(try c.call("GETRANGE", "s", "0") == .error("ERR wrong number of arguments for 'getrange' command"))
        #expect(try c.call("SUBSTR", "s", "0") == .error("ERR wrong number of arguments for 'substr' command"))
        let binary: [UInt8] = [0, 255, 13, 10, 7]
        #expect(try c.call(bytes: [Array("SET".utf8), Array("b".utf8), binary]) == .ok)
        #expect(try c.call("GETRANGE", "b", "1", "3") == .bulk([255, 13, 10]))
    }

    @Test("SETRANGE pads with zeros, keeps the TTL, and checks the offset and the 512 MB limit first")
    func setrange() throws {
        let server = try TestServer()
        let c = try server.client()
        #expect(try c.call("SETRANGE", "r", "5", "hello") == .integer(10))
        #expect(try c.call("GET", "r") == .bulk([0, 0, 0, 0, 0] + Array("hello".utf8)))
        #expect(try c.call("SETRANGE", "r", "0", "HE") == .integer(10))
        #expect(try c.call("SETRANGE", "r", "8", "WORLD") == .integer(13))
        #expect(try c.call("GET", "r") == .bulk(Array("HE".utf8) + [0, 0, 0] + Array("helWORLD".utf8)))
        #expect(try c.call("SETRANGE", "r", "2", "") == .integer(13))
        #expect(try c.call("SETRANGE", "r", "2000000000", "") == .integer(13))
        #expect(try c.call("SETRANGE", "r", "-1", "") == .error("ERR offset is out of range"))
        #expect(try c.call("SETRANGE", "r", "-1", "x") == .error("ERR offset is out of range"))
        #expect(try c.call("SETRANGE", "r", "abc", "x") == .error("ERR value is not an integer or out of range"))
        // An empty value on a missing key answers 0 and creates nothing.
        #expect(try c.call("SETRANGE", "none", "0", "") == .integer(0))
        #expect(try c.call("SETRANGE", "none", "100", "") == .integer(0))
        #expect(try c.call("EXISTS", "none") == .integer(0))
        let tooLong = Reply.error("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
        #expect(try c.call("SETRANGE", "none", "536870912", "x") == tooLong)
        #expect(try c.call("SETRANGE", "none", "536870911", "xx") == tooLong)
        #expect(try c.call("SETRANGE", "none", "9223372036854775807", "x") == tooLong)
        #expect(try c.call("SETRANGE", "r", "536870912", "x") == tooLong)
        #expect(try c.call("SETRANGE", "r", "9223372036854775807", "x") == tooLong)
        #expect(try c.call("EXISTS", "none") == .integer(0))
        #expect(try c.call("STRLEN", "r") == .integer(13))
        // A long zero gap.
        #expect(try c.call("SETRANGE", "wide", "1048576", "end") == .integer(1_048_579))
        #expect(try c.call("GETRANGE", "wide", "1048570", "-1") == .bulk([0, 0, 0, 0, 0, 0] + Array("end".utf8)))
        #expect(try c.call("SETEX", "t", "100", "abc") == .ok)
        #expect(try c.call("SETRANGE", "t", "1", "X") == .integer(3))
        #expect(try c.call("GET", "t") == .bulk("aXc"))
        #expect(try c.call("TTL", "t") == .integer(100))
        #expect(try c.call("SETRANGE", "r", "1") == .error("ERR wrong number of arguments for 'setrange' command"))
    }

    /// (stored value or nil for a missing key, increment, reply), each reply from redis-server 7.0.15 on x86-64.
    static let floatCases: [(String?, String, Reply)] = [
        ("10.5", "0.1", .bulk("10.6")),
        ("5.0e3", "2.0e2", .bulk("5200")),
        ("3", "1.1", .bulk("4.1")),
        (nil, "1", .bulk("1")),
        (nil, "0.1", .bulk("0.1")),
        (nil, "-0.1", .bulk("-0.1")),
        ("10.6", "-5.0e3", .bulk("-4989.39999999999999991")),
        ("0.1", "0.2", .bulk("0.3")),
        ("0.3", "0.3", .bulk("0.6")),
        ("1", "-1", .bulk("0")),
        (nil, "-0", .bulk("0")),
        (nil, "-0.0", .bulk("0")),
        ("-0", "0", .bulk("0")),
        ("0", "-0", .bulk("0")),
        ("1", "-1e-20", .bulk("1")),
        (nil, "1e-17", .bulk("0.00000000000000001")),
        (nil, "1e-18", .bulk("0")),
        (nil, "5e-18", .bulk("0")),
        (nil, "4.9e-18", .bulk("0")),
        (nil, "-5e-18", .bulk("0")),
        (nil, "-4e-18", .bulk("0")),
        (nil, "1e30", .bulk("1000000000000000000024696061952")),
        (nil, "1e-30", .bulk("0")),
        (nil, "123.456", .bulk("123.456")),
        ("123.456", "-123.456", .bulk("0")),
        (nil, "3.14159265358979323846264338327950288", .bulk("3.14159265358979324")),
        (nil, "2.718281828459045", .bulk("2.718281828459045")),
        ("2.718281828459045", "2.718281828459045", .bulk("5.43656365691809")),
        (nil, "99999999999999999999", .bulk("100000000000000000000")),
        (nil, "9.99999999999999999e18", .bulk("9999999999999999990")),
        (nil, "1.1e1", .bulk("11")),
        (nil, "-1.1e-1", .bulk("-0.11")),
        (nil, "0x10", .bulk("16")),
        ("16", "0x1p-3", .bulk("16.125")),
        (nil, "0x1.8p1", .bulk("3")),
        (nil, "+1.5", .bulk("1.5")),
        (nil, ".5", .bulk("0.5")),
        (nil, "5.", .bulk("5")),
        (nil, "1e+2", .bulk("100")),
        (nil, "1E2", .bulk("100")),
        (nil, "00012", .bulk("12")),
        (nil, "-00012.50", .bulk("-12.5")),
        ("9223372036854775807", "1", .bulk("9223372036854775808")),
        ("9223372036854775807", "0.5", .bulk("9223372036854775807.5")),
        ("-9223372036854775808", "-1", .bulk("-9223372036854775809")),
        ("18446744073709551615", "1", .bulk("18446744073709551616")),
        ("123456789012345678901234567890", "0", .bulk("123456789012345678899921813504")),
        ("1.23456789012345678901234567890", "0", .bulk("1.23456789012345679")),
        ("3.0000000000000000001", "0", .bulk("3")),
        (nil, "1e-4940", .bulk("0")),
        (nil, "3.6e-4951", .bulk("0")),
        (nil, "1e-4950", .bulk("0")),
        ("1.5", "-1.5", .bulk("0")),
        ("-1.5", "1.5", .bulk("0")),
        ("1e10", "1e-10", .bulk("10000000000")),
        ("7", "-7.000000000000000001", .bulk("0")),
        ("1000000", "0.000001", .bulk("1000000.00000099999999748")),
        (nil, "0.1234567890123456789", .bulk("0.12345678901234568")),
        ("-2.5", "-2.5", .bulk("-5")),
        ("1e20", "1", .bulk("100000000000000000000")),
        ("1e21", "1", .bulk("1000000000000000000000")),
        ("1e17", "0.5", .bulk("100000000000000000.5")),
        ("1e18", "0.25", .bulk("1000000000000000000.25")),
        ("2e-17", "-1e-17", .bulk("0.00000000000000001")),
        (nil, "1e5000", .error("ERR value is not a valid float")),
        (nil, "-1e5000", .error("ERR value is not a valid float")),
        (nil, "1e-5000", .error("ERR value is not a valid float")),
        (nil, "inf", .error("ERR increment would produce NaN or Infinity")),
        (nil, "-inf", .error("ERR increment would produce NaN or Infinity")),
        (nil, "+inf", .error("ERR increment would produce NaN or Infinity")),
        (nil, "infinity", .error("ERR increment would produce NaN or Infinity")),
        (nil, "nan", .error("ERR value is not a valid float")),
        (nil, "NaN", .error("ERR value is not a valid float")),
        (nil, "-nan", .error("ERR value is not a valid float")),
        (nil, "abc", .error("ERR value is not a valid float")),
        (nil, " 1", .error("ERR value is not a valid float")),
        (nil, "1 ", .error("ERR value is not a valid float")),
        (nil, "", .error("ERR value is not a valid float")),
        (nil, "1.5e", .error("ERR value is not a valid float")),
        (nil, ".", .error("ERR value is not a valid float")),
        (nil, "1_000", .error("ERR value is not a valid float")),
        (nil, "1,5", .error("ERR value is not a valid float")),
        (nil, "\t1", .error("ERR value is not a valid float")),
        (nil, "\n1", .error("ERR value is not a valid float")),
        (nil, "1\n", .error("ERR value is not a valid float")),
        (nil, "1\u{0}2", .error("ERR value is not a valid float")),
        (nil, "--1", .error("ERR value is not a valid float")),
        (nil, "0x", .error("ERR value is not a valid float")),
        ("hello", "1", .error("ERR value is not a valid float")),
        (" 1", "1", .error("ERR value is not a valid float")),
        ("1 ", "1", .error("ERR value is not a valid float")),
        ("inf", "1", .error("ERR increment would produce NaN or Infinity")),
        ("-inf", "0", .error("ERR increment would produce NaN or Infinity")),
        ("nan", "1", .error("ERR value is not a valid float")),
        ("1e4932", "1e4932", .error("ERR increment would produce NaN or Infinity")),
        ("", "1", .error("ERR value is not a valid float")),
        ("1e-5000", "1", .error("ERR value is not a valid float")),
    ]

    @Test("INCRBYFLOAT: long double arithmetic and formatting, byte for byte as Redis")
    func incrbyfloat() throws {
        let server = try TestServer()
        let c = try server.client()
        for (stored, increment, expected) in StringCommandTests.floatCases {
            _ = try c.call("DEL", "f")
            if let stored { #expect(try c.call("SET", "f", stored) == .ok) }
            let reply = try c.call("INCRBYFLOAT", "f", increment)
            #expect(reply == expected, "\(stored ?? "(missing)") + \(increment)")
            // A result is what is stored; an error leaves the key as it was.
            let after = try c.call("GET", "f")
            if case .bulk = expected {
                #expect(after == expected)
            } else {
                #expect(after == (stored.map { Reply.bulk($0) } ?? .null))
            }
        }
    }

    @Test("INCRBYFLOAT: huge results are written out in full, sums accumulate, the TTL stays")
    func incrbyfloatLongResultsAndTTL() throws {
        let server = try TestServer()
        let c = try server.client()
        let long: [(String?, String, Int, String, String)] = [
            (
                nil, "1.7976931348623157e308", 309, "1797693134862315699959210467741044340483",
                "159985926376802466863339536384"
            ),
            ("1e400", "1", 401, "1000000000000000000028188068394758651458", "309734806343732497430221946880"),
            (nil, "1e4932", 4933, "1000000000000000000006018949387963891323", "163141086538418113791886622720"),
            (
                nil, "-1.18973149535723176502e+4932", 4934, "-118973149535723176502126385303097020516",
                "444156604419552086811989770240"
            ),
        ]
        for (stored, increment, count, prefix, suffix) in long {
            _ = try c.call("DEL", "f")
            if let stored { _ = try c.call("SET", "f", stored) }
            guard case .bulk(let bytes?) = try c.call("INCRBYFLOAT", "f", increment) else {
                Issue.record("INCRBYFLOAT \(increment) is not a bulk string")
                continue
            }
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(text.count == count && text.hasPrefix(prefix) && text.hasSuffix(suffix), "\(increment)")
        }
        #expect(try c.call("INCRBYFLOAT", "f", "-1e4932") == .error("ERR increment would produce NaN or Infinity"))

        #expect(try c.call("SET", "acc", "10.5") == .ok)
        #expect(try c.call("INCRBYFLOAT", "acc", "0.1") == .bulk("10.6"))
        #expect(try c.call("INCRBYFLOAT", "acc", "-5.0e3") == .bulk("-4989.39999999999999991"))
        #expect(try c.call("INCRBYFLOAT", "acc", "5000") == .bulk("10.60000000000000009"))
        #expect(try c.call("INCRBYFLOAT", "sum", "0.1") == .bulk("0.1"))
        #expect(try c.call("INCRBYFLOAT", "sum", "0.2") == .bulk("0.3"))
        #expect(try c.call("INCRBYFLOAT", "sum", "0.3") == .bulk("0.6"))
        #expect(try c.call("INCRBYFLOAT", "sum", "1e-17") == .bulk("0.60000000000000001"))
        #expect(try c.call("INCRBYFLOAT", "sum", "-0.6") == .bulk("0.00000000000000001"))

        #expect(try c.call("SETEX", "ft", "100", "1.5") == .ok)
        #expect(try c.call("INCRBYFLOAT", "ft", "1") == .bulk("2.5"))
        #expect(try c.call("TTL", "ft") == .integer(100))
        #expect(try c.call("INCRBYFLOAT", "ft") == .error("ERR wrong number of arguments for 'incrbyfloat' command"))
        #expect(
            try c.call("INCRBYFLOAT", "ft", "1", "2")
                == .error("ERR wrong number of arguments for 'incrbyfloat' command")
        )
        // Redis's limit on a number's length: 5119 characters parse, 5120 do not.
        let notFloat = Reply.error("ERR value is not a valid float")
        #expect(try c.call("INCRBYFLOAT", "n", String(repeating: "0", count: 5118) + "1") == .bulk("1"))
        #expect(try c.call("INCRBYFLOAT", "n", String(repeating: "0", count: 5119) + "1") == notFloat)
        #expect(try c.call("INCRBYFLOAT", "n", String(repeating: "1", count: 5000)) == notFloat)  // above LDBL_MAX
        _ = try c.call("DEL", "n")
        #expect(try c.call("INCRBYFLOAT", "n", "0." + String(repeating: "0", count: 5117)) == .bulk("0"))
        #expect(try c.call("INCRBYFLOAT", "n", "0." + String(repeating: "0", count: 5118)) == notFloat)
    }

    @Test("SET accepts a repeated option as Redis does and parses only the last expire time")
    func setRepeatedOptions() throws {
        let server = try TestServer()
        let c = try server.client()
        #expect(try c.call("SET", "k", "v", "EX", "10", "EX", "20") == .ok)
        #expect(try c.call("TTL", "k") == .integer(20))
        #expect(try c.call("SET", "k", "v", "NX", "NX") == .null)
        #expect(try c.call("SET", "k", "v", "XX", "XX") == .ok)
        #expect(try c.call("SET", "k", "v", "KEEPTTL", "KEEPTTL") == .ok)
        #expect(try c.call("SET", "k", "w", "GET", "GET") == .bulk("v"))
        #expect(try c.call("SET", "k", "v", "EX", "abc", "EX", "5") == .ok)
        #expect(try c.call("TTL", "k") == .integer(5))
        #expect(
            try c.call("SET", "k", "v", "EX", "5", "EX", "abc") == .error("ERR value is not an integer or out of range")
        )
        #expect(try c.call("SET", "k", "v", "EX", "abc", "NX", "XX") == .error("ERR syntax error"))
        #expect(try c.call("SET", "k", "v", "EX", "10", "KEEPTTL") == .error("ERR syntax error"))
        #expect(try c.call("SET", "k", "v", "KEEPTTL", "EX", "10") == .error("ERR syntax error"))
        #expect(try c.call("SET", "k", "v", "EX", "10", "EXAT", "20") == .error("ERR syntax error"))
        #expect(
            try c.call("SET", "k", "v", "EX", "9223372036854775") == .error("ERR invalid expire time in 'set' command")
        )
        #expect(try c.call("SET", "k", "v", "EXAT", "9223372036854775") == .ok)
    }

    @Test("APPEND keeps working and keeps the TTL")
    func append() throws {
        let server = try TestServer()
        let c = try server.client()
        #expect(try c.call("APPEND", "a", "x") == .integer(1))
        #expect(try c.call("APPEND", "a", "") == .integer(1))
        #expect(try c.call("SETEX", "t", "100", "ab") == .ok)
        #expect(try c.call("APPEND", "t", "c") == .integer(3))
        #expect(try c.call("TTL", "t") == .integer(100))
    }

    @Test("the new commands inside MULTI/EXEC: results, runtime errors in place, queue-time errors abort")
    func insideExec() throws {
        let server = try TestServer()
        let c = try server.client()
        #expect(try c.call("MULTI") == .ok)
        let queued: [[String]] = [
            ["SETEX", "a", "100", "1"], ["PSETEX", "b", "100000", "2"], ["GETSET", "a", "3"],
            ["GETEX", "b", "PERSIST"],
            ["MSETNX", "c", "1", "d", "2"], ["MSETNX", "c", "1", "e", "2"], ["INCRBYFLOAT", "c", "1.5"],
            ["INCRBYFLOAT", "a", "x"], ["GETRANGE", "a", "0", "-1"], ["SUBSTR", "c", "0", "0"],
            ["SETRANGE", "d", "3", "xyz"], ["SETRANGE", "d", "-1", "x"], ["SETEX", "a", "0", "v"],
            ["GETEX", "a", "EX", "0"], ["GETEX", "a", "EX", "100"], ["GET", "d"],
        ]
        for command in queued {
            #expect(try c.call(bytes: command.map { Array($0.utf8) }) == .simple("QUEUED"))
        }
        #expect(
            try c.call("EXEC")
                == .array([
                    .ok, .ok, .bulk("1"), .bulk("2"), .integer(1), .integer(0), .bulk("2.5"),
                    .error("ERR value is not a valid float"), .bulk("3"), .bulk("2"), .integer(6),
                    .error("ERR offset is out of range"), .error("ERR invalid expire time in 'setex' command"),
                    .error("ERR invalid expire time in 'getex' command"), .bulk("3"),
                    .bulk([50, 0, 0] + Array("xyz".utf8)),
                ])
        )
        #expect(try c.call("TTL", "a") == .integer(100))
        #expect(try c.call("TTL", "b") == .integer(-1))
        #expect(try c.call("EXISTS", "e") == .integer(0))

        #expect(try c.call("MULTI") == .ok)
        #expect(try c.call("MSETNX", "x") == .error("ERR wrong number of arguments for 'msetnx' command"))
        #expect(try c.call("SETEX", "x", "1", "y") == .simple("QUEUED"))
        #expect(try c.call("EXEC") == .error("EXECABORT Transaction discarded because of previous errors."))
        #expect(try c.call("EXISTS", "x") == .integer(0))

        // MSETNX's all-or-nothing inside EXEC, against a key set earlier in the same EXEC.
        #expect(try c.call("MULTI") == .ok)
        _ = try c.call("SET", "m1", "1")
        _ = try c.call("MSETNX", "m2", "2", "m1", "9")
        _ = try c.call("MGET", "m1", "m2")
        #expect(try c.call("EXEC") == .array([.ok, .integer(0), .array([.bulk("1"), .null])]))
    }

    @Test("WATCH: a command that changes nothing leaves the watched key alone; one that writes fails EXEC")
    func watch() throws {
        let server = try TestServer()
        let c = try server.client()
        let other = try server.client()
        // (setup, command from another client, EXEC succeeds)
        let cases: [([String], [String], Bool)] = [
            (["SET", "k", "v"], ["GETEX", "k"], true),
            (["SET", "k", "v"], ["GETEX", "k", "PERSIST"], true),
            (["SETEX", "k", "100", "v"], ["GETEX", "k", "PERSIST"], false),
            (["SET", "k", "v"], ["GETEX", "k", "EX", "100"], false),
            (["SET", "k", "v"], ["GETEX", "k", "EX", "0"], true),
            (["SET", "k", "v"], ["SETRANGE", "k", "0", ""], true),
            (["SET", "k", "v"], ["SETRANGE", "k", "0", "v"], false),
            (["SET", "k", "v"], ["MSETNX", "k", "1", "other", "2"], true),
            (["SET", "k", "v"], ["INCRBYFLOAT", "k", "1"], true),
            (["SET", "k", "1"], ["INCRBYFLOAT", "k", "0"], false),
            (["SET", "k", "1"], ["INCRBYFLOAT", "k", "inf"], true),
            (["SET", "k", "v"], ["GETSET", "k", "v"], false),
            (["SET", "k", "v"], ["SETEX", "k", "0", "v"], true),
            (["SET", "k", "v"], ["GETRANGE", "k", "0", "-1"], true),
            ([], ["SETRANGE", "k", "5", ""], true),
            ([], ["GETEX", "k", "EX", "5"], true),
            ([], ["MSETNX", "k", "1"], false),
        ]
        for (setup, command, succeeds) in cases {
            _ = try c.call("FLUSHALL")
            if !setup.isEmpty { _ = try c.call(bytes: setup.map { Array($0.utf8) }) }
            #expect(try c.call("WATCH", "k") == .ok)
            _ = try other.call(bytes: command.map { Array($0.utf8) })
            #expect(try c.call("MULTI") == .ok)
            _ = try c.call("SET", "z", "1")
            #expect(try c.call("EXEC") == (succeeds ? .array([.ok]) : .array(nil)), "\(setup) then \(command)")
        }
    }

    @Test("MSET, MSETNX and EXEC copy their keys whatever their size: empty, binary, and past a stack buffer")
    func multiKeyCopies() throws {
        let server = try TestServer()
        let c = try server.client()
        let empty: [UInt8] = []
        let binary: [UInt8] = [0, 13, 10, 255, 0]
        let large = [UInt8](repeating: 0x6B, count: 256 * 1024) + [1]
        let keys = [empty, binary, large, Array("k".utf8)]
        var mset: [[UInt8]] = [Array("MSET".utf8)]
        for (i, key) in keys.enumerated() { mset += [key, Array("v\(i)".utf8)] }
        #expect(try c.call(bytes: mset) == .ok)
        #expect(try c.call(bytes: [Array("MGET".utf8)] + keys) == .array(keys.indices.map { .bulk("v\($0)") }))
        #expect(try c.call("DBSIZE") == .integer(4))

        // MSETNX refuses all of them when one exists, and sets all of them when none does.
        let fresh = [large + [2], empty + [3], binary + [4]]
        let clash = [Array("MSETNX".utf8), fresh[0], Array("a".utf8), large, Array("b".utf8)]
        #expect(try c.call(bytes: clash) == .integer(0))
        #expect(try c.call(bytes: [Array("EXISTS".utf8), fresh[0]]) == .integer(0))
        var msetnx: [[UInt8]] = [Array("MSETNX".utf8)]
        for key in fresh { msetnx += [key, Array("n".utf8)] }
        #expect(try c.call(bytes: msetnx) == .integer(1))
        #expect(try c.call(bytes: [Array("EXISTS".utf8)] + fresh) == .integer(3))

        // EXEC declares the keys of all its commands up front.
        #expect(try c.call("MULTI") == .ok)
        #expect(try c.call(bytes: [Array("SET".utf8), large, Array("x".utf8)]) == .simple("QUEUED"))
        #expect(try c.call(bytes: [Array("DEL".utf8), empty, binary]) == .simple("QUEUED"))
        #expect(try c.call(bytes: [Array("GET".utf8), large]) == .simple("QUEUED"))
        #expect(try c.call("EXEC") == .array([.ok, .integer(2), .bulk("x")]))
        #expect(try c.call("DBSIZE") == .integer(5))
    }
}
