"""Differential test: the same command sequences sent to redis-server 7.0.15 and to weft-server, reply by reply.

Covers issue 3's families: strings, keys, expiry, transactions, and the connection basics. Redis is the reference:
any difference is a Weft bug. Every test runs over RESP2 and over RESP3 (redis-py's default). Replies are compared
raw (bytes, redis-py's response callbacks removed); an error reply is compared by redis-py's exception class (that
is, its code) and its full text, errors inside an EXEC reply included. Only what is inherently non-deterministic
is normalized: TTL, PTTL, EXPIRETIME and PEXPIRETIME within a tolerance (-1 and -2 exactly), the order of KEYS and
CONFIG GET, SCAN (the sorted union of the keys of a full iteration from cursor 0, or its error; from another cursor
only whether it failed), and RANDOMKEY (nil or "some key").

Most cases are hand-written sequences run on empty servers; `test_random_sequences` draws a few thousand commands,
bad arguments included, over eight keys from fixed seeds. Its expiry times are spread so that no comparison between
two of them (GT, LT) depends on how many milliseconds passed between the two servers' replies.
"""
import random
import re
import shlex
import shutil
import time
from collections import namedtuple

import pytest
import redis

from weft_process import client

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")


class Err(namedtuple("Err", "kind text")):
    """An error reply: redis-py's exception class name (it stands for the code) and the message."""

    def __repr__(self):
        return f"<{self.kind}: {self.text!r}>"


SOME_KEY = "<some key>"
# Tolerances for replies that depend on the clock; negative replies (-1, -2) must be equal.
CLOCK_TOLERANCE = {"TTL": 1, "EXPIRETIME": 1, "PTTL": 250, "PEXPIRETIME": 250}


def raw_client(port, protocol):
    connection = client(port, decode_responses=False, single_connection_client=True, protocol=protocol)
    connection.response_callbacks = {}
    return connection


def call(connection, args):
    try:
        return connection.execute_command(*args)
    except redis.ResponseError as error:
        return error


def normalize(name, reply, queued=None):
    if isinstance(reply, Exception):
        return Err(type(reply).__name__, str(reply))
    if name == "EXEC" and queued is not None and isinstance(reply, list):
        return [normalize(queued[i] if i < len(queued) else None, element) for i, element in enumerate(reply)]
    if isinstance(reply, list):
        reply = [normalize(None, element) for element in reply]
        if name == "KEYS":
            return sorted(reply, key=repr)
        if name == "CONFIG":
            return sorted(zip(reply[::2], reply[1::2]), key=repr)
    if isinstance(reply, dict) and name == "CONFIG":
        return sorted(reply.items(), key=repr)
    if name == "RANDOMKEY" and isinstance(reply, bytes):
        return SOME_KEY
    return reply


def same(name, a, b, queued=None):
    if name == "EXEC" and queued is not None and isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(
            same(queued[i] if i < len(queued) else None, x, y) for i, (x, y) in enumerate(zip(a, b))
        )
    if name in CLOCK_TOLERANCE and type(a) is int and type(b) is int and min(a, b) >= 0:
        return abs(a - b) <= CLOCK_TOLERANCE[name]
    return type(a) is type(b) and a == b


def scan(connection, args):
    """SCAN from cursor 0 (or "", which Redis reads as 0) iterates to the end with the options of `args`: the sorted
    union of the keys, or the first error. From any other cursor, one call: its error, or only that it succeeded."""
    if args[1] not in ("0", ""):
        reply = call(connection, args)
        return normalize("SCAN", reply) if isinstance(reply, Exception) else "<a SCAN page>"
    keys, cursor = set(), args[1]
    for _ in range(10_000):
        reply = call(connection, ["SCAN", cursor, *args[2:]])
        if isinstance(reply, Exception):
            return normalize("SCAN", reply)
        if not (isinstance(reply, list) and len(reply) == 2 and isinstance(reply[1], list)):
            return ("malformed SCAN reply", reply)
        cursor = reply[0]
        keys.update(reply[1])
        if cursor == b"0":
            return ("SCAN keys", sorted(keys))
    return ("SCAN did not finish", sorted(keys))


class Pair:
    """Two connections to each server ("main" and "other"), and the MULTI state of "main" as Redis reports it."""

    def __init__(self, reference_port, weft_port, protocol):
        self.connections = {
            "main": (raw_client(reference_port, protocol), raw_client(weft_port, protocol)),
            "other": (raw_client(reference_port, protocol), raw_client(weft_port, protocol)),
        }
        self.in_multi = False
        self.queued = []

    def close(self):
        for connections in self.connections.values():
            for connection in connections:
                connection.close()

    def run(self, args, connection="main"):
        """Sends `args` to both servers; returns (Redis's reply, Weft's reply, whether they agree)."""
        name = args[0].upper() if args and isinstance(args[0], str) else None
        ours, theirs = self.connections[connection]
        if name == "SCAN" and not self.in_multi and len(args) > 1:
            a, b = scan(ours, args), scan(theirs, args)
            return a, b, a == b
        a, b = call(ours, args), call(theirs, args)
        queued = None
        if connection == "main":
            if self.in_multi:
                # EXEC with arguments fails, and ends the transaction too.
                if name == "EXEC":
                    queued, self.in_multi = (self.queued if len(args) == 1 else None), False
                elif name == "DISCARD" and len(args) == 1:
                    self.in_multi = False
                elif a == b"QUEUED":
                    self.queued.append(name)
            elif name == "MULTI" and a == b"OK":
                self.in_multi, self.queued = True, []
        a, b = normalize(name, a, queued), normalize(name, b, queued)
        return a, b, same(name, a, b, queued)


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def pair(request, redis_reference, server):
    both = Pair(redis_reference, server, request.param)
    for connection in both.connections["main"]:
        connection.execute_command("FLUSHALL")
    yield both
    both.close()


# ---------------------------------------------------------------------------------------------------------------
# Hand-written cases. A step is a string split like a shell line, or a list of arguments. "@other" first sends the
# step on the second connection. An argument NOW+n / NOW-n (NOWMS+n) is the Unix time in seconds (milliseconds)
# plus n, taken when the step is sent and the same for both servers.
# ---------------------------------------------------------------------------------------------------------------

NOT_INTEGERS = ["abc", " 1", "1 ", "+1", "01", "00", "-0", "1.0", "", "9223372036854775808", "-9223372036854775809",
                "99999999999999999999999", "0x10", "1e3", "１"]

