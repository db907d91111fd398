"""DUMP and RESTORE against redis-server 7.0.15: payloads made by either server restore in the other, DUMP's bytes
are Redis's, every error and its order is Redis's, and RESTORE is a write like SET (TTL, REPLACE, ABSTTL, WATCH,
MULTI/EXEC, the commit log across restarts).

Weft holds only strings, so a payload of another type is "Bad data format" where Redis loads it (checked apart).
"""
import random
import shutil
import struct
import subprocess
import time

import pytest
import redis

from weft_process import dump, reflected_crc_table, servers  # noqa: F401 (servers: fixture)

INTEGER_STRINGS = ["0", "-1", "1", "127", "128", "-128", "-129", "255", "256", "32767", "32768", "-32768", "-32769",
                   "65535", "65536", "2147483647", "2147483648", "-2147483648", "-2147483649",
                   "9223372036854775807", "-9223372036854775808", "9223372036854775808", "007", "+1", "-0", " 1",
                   "1 ", "1.5", "12345678901", "123456789012345678901"]


def crc64(data):
    """Redis's CRC-64 (Jones; reflected, no final xor), for the hand-made payloads."""
    crc = 0
    for byte in data:
        crc = CRC_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc


CRC_TABLE = reflected_crc_table(0x95AC9329AC4BC9B5)


def sealed(body, version=10):
    """`body` with DUMP's footer: the RDB version and the CRC-64, little-endian."""
    data = body + struct.pack("<H", version)
    return data + struct.pack("<Q", crc64(data))


def reply(client, *args):
    """The reply, or the error's text (redis-py drops the `ERR ` of a plain error, for both servers alike)."""
    try:
        return ("ok", client.execute_command(*args))
    except redis.ResponseError as error:
        return ("error", str(error))


