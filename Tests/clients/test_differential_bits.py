"""Differential tests of the bitmap commands and LCS against redis-server 7.0.15: SETBIT, GETBIT, BITCOUNT, BITPOS,
BITOP, BITFIELD, BITFIELD_RO and LCS, hand-written edge cases and random sequences, in RESP2 and RESP3, with replies
compared by RESP type and error texts in full (test_differential_more.py's client and fixtures).
"""
import random

import pytest

from test_differential import pytestmark  # noqa: F401 (the skip mark)
from test_differential_more import assert_same_replies, raw_pair, show  # noqa: F401 (raw_pair: fixture)

CASES = {
    "setbit-getbit": ["SETBIT b 7 1", "GET b", "GETBIT b 7", "GETBIT b 6", "GETBIT b 100", "SETBIT b 7 0",
                      "GET b", "STRLEN b", "SETBIT b 100 1", "STRLEN b", "GETBIT b 100", "GETBIT missing 0",
                      "SETBIT b -1 1", "SETBIT b abc 1", "SETBIT b 1 2", "SETBIT b 1 -1", "SETBIT b 1 x",
                      "SETBIT b abc x", "SETBIT b 4294967296 1", "SETBIT b 4294967295 x", "GETBIT b -1",
                      "GETBIT b 4294967296", "GETBIT b 9223372036854775807", "SETBIT b 1.5 1", "SETBIT b ' 1' 1",
                      "OBJECT ENCODING b", "SET n 12345", "GETBIT n 2", "GETBIT n 3", "SETBIT n 0 1", "GET n",
                      "OBJECT ENCODING n", "SETBIT", "GETBIT b", "SETBIT b 1"],
    "setbit-keeps-ttl": ["SET t abc EX 100", "SETBIT t 3 1", "TTL t", "GET t", "SETBIT fresh 0 1", "TTL fresh"],
    "bitcount": ["SET s foobar", "BITCOUNT s", "BITCOUNT s 0 0", "BITCOUNT s 1 1", "BITCOUNT s 1 -1",
                 "BITCOUNT s -2 -1", "BITCOUNT s -1 -2", "BITCOUNT s 0 100", "BITCOUNT s 100 200",
                 "BITCOUNT s 5 30 BIT", "BITCOUNT s 5 30 bit", "BITCOUNT s 0 -1 BYTE", "BITCOUNT s 1 1 BIT",
                 "BITCOUNT s 2 2 BIT", "BITCOUNT s 0 7 BIT", "BITCOUNT s -5 -1 BIT", "BITCOUNT s 3 2 BIT",
                 "BITCOUNT s 0", "BITCOUNT s 0 1 FOO", "BITCOUNT s 0 1 BIT x", "BITCOUNT s a 1", "BITCOUNT s 1 a",
                 "BITCOUNT missing", "BITCOUNT missing 0", "BITCOUNT missing a b", "BITCOUNT missing 0 1 FOO",
                 "BITCOUNT s -1 -5 FOO", "BITCOUNT s -9223372036854775808 9223372036854775807",
                 "BITCOUNT s 0 9223372036854775807 BIT", "SET e ''", "BITCOUNT e", "BITCOUNT e 0 -1 BIT",
                 "SET n 1234", "BITCOUNT n", "BITCOUNT"],
    "bitcount-long": ["SET l 'The quick brown fox jumps over the lazy dog, twice over.'", "BITCOUNT l",
                      "BITCOUNT l 3 37", "BITCOUNT l 1 8", "BITCOUNT l 0 7", "BITCOUNT l 0 8", "BITCOUNT l -17 -2",
                      "BITCOUNT l 13 300 BIT", "BITCOUNT l 5 70 BIT", "BITCOUNT l 64 127 BIT", "SETBIT l 4000 1",
                      "BITCOUNT l", "BITCOUNT l 50 -1", "BITPOS l 1 100", "BITPOS l 0 100 -1"],
    "bitpos": ["SET s '\xff\xf0\x00'", "BITPOS s 0", "BITPOS s 1", "BITPOS s 0 1", "BITPOS s 1 1", "BITPOS s 0 2",
               "BITPOS s 0 0 0", "BITPOS s 0 0 1", "BITPOS s 1 2 -1", "BITPOS s 0 -1", "BITPOS s 1 -1",
               "BITPOS s 0 5 10 BIT", "BITPOS s 1 5 10 BIT", "BITPOS s 0 12 15 BIT", "BITPOS s 0 12 BIT",
               "BITPOS s 1 9 7 BIT", "BITPOS s 0 0 -1 BYTE", "BITPOS s 0 0 -1 FOO", "BITPOS s 2", "BITPOS s -1",
               "BITPOS s x", "BITPOS s 1 x", "BITPOS s 1 0 x", "BITPOS s 1 0 1 BIT extra", "BITPOS missing 0",
               "BITPOS missing 1", "BITPOS missing 1 0 1 FOO", "BITPOS missing 2", "SET f '\xff\xff'",
               "BITPOS f 0", "BITPOS f 0 0", "BITPOS f 0 0 -1", "BITPOS f 0 0 15 BIT", "BITPOS f 0 3 BIT",
               "BITPOS f 1 100", "BITPOS f 0 100", "SET z '\x00\x00'", "BITPOS z 1", "BITPOS z 1 0 -1",
               "BITPOS z 0 1", "BITPOS z 1 3 12 BIT", "SET e ''", "BITPOS e 0", "BITPOS e 1", "BITPOS e 0 0 -1",
               "SET n 10", "BITPOS n 1", "BITPOS n 0", "BITPOS", "BITPOS s"],
    "bitop": ["SET a '\x0f\xff'", "SET b '\xf0'", "BITOP AND d a b", "GET d", "BITOP OR d a b", "GET d",
              "BITOP XOR d a b", "GET d", "BITOP NOT d a", "GET d", "BITOP not d b", "GET d", "BITOP NOT d a b",
              "BITOP FOO d a", "BITOP AND d", "BITOP AND d missing", "EXISTS d", "SET d x EX 100",
              "BITOP OR d a missing", "TTL d", "GET d", "BITOP AND d a missing", "GET d", "BITOP AND a a b",
              "GET a", "SET e ''", "SET d x", "BITOP OR d e missing", "EXISTS d", "SET n 123",
              "BITOP XOR d n a", "GET d", "OBJECT ENCODING d", "BITOP NOT d missing", "EXISTS d", "BITOP",
              "BITOP AND", "BITOP 'and' d a"],
    "bitfield": ["BITFIELD f SET u8 0 255", "GET f", "BITFIELD f GET u8 0 GET i8 0 GET u4 4 GET i4 4",
                 "BITFIELD f INCRBY u8 0 1", "BITFIELD f OVERFLOW SAT INCRBY u8 0 1",
                 "BITFIELD f OVERFLOW FAIL INCRBY u8 0 1", "BITFIELD f OVERFLOW WRAP INCRBY u8 0 300",
                 "BITFIELD f SET i8 0 -128 INCRBY i8 0 -1", "BITFIELD f OVERFLOW SAT INCRBY i8 0 -1000",
                 "BITFIELD f OVERFLOW SAT SET i8 0 1000 GET i8 0", "BITFIELD f OVERFLOW FAIL SET i8 0 128",
                 "BITFIELD f OVERFLOW FAIL SET u2 100 4", "STRLEN f", "GET f",
                 "BITFIELD f SET u8 #1 200 GET u8 8 GET u8 #1", "BITFIELD f GET i64 0 GET u63 1",
                 "BITFIELD f SET i64 0 -1 GET i64 0 GET u63 0 INCRBY i64 0 1",
                 "BITFIELD f SET i64 0 9223372036854775807 INCRBY i64 0 1",
                 "BITFIELD f OVERFLOW SAT SET i64 0 9223372036854775807 INCRBY i64 0 1",
                 "BITFIELD f OVERFLOW SAT INCRBY i64 0 -9223372036854775808",
                 "BITFIELD f OVERFLOW FAIL INCRBY i64 0 -9223372036854775808 GET i64 0",
                 "BITFIELD f SET u63 0 9223372036854775807 INCRBY u63 0 1",
                 "BITFIELD f OVERFLOW SAT SET u63 0 -1 GET u63 0", "BITFIELD f SET u1 3 1 INCRBY u1 3 -3",
                 "BITFIELD f OVERFLOW SAT INCRBY u3 3 -3 INCRBY i3 3 100 INCRBY i3 3 -100",
                 "BITFIELD f GET u64 0", "BITFIELD f GET i65 0", "BITFIELD f GET i0 0", "BITFIELD f GET x8 0",
                 "BITFIELD f GET u 0", "BITFIELD f GET i8 -1", "BITFIELD f GET i8 #-1", "BITFIELD f GET i8 #x",
                 "BITFIELD f GET i8 4294967296", "BITFIELD f GET i8 #536870912", "BITFIELD f SET i8 0 x",
                 "BITFIELD f SET i8 0", "BITFIELD f INCRBY i8 0", "BITFIELD f GET i8", "BITFIELD f FOO",
                 "BITFIELD f OVERFLOW", "BITFIELD f OVERFLOW NOPE GET i8 0", "BITFIELD f OVERFLOW sat",
                 "BITFIELD f", "BITFIELD missing GET u8 0 GET i16 100", "EXISTS missing",
                 "BITFIELD missing OVERFLOW FAIL SET i8 16 1000", "GET missing", "SET t ab EX 100",
                 "BITFIELD t SET u8 8 67", "GET t", "TTL t", "SET n 100", "BITFIELD n GET u8 0",
                 "BITFIELD n INCRBY u8 0 1", "GET n", "BITFIELD", "bitfield f get u8 0 set u8 0 1 incrby u8 0 1"],
    "bitfield-ro": ["SET f '\x01\x02'", "BITFIELD_RO f GET u8 0 GET u8 8 GET i16 0", "BITFIELD_RO f",
                    "BITFIELD_RO missing GET u8 0", "BITFIELD_RO f SET u8 0 1", "BITFIELD_RO f INCRBY u8 0 1",
                    "BITFIELD_RO f OVERFLOW SAT GET u8 0", "BITFIELD_RO f GET u64 0", "BITFIELD_RO f SET u8 0",
                    "BITFIELD_RO f FOO", "GET f", "BITFIELD_RO"],
    "bits-in-multi": ["MULTI", "SETBIT m 1 1", "GETBIT m 1", "BITFIELD m INCRBY u8 0 5 GET u8 0", "BITCOUNT m",
                      "BITPOS m 1", "BITOP NOT m2 m", "GET m2", "SETBIT m -1 1", "EXEC", "MULTI", "SETBIT m x 1",
                      "EXEC", "GET m"],
    # Redis 7.0 signals a key as modified (failing a WATCH on it) only when SETBIT or BITFIELD changes or grows it.
    "bit-writes-and-watch": ["SET k A", "WATCH k", "@other SETBIT k 1 1", "MULTI", "SET x 1", "EXEC",
                             "WATCH k", "@other SETBIT k 0 0", "MULTI", "SET x 1", "EXEC",
                             "WATCH k", "@other BITFIELD k SET u8 0 65 INCRBY u8 0 0", "MULTI", "SET x 1", "EXEC",
                             "WATCH k", "@other BITFIELD k OVERFLOW FAIL INCRBY u8 0 300", "MULTI", "SET x 1", "EXEC",
                             "WATCH k", "@other BITFIELD k GET u8 0", "MULTI", "SET x 1", "EXEC",
                             "WATCH k", "@other SETBIT k 2 0", "MULTI", "SET x 1", "EXEC",
                             "WATCH k", "@other SETBIT k 100 0", "MULTI", "SET x 1", "EXEC", "STRLEN k",
                             "WATCH k", "@other BITFIELD k SET u8 200 0", "MULTI", "SET x 1", "EXEC", "STRLEN k",
                             "WATCH k", "@other BITFIELD k SET u8 0 66", "MULTI", "SET x 1", "EXEC", "GET k",
                             "WATCH k", "@other SETBIT k 7 0", "MULTI", "SET x 1", "EXEC", "GET k",
                             "WATCH m", "@other SETBIT m 0 0", "MULTI", "SET x 1", "EXEC", "EXISTS m",
                             "SET k A", "WATCH k", "@other BITFIELD k SET u8 0 66 SET u8 0 65", "MULTI", "SET x 1",
                             "EXEC", "WATCH k", "@other BITFIELD k INCRBY u8 0 1 INCRBY u8 0 -1", "MULTI",
                             "SET x 1", "EXEC", "WATCH k", "@other BITFIELD k INCRBY i8 0 0 SET i8 0 65", "MULTI",
                             "SET x 1", "EXEC", "GET k"],
    "lcs": ["SET a ohmytext", "SET b mynewtext", "LCS a b", "LCS a b LEN", "LCS a b IDX", "LCS a b IDX WITHMATCHLEN",
            "LCS a b IDX MINMATCHLEN 4", "LCS a b IDX MINMATCHLEN 4 WITHMATCHLEN", "LCS a b idx minmatchlen -3",
            "LCS a b LEN IDX", "LCS a b IDX LEN", "LCS a b LEN LEN", "LCS a b MINMATCHLEN", "LCS a b MINMATCHLEN x",
            "LCS a b MINMATCHLEN 1 FOO", "LCS a b FOO", "LCS a b WITHMATCHLEN", "LCS a b MINMATCHLEN 2 LEN",
            "LCS a missing", "LCS missing a IDX", "LCS missing missing2 LEN", "LCS a a", "LCS a a IDX WITHMATCHLEN",
            "SET n 12345", "SET m 2x4y5", "LCS n m IDX WITHMATCHLEN", "SET e ''", "LCS e a IDX", "LCS a",
            "SET x abcabcabc", "SET y cbacbacba", "LCS x y", "LCS x y IDX WITHMATCHLEN", "LCS y x IDX"],
    "lcs-memory-limit": ["SET a " + "ab" * 300, "SET b " + "ba" * 300, "LCS a b LEN",
                         "CONFIG SET proto-max-bulk-len 1048576", "LCS a b LEN", "SET c " + "c" * 600,
                         "LCS a c", "CONFIG SET proto-max-bulk-len 536870912", "LCS a c LEN",
                         "CONFIG SET proto-max-bulk-len 1048576", "SETRANGE s 1048575 x", "SETRANGE s 1048576 x",
                         "SETBIT s 8388607 1", "SETBIT s 8388608 1", "APPEND s y", "BITFIELD s GET u8 8388600",
                         "BITFIELD s SET u8 8388608 1", "CONFIG SET proto-max-bulk-len 536870912"],
}