STRING_CASES = {
    "get-set": ["GET k", "SET k v", "GET k", "SET k ''", "GET k", "STRLEN k", "SET k 'a b c'", "gEt k", "sEt k x",
                "GET k"],
    "binary-safe": [["SET", b"\xff\x00k", b"\x00v\r\n"], ["GET", b"\xff\x00k"], ["STRLEN", b"\xff\x00k"],
                    ["APPEND", b"\xff\x00k", b"\xfe"], ["GETRANGE", b"\xff\x00k", "-2", "-1"], "KEYS *",
                    ["KEYS", b"\xff*"], ["EXISTS", b"\xff\x00k", b"\xff"]],
    "large-value": [["SET", "big", "x" * 100_000], "STRLEN big", "GETRANGE big 99990 -1", "APPEND big yz",
                    "GETRANGE big -3 -1", "SETRANGE big 100005 w", "STRLEN big", "GETRANGE big 99998 -1",
                    "OBJECT ENCODING big"],
    "set-ex-px": ["SET k v EX 100", "TTL k", "SET k v PX 100000", "PTTL k", "SET k v ex 100", "TTL k",
                  "SET k v pX 100000", "TTL k", "SET k v EX 10 EX 20", "TTL k", "SET k v PX 1 PX 30000", "TTL k"],
    "set-exat-pxat": ["SET k v EXAT NOW+100", "TTL k", "EXPIRETIME k", "SET k v PXAT NOWMS+100000", "PTTL k",
                      "PEXPIRETIME k", "SET k v exat NOW+200", "TTL k"],
    "set-times-in-the-past": ["SET k v EXAT 1", "GET k", "EXISTS k", "SET k v PXAT 1", "GET k",
                              "SET k v EXAT NOW-10", "GET k", "DBSIZE"],
    "set-nx-xx": ["SET k v XX", "GET k", "SET k v NX", "SET k w NX", "GET k", "SET k w XX", "GET k", "SET k x nx",
                  "SET k y xx", "GET k", "SET k v NX NX", "SET k z XX XX", "GET k"],
    "set-keepttl": ["SET k v EX 100", "SET k w KEEPTTL", "TTL k", "GET k", "SET k x", "TTL k", "SET k v KEEPTTL",
                    "TTL k", "SET m v KEEPTTL", "TTL m", "SET k v EX 100", "SET k v keepttl GET", "TTL k"],
    "set-get": ["SET k v GET", "SET k w GET", "GET k", "SET k x NX GET", "GET k", "SET m x XX GET", "EXISTS m",
                "SET k y XX GET", "SET k z GET EX 100", "TTL k", "SET n 12 GET", "SET n 13 GET", "SET k v GET GET"],
    "set-bad-combinations": ["SET k v NX XX", "SET k v XX NX", "SET k v EX 10 PX 100", "SET k v EX 10 KEEPTTL",
                             "SET k v KEEPTTL EX 10", "SET k v PX 10 EXAT NOW+10", "SET k v EXAT NOW+10 PXAT NOWMS+10",
                             "SET k v KEEPTTL PXAT NOWMS+10000", "SET k v EX 10 PERSIST", "SET k v PERSIST",
                             "EXISTS k"],
    "set-bad-expire": ["SET k v EX 0", "SET k v EX -1", "SET k v PX 0", "SET k v PX -100", "SET k v EX abc",
                       "SET k v EX 1.5", "SET k v EX", "SET k v PX", "SET k v EXAT", "SET k v EX 9223372036854775807",
                       "SET k v PX 9223372036854775807", "SET k v EX 9223372036854775", "SET k v EX 9223372036854",
                       "SET k v EXAT 0", "SET k v PXAT -5", "SET k v EXAT 9223372036854775807",
                       "SET k v PXAT 9223372036854775807", "SET k v EX ' 10'", "SET k v EX 10a", "SET k v EX ''",
                       "EXISTS k"],
    "set-syntax": ["SET k v FOO", "SET k v EX 10 FOO", "SET k v 10", "SET k v NX EX", "SET k", "SET", "SET k v GET x",
                   "GET k"],
    "setnx": ["SETNX k v", "SETNX k w", "GET k", "SETNX k", "SETNX k v w", "SET t v EX 100", "SETNX t w", "TTL t"],
    "setex-psetex": ["SETEX k 100 v", "TTL k", "GET k", "PSETEX k 100000 w", "PTTL k", "GET k", "SETEX k 0 v",
                     "SETEX k -1 v", "SETEX k abc v", "SETEX k 1.5 v", "PSETEX k 0 v", "PSETEX k -5 v",
                     "SETEX k 9223372036854775807 v", "SETEX k 9223372036854775 v", "PSETEX k 9223372036854775807 v",
                     "SETEX k 100", "SETEX k 100 v w", "GET k"],
    "getset": ["GETSET k v", "GETSET k w", "GET k", "SET t v EX 100", "GETSET t w", "TTL t", "GETSET k",
               "GETSET k a b"],
    "getdel": ["GETDEL k", "SET k v", "GETDEL k", "EXISTS k", "GETDEL k", "GETDEL k x", "GETDEL"],
    "getex": ["GETEX k", "GETEX k EX 100", "SET k v", "GETEX k", "TTL k", "GETEX k EX 100", "TTL k", "GETEX k PERSIST",
              "TTL k", "GETEX k PX 200000", "PTTL k", "GETEX k EXAT NOW+300", "TTL k", "GETEX k PXAT NOWMS+400000",
              "PTTL k", "GETEX k persist", "TTL k", "GETEX k ex 100", "TTL k", "GETEX k EX 10 EX 20", "TTL k",
              "GETEX k PERSIST PERSIST", "TTL k"],
    "getex-errors": ["SET k v EX 100", "GETEX k EX 0", "GETEX k EX -1", "GETEX k PX 0", "GETEX k EX abc", "GETEX k EX",
                     "GETEX k EX 10 PX 10", "GETEX k EX 10 PERSIST", "GETEX k PERSIST EX 10", "GETEX k KEEPTTL",
                     "GETEX k GET", "GETEX k NX", "GETEX k FOO", "GETEX k EX 9223372036854775807",
                     "GETEX k PXAT 9223372036854775807", "GETEX missing EX 0", "GETEX missing FOO", "GETEX", "TTL k"],
    "getex-past": ["SET k v", "GETEX k EXAT 1", "EXISTS k", "SET k v", "GETEX k PXAT 1", "EXISTS k", "SET k v",
                   "GETEX k EXAT NOW-5", "GET k"],
    "mget-mset": ["MSET a 1 b 2 c 3", "MGET a b c d", "MGET d", "MGET a a", "MSET a", "MSET a 1 b", "MSET", "MGET",
                  "MSET a 9 a 8", "GET a", "SET t v EX 100", "MSET t w", "TTL t"],
    "msetnx": ["MSETNX a 1 b 2", "MSETNX a 9 c 3", "MGET a b c", "MSETNX a", "MSETNX a 1 b", "MSETNX c 1 c 2",
               "GET c", "MSETNX"],
    "incr-decr": ["INCR n", "INCR n", "DECR n", "DECR m", "INCRBY n 10", "INCRBY n -20", "DECRBY n 5", "DECRBY n -5",
                  "GET n", "GET m", "INCR", "INCRBY n", "INCRBY n 1 2", "DECR n x", "SET n -5", "INCRBY n 0", "GET n"],
    "incr-overflow": ["SET n 9223372036854775806", "INCR n", "INCR n", "GET n", "SET n -9223372036854775807",
                      "DECR n", "DECR n", "GET n", "SET n 1", "INCRBY n 9223372036854775807", "SET n -1",
                      "DECRBY n 9223372036854775807", "DECRBY n -9223372036854775808", "INCRBY n -9223372036854775808",
                      "SET n 0", "DECRBY n -9223372036854775808", "DECRBY n 9223372036854775807", "GET n",
                      "INCRBY m 9223372036854775807", "INCR m", "GET m"],
    "incr-not-an-integer": [step for value in NOT_INTEGERS for step in (["SET", "n", value], "INCR n", "DECRBY n 1",
                                                                         "GET n")],
    "incrby-bad-increment": [["INCRBY", "n", value] for value in NOT_INTEGERS]
    + [["DECRBY", "n", value] for value in NOT_INTEGERS] + ["EXISTS n"],
    "incr-keeps-ttl": ["SET n 1 EX 100", "INCR n", "TTL n", "DECRBY n 5", "TTL n", "INCRBYFLOAT n 1.5", "TTL n"],
    "incrbyfloat": ["INCRBYFLOAT f 10.5", "INCRBYFLOAT f 0.1", "INCRBYFLOAT f -5", "INCRBYFLOAT f 1e3",
                    "INCRBYFLOAT f 5.0e3", "INCRBYFLOAT f 5.0E-1", "INCRBYFLOAT f -0.25", "GET f", "INCRBYFLOAT f",
                    "INCRBYFLOAT f 1 2"],
    "incrbyfloat-tenths": ["INCRBYFLOAT f 0.1"] * 10 + ["GET f"] + ["INCRBYFLOAT f -0.1"] * 10 + ["GET f"],
    "incrbyfloat-formats": [["INCRBYFLOAT", f"f{i}", value] for i, value in enumerate(
        ["3.0e3", "1e20", "-1e20", "1.5e-7", "1e-20", "0x10", "-0", "+1.5", ".5", "5.", "1e400", "12345678901234567890",
         "0.1", "1.23456789012345678", "100", "-100.000", "3.14159265358979323846", "1E+2", "9007199254740993",
         "123456789.123456789"])],
    "incrbyfloat-stored-values": [step for i, value in enumerate(
        ["1e3", "5.0e3", "0x10", " 1", "1 ", "abc", "inf", "nan", "1.5", "10", "-0", "", "1e400", ".5",
         "99999999999999999999"]) for step in (["SET", f"f{i}", value], f"INCRBYFLOAT f{i} 1", f"GET f{i}")],
    "incrbyfloat-errors": ["INCRBYFLOAT f inf", "INCRBYFLOAT f -inf", "INCRBYFLOAT f +inf", "INCRBYFLOAT f nan",
                           "INCRBYFLOAT f infinity", "INCRBYFLOAT f abc", "INCRBYFLOAT f ''", "INCRBYFLOAT f ' 1'",
                           "INCRBYFLOAT f '1 '", "INCRBYFLOAT f 1e4933", "INCRBYFLOAT f 1,5", "EXISTS f",
                           "INCRBYFLOAT f 1.7976931348623157e308", "INCRBYFLOAT f 1.7976931348623157e308", "GET f"],
    "incrbyfloat-then-incr": ["INCRBYFLOAT f 2.0", "GET f", "INCR f", "INCRBYFLOAT f 0.5", "INCR f",
                              "INCRBYFLOAT f 0.5", "INCR f", "GET f"],
    "append-strlen": ["APPEND k abc", "APPEND k def", "GET k", "STRLEN k", "APPEND k ''", "STRLEN missing",
                      "APPEND m ''", "EXISTS m", "GET m", "SET n 12", "APPEND n 34", "GET n", "INCR n", "STRLEN n",
                      "SET u é", "STRLEN u", "APPEND u ü", "STRLEN u", "APPEND k", "STRLEN", "STRLEN a b",
                      "SET t v EX 100", "APPEND t w", "TTL t"],
    "getrange-substr": ["SET s 'This is a string'"] + [f"GETRANGE s {r}" for r in [
        "0 3", "-3 -1", "0 -1", "10 100", "-1 -5", "-100 -99", "0 -100", "5 3", "16 20", "15 15", "-1 -1", "-16 -16",
        "-17 -17", "3 3", "9223372036854775807 9223372036854775807", "-9223372036854775808 9223372036854775807",
        "0 abc", "a 0", "1.5 2", "0 9223372036854775808"]] + [
        "GETRANGE missing 0 -1", "GETRANGE missing 5 10", "GETRANGE s 0", "GETRANGE s", "GETRANGE s 0 1 2",
        "SUBSTR s 0 3", "SUBSTR s -3 -1", "SUBSTR s 5 3", "SUBSTR missing 0 1", "SUBSTR s 0", "SET e ''",
        "GETRANGE e 0 -1", "GETRANGE e 0 0", "GETRANGE e -1 -1", "GETRANGE e 1 0", "SET n 12345", "GETRANGE n 1 2",
        "GETRANGE n -2 -1", "SUBSTR n 0 0"],
    "setrange": ["SETRANGE k 0 abc", "GET k", "SETRANGE k 1 X", "GET k", "SETRANGE k 6 Y", "GET k", "STRLEN k",
                 "SETRANGE m 3 ''", "EXISTS m", "SETRANGE m 0 ''", "EXISTS m", "SETRANGE m 2 x", "GET m",
                 "SETRANGE k 2 ''", "GET k", "SETRANGE k -1 x", "SETRANGE k -1 ''", "SETRANGE missing -1 ''",
                 "SETRANGE k abc x", "SETRANGE k 1.5 x", "SETRANGE k 536870912 x", "SETRANGE k 536870911 ''",
                 "SETRANGE k 536870912 ''", "SETRANGE missing 536870912 ''", "SETRANGE missing 536870912 x",
                 "SETRANGE missing 536870911 xy", "EXISTS missing", "SET n 12", "SETRANGE n 1 9", "GET n", "INCR n",
                 "SETRANGE k 0", "SETRANGE k", "SET t v EX 100", "SETRANGE t 0 w", "TTL t", "GET k"],
}

