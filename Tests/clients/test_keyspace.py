"""redis-py against weft-server: the keyspace commands (expiry, RENAME, COPY, MOVE, SWAPDB, KEYS, SCAN, ...)."""
import re
import time

import pytest
import redis


def test_expire_family(r):
    r.set("k", "v")
    assert r.expire("k", 100) is True
    assert r.ttl("k") == 100
    assert r.expire("k", 50, gt=True) is False
    assert r.expire("k", 200, gt=True) is True
    assert r.pexpire("k", 150_000, lt=True) is True
    assert 149_000 <= r.pttl("k") <= 150_000
    assert r.expire("k", 10, nx=True) is False
    assert r.expire("k", 10, xx=True) is True
    assert r.expire("missing", 10) is False
    # A key without an expiry counts as an infinite TTL.
    r.set("p", "v")
    assert r.expire("p", 100, gt=True) is False
    assert r.expire("p", 100, lt=True) is True
    assert r.persist("p") is True
    assert r.persist("p") is False
    assert r.ttl("p") == -1
    # Absolute times, and times in the past delete the key.
    at = int(time.time()) + 1000
    assert r.expireat("p", at) is True
    assert r.expiretime("p") == at
    assert r.pexpiretime("p") == at * 1000
    assert r.pexpireat("p", 1) is True
    assert r.exists("p") == 0
    assert r.expiretime("p") == -2
    r.set("q", "v")
    assert r.expiretime("q") == -1
    assert r.pexpiretime("q") == -1


def test_expire_errors(r):
    r.set("k", "v")
    with pytest.raises(redis.ResponseError, match="NX and XX, GT or LT options at the same time are not compatible"):
        r.expire("k", 10, nx=True, xx=True)
    with pytest.raises(redis.ResponseError, match="GT and LT options at the same time are not compatible"):
        r.expire("k", 10, gt=True, lt=True)
    with pytest.raises(redis.ResponseError, match="Unsupported option foo"):
        r.execute_command("EXPIRE", "k", 10, "foo")
    with pytest.raises(redis.ResponseError, match="invalid expire time in 'expire' command"):
        r.expire("k", 2**62)
    with pytest.raises(redis.ResponseError, match="invalid expire time in 'pexpire' command"):
        r.pexpire("k", 2**63 - 1)
    with pytest.raises(redis.ResponseError, match="value is not an integer or out of range"):
        r.execute_command("EXPIRE", "k", "soon")


def test_touch_type_object(r):
    r.mset({"a": "1", "b": "hello"})
    assert r.touch("a", "b", "missing") == 2
    assert r.type("a") == "string"
    assert r.type("missing") == "none"
    assert r.object("encoding", "a") == "int"
    assert r.object("encoding", "b") == "embstr"
    r.set("long", "x" * 45)
    assert r.object("encoding", "long") == "raw"
    assert r.object("encoding", "missing") is None
    assert r.object("refcount", "a") == 2147483647
    with pytest.raises(redis.ResponseError, match="unknown subcommand 'nope'. Try OBJECT HELP."):
        r.execute_command("OBJECT", "nope", "a")
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'object|encoding' command"):
        r.execute_command("OBJECT", "ENCODING")
    help_lines = r.execute_command("OBJECT", "HELP")
    assert help_lines[0].startswith("OBJECT <subcommand>")


def test_rename(r):
    with pytest.raises(redis.ResponseError, match="no such key"):
        r.rename("missing", "x")
    r.set("a", "1", ex=500)
    r.set("b", "2")
    assert r.rename("a", "a") is True
    assert r.renamenx("a", "b") is False
    assert r.rename("a", "b") is True
    assert r.get("a") is None
    assert r.get("b") == "1"
    assert r.ttl("b") == 500
    assert r.renamenx("b", "c") is True
    assert r.keys("*") == ["c"]


def test_copy_and_move(r):
    r.set("src", "v", ex=100)
    assert r.copy("src", "dst") is True
    assert r.copy("src", "dst") is False
    r.set("src", "w")
    assert r.copy("src", "dst", replace=True) is True
    assert r.get("dst") == "w"
    assert r.ttl("dst") == -1
    assert r.copy("src", "other", destination_db=3) is True
    assert r.copy("missing", "x") is False
    with pytest.raises(redis.ResponseError, match="source and destination objects are the same"):
        r.copy("src", "src")
    with pytest.raises(redis.ResponseError, match="DB index is out of range"):
        r.copy("src", "x", destination_db=16)
    assert r.move("src", 1) is True
    assert r.exists("src") == 0
    r.set("src", "again")
    assert r.move("src", 1) is False
    with pytest.raises(redis.ResponseError, match="source and destination objects are the same"):
        r.move("src", 0)
    db1 = redis.Redis(port=r.connection_pool.connection_kwargs["port"], db=1, decode_responses=True)
    db3 = redis.Redis(port=r.connection_pool.connection_kwargs["port"], db=3, decode_responses=True)
    assert db1.get("src") == "w"
    assert db3.get("other") == "w"
    db1.close()
    db3.close()