@pytest.mark.parametrize("steps", CASES.values(), ids=CASES.keys())
def test_same_replies(raw_pair, steps):  # noqa: F811
    assert_same_replies(raw_pair, steps, show)


KEYS = ["a", "b", "c", "n"]
OFFSETS = ["0", "1", "7", "8", "13", "31", "64", "100", "-1", "x"]
INDICES = ["0", "1", "2", "-1", "-2", "-3", "3", "7", "9", "15", "20", "-20", "x"]
TYPES = ["u1", "u3", "u8", "i1", "i5", "i8", "i16", "u16", "i32", "u31", "i63", "i64", "u63", "u64", "q8"]
FIELD_VALUES = ["0", "1", "-1", "5", "100", "-100", "127", "128", "-129", "255", "256", "65535", "2147483647",
                "-2147483648", "9223372036854775807", "-9223372036854775808", "x"]


def random_command(rng):
    key = lambda: rng.choice(KEYS)  # noqa: E731
    choice = rng.choice
    kind = rng.randrange(10)
    if kind == 0:
        return ["SETBIT", key(), choice(OFFSETS), choice(["0", "1", "1", "2"])]
    if kind == 1:
        return ["GETBIT", key(), choice(OFFSETS)]
    if kind == 2:
        unit = choice([[], [], ["BIT"], ["BYTE"]])
        return ["BITCOUNT", key(), *choice([[], [choice(INDICES), choice(INDICES), *unit]])]
    if kind == 3:
        tail = choice([[], [choice(INDICES)], [choice(INDICES), choice(INDICES)],
                       [choice(INDICES), choice(INDICES), choice(["BIT", "BYTE"])]])
        return ["BITPOS", key(), choice(["0", "1", "0", "1", "2"]), *tail]
    if kind == 4:
        op = choice(["AND", "OR", "XOR", "NOT"])
        sources = [key()] if op == "NOT" else [key() for _ in range(rng.randrange(1, 4))]
        return ["BITOP", op, key(), *sources]
    if kind == 5:
        return ["SET", key(), choice(["", "a", "\xff", "\x00\x81", "hello", "123", "-7", "\x0f\xf0\x55"])]
    if kind == 6:
        return choice([["GET", key()], ["LCS", key(), key(), *rng.sample(["IDX", "LEN", "WITHMATCHLEN"],
                                                                           rng.randrange(3)),
                                        *choice([[], ["MINMATCHLEN", choice(["0", "1", "2", "-1"])]])]])
    operations = []
    for _ in range(rng.randrange(1, 5)):
        op = rng.randrange(5)
        field = [choice(TYPES), choice(OFFSETS[:8] + ["#0", "#1", "#3"])]
        if op == 0:
            operations += ["GET", *field]
        elif op == 1:
            operations += ["SET", *field, choice(FIELD_VALUES)]
        elif op == 2:
            operations += ["INCRBY", *field, choice(FIELD_VALUES)]
        else:
            operations += ["OVERFLOW", choice(["WRAP", "SAT", "FAIL"])]
    return [choice(["BITFIELD", "BITFIELD", "BITFIELD_RO"]), key(), *operations]