KEY_CASES = {
    "del-unlink-exists": ["MSET a 1 b 2 c 3", "EXISTS a a a b x", "DEL a a x", "EXISTS a", "UNLINK b b c", "DBSIZE",
                          "DEL a", "UNLINK a", "DEL", "EXISTS", "UNLINK"],
    "type": ["TYPE k", "SET k v", "TYPE k", "SET n 1", "TYPE n", "TYPE", "TYPE k extra"],
    "rename": ["SET a 1", "RENAME a a", "GET a", "RENAME a b", "GET a", "GET b", "RENAME missing x",
               "RENAME missing missing", "SET c 3", "RENAME b c", "GET c", "SET t v EX 100", "RENAME t u", "TTL u",
               "SET w x", "SET x2 y EX 100", "RENAME w x2", "TTL x2", "RENAME a", "RENAME", "RENAME a b c"],
    "renamenx": ["SET a 1", "SET b 2", "RENAMENX a a", "RENAMENX a b", "RENAMENX a c", "MGET a b c",
                 "RENAMENX missing d", "RENAMENX missing missing", "SET t v EX 100", "RENAMENX t u", "TTL u",
                 "RENAMENX a"],
    "copy": ["SET a 1", "COPY a b", "COPY a b", "SET a 2", "COPY a b REPLACE", "GET b", "COPY a a", "COPY a a DB 0",
             "COPY a a DB 1", "COPY missing b", "COPY missing b REPLACE", "EXISTS b", "COPY a c DB 1", "SELECT 1",
             "GET c", "GET a", "SELECT 0", "COPY a c DB 16", "COPY a c DB -1", "COPY a c DB abc", "COPY a c FOO",
             "COPY a c DB", "COPY a c REPLACE REPLACE", "COPY a c replace db 1", "COPY a c DB 1 DB 2", "SELECT 2",
             "GET c", "SELECT 0", "SET t v EX 100", "COPY t t2", "TTL t2", "COPY a", "COPY"],
    "move": ["SET a 1", "MOVE a 1", "EXISTS a", "SELECT 1", "GET a", "MOVE a 1", "MOVE a 0", "SELECT 0", "GET a",
             "SET a 2", "MOVE a 1", "GET a", "MOVE missing 1", "MOVE a 16", "MOVE a -1", "MOVE a abc", "MOVE a 1.5",
             "SET t v EX 100", "MOVE t 2", "SELECT 2", "TTL t", "MOVE a", "MOVE a 1 2"],
    "keys-glob": [["MSET", "hello", "1", "hallo", "2", "hxllo", "3", "hllo", "4", "heeeello", "5", "a*b", "6",
                   "a b", "7", "[x]", "8", "a\\b", "9", "A", "10", "a", "11", "ab", "12", "-", "13", "^", "14"]]
    + [["KEYS", pattern] for pattern in [
        "*", "h?llo", "h*llo", "h[ae]llo", "h[^e]llo", "h[a-b]llo", "h[b-a]llo", "a\\*b", "a*", "\\[x\\]", "[x]",
        "[", "h[", "h[a-", "[a-", "*[b]", "A", "a", "[A]", "[a-z]", "[z-a]", "h\\?llo", "???", "*o", "", "**",
        "a\\\\b", "a\\", "\\", "[\\]]", "[-]", "[^]", "[]", "[a-]", "[!a]", "*b*", "?*", "*?*?*", "[^a-z]",
        "a[", "[[]x]", "h[a-e-x]llo"]] + ["KEYS", "KEYS a b"],
    "keys-empty-db": ["KEYS *", "KEYS a"],
    "scan": [["MSET", *[part for i in range(40) for part in (f"key:{i}", str(i))]], "SET other x", "SCAN 0",
             "SCAN 0 MATCH key:1*", "SCAN 0 COUNT 1", "SCAN 0 COUNT 1000 MATCH *1*", "SCAN 0 match *3 count 2",
             "SCAN 0 TYPE string", "SCAN 0 TYPE STRING", "SCAN 0 TYPE list", "SCAN 0 TYPE foo",
             "SCAN 0 MATCH nothing*", "SCAN 0 COUNT 0", "SCAN 0 COUNT -1", "SCAN 0 COUNT abc", "SCAN 0 COUNT",
             "SCAN 0 MATCH", "SCAN 0 TYPE", "SCAN 0 FOO bar", "SCAN 0 MATCH a MATCH other",
             "SCAN 0 COUNT 9223372036854775808", "SCAN abc", "SCAN ' 0'", "SCAN 0x", "SCAN -", "SCAN ''",
             "SCAN 99999999999999999999999", "SCAN 1.5", "SCAN"],
    "scan-empty-db": ["SCAN 0", "SCAN 0 MATCH a"],
    "randomkey": ["RANDOMKEY", "SET a 1", "RANDOMKEY", "RANDOMKEY x", "DEL a", "RANDOMKEY"],
    "dbsize-flushdb": ["DBSIZE", "MSET a 1 b 2", "DBSIZE", "SELECT 1", "SET c 3", "DBSIZE", "SELECT 0", "FLUSHDB",
                       "DBSIZE", "SELECT 1", "DBSIZE", "FLUSHDB ASYNC", "DBSIZE", "FLUSHDB SYNC", "FLUSHDB sync",
                       "FLUSHDB FOO", "FLUSHDB ASYNC SYNC", "DBSIZE x"],
    "swapdb": ["SET a 0", "SELECT 1", "SET b 1", "SWAPDB 0 1", "GET a", "GET b", "SELECT 0", "GET a", "GET b",
               "SWAPDB 0 0", "GET b", "SWAPDB 0 16", "SWAPDB -1 0", "SWAPDB a 0", "SWAPDB 0 b", "SWAPDB 1.5 0",
               "SWAPDB 0", "SWAPDB 0 1 2", "DBSIZE"],
    "object-encoding": [step for i, value in enumerate(
        ["123", "-123", "0", "9999", "10000", "0123", "9223372036854775807", "9223372036854775808",
         "-9223372036854775808", "", "a" * 44, "a" * 45, "é" * 22, " 1", "+1", "1.5", "abc", "-0",
         "12345678901234567890", "1" * 21]) for step in (["SET", f"e{i}", value], f"OBJECT ENCODING e{i}")]
    + ["APPEND a1 123", "OBJECT ENCODING a1", "APPEND a1 4", "OBJECT ENCODING a1", "APPEND a2 abc",
       "OBJECT ENCODING a2", "SET a3 12", "APPEND a3 ''", "OBJECT ENCODING a3", "INCR i1", "OBJECT ENCODING i1",
       "SET i2 abc", "SET i2 10", "INCRBY i2 100000", "OBJECT ENCODING i2", "INCRBYFLOAT f1 1.5",
       "OBJECT ENCODING f1", "INCRBYFLOAT f2 3", "OBJECT ENCODING f2", "SETRANGE r1 0 12", "OBJECT ENCODING r1",
       "SET r2 12", "SETRANGE r2 0 3", "OBJECT ENCODING r2", "GETSET g1 77", "OBJECT ENCODING g1", "MSET m1 5 m2 x",
       "OBJECT ENCODING m1", "OBJECT ENCODING m2", "SETNX n1 42", "OBJECT ENCODING n1", "SETEX x1 100 42",
       "OBJECT ENCODING x1", "COPY e0 c1", "OBJECT ENCODING c1", "COPY e11 c2", "OBJECT ENCODING c2",
       "RENAME e10 c3", "OBJECT ENCODING c3", "OBJECT ENCODING missing", "OBJECT encoding e0", "OBJECT FOO",
       "OBJECT FOO a", "OBJECT ENCODING", "OBJECT ENCODING a b", "OBJECT"],
}