def test_swapdb(r):
    port = r.connection_pool.connection_kwargs["port"]
    r.set("zero", "0")
    db1 = redis.Redis(port=port, db=1, decode_responses=True)
    db1.set("one", "1")
    assert r.swapdb(0, 1) is True
    assert r.get("one") == "1"
    assert db1.get("zero") == "0"
    with pytest.raises(redis.ResponseError, match="invalid first DB index"):
        r.execute_command("SWAPDB", "x", 1)
    with pytest.raises(redis.ResponseError, match="DB index is out of range"):
        r.swapdb(0, 99)
    db1.close()


def test_keys_scan_randomkey(r):
    assert r.randomkey() is None
    assert r.keys("*") == []
    names = [f"user:{i}" for i in range(300)] + ["other", "h[e]llo", "h*llo"]
    r.mset({name: "v" for name in names})
    assert sorted(r.keys("user:1?")) == [f"user:{i}" for i in range(10, 20)]
    assert sorted(r.keys("h\\*llo")) == ["h*llo"]
    assert sorted(r.keys("h\\[e\\]llo")) == ["h[e]llo"]
    assert sorted(r.keys("*")) == sorted(names)
    assert sorted(r.scan_iter()) == sorted(names)
    assert sorted(r.scan_iter(match="user:2*", count=7)) == sorted(n for n in names if n.startswith("user:2"))
    assert sorted(r.scan_iter(_type="string", count=50)) == sorted(names)
    assert list(r.scan_iter(_type="list")) == []
    cursor, keys = r.scan(0, count=10)
    assert cursor != 0 and len(keys) >= 10
    assert r.randomkey() in names
    with pytest.raises(redis.ResponseError, match="invalid cursor"):
        r.execute_command("SCAN", "abc")
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("SCAN", 0, "COUNT", 0)


def test_scan_while_writing(r):
    names = [f"stable:{i}" for i in range(500)]
    r.mset({name: "v" for name in names})
    seen = set()
    cursor = 0
    step = 0
    while True:
        cursor, keys = r.scan(cursor, count=25)
        seen.update(keys)
        r.set(f"added:{step}", "v")
        step += 1
        if cursor == 0:
            break
    assert set(names) <= seen


def test_multi_with_keyspace_commands(r):
    pipe = r.pipeline(transaction=True)
    pipe.set("a", "1")
    pipe.rename("a", "b")
    pipe.copy("b", "c")
    pipe.keys("*")
    pipe.expire("c", 100)
    pipe.ttl("c")
    result = pipe.execute()
    assert result[:3] == [True, True, True]
    assert sorted(result[3]) == ["b", "c"]
    assert result[4:] == [True, 100]


def test_dbsize_inside_exec_counts_the_transaction_own_writes(r):
    r.set("a", "1")
    pipe = r.pipeline(transaction=True)
    pipe.set("b", "1")
    pipe.set("c", "1")
    pipe.delete("a")
    pipe.dbsize()
    assert pipe.execute() == [True, True, 1, 2]
    assert r.dbsize() == 2


def test_container_subcommands_are_checked_before_queueing(r):
    for command, error in [
        (("OBJECT", "foo"), "unknown subcommand 'foo'. Try OBJECT HELP."),
        (("OBJECT", "encoding"), "wrong number of arguments for 'object|encoding' command"),
        (("CONFIG", "get"), "wrong number of arguments for 'config|get' command"),
        (("CLIENT", "Foo"), "unknown subcommand 'Foo'. Try CLIENT HELP."),
        (("COMMAND", "foo"), "unknown subcommand 'foo'. Try COMMAND HELP."),
    ]:
        with pytest.raises(redis.ResponseError, match=re.escape(error)):
            r.execute_command(*command)
    # In MULTI the bad subcommand is refused when queued, and EXEC is aborted (redis-server 7.0 does the same).
    pipe = r.pipeline(transaction=True)
    pipe.set("x", "1")
    pipe.execute_command("OBJECT", "foo")
    # redis-py raises the queued command's error after it saw EXECABORT.
    with pytest.raises(redis.ResponseError, match="unknown subcommand 'foo'"):
        pipe.execute()
    assert r.get("x") is None