@pytest.mark.parametrize("seed", [21, 22, 23])
def test_random_bit_sequences(raw_pair, seed):  # noqa: F811
    rng = random.Random(seed)
    history = []
    for index in range(700):
        args = random_command(rng)
        ours, theirs, agree = raw_pair.run(args, "main")
        history.append(f"  {index}: {args!r} -> {show(ours)}")
        if not agree:
            context = "\n".join(history[-12:-1])
            pytest.fail(f"seed {seed}, command {index}: {args!r}\n  redis: {show(ours)}\n  weft:  {show(theirs)}\n"
                        f"previous commands (with Redis's replies):\n{context}")


@pytest.mark.parametrize("seed", [31, 32])
def test_bitpos_over_long_runs(raw_pair, seed):  # noqa: F811
    """BITPOS skips whole words of bits it is not looking for: long runs of 0x00 or 0xff with a few other bytes,
    short and chunked (70 KB), searched over random byte and bit ranges."""
    rng = random.Random(seed)
    for trial in range(40):
        length = rng.choice([rng.randrange(1, 40), rng.randrange(40, 300), 70_000])
        fill = rng.choice(["\x00", "\xff"])
        steps = [["DEL", "r"], ["SETRANGE", "r", "0", fill * length]]
        for _ in range(rng.randrange(3)):
            steps.append(["SETRANGE", "r", str(rng.randrange(length)), rng.choice(["\x01", "\x80", "\xfe", "\x7f"])])
        for _ in range(25):
            bit = rng.choice(["0", "1"])
            ends = lambda limit: str(rng.randrange(-limit - 3, limit + 3))  # noqa: E731
            tail = rng.choice([[], [ends(length)], [ends(length), ends(length)],
                               [ends(length), ends(length), "BYTE"], [ends(length * 8), ends(length * 8), "BIT"]])
            steps.append(["BITPOS", "r", bit, *tail])
        for args in steps:
            ours, theirs, agree = raw_pair.run(args, "main")
            assert agree, f"seed {seed}, trial {trial}: {[a[:20] for a in args]}\n  redis: {show(ours)}\n" \
                          f"  weft:  {show(theirs)}"