EXPIRY_CASES = {
    "expire-family": ["EXPIRE k 100", "SET k v", "EXPIRE k 100", "TTL k", "PEXPIRE k 200000", "PTTL k",
                      "EXPIREAT k NOW+300", "TTL k", "EXPIRETIME k", "PEXPIREAT k NOWMS+400000", "PEXPIRETIME k",
                      "EXPIRETIME k", "PERSIST k", "PERSIST k", "TTL k", "PTTL k", "EXPIRETIME k", "PEXPIRETIME k",
                      "TTL missing", "PTTL missing", "EXPIRETIME missing", "PEXPIRETIME missing", "PERSIST missing",
                      "PEXPIRE missing 100", "EXPIREAT missing NOW+100", "TTL", "PTTL a b", "EXPIRETIME",
                      "PERSIST a b"],
    "expire-in-the-past-deletes": ["SET k v", "EXPIRE k 0", "EXISTS k", "SET k v", "EXPIRE k -1", "EXISTS k",
                                   "SET k v", "PEXPIRE k -100", "GET k", "SET k v", "EXPIREAT k 1", "GET k",
                                   "SET k v", "PEXPIREAT k 0", "GET k", "SET k v", "EXPIREAT k -1", "GET k",
                                   "SET k v", "EXPIREAT k NOW-1", "DBSIZE", "EXPIRE missing -1"],
    "expire-errors": ["SET k v", "EXPIRE k abc", "EXPIRE k 1.5", "EXPIRE k ''", "EXPIRE k ' 1'",
                      "EXPIRE k 9223372036854775807", "EXPIRE k 9223372036854775", "EXPIRE k 9223372036854",
                      "EXPIRE k -9223372036854775808", "EXPIRE k -9223372036854775",
                      "PEXPIRE k 9223372036854775807", "PEXPIRE k -9223372036854775808",
                      "EXPIREAT k 9223372036854775807", "PEXPIREAT k 9223372036854775807",
                      "EXPIREAT k -9223372036854775808", "EXPIRE k 100 FOO", "EXPIRE k 100 NX FOO", "EXPIRE k",
                      "EXPIRE", "EXPIRE missing abc", "TTL k", "EXISTS k"],
    "expire-nx-xx-gt-lt": ["SET k v", "EXPIRE k 100 XX", "TTL k", "EXPIRE k 100 GT", "TTL k", "EXPIRE k 100 LT",
                           "TTL k", "EXPIRE k 200 NX", "TTL k", "EXPIRE k 300 XX", "TTL k", "EXPIRE k 50 GT", "TTL k",
                           "EXPIRE k 500 gt", "TTL k", "EXPIRE k 1000 LT", "EXPIRE k 10 lt", "TTL k",
                           "PEXPIRE k 5000 LT", "PTTL k", "EXPIREAT k NOW+50 GT", "PEXPIREAT k NOWMS+2000 LT",
                           "PTTL k", "EXPIRE missing 100 NX", "EXPIRE missing 100 XX", "EXPIRE missing 100 GT",
                           "EXPIRE k -1 GT", "EXISTS k", "EXPIRE k -1 NX", "EXISTS k", "EXPIRE k -1 LT", "EXISTS k",
                           "SET p v", "EXPIRE p -1 XX", "EXPIRE p -1 GT", "EXISTS p", "EXPIRE p 0 NX", "EXISTS p"],
    "expire-conflicting-options": ["SET k v", "EXPIRE k 100 NX XX", "EXPIRE k 100 NX GT", "EXPIRE k 100 NX LT",
                                   "EXPIRE k 100 GT LT", "EXPIRE k 100 LT GT", "EXPIRE k 100 XX GT", "TTL k",
                                   "EXPIRE k 200 XX LT", "EXPIRE k 100 NX NX", "EXPIRE k 50 GT GT",
                                   "EXPIRE k 500 GT GT",
                                   "PEXPIRE k 100 NX XX", "EXPIREAT k 1 GT LT", "PEXPIREAT k 1 NX LT",
                                   "EXPIRE k abc NX XX", "EXPIRE k 100 NX XX FOO", "EXPIRE k 100 FOO NX XX",
                                   "EXPIRE k 100 XX NX", "TTL k", "EXISTS k"],
    "writes-and-ttl": ["SET k v EX 100", "SET k w", "TTL k", "SET k v EX 100", "APPEND k x", "TTL k",
                       "SETRANGE k 0 y", "TTL k", "SETNX k z", "TTL k", "GETSET k z", "TTL k", "SET k 1 EX 100",
                       "INCR k", "TTL k", "MSET k 1", "TTL k", "SET k v EX 100", "GETDEL k", "SET k v", "TTL k",
                       "SET k v EX 100", "DEL k", "SET k v", "TTL k", "SET k v EX 100", "GETEX k", "TTL k"],
    "touch": ["TOUCH a", "MSET a 1 b 2", "TOUCH a b c a", "TOUCH", "TOUCH a"],
}