def values(seed):
    """Strings of every form DUMP distinguishes: integers, short, around the LZF threshold, compressible, binary,
    and lengths at every length-encoding boundary up to 100,000 bytes."""
    rng = random.Random(seed)
    found = [s.encode() for s in INTEGER_STRINGS]
    found += [b"", b"a", b"hello", b"a" * 20, b"a" * 21, b"ab" * 11, b"\x00\r\n\xff" * 8,
              b"The quick brown fox jumps over the lazy dog. " * 30]
    for length in [1, 19, 20, 21, 22, 44, 45, 63, 64, 65, 100, 1000, 16383, 16384, 16385, 65535, 65536, 100000]:
        found.append(rng.randbytes(length))
        # Few symbols: LZF finds matches everywhere, near the end too.
        found.append(bytes(rng.choice(b"ab\x00") for _ in range(length)))
        # Repeated words with noise: long matches, literal runs, far references.
        words = [rng.randbytes(rng.randint(1, 12)) for _ in range(20)]
        text = b"".join(rng.choice(words) if rng.random() < 0.9 else rng.randbytes(3) for _ in range(length // 4 + 1))
        found.append(text[:length])
    for _ in range(20):
        found.append(rng.randbytes(rng.randint(0, 100000)))
    return found


@pytest.fixture
def both(server, redis_reference):
    weft = redis.Redis(port=server, socket_timeout=30)
    reference = redis.Redis(port=redis_reference, socket_timeout=30)
    weft.flushall()
    reference.flushall()
    yield weft, reference
    weft.close()
    reference.close()


def test_dump_is_redis_dump(both):
    """The same string gives the same payload in both servers, LZF compression included."""
    weft, reference = both
    for index, value in enumerate(values(1)):
        weft.set("k", value)
        reference.set("k", value)
        assert weft.dump("k") == reference.dump("k"), f"value {index}: {value[:40]!r} ({len(value)} bytes)"
    # Strings written in place (APPEND, SETRANGE: raw, and chunked past 64 KiB) and integers made by INCR.
    for client in both:
        client.delete("k")
        for _ in range(200):
            client.append("k", b"0123456789abcdefghij" * 50)
        client.setrange("k", 70000, b"\x00\xff" * 100)
        client.set("n", 41)
        client.incr("n")
        client.append("ap", "12")
    for key in ["k", "n", "ap"]:
        assert weft.dump(key) == reference.dump(key), key
    assert weft.dump("missing") is None and reference.dump("missing") is None


def test_redis_payloads_restore_in_weft(both):
    weft, reference = both
    for index, value in enumerate(values(2)):
        reference.set("k", value)
        payload = reference.dump("k")
        assert weft.restore("k", 0, payload, replace=True) == b"OK"
        assert weft.get("k") == value, f"value {index}: {value[:40]!r} ({len(value)} bytes)"
        assert weft.ttl("k") == -1
        # Redis's tryObjectEncoding after loading: int, embstr or raw from the content, shared small integers.
        reference.restore("r", 0, payload, replace=True)
        assert weft.object("encoding", "k") == reference.object("encoding", "r"), value[:40]
        assert weft.object("refcount", "k") == reference.object("refcount", "r"), value[:40]
    reference.set("k", "v")
    assert weft.restore("t", 100_000, reference.dump("k")) == b"OK"
    assert 99_000 <= weft.pttl("t") <= 100_000


def test_weft_payloads_restore_in_redis(both):
    weft, reference = both
    for index, value in enumerate(values(3)):
        weft.set("k", value)
        payload = weft.dump("k")
        assert reference.restore("k", 0, payload, replace=True) == b"OK", index
        assert reference.get("k") == value, f"value {index}: {value[:40]!r} ({len(value)} bytes)"
        # And back into Weft under another name.
        assert weft.restore("copy", 0, payload, replace=True) == b"OK"
        assert weft.get("copy") == value


def payloads(reference):
    """Payloads good and bad, by name."""
    reference.set("src", "hello")
    good = reference.dump("src")
    reference.set("src", "a" * 100)
    compressed = reference.dump("src")
    body = b"\x00\x05hello"
    return {
        "good": good,
        "lzf": compressed,
        "empty": b"",
        "short": good[:9],
        "garbage": b"garbage garbage",
        "bad crc": good[:-1] + bytes([good[-1] ^ 1]),
        "flipped body": bytes([good[0]]) + b"\x06" + good[2:],
        "version 11": sealed(body, version=11),
        "version 9": sealed(body, version=9),
        "version 0": sealed(body, version=0),
        "unknown type": sealed(b"\xc8" + body[1:]),
        "past the end": sealed(b"\x00\x3fhello"),
        "into the footer": sealed(b"\x00\x07hello"),
        "trailing bytes": sealed(body + b"xyz"),
        "unknown length": sealed(b"\x00\x82\x00\x00\x00\x05hello"),
        "unknown encoding": sealed(b"\x00\xc4hello"),
        "32-bit length": sealed(b"\x00\x80\x00\x00\x00\x05hello"),
        "64-bit length": sealed(b"\x00\x81" + struct.pack(">Q", 5) + b"hello"),
        "huge length": sealed(b"\x00\x81" + b"\xff" * 8),
        "int8": sealed(b"\x00\xc0\xfe"),
        "int16 cut": sealed(b"\x00\xc1"),
        "int32": sealed(b"\x00\xc2\x00\x00\x00\x80"),
        "lzf too long": sealed(b"\x00\xc3\x03\x06\x01ab"),
        "lzf too short": sealed(b"\x00\xc3\x03\x01\x01ab"),
        "lzf bad reference": sealed(b"\x00\xc3\x02\x03\x20\x05"),
        "lzf empty": sealed(b"\x00\xc3\x01\x00\xff"),
        "lzf cut": sealed(b"\x00\xc3\x3f\x02\x01ab"),
        "lzf huge": sealed(b"\x00\xc3\x03\x81" + b"\x00\x00\x01\x00\x00\x00\x00\x00" + b"\x01ab"),
    }


def test_errors_and_their_order_are_redis(both):
    weft, reference = both
    shown = payloads(reference)
    cases = []
    for name in shown:
        cases.append(("new", 0, name))
        cases.append(("exists", 0, name))
        cases.append(("new", -1, name))
        cases.append(("new", "x", name))
    options = [[], ["REPLACE"], ["replace", "absttl"], ["IDLETIME", "10"], ["IDLETIME", "-1"], ["IDLETIME", "x"],
               ["IDLETIME"], ["FREQ", "0"], ["FREQ", "255"], ["FREQ", "256"], ["FREQ", "-1"], ["FREQ", "1.5"],
               ["FREQ", "1", "IDLETIME", "1"], ["IDLETIME", "1", "FREQ", "1"], ["FREQ", "1", "FREQ", "2"],
               ["IDLETIME", "1", "IDLETIME", "2"], ["REPLACE", "REPLACE"], ["FOO"], ["REPLACE", "FOO"],
               ["IDLETIME", "-1", "FOO"], ["FOO", "IDLETIME", "-1"], ["ABSTTL", "FREQ", "300", "REPLACE"]]
    for option in options:
        for key in ["new", "exists"]:
            for ttl in [0, -1, "x", 1000]:
                for name in ["good", "garbage"]:
                    cases.append((key, ttl, name, *option))
    for key, ttl, name, *option in cases:
        for client in both:
            client.delete("new")
            client.set("exists", "old")
        args = ["RESTORE", key, ttl, shown[name], *option]
        ours, theirs = reply(weft, *args), reply(reference, *args)
        label = f"RESTORE {key} {ttl} <{name}> {' '.join(option)}"
        assert ours == theirs, label
        assert weft.get(key) == reference.get(key), label
        assert (weft.pttl(key) > 0) == (reference.pttl(key) > 0), label
    for args in [["RESTORE"], ["RESTORE", "k"], ["RESTORE", "k", "0"], ["DUMP"], ["DUMP", "a", "b"]]:
        assert reply(weft, *args) == reply(reference, *args), args


def test_other_types_are_bad_data_format_in_weft(both):
    """Redis loads them; Weft, which holds only strings, refuses them as Redis refuses a payload it cannot load."""
    weft, reference = both
    reference.rpush("list", "a", "b")
    reference.sadd("set", "a")
    reference.hset("hash", "f", "v")
    reference.zadd("zset", {"a": 1})
    reference.xadd("stream", {"f": "v"})
    for key in ["list", "set", "hash", "zset", "stream"]:
        payload = reference.dump(key)
        assert reply(weft, "RESTORE", key, 0, payload) == ("error", "Bad data format"), key
        assert weft.exists(key) == 0
        assert reference.restore(key + "2", 0, payload) == b"OK"
    # Still BUSYKEY first, as in Redis.
    weft.set("list", "x")
    assert reply(weft, "RESTORE", "list", 0, reference.dump("list"))[1].startswith("BUSYKEY")


def test_ttl_replace_and_absttl(both):
    weft, reference = both
    reference.set("src", "v")
    payload = reference.dump("src")
    now = int(time.time() * 1000)
    cases = [
        ("ttl 0: no expiry", [0]),
        ("relative", [5000]),
        ("absolute, future", [now + 60_000, "ABSTTL"]),
        ("absolute, past", [now - 1000, "ABSTTL"]),
        ("absolute 1", [1, "ABSTTL"]),
        ("absolute, past, replace", [1, "ABSTTL", "REPLACE"]),
        ("relative that wraps into the past", [2**63 - 1]),
        ("relative that wraps, replace", [2**63 - 1, "REPLACE"]),
        ("relative 2^62", [2**62]),
        ("absolute max", [2**63 - 1, "ABSTTL"]),
        ("replace", [0, "REPLACE"]),
        ("replace with ttl", [5000, "REPLACE"]),
        ("absttl 0", [0, "ABSTTL"]),
    ]
    for label, (ttl, *option) in cases:
        for existing in [False, True]:
            for client in both:
                client.delete("k")
                if existing:
                    client.set("k", "old", px=100_000)
            args = ["RESTORE", "k", ttl, payload, *option]
            assert reply(weft, *args) == reply(reference, *args), (label, existing)
            assert weft.get("k") == reference.get("k"), (label, existing)
            ours, theirs = weft.pttl("k"), reference.pttl("k")
            assert (ours > 0) == (theirs > 0) and abs(ours - theirs) < 2000, (label, existing, ours, theirs)
            ours, theirs = weft.execute_command("PEXPIRETIME", "k"), reference.execute_command("PEXPIRETIME", "k")
            assert abs(ours - theirs) < 2000, (label, existing, ours, theirs)


def test_watch_sees_restore(both):
    """A RESTORE of a watched key fails the EXEC; a RESTORE that fails or creates nothing does not."""
    weft, reference = both
    reference.set("src", "v")
    payload = reference.dump("src")
    scenarios = [
        ("restore a missing key", False, [0]),
        ("restore with replace", True, [0, "REPLACE"]),
        ("busy key", True, [0]),
        ("past ttl on a missing key", False, [1, "ABSTTL"]),
        ("past ttl with replace", True, [1, "ABSTTL", "REPLACE"]),
        ("bad payload", False, [0, "REPLACE"], b"garbage"),
    ]
    for label, existing, (ttl, *option), *bad in scenarios:
        outcomes = []
        for client in both:
            client.delete("w")
            if existing:
                client.set("w", "old")
            other = redis.Redis(port=client.connection_pool.connection_kwargs["port"])
            with client.pipeline() as pipe:
                pipe.watch("w")
                restored = reply(other, "RESTORE", "w", ttl, bad[0] if bad else payload, *option)
                pipe.multi()
                pipe.get("w")
                try:
                    outcomes.append((restored, pipe.execute()))
                except redis.WatchError:
                    outcomes.append((restored, "aborted"))
            other.close()
        assert outcomes[0] == outcomes[1], (label, outcomes)


def test_restore_inside_multi(both):
    weft, reference = both
    reference.set("src", "v")
    payload = reference.dump("src")
    results = []
    for client in both:
        client.delete("m", "n")
        client.set("n", "old")
        with client.pipeline(transaction=True) as pipe:
            pipe.execute_command("RESTORE", "m", 0, payload)
            pipe.execute_command("RESTORE", "m", 0, payload)  # BUSYKEY inside EXEC: the others still run
            pipe.execute_command("RESTORE", "n", 0, b"garbage", "REPLACE")
            pipe.execute_command("RESTORE", "n", 100000, payload, "REPLACE")
            pipe.execute_command("DUMP", "m")
            pipe.get("m")
            pipe.get("n")
            replies = pipe.execute(raise_on_error=False)
        results.append([str(r) if isinstance(r, Exception) else r for r in replies])
        assert 0 < client.pttl("n") <= 100000
    assert results[0] == results[1]
    # A syntax error while queueing discards the transaction, as in Redis.
    outcomes = []
    for client in both:
        with client.pipeline(transaction=True) as pipe:
            pipe.execute_command("RESTORE", "q", 0)
            pipe.set("q", "x")
            try:
                pipe.execute()
                outcomes.append("ran")
            except redis.ResponseError as error:
                outcomes.append(str(error))
        outcomes.append(client.exists("q"))
    assert outcomes[:2] == outcomes[2:]


def test_dump_counts_keyspace_hits_and_misses(both):
    weft, reference = both
    for client in both:
        client.set("k", "v")
        client.config_resetstat()
        client.dump("k")
        client.dump("missing")
        client.dump("missing2")
    ours, theirs = weft.info("stats"), reference.info("stats")
    assert (ours["keyspace_hits"], ours["keyspace_misses"]) == (theirs["keyspace_hits"], theirs["keyspace_misses"])


def cli(port, *args):
    return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True, timeout=30,
                          check=True).stdout


@pytest.mark.skipif(shutil.which("redis-cli") is None, reason="redis-cli is not installed")
def test_command_info_and_docs(server, redis_reference):
    for name in ["dump", "restore"]:
        for subcommand in ["INFO", "DOCS"]:
            assert cli(server, "COMMAND", subcommand, name) == cli(redis_reference, "COMMAND", subcommand, name), \
                (subcommand, name)
        assert cli(server, "COMMAND", "GETKEYS", "RESTORE", "k", "0", "x") == "k\n"


def test_restored_keys_survive_restarts(servers, redis_reference):  # noqa: F811 (servers: fixture)
    """RESTORE is logged like SET: after a graceful stop and after SIGKILL (appendfsync always) every key is back,
    with its expiry; a REPLACE whose TTL was past stays a deletion."""
    reference = redis.Redis(port=redis_reference)
    s = servers.start(appendfsync="always")
    c = s.client()
    rng = random.Random(4)
    expected = {}
    for index, value in enumerate(values(4)[:60]):
        reference.set("src", value)
        key = f"k{index}".encode()
        ttl = rng.choice([0, 0, 3_600_000])
        assert c.restore(key, ttl, reference.dump("src")) == b"OK"
        expected[key] = value
    c.set("gone", "x")
    assert c.restore("gone", 1, reference.dump("src"), replace=True, absttl=True) == b"OK"
    assert c.restore("replaced", 0, reference.dump("src")) == b"OK"
    reference.set("src", "second")
    assert c.restore("replaced", 0, reference.dump("src"), replace=True) == b"OK"
    expected[b"replaced"] = b"second"
    with c.pipeline() as pipe:
        pipe.multi()
        pipe.restore("inmulti", 0, reference.dump("src"))
        pipe.set("after", "x")
        pipe.execute()
    expected[b"inmulti"] = b"second"
    expected[b"after"] = b"x"
    before = dump(s.port)
    assert {key: value for key, (value, _) in before[0].items()} == expected
    c.close()
    assert s.stop() == 0, s.output()
    s.start()
    assert dump(s.port) == before
    with s.client() as c:
        assert c.restore("late", 0, c.dump("replaced")) == b"OK"
        before = dump(s.port)
    s.kill()
    s.start()
    assert dump(s.port) == before
    reference.delete("src")