@pytest.mark.parametrize("seed", [41, 42])
def test_bitop_over_varied_lengths(raw_pair, seed):  # noqa: F811
    """BITOP combines eight bytes at a time: sources of every length around the word size, and chunked ones (70
    KB), missing keys among them; the result compared whole."""
    rng = random.Random(seed)
    for trial in range(30):
        steps = [["DEL", "x", "y", "z", "d"]]
        for key in ["x", "y", "z"]:
            if rng.random() < 0.15:
                continue  # missing
            length = rng.choice([rng.randrange(0, 30), rng.randrange(30, 200), 70_000 + rng.randrange(20)])
            value = "".join(chr(rng.randrange(256)) for _ in range(min(length, 64)))
            steps.append(["SET", key, (value * (length // 64 + 1))[:length]])
        operation = rng.choice(["AND", "OR", "XOR", "NOT"])
        sources = ["x"] if operation == "NOT" else rng.sample(["x", "y", "z"], rng.randrange(1, 4))
        steps += [["BITOP", operation, "d", *sources], ["STRLEN", "d"], ["GET", "d"]]
        for args in steps:
            ours, theirs, agree = raw_pair.run(args, "main")
            assert agree, f"seed {seed}, trial {trial}: {[a[:20] for a in args]}\n  redis: {show(ours)[:200]}\n" \
                          f"  weft:  {show(theirs)[:200]}"