TRANSACTION_CASES = {
    "multi-exec": ["MULTI", "SET a 1", "INCR a", "GET a", "MGET a b", "EXEC", "GET a"],
    "empty-exec": ["MULTI", "EXEC"],
    "runtime-error-inside-exec": ["SET s x", "MULTI", "SET a 1", "INCR s", "INCRBYFLOAT s 1", "SET a 2 EX 0",
                                  "SET a 3 NX XX", "GET a", "RENAME missing b", "EXEC", "GET a"],
    "execabort-wrong-arity": ["MULTI", "SET a 1", "GET", "SET b 2", "EXEC", "MGET a b", "EXEC"],
    "execabort-unknown-command": ["MULTI", "SET a 1", "FOO bar baz", "EXEC", "GET a", "EXEC"],
    "execabort-empty-command-name": ["MULTI", ["", "x"], "EXEC"],
    "nested-multi": ["MULTI", "SET a 1", "MULTI", "SET b 2", "EXEC", "MGET a b", "EXEC"],
    "exec-discard-without-multi": ["EXEC", "DISCARD", "MULTI", "DISCARD", "DISCARD", "EXEC"],
    "discard": ["MULTI", "SET a 1", "DISCARD", "GET a", "MULTI", "SET a 2", "GET", "DISCARD", "GET a"],
    "multi-wrong-arity": ["MULTI a", "MULTI", "MULTI a", "SET a 1", "EXEC", "GET a"],
    "exec-discard-wrong-arity-inside-multi": ["MULTI", "SET a 1", "EXEC x", "DISCARD x", "EXEC", "GET a"],
    "watch-inside-multi": ["MULTI", "WATCH a", "SET a 1", "EXEC", "GET a"],
    "unwatch-inside-multi": ["MULTI", "UNWATCH", "SET a 1", "EXEC", "GET a"],
    "select-inside-multi": ["MULTI", "SELECT 1", "SET a 1", "SELECT 16", "EXEC", "GET a", "SELECT 0", "GET a"],
    "keyspace-commands-inside-multi": ["MSET a 1 b 2", "MULTI", "KEYS *", "DBSIZE", "DEL a", "DBSIZE",
                                       "RANDOMKEY", "EXISTS a b", "RENAME b c", "COPY c d", "MOVE d 1",
                                       "SWAPDB 0 1", "DBSIZE", "FLUSHDB", "DBSIZE", "EXEC", "DBSIZE", "SELECT 1",
                                       "KEYS *"],
    "ttl-inside-multi": ["MULTI", "SET a v EX 100", "TTL a", "PTTL a", "EXPIRETIME a", "PERSIST a", "TTL a",
                         "EXEC"],
    "ping-echo-inside-multi": ["MULTI", "PING", "PING x", "ECHO y", "EXEC"],
    "watch-untouched": ["SET a 1", "WATCH a", "@other GET a", "MULTI", "SET a 2", "EXEC", "GET a"],
    "watch-touched-by-other": ["SET a 1", "WATCH a", "@other SET a 5", "MULTI", "SET a 2", "EXEC", "GET a"],
    "watch-touched-by-self": ["SET a 1", "WATCH a", "SET a 3", "MULTI", "SET a 2", "EXEC", "GET a"],
    "watch-same-value": ["SET a 1", "WATCH a", "@other SET a 1", "MULTI", "SET a 2", "EXEC", "GET a"],
    "watch-missing-key-created": ["WATCH a", "@other SET a 1", "@other DEL a", "MULTI", "SET b 2", "EXEC",
                                  "GET b"],
    "watch-missing-key-untouched": ["WATCH a", "@other DEL a", "@other EXPIRE a 100", "MULTI", "SET b 2", "EXEC",
                                    "GET b"],
    "watch-expire": ["SET a 1", "WATCH a", "@other EXPIRE a 100", "MULTI", "PING", "EXEC"],
    "watch-persist-without-ttl": ["SET a 1", "WATCH a", "@other PERSIST a", "MULTI", "PING", "EXEC"],
    "watch-failed-incr": ["SET a x", "WATCH a", "@other INCR a", "MULTI", "PING", "EXEC"],
    "watch-rename-onto": ["SET a 1", "SET b 2", "WATCH a", "@other RENAME b a", "MULTI", "GET a", "EXEC"],
    "watch-flushdb-existing": ["SET a 1", "WATCH a", "@other FLUSHDB", "MULTI", "PING", "EXEC"],
    "watch-flushdb-missing": ["SET b 1", "WATCH a", "@other FLUSHDB", "MULTI", "PING", "EXEC"],
    "watch-swapdb": ["SET a 1", "WATCH a", "@other SWAPDB 0 1", "MULTI", "PING", "EXEC", "GET a"],
    "watch-other-db": ["SET a 1", "WATCH a", "@other SELECT 1", "@other SET a 2", "MULTI", "GET a", "EXEC"],
    "watch-move-away": ["SET a 1", "WATCH a", "@other MOVE a 1", "MULTI", "GET a", "EXEC"],
    "unwatch": ["SET a 1", "WATCH a", "UNWATCH", "@other SET a 5", "MULTI", "SET a 2", "EXEC", "GET a"],
    "watch-cleared-by-exec": ["SET a 1", "WATCH a", "MULTI", "PING", "EXEC", "@other SET a 5", "MULTI", "SET a 2",
                              "EXEC", "GET a"],
    "watch-cleared-by-discard": ["SET a 1", "WATCH a", "MULTI", "DISCARD", "@other SET a 5", "MULTI", "SET a 2",
                                 "EXEC", "GET a"],
    "watch-several": ["MSET a 1 b 2", "WATCH a b c", "WATCH c", "@other SET c 3", "MULTI", "SET a 9", "EXEC",
                      "GET a", "WATCH", "UNWATCH x"],
}

