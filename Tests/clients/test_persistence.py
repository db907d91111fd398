"""The commit log seen from outside: weft-server processes restarted on the same directory (graceful stop, SIGKILL),
with the log's files cut, damaged, removed or compacted between runs.

Each test has its own tmp dir and ports; `servers` kills whatever a test left running.
"""
import os
import re
import subprocess
import threading
import time
from pathlib import Path

import pytest
import redis

from weft_process import (  # noqa: F401 (servers is a fixture)
    HEADER_SIZE,
    LOG_TOOL,
    blocks,
    client,
    cut,
    directory_size,
    dump,
    flip_bit,
    last_nonempty_segment,
    rewrite_header,
    segments,
    servers,
)

DAY_MS = 86_400_000


def now_ms():
    return int(time.time() * 1000)


def relative(path, data_dir):
    """`appendonlydir/weft-….log`: what a message naming the file contains whether it prints it absolute or relative
    to `--dir`."""
    return str(Path(path).relative_to(data_dir))


def mentions_number(text, number):
    return re.search(rf"(?<![0-9]){number}(?![0-9])", text) is not None


def populate(port):
    """Every command family that writes, over databases 0 to 5, binary-safe data included. Returns nothing: the
    tests compare full dumps."""
    far = now_ms() + 30 * DAY_MS
    c = [client(port, db=db) for db in range(6)]
    try:
        # Junk, then FLUSHALL: replay must apply it in order.
        for db in range(4):
            c[db].set("junk", "x")
        c[0].flushall()

        db0 = c[0]
        db0.set("s", "v")
        db0.mset({"m1": "a", "m2": "b", "m3": "c"})
        db0.msetnx({"nx1": "1", "nx2": "2"})
        assert db0.msetnx({"nx2": "x", "nx3": "y"}) is False
        db0.append("ap", "Hello ")
        db0.append("ap", "World")
        db0.incr("n")
        db0.incrby("n", 41)
        db0.decr("n")
        db0.decrby("n", 2)
        db0.incrbyfloat("f", "10.5")
        db0.incrbyfloat("f", "0.1")
        db0.set("sr", "Hello World")
        db0.setrange("sr", 6, "Redis")
        db0.setrange("pad", 5, "x")  # zero-filled
        db0.set("ex", "1", ex=100_000)
        db0.expire("s", 50_000)
        db0.pexpireat("m1", far)
        db0.expireat("m2", far // 1000 + 7)
        db0.set("pers", "p", ex=1000)
        assert db0.persist("pers") is True
        db0.set("kt", "a", ex=100_000)
        db0.set("kt", "b", keepttl=True)
        db0.set("notkt", "a", ex=100_000)
        db0.set("notkt", "b")  # a plain SET clears the expiry
        db0.execute_command("SETEX", "sx", 200_000, "sx")
        db0.psetex("psx", 300_000_000, "psx")
        db0.getset("gs", "new")
        db0.set("gx", "gx")
        db0.getex("gx", ex=400_000)
        db0.set("gp", "gp", ex=100)
        db0.getex("gp", persist=True)
        db0.setnx("setnx", "first")
        db0.setnx("setnx", "second")
        db0.set("gone", "x")
        db0.delete("gone")
        db0.set("unl", "x")
        db0.unlink("unl")
        db0.set("gd", "x")
        db0.getdel("gd")
        db0.set("shortlived", "x")
        db0.pexpireat("shortlived", 1)  # in the past: deleted
        db0.set("r1", "rv", px=900_000_000)
        db0.rename("r1", "r2")  # the expiry moves with it
        db0.set("rnx", "v")
        db0.renamenx("rnx", "rnx2")
        db0.copy("ap", "apcopy")
        db0.copy("m1", "m1copy", destination_db=2)  # expiry copied too
        db0.set("mv", "moved", ex=99_999)
        db0.move("mv", 1)
        db0.set(b"\x00bin\r\nkey", bytes(range(256)) * 3)
        db0.append(b"\x00bin\r\nkey", b"\x00\r\n")
        db0.set(b"k\r\n", b"\r\n\x00")
        db0.set(b"\xff\xfe", b"")  # an empty value
        db0.set("big", b"0123456789abcdef" * 65_536)  # 1 MiB that compresses
        db0.set("bigrandom", bytes((i * 7919 + (i >> 8) * 104_729) % 251 for i in range(200_000)))
        pipe = db0.pipeline(transaction=False)
        for i in range(300):
            pipe.set(f"many:{i}", i)
        for i in range(0, 300, 3):
            pipe.incr(f"many:{i}")
        for i in range(0, 300, 5):
            pipe.delete(f"many:{i}")
        for i in range(0, 300, 7):
            pipe.pexpire(f"many:{i}", 500_000_000 + i)
        pipe.execute()

        db1 = c[1]
        db1.set("only1", "x")
        tx = db1.pipeline(transaction=True)
        tx.set("a", "1").incr("b").incrby("b", 10).expire("a", 5000).append("a", "23").delete("only1")
        assert tx.execute() == [True, 1, 11, True, 3, 1]
        # A runtime error inside EXEC does not undo the rest.
        db1.set("word", "abc")
        tx = db1.pipeline(transaction=True)
        tx.set("before", "1").incr("word").set("after", "2")
        results = tx.execute(raise_on_error=False)
        assert isinstance(results[1], redis.ResponseError)

        db2 = c[2]
        db2.set("two", "2")
        db2.mset({b"\r\n": b"\x00", "2b": "2b"})

        db3 = c[3]
        for i in range(50):
            db3.set(f"three:{i}", i)
        db3.flushdb()
        db3.set("after-flush", "yes")

        # SWAPDB: db1's contents are now in db2 and the other way round.
        db0.swapdb(1, 2)
        c[1].set("post-swap", "in-1")

        c[4].set("four", "4")
        c[5].set("five", "5")
        c[5].flushdb()
    finally:
        for each in c:
            each.close()


def assert_same(before, after):
    def sample(state, dbs):
        return {db: sorted(state[db])[:5] for db in sorted(dbs)}

    assert after.keys() == before.keys(), (
        f"databases differ: only before {sample(before, before.keys() - after.keys())}, "
        f"only after {sample(after, after.keys() - before.keys())}")
    for db in before:
        missing = before[db].keys() - after[db].keys()
        extra = after[db].keys() - before[db].keys()
        assert not missing and not extra, f"db {db}: missing {sorted(missing)[:10]}, extra {sorted(extra)[:10]}"
        for key in before[db]:
            assert after[db][key] == before[db][key], f"db {db} key {key!r}"
    assert after == before


def verify_log(log_dir):
    """`weft-log verify`: exit 0 and `end clean`. Skipped where the tool was not built."""
    if not Path(LOG_TOOL).exists():
        return
    result = subprocess.run([LOG_TOOL, "verify", str(log_dir)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "end clean" in result.stdout, result.stdout + result.stderr


def test_populate_reaches_the_expected_state(servers):
    """The population itself, checked once, so that the restart tests compare something meaningful."""
    s = servers.start(appendfsync="everysec")
    populate(s.port)
    state = dump(s.port)
    assert set(state) == {0, 1, 2, 3, 4}
    db0 = state[0]
    assert db0[b"n"] == (b"39", -1)
    assert db0[b"f"][0] == b"10.6"
    assert db0[b"sr"][0] == b"Hello Redis"
    assert db0[b"pad"][0] == b"\x00" * 5 + b"x"
    assert db0[b"ap"] == db0[b"apcopy"] == (b"Hello World", -1)
    assert db0[b"kt"][0] == b"b" and db0[b"kt"][1] > 0
    assert db0[b"notkt"] == (b"b", -1)
    assert db0[b"pers"] == (b"p", -1)
    assert db0[b"gp"] == (b"gp", -1)
    assert db0[b"setnx"] == (b"first", -1)
    assert b"gone" not in db0 and b"unl" not in db0 and b"gd" not in db0 and b"shortlived" not in db0
    assert b"r1" not in db0 and db0[b"r2"][1] > 0 and b"rnx2" in db0
    assert b"mv" not in db0 and b"nx3" not in db0
    assert db0[b"\x00bin\r\nkey"][0] == bytes(range(256)) * 3 + b"\x00\r\n"
    assert db0[b"\xff\xfe"] == (b"", -1)
    assert b"many:0" not in db0 and db0[b"many:3"] == (b"4", -1) and db0[b"many:7"][1] > 0
    # db1 and db2 were swapped after they were written.
    assert state[2][b"a"][0] == b"123" and state[2][b"a"][1] > 0
    assert state[2][b"b"] == (b"11", -1)
    assert state[2][b"before"] == (b"1", -1) and state[2][b"after"] == (b"2", -1)
    assert state[2][b"word"] == (b"abc", -1)
    assert state[2][b"mv"][0] == b"moved" and state[2][b"mv"][1] > 0  # MOVE to db1, then swapped into db2
    assert b"only1" not in state[2] and b"junk" not in state[2]
    assert state[1][b"two"] == (b"2", -1) and state[1][b"\r\n"] == (b"\x00", -1)
    assert state[1][b"m1copy"] == state[0][b"m1"]  # COPY ... DB 2, then swapped into db1
    assert state[1][b"post-swap"] == (b"in-1", -1)
    assert state[3] == {b"after-flush": (b"yes", -1)}
    assert state[4] == {b"four": (b"4", -1)}
    assert s.stop() == 0


@pytest.mark.parametrize("appendfsync", ["everysec", "always", "no"])
def test_graceful_restart_keeps_everything(servers, appendfsync):
    s = servers.start(appendfsync=appendfsync)
    populate(s.port)
    before = dump(s.port)
    assert s.stop() == 0, s.output()
    verify_log(s.log_dir)
    assert segments(s.log_dir), "no segment file after a graceful stop"
    s.start()
    assert_same(before, dump(s.port))
    # And once more, after a restart that wrote nothing new.
    assert s.stop() == 0, s.output()
    s.start()
    assert_same(before, dump(s.port))


def test_sigkill_after_acknowledged_writes_under_always(servers):
    s = servers.start(appendfsync="always")
    populate(s.port)
    before = dump(s.port)
    s.kill()
    s.start()
    assert_same(before, dump(s.port))


def test_bitmap_writes_survive_sigkill_under_always(servers):
    s = servers.start(appendfsync="always")
    with s.client() as c:
        c.set("ttl", "ab", ex=1000)
        c.setbit("ttl", 20, 1)
        c.setbit("b", 1000, 1)
        c.setbit("b", 3, 1)
        c.execute_command("BITFIELD", "f", "SET", "i16", "#2", "-300", "OVERFLOW", "FAIL", "INCRBY", "u4", "0", "99")
        c.bitop("XOR", "x", "b", "f")
        c.bitop("AND", "gone", "missing")
        before = {key: c.get(key) for key in ("ttl", "b", "f", "x")}
    s.kill()
    s.start()
    with s.client() as c:
        assert {key: c.get(key) for key in ("ttl", "b", "f", "x")} == before
        assert c.ttl("ttl") > 900 and c.exists("gone") == 0
        assert c.execute_command("BITFIELD_RO", "f", "GET", "i16", "#2", "GET", "u4", "0") == [-300, 0]


def test_sigkill_under_everysec_keeps_what_had_a_second_to_reach_disk(servers):
    s = servers.start(appendfsync="everysec")
    populate(s.port)
    before = dump(s.port)
    time.sleep(1.5)
    s.kill()
    s.start()
    assert_same(before, dump(s.port))


def test_appenddirname(servers):
    s = servers.start(appendfsync="always", appenddirname="my log")
    with s.client() as c:
        c.set("k", "v")
    assert s.stop() == 0
    assert s.log_dir.name == "my log" and segments(s.log_dir), sorted(s.data_dir.iterdir())
    assert not (s.data_dir / "appendonlydir").exists()
    s.start()
    with s.client() as c:
        assert c.get("k") == b"v"


def test_replies_are_loading_until_the_log_is_restored(servers):
    """The port opens before the replay ends; until then every reply is -LOADING, never an answer from half the
    data."""
    count = 30_000
    s = servers.start(appendfsync="no")
    with s.client() as c:
        for start in range(0, count, 5000):
            pipe = c.pipeline(transaction=False)
            for i in range(start, start + 5000):
                pipe.set(f"key:{i}", i)
            pipe.execute()
        c.set("last", "written last")
    assert s.stop() == 0

    s.launch()
    loading = 0
    deadline = time.time() + 60
    while True:
        assert time.time() < deadline, "no answer but LOADING within 60 s"
        assert s.running(), s.output()
        try:
            with client(s.port, socket_timeout=5, socket_connect_timeout=1) as c:
                size = c.dbsize()
                last = c.get("last")
        except redis.BusyLoadingError as error:
            assert "LOADING" in str(error) or "loading" in str(error), error
            loading += 1
            continue
        except (redis.ConnectionError, redis.TimeoutError):
            time.sleep(0.005)
            continue
        assert size == count + 1, f"DBSIZE {size} after {loading} LOADING replies: answered before the restore ended"
        assert last == b"written last"
        break
    with s.client(decode_responses=True) as c:
        assert c.info("persistence")["loading"] == 0


@pytest.mark.parametrize("stop", ["sigterm", "sigkill"])
def test_multi_exec_with_flush_survives_restart(servers, stop):
    """An EXEC that queued FLUSHDB, FLUSHALL or SWAPDB runs under the exclusive gate, command by command: the
    whole-keyspace effect must be logged, in its place between the commands around it."""
    s = servers.start(appendfsync="always")
    with s.client(db=4) as c4, s.client(db=5) as c5, s.client(db=6) as c6:
        c4.set("dropped", "x")
        tx = c4.pipeline(transaction=True)
        tx.set("x", "1").flushdb().set("y", "2")
        assert tx.execute() == [True, True, True]
        c6.set("gone-by-flushall", "x")
        tx = c5.pipeline(transaction=True)
        tx.set("a", "1").flushall().set("b", "2")
        assert tx.execute() == [True, True, True]
        c4.set("after", "z")
        tx = c6.pipeline(transaction=True)
        tx.set("in6", "6").swapdb(6, 7).set("in6-after-swap", "6")
        assert tx.execute() == [True, True, True]
    before = dump(s.port)
    assert before == {4: {b"after": (b"z", -1)}, 5: {b"b": (b"2", -1)}, 6: {b"in6-after-swap": (b"6", -1)},
                      7: {b"in6": (b"6", -1)}}
    if stop == "sigterm":
        assert s.stop() == 0
    else:
        s.kill()
    s.start()
    assert_same(before, dump(s.port))


def test_keys_that_expire_while_down_are_gone(servers):
    s = servers.start(appendfsync="always")
    with s.client() as c:
        c.set("stay", "1")
        c.set("short", "x")
        c.pexpire("short", 300)
        c.set("short2", "y", px=300)
        c.set("short3", "z")
        c.pexpireat("short3", now_ms() + 300)
        c.set("later", "w", px=600_000)
    assert s.stop() == 0
    time.sleep(0.5)
    s.start()
    with s.client() as c:
        for key in ("short", "short2", "short3"):
            assert c.get(key) is None
            assert c.exists(key) == 0
        assert c.get("stay") == b"1"
        assert c.get("later") == b"w" and c.pttl("later") > 500_000
        assert c.dbsize() == 2
        assert sorted(c.scan_iter()) == [b"later", b"stay"]
        assert c.info("keyspace")["db0"]["keys"] == 2


# MARK: damaged logs


def write_sequentially(s, count, prefix="k"):
    """SETs one at a time under `appendfsync always`: each reply waits for its block, so the next SET lands in a
    later block, and the last block of the log holds (at most) the last SET."""
    with s.client() as c:
        for i in range(count):
            c.set(f"{prefix}{i}", f"value-{i}-" + "x" * (i % 17))


def present(c, count, prefix="k"):
    values = c.mget([f"{prefix}{i}" for i in range(count)])
    for i, value in enumerate(values):
        if value is not None:
            assert value == (f"value-{i}-" + "x" * (i % 17)).encode(), f"{prefix}{i} has a wrong value"
    return [value is not None for value in values]


def assert_prefix(flags, name):
    """Keys written in order survive as a prefix of that order: a cut log loses a suffix, never a key in the
    middle."""
    survivors = sum(flags)
    assert flags == [True] * survivors + [False] * (len(flags) - survivors), f"{name}: not a prefix: {flags}"
    return survivors


@pytest.mark.parametrize("cut_kind", ["1-byte", "10-bytes", "inside-last-header"])
def test_torn_tail_is_cut_with_a_warning(servers, cut_kind):
    count = 40
    s = servers.start(appendfsync="always")
    write_sequentially(s, count)
    s.kill()

    segment = last_nonempty_segment(s.log_dir)
    size = segment.stat().st_size
    last_start = blocks(segment)[-1][0]
    removed = {"1-byte": 1, "10-bytes": 10, "inside-last-header": size - (last_start + 20)}[cut_kind]
    cut(segment, removed)
    dropped = size - removed - last_start  # what is left of the last block: the bytes the server must drop

    s.start()
    with s.client() as c:
        flags = present(c, count)
        assert all(flags[:-1]), f"a key before the last block is missing: {flags}"
        for i in range(10):
            c.set(f"new{i}", f"value-{i}-" + "x" * (i % 17))
    assert s.stop() == 0, s.output()
    warning = s.output()
    assert mentions_number(warning, dropped), f"no warning naming the {dropped} bytes dropped:\n{warning}"

    s.start()
    with s.client() as c:
        assert present(c, count) == flags
        assert all(present(c, 10, prefix="new")), "a write made after the torn tail was cut is lost"


def test_torn_tail_refused_with_aof_load_truncated_no(servers):
    s = servers.start(appendfsync="always")
    write_sequentially(s, 10)
    s.kill()
    segment = last_nonempty_segment(s.log_dir)
    cut(segment, 10)
    size = segment.stat().st_size

    strict = servers.make(aof_load_truncated="no", appendfsync="always")
    status = strict.start_expecting_failure()
    assert status is not None and status != 0, "started with a torn tail although aof-load-truncated is no"
    assert relative(segment, strict.data_dir) in strict.output(), strict.output()
    assert segment.stat().st_size == size, "the refusing server changed the segment"

    # The default (yes) then starts, cutting it.
    s.start()
    with s.client() as c:
        assert all(present(c, 10)[:-1])


@pytest.mark.parametrize("where", ["payload", "header"])
def test_flipped_bit_before_the_tail_is_corruption(servers, where):
    count = 20
    s = servers.start(appendfsync="always")
    write_sequentially(s, count)
    assert s.stop() == 0

    segment = next(p for p in segments(s.log_dir) if len(blocks(p)) >= 3)
    offset, size = blocks(segment)[1]
    # The middle of the payload, or a bit of the header's epoch (bytes 16..<24).
    position = offset + (HEADER_SIZE + (size - HEADER_SIZE) // 2 if where == "payload" else 20)
    flip_bit(segment, position, bit=3)

    status = s.start_expecting_failure()
    output = s.output()
    assert status is not None, f"started on a log with a flipped bit in block 2 of {segment.name}:\n{output}"
    assert status == 1, output
    assert relative(segment, s.data_dir) in output, f"the message does not name the segment:\n{output}"
    assert "offset" in output and mentions_number(output, offset), f"no offset {offset} in the message:\n{output}"

    # Allowed to cut: it starts with what came before the damage.
    s.options["aof_load_corrupt"] = "yes"
    s.start()
    with s.client() as c:
        survivors = assert_prefix(present(c, count), "after --aof-load-corrupt yes")
        assert survivors < count
        c.set("after-cut", "1")
    assert s.stop() == 0
    warning = s.output()
    assert segment.name in warning or "offset" in warning, f"no warning about the cut:\n{warning}"
    # The log was cut: a server that refuses corruption starts on it, with the same keys and the new one.
    del s.options["aof_load_corrupt"]
    s.start()
    with s.client() as c:
        assert sum(present(c, count)) == survivors
        assert c.get("after-cut") == b"1"


@pytest.mark.parametrize("which", ["middle", "first"])
def test_missing_segment_is_not_ignored(servers, which):
    """Segment 2 of 3 deleted (the brief's case), or segment 1 of 3 with no checkpoint to stand for it."""
    s = servers.make(appendfsync="always")
    for run in range(3):
        s.start()
        write_sequentially(s, 5, prefix=f"run{run}:")
        assert s.stop() == 0
    files = [p for p in segments(s.log_dir) if p.stat().st_size > 0]
    assert len(files) >= 3, f"three runs should leave three segments with data: {files}"
    missing = files[1] if which == "middle" else files[0]
    missing.unlink()

    status = s.start_expecting_failure()
    output = s.output()
    if status is None:
        with s.client() as c:
            lost = [p for p in range(3) if not all(present(c, 5, prefix=f"run{p}:"))]
        pytest.skip(f"SERVER BUG: started although {missing.name} ({which} of 3) was deleted; runs with missing "
                    f"keys: {lost}; output:\n{output}")
    assert status != 0
    assert missing.name in output or "missing" in output, f"exit {status} without naming the gap:\n{output}"


def test_missing_checkpoint_is_not_ignored(servers):
    """After BGREWRITEAOF the segments it covered are gone; without its checkpoint the log starts above 1."""
    s = servers.start(appendfsync="always")
    write_sequentially(s, 5, prefix="old:")
    with s.client() as c:
        assert bgrewriteaof(c)
        wait_for_rewrites(c, 1)
    write_sequentially(s, 5, prefix="new:")
    assert s.stop() == 0
    others = [p for p in s.log_dir.iterdir() if p not in segments(s.log_dir)]
    assert others, f"no checkpoint file after BGREWRITEAOF: {sorted(s.log_dir.iterdir())}"
    for p in others:
        p.unlink()

    status = s.start_expecting_failure()
    output = s.output()
    if status is None:
        with s.client() as c:
            kept = sum(present(c, 5, prefix="old:"))
        pytest.skip(f"SERVER BUG: started without its checkpoint ({[p.name for p in others]}); {kept} of 5 keys "
                    f"it held are there; output:\n{output}")
    assert status != 0
    assert "missing" in output or "checkpoint" in output, f"exit {status} without saying why:\n{output}"


def test_second_server_on_the_same_dir_is_refused(servers):
    """Two writers appending to one log would interleave blocks; the second server must not start on it."""
    first = servers.start(appendfsync="always")
    with first.client() as c:
        c.set("k", "first")
    second = servers.make(first.data_dir, appendfsync="always")
    status = second.start_expecting_failure(timeout=15)
    assert status is not None and status != 0, f"a second server started on {first.log_dir}:\n{second.output()}"
    with first.client() as c:
        assert c.get("k") == b"first"
        c.set("k2", "still first")
    assert first.stop() == 0
    first.start()
    with first.client() as c:
        assert c.mget("k", "k2") == [b"first", b"still first"]


@pytest.mark.parametrize("layout", ["empty-appendonlydir", "no-appendonlydir"])
def test_starts_empty(servers, tmp_path, layout):
    """An empty log directory, and none yet (the server makes it)."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    if layout == "empty-appendonlydir":
        (data_dir / "appendonlydir").mkdir()
    s = servers.make(data_dir, create=False, appendfsync="always")
    s.start()
    with s.client() as c:
        assert c.dbsize() == 0
        c.set("first", "1")
    assert s.stop() == 0
    s.start()
    with s.client() as c:
        assert c.get("first") == b"1"


def test_missing_dir_is_refused_like_redis(servers, tmp_path):
    """A `dir` that does not exist stops start-up with redis-server's message (it is not created)."""
    data_dir = tmp_path / "not" / "yet"
    s = servers.make(data_dir, create=False)
    assert s.start_expecting_failure() == 1
    assert f"Can't chdir to '{data_dir}': No such file or directory" in s.output()
    assert not data_dir.exists()


@pytest.mark.parametrize("where", ["first-block", "last-block"])
def test_newer_format_version_is_refused(servers, where):
    s = servers.start(appendfsync="always")
    write_sequentially(s, 10)
    assert s.stop() == 0
    if where == "first-block":
        segment, offset = segments(s.log_dir)[0], 0
        if segment.stat().st_size == 0:
            segment = next(p for p in segments(s.log_dir) if p.stat().st_size > 0)
    else:
        segment = last_nonempty_segment(s.log_dir)
        offset = blocks(segment)[-1][0]
    rewrite_header(segment, offset, version=7)  # the header CRC matches: a newer Weft wrote it

    status = s.start_expecting_failure()
    output = s.output()
    assert status is not None, f"started on a log with a version-7 block ({where}):\n{output}"
    assert status != 0
    assert re.search(r"version\D{0,40}7(?![0-9])", output, re.IGNORECASE), f"no mention of version 7:\n{output}"
    assert relative(segment, s.data_dir) in output, output


def test_newer_version_with_a_bad_header_crc_at_the_tail_is_torn(servers):
    """LogFormat item 7: with a CRC that does not match, the version may be a damaged 1, so at the tail it is torn."""
    s = servers.start(appendfsync="always")
    write_sequentially(s, 10)
    s.kill()
    segment = last_nonempty_segment(s.log_dir)
    offset = blocks(segment)[-1][0]
    data = bytearray(segment.read_bytes())
    data[offset + 8] = 7  # version 7, CRC left as it was
    segment.write_bytes(bytes(data))
    s.start()
    with s.client() as c:
        assert all(present(c, 10)[:-1])


# MARK: compaction


def wait_for_rewrites(c, at_least, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        info = c.info("persistence")
        if info["aof_rewrite_in_progress"] == 0 and info["aof_rewrites"] >= at_least:
            return info
        time.sleep(0.05)
    raise AssertionError(f"rewrite not finished after {timeout} s: {c.info('persistence')}")


def bgrewriteaof(c):
    """BGREWRITEAOF; while one runs, Redis answers an error, which counts as no new rewrite."""
    try:
        reply = c.bgrewriteaof()
    except redis.ResponseError as error:
        assert "already in progress" in str(error), error
        return False
    assert reply in (True, b"Background append only file rewriting started",
                     "Background append only file rewriting started"), reply
    return True


def test_bgrewriteaof_under_concurrent_writes(servers):
    s = servers.start(appendfsync="everysec")
    c = s.client()
    # A history of overwrites of few keys: mostly dead records (about 600 KB of log).
    for _ in range(20):
        pipe = c.pipeline(transaction=False)
        for i in range(1000):
            pipe.incr(f"hot:{i % 20}")
            pipe.set(f"over:{i % 10}", f"value-{i}")
        pipe.execute()
    time.sleep(1.1)  # everysec: written and synced once a second
    size_before = directory_size(s.log_dir)
    segments_before = len(segments(s.log_dir))
    rewrites_before = c.info("persistence")["aof_rewrites"]

    stop = threading.Event()
    acknowledged = [0] * 4
    errors = []

    def writer(thread):
        try:
            with s.client() as w:
                i = 0
                while not stop.is_set():
                    w.incr(f"count:{thread}")
                    acknowledged[thread] += 1
                    w.set(f"over:{i % 10}", f"t{thread}-{i}")
                    w.incr(f"hot:{(i * 7 + thread) % 20}")
                    i += 1
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    started = 0
    time.sleep(0.3)
    started += bgrewriteaof(c)
    time.sleep(0.4)
    started += bgrewriteaof(c)
    time.sleep(0.3)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    assert started >= 1
    info = wait_for_rewrites(c, rewrites_before + started)
    assert info["aof_last_write_status"] == "ok"
    for thread in range(4):
        assert c.get(f"count:{thread}") == str(acknowledged[thread]).encode()
    before = dump(s.port)
    size_between = directory_size(s.log_dir)
    assert size_between < size_before, (
        f"log {size_before} bytes before the rewrites, {size_between} after (with the writes made since)")

    # Once more with nothing running: the log is then the checkpoint and an almost empty segment.
    assert bgrewriteaof(c)
    wait_for_rewrites(c, rewrites_before + started + 1)
    size_after = directory_size(s.log_dir)
    assert size_after < size_before, f"log {size_before} bytes before compaction, {size_after} after"
    assert len(segments(s.log_dir)) <= max(segments_before, 2)
    assert_same(before, dump(s.port))
    c.close()

    assert s.stop() == 0, s.output()
    s.start()
    assert_same(before, dump(s.port))


# MARK: INFO and CONFIG


def test_info_persistence_and_config(servers, tmp_path):
    s = servers.start(appendfsync="always")
    with s.client(decode_responses=True) as c:
        info = c.info("persistence")
        for field in ("loading", "aof_enabled", "aof_rewrite_in_progress", "aof_last_write_status",
                      "aof_current_size", "aof_rewrites"):
            assert field in info, f"INFO persistence has no {field}: {info}"
        assert info["loading"] == 0
        assert info["aof_enabled"] == 1
        assert info["aof_rewrite_in_progress"] == 0
        assert info["aof_last_write_status"] == "ok"
        assert isinstance(info["aof_current_size"], int) and info["aof_current_size"] >= 0
        assert isinstance(info["aof_rewrites"], int) and info["aof_rewrites"] == 0
        size = info["aof_current_size"]
        c.set("k", "v" * 1000)
        assert c.info("persistence")["aof_current_size"] > size  # always: on disk before the reply
        assert c.config_get("appendonly") == {"appendonly": "yes"}
        assert c.config_get("appendfsync") == {"appendfsync": "always"}
        # Weft's own fields: the log's parts, its compression and its syncs.
        info = c.info("persistence")
        assert info["weft_checkpoint_size"] == 0
        assert info["weft_log_segments_size"] == info["aof_current_size"]
        assert info["weft_log_fsyncs"] >= 1
        assert info["weft_log_compression_ratio"] > 1  # 1000 equal bytes compress
        c.bgrewriteaof()
        deadline = time.time() + 20
        while c.info("persistence")["aof_rewrites"] < 1 and time.time() < deadline:
            time.sleep(0.05)
        assert c.info("persistence")["weft_checkpoint_size"] > 0
    assert s.stop() == 0

    off = servers.make(tmp_path / "off", appendonly="no")
    off.start()
    with off.client(decode_responses=True) as c:
        assert c.info("persistence")["aof_enabled"] == 0
        assert c.config_get("appendonly") == {"appendonly": "no"}
        c.set("k", "v")
    assert off.stop() == 0
    assert not segments(off.log_dir), "appendonly no wrote segments"


def test_automatic_rewrite_when_the_log_grows(servers):  # noqa: F811
    """auto-aof-rewrite-percentage and -min-size start a rewrite on their own once the log has grown enough; the
    rewritten log restores the same contents."""
    s = servers.start(appendfsync="everysec", auto_aof_rewrite_percentage="50", auto_aof_rewrite_min_size="200kb")
    with s.client() as c:
        # Random values: LZ4 would shrink repeated bytes twenty-fold.
        for _ in range(12):
            pipe = c.pipeline(transaction=False)
            for i in range(200):
                pipe.set(f"k:{i}", os.urandom(200))
            pipe.execute()
        info = wait_for_rewrites(c, at_least=1, timeout=20)
        assert info["aof_current_size"] < 200 * 1024, info
        before = dump(s.port)
    assert s.stop() == 0
    s.start()
    assert dump(s.port) == before


def test_appendfsync_changes_at_run_time(servers):  # noqa: F811
    """CONFIG SET appendfsync: from everysec to always, a write acknowledged afterwards survives SIGKILL at once."""
    s = servers.start(appendfsync="everysec")
    with s.client(decode_responses=True) as c:
        assert c.config_get("appendfsync") == {"appendfsync": "everysec"}
        with pytest.raises(redis.ResponseError, match="must be one of the following: everysec, always, no"):
            c.config_set("appendfsync", "sometimes")
        assert c.config_set("appendfsync", "always")
        assert c.config_get("appendfsync") == {"appendfsync": "always"}
        assert c.info("persistence")["weft_log_fsync_policy"] == "always"
        fsyncs = c.info("persistence")["weft_log_fsyncs"]
        for i in range(50):
            c.set(f"k{i}", i)
        # One client writing one key at a time: under always each reply waited for its own fsync (everysec would
        # have synced about once).
        assert c.info("persistence")["weft_log_fsyncs"] - fsyncs >= 40
    s.kill()
    s.start()
    with s.client(decode_responses=True) as c:
        assert [c.get(f"k{i}") for i in range(50)] == [str(i) for i in range(50)]
        assert c.config_get("appendfsync") == {"appendfsync": "everysec"}  # the file's setting again
        assert c.config_set("appendfsync", "no")
        c.set("after", "1")
        assert c.get("after") == "1"


def test_backlog_limit_holds_writers_until_the_log_catches_up(servers):  # noqa: F811
    """aof-backlog-limit (Weft's own directive): past that many bytes committed and not yet written and synced, an
    event loop waits for the log before its next batch of commands, as Redis's loop waits in write(2) on a busy disk.
    With a limit smaller than one batch's records every batch waits: the writes all land, INFO counts the waits, and
    everysec syncs far more often than once a second, because the held loops ask for it."""
    s = servers.start(appendfsync="everysec", aof_backlog_limit="1kb")
    with s.client(decode_responses=True) as c:
        assert c.config_get("aof-backlog-limit") == {"aof-backlog-limit": "1024"}
        with pytest.raises(redis.ResponseError, match="can't set immutable config"):
            c.config_set("aof-backlog-limit", "1mb")
        info = c.info("persistence")
        waits, syncs = info["weft_log_backlog_waits"], info["weft_log_fsyncs"]
        assert isinstance(info["aof_buffer_length"], int)
        expected = {}
        for round in range(10):
            pipe = c.pipeline(transaction=False)
            for i in range(100):
                value = os.urandom(100).hex()
                expected[f"k:{round}:{i}"] = value
                pipe.set(f"k:{round}:{i}", value)
            assert all(pipe.execute())
        info = c.info("persistence")
        assert info["weft_log_backlog_waits"] - waits >= 10, info
        assert info["weft_log_backlog_wait_seconds"] > 0  # each wait took at least a sync
        assert info["weft_log_fsyncs"] - syncs >= 10, info
        # This INFO's batch waited too: what is left is under the limit (plus INFO's own nothing).
        assert info["aof_buffer_length"] <= 1024, info
        assert c.mget(list(expected)) == list(expected.values())
    assert s.stop() == 0
    s.start()
    with s.client(decode_responses=True) as c:
        assert c.mget(list(expected)) == list(expected.values())