# Whether another client's command, applied to the watched key k, makes EXEC fail: only when it changed k.
WATCHED_KEY_WRITES = {
    "set": "SET k 2", "set-nx-fails": "SET k 2 NX", "setnx-fails": "SETNX k 2", "msetnx-fails": "MSETNX a 1 k 2",
    "append-empty": "APPEND k ''", "setrange-empty": "SETRANGE k 0 ''", "setrange": "SETRANGE k 0 x",
    "incr": "INCR k", "incrbyfloat-fails": "INCRBYFLOAT k nan", "getex-plain": "GETEX k", "getex-ex": "GETEX k EX 100",
    "getex-persist-without-ttl": "GETEX k PERSIST", "expire-nx": "EXPIRE k 100 NX",
    "expire-gt-fails": "EXPIRE k 100 GT",
    "persist-without-ttl": "PERSIST k", "touch": "TOUCH k", "del-other-key": "DEL a", "copy-onto-fails": "COPY a k",
    "copy-onto-replace": "COPY a k REPLACE", "copy-from": "COPY k z", "renamenx-onto-fails": "RENAMENX a k",
    "rename-away": "RENAME k z", "move-away": "MOVE k 1", "getdel": "GETDEL k", "flushdb-other-db": "FLUSHDB",
}
WATCH_CASES = {
    f"watch-then-{name}": ["SET k 1", "SET a 2", "WATCH k", f"@other {step}", "MULTI", "PING", "EXEC", "GET k"]
    for name, step in WATCHED_KEY_WRITES.items()
}
WATCH_CASES["watch-then-flushdb-other-db"][3:4] = ["@other SELECT 1", "@other SET q 1", "@other FLUSHDB"]

CONNECTION_CASES = {
    "ping-echo": ["PING", "PING hello", "PING ''", "PING a b", "ECHO hi", "ECHO ''", "ECHO", "ECHO a b", "ping",
                  "echo 'x y'"],
    "select": ["SELECT 1", "SET a 1", "SELECT 0", "GET a", "SELECT 15", "GET a", "SELECT 16", "SELECT -1",
               "SELECT abc", "SELECT 1.5", "SELECT ''", "SELECT ' 1'", "SELECT 01", "SELECT 9999999999999999999",
               "SELECT 4294967297", "SELECT", "SELECT 1 2", "GET a", "SELECT 1", "GET a"],
    "unknown-commands": ["FOO", "FOO a b", "foo 'a b' c", ["FOO", "x" * 200],
                         ["FOO", *[f"arg{i:05}" for i in range(40)]], ["X" * 200, "a"], ["FOO", "a\r\nb", "c\nd"],
                         ["", "x"], ["GETT", "k"], "MULTIX"],
    "wrong-arity": ["GET", "GET a b", "SET a", "MGET", "DEL", "STRLEN", "APPEND a", "INCR", "INCR a b",
                    "GETRANGE a 0", "SETRANGE a 0", "TTL", "EXPIRE a", "RENAME a", "COPY a", "MOVE a", "KEYS", "SCAN",
                    "DBSIZE a", "RANDOMKEY a", "PERSIST", "TOUCH", "EXISTS", "MULTI a", "EXEC a", "DISCARD a",
                    "WATCH", "UNWATCH a", "SWAPDB 0", "PING a b", "ECHO", "SELECT", "CONFIG", "CONFIG GET",
                    "get", "Set a", "GETEX", "SETEX a 1", "PSETEX a", "INCRBYFLOAT a", "SUBSTR a 1"],
    "config": ["CONFIG GET databases", "CONFIG GET save", "CONFIG GET appendonly", "CONFIG GET timeout",
               "CONFIG GET slowlog-max-len", "CONFIG GET proto-max-bulk-len", "CONFIG GET slowlog-*",
               "CONFIG GET DATABASES", "CONFIG GET no-such-directive", "CONFIG GET databases timeout",
               "CONFIG FOO", "CONFIG SET timeout"],
}

CASES = {
    f"{family}/{name}": steps
    for family, cases in [("strings", STRING_CASES), ("keys", KEY_CASES), ("expiry", EXPIRY_CASES),
                          ("transactions", TRANSACTION_CASES), ("transactions", WATCH_CASES),
                          ("connection", CONNECTION_CASES)]
    for name, steps in cases.items()
}

# Differences Weft keeps for now, each with its reason; strict, so a case that starts to agree fails until it is
# taken off this list.
KNOWN_DIFFERENCES: dict[str, str] = {}

CLOCK_ARGUMENT = re.compile(r"^(NOW|NOWMS)([+-]\d+)$")


def resolve(step):
    args = shlex.split(step) if isinstance(step, str) else list(step)
    connection = "main"
    if args and args[0] == "@other":
        connection, args = "other", args[1:]

    def value(arg):
        match = isinstance(arg, str) and CLOCK_ARGUMENT.match(arg)
        if not match:
            return arg
        now = time.time()
        return str((int(now) if match[1] == "NOW" else int(now * 1000)) + int(match[2]))

    return connection, [value(arg) for arg in args]


def with_known_differences(cases, known):
    """The cases as pytest parameters, those in `known` (name: reason) as strict xfails."""
    return [
        pytest.param(
            steps,
            id=name,
            marks=[pytest.mark.xfail(strict=True, reason=known[name])] if name in known else [],
        )
        for name, steps in cases.items()
    ]


def assert_same_replies(pair, steps, show=repr):
    """Runs every step on both servers and fails with every step whose replies differ."""
    mismatches = []
    for index, step in enumerate(steps):
        connection, args = resolve(step)
        ours, theirs, agree = pair.run(args, connection)
        if not agree:
            prefix = "@other " if connection == "other" else ""
            mismatches.append(f"step {index}: {prefix}{args!r}\n    redis: {show(ours)}\n    weft:  {show(theirs)}")
    assert not mismatches, f"{len(mismatches)} mismatching replies:\n" + "\n".join(mismatches)


@pytest.mark.parametrize("steps", with_known_differences(CASES, KNOWN_DIFFERENCES))
def test_same_replies(pair, steps):
    assert_same_replies(pair, steps)


# ---------------------------------------------------------------------------------------------------------------
# Random sequences.
# ---------------------------------------------------------------------------------------------------------------

SEEDS = [1, 2, 3, 4]
COMMANDS_PER_SEED = 800
KEYS = ["a", "b", "c", "d", "n1", "n2", "s1", "s2"]
VALUES = ["", "v", "abc", "hello world", "x" * 50, "é", "0", "1", "-1", "42", "10000", "10.5", "1e3", "5.0e3",
          "9223372036854775807", "-9223372036854775808", "9223372036854775806", " 1", "+1", "01", "0x10", "inf"]
INTEGERS = ["0", "1", "-1", "2", "7", "100", "-100", "9223372036854775807", "-9223372036854775808", "abc", "1.5",
            "", " 1", "01", "+1"]
FLOATS = ["0", "1", "-1", "0.1", "1.5", "-2.25", "1e3", "5.0e3", "1e-3", "3.0E2", "inf", "-inf", "nan", "abc", "",
          " 1", "0x10", "1e308", "-0"]
INDICES = ["0", "1", "2", "-1", "-2", "5", "100", "-100", "9223372036854775807", "-9223372036854775808", "abc"]
OFFSETS = ["0", "1", "3", "10", "-1", "abc", "536870912"]
PATTERNS = ["*", "?", "n*", "s?", "[ab]", "[^ab]*", "*1", "x*", "[a-c]"]
# Relative times far apart from each other and from the absolute ones (made in `absolute_times`), so that GT and LT
# never compare two times that differ only by the milliseconds between the two servers' replies.
RELATIVE_SECONDS = ["100", "5000", "0", "-1", "abc", "9223372036854775807"]
RELATIVE_MILLISECONDS = ["300000", "7000000", "0", "-5", "abc", "9223372036854775807"]


def absolute_times():
    """Unix times for EXPIREAT, PEXPIREAT, GETEX; and for SET, which keeps a key whose time is already past until
    something reads it or the active expiry cycle happens to find it (so DBSIZE would depend on the timing): only
    future times, and ones refused."""
    now = int(time.time())
    future_seconds, future_milliseconds = [str(now + 20_000), str(now + 40_000)], [str((now + 30_000) * 1000)]
    return {
        "seconds": [*future_seconds, "1", "0", "abc"],
        "milliseconds": [*future_milliseconds, str((now + 60_000) * 1000), "1", "abc"],
        "set seconds": [*future_seconds, "0", "abc"],
        "set milliseconds": [*future_milliseconds, "-1", "abc"],
    }


class Generator:
    def __init__(self, seed):
        self.random = random.Random(seed)
        self.times = absolute_times()
        choice = self.random.choice
        key = self.key
        self.commands = [
            (6, lambda: ["GET", key()]),
            (8, self.set),
            (2, lambda: ["SETNX", key(), choice(VALUES)]),
            (2, lambda: ["SETEX", key(), choice(RELATIVE_SECONDS), choice(VALUES)]),
            (2, lambda: ["PSETEX", key(), choice(RELATIVE_MILLISECONDS), choice(VALUES)]),
            (2, lambda: ["GETSET", key(), choice(VALUES)]),
            (2, lambda: ["GETDEL", key()]),
            (3, self.getex),
            (2, lambda: ["MGET", *self.keys(1, 4)]),
            (2, self.mset),
            (2, lambda: ["MSETNX", *[part for k in self.keys(1, 3) for part in (k, choice(VALUES))]]),
            (3, lambda: [choice(["INCR", "DECR"]), key()]),
            (3, lambda: [choice(["INCRBY", "DECRBY"]), key(), choice(INTEGERS)]),
            (3, lambda: ["INCRBYFLOAT", key(), choice(FLOATS)]),
            (2, lambda: ["APPEND", key(), choice(VALUES)]),
            (2, lambda: ["STRLEN", key()]),
            (2, lambda: [choice(["GETRANGE", "SUBSTR"]), key(), choice(INDICES), choice(INDICES)]),
            (2, lambda: ["SETRANGE", key(), choice(OFFSETS), choice(["", "x", "yz", "12"])]),
            (3, lambda: [choice(["DEL", "UNLINK", "EXISTS", "TOUCH"]), *self.keys(1, 4)]),
            (2, lambda: ["TYPE", key()]),
            (2, lambda: [choice(["RENAME", "RENAMENX"]), key(), key()]),
            (2, lambda: ["COPY", key(), key(), *self.options([["REPLACE"], ["DB", choice(["0", "1", "16", "x"])]])]),
            (1, lambda: ["MOVE", key(), choice(["0", "1", "1", "16"])]),
            (1, lambda: ["KEYS", choice(PATTERNS)]),
            (1, self.scan),
            (1, lambda: ["RANDOMKEY"]),
            (1, lambda: ["DBSIZE"]),
            (0.2, lambda: ["FLUSHDB"]),
            (0.3, lambda: ["SWAPDB", choice(["0", "1"]), choice(["0", "1", "16"])]),
            (0.5, lambda: ["SELECT", choice(["0", "0", "1", "16", "x"])]),
            (3, self.relative_expire),
            (3, self.absolute_expire),
            (3, lambda: [choice(["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"]), key()]),
            (1, lambda: ["PERSIST", key()]),
            (2, lambda: ["OBJECT", "ENCODING", key()]),
            (1, lambda: ["MULTI"]),
            (1, lambda: ["WATCH", *self.keys(1, 2)]),
            (0.5, lambda: ["UNWATCH"]),
            (0.3, lambda: ["EXEC"]),
            (0.3, lambda: ["DISCARD"]),
            (0.5, lambda: choice([["GET"], ["SET", key()], ["FOO", key()], ["INCR", key(), "1"], ["PING", "hi"],
                                  ["ECHO", "x"], ["EXPIRE", key()], ["GETRANGE", key(), "0"]])),
        ]
        self.weights = [weight for weight, _ in self.commands]

    def key(self):
        return self.random.choice(KEYS)

    def keys(self, low, high):
        return [self.key() for _ in range(self.random.randint(low, high))]

    def options(self, candidates, most=2):
        chosen = []
        for _ in range(self.random.randint(0, most)):
            chosen += self.random.choice(candidates)
        return chosen

    def set(self):
        choice = self.random.choice
        return ["SET", self.key(), choice(VALUES), *self.options([
            ["NX"], ["XX"], ["GET"], ["KEEPTTL"], ["EX", choice(RELATIVE_SECONDS)],
            ["PX", choice(RELATIVE_MILLISECONDS)], ["EXAT", choice(self.times["set seconds"])],
            ["PXAT", choice(self.times["set milliseconds"])], ["FOO"]])]

    def getex(self):
        choice = self.random.choice
        return ["GETEX", self.key(), *self.options([
            ["PERSIST"], ["EX", choice(RELATIVE_SECONDS)], ["PX", choice(RELATIVE_MILLISECONDS)],
            ["EXAT", choice(self.times["seconds"])], ["PXAT", choice(self.times["milliseconds"])], ["KEEPTTL"]],
            most=1 if self.random.random() < 0.9 else 2)]

    def mset(self):
        parts = [part for k in self.keys(1, 3) for part in (k, self.random.choice(VALUES))]
        return ["MSET", *(parts[:-1] if self.random.random() < 0.1 else parts)]

    def scan(self):
        return ["SCAN", "0", *self.options([["MATCH", self.random.choice(PATTERNS)],
                                            ["COUNT", self.random.choice(["1", "3", "100", "0"])],
                                            ["TYPE", self.random.choice(["string", "list"])]], most=3)]

    def relative_expire(self):
        # GT and LT only in the conflicting combinations, which fail before the time is looked at.
        flags = self.random.choice([[], [], ["NX"], ["XX"], ["NX", "XX"], ["GT", "LT"], ["NX", "GT"], ["FOO"]])
        if self.random.random() < 0.5:
            return ["EXPIRE", self.key(), self.random.choice(RELATIVE_SECONDS), *flags]
        return ["PEXPIRE", self.key(), self.random.choice(RELATIVE_MILLISECONDS), *flags]

    def absolute_expire(self):
        flags = self.random.choice([[], [], ["NX"], ["XX"], ["GT"], ["LT"], ["XX", "GT"], ["NX", "XX"], ["GT", "LT"]])
        if self.random.random() < 0.5:
            return ["EXPIREAT", self.key(), self.random.choice(self.times["seconds"]), *flags]
        return ["PEXPIREAT", self.key(), self.random.choice(self.times["milliseconds"]), *flags]

    def next(self, in_multi):
        if in_multi and self.random.random() < 0.12:
            return [self.random.choice(["EXEC", "EXEC", "DISCARD"])]
        while True:
            command = self.random.choices(self.commands, self.weights)[0][1]()
            # SCAN is compared over a full iteration, which a transaction cannot do.
            if not (in_multi and command[0] == "SCAN"):
                return command


@pytest.mark.parametrize("seed", SEEDS)
def test_random_sequences(pair, seed):
    generator = Generator(seed)
    history = []
    for index in range(COMMANDS_PER_SEED):
        args = generator.next(pair.in_multi)
        ours, theirs, agree = pair.run(args)
        history.append(f"  {index}: {args!r} -> {ours!r}")
        if not agree:
            context = "\n".join(history[-12:-1])
            pytest.fail(
                f"seed {seed}, command {index}: {args!r}\n  redis: {ours!r}\n  weft:  {theirs!r}\n"
                f"previous commands (with Redis's replies):\n{context}"
            )
