"""redis-py against weft-server: the commands served so far, as a Redis user calls them."""
import subprocess

import pytest
import redis


def test_ping_echo_select(r):
    assert r.ping() is True
    assert r.echo("hello") == "hello"
    r.set("k", "db0")
    r.execute_command("SELECT", 1)
    assert r.get("k") is None
    r.execute_command("SELECT", 0)
    assert r.get("k") == "db0"


def test_set_options(r):
    assert r.set("s", "v") is True
    assert r.set("s", "w", nx=True) is None
    assert r.set("s", "w", xx=True, get=True) == "v"
    assert r.set("t", "x", ex=100) is True
    assert 99 <= r.ttl("t") <= 100
    assert r.set("t", "y", keepttl=True) is True
    assert r.ttl("t") > 0
    assert r.pttl("nope") == -2
    with pytest.raises(redis.ResponseError, match="invalid expire time in 'set' command"):
        r.set("t", "x", ex=0)


def test_counters(r):
    assert r.incr("n") == 1
    assert r.incrby("n", 10) == 11
    assert r.decr("n") == 10
    assert r.decrby("n", 3) == 7
    r.set("big", 2**63 - 1)
    with pytest.raises(redis.ResponseError, match="increment or decrement would overflow"):
        r.incr("big")
    r.set("word", "abc")
    with pytest.raises(redis.ResponseError, match="value is not an integer or out of range"):
        r.incr("word")


def test_multi_key(r):
    assert r.mset({"a": "1", "b": "2"}) is True
    assert r.mget("a", "x", "b") == ["1", None, "2"]
    assert r.exists("a", "b", "x") == 2
    assert r.delete("a", "x") == 1
    assert r.dbsize() == 1
    assert r.flushdb() is True
    assert r.dbsize() == 0


def test_strings(r):
    assert r.append("s", "Hello ") == 6
    assert r.append("s", "World") == 11
    assert r.strlen("s") == 11
    assert r.getdel("s") == "Hello World"
    assert r.getdel("s") is None
    assert r.setnx("s", "1") is True
    assert r.setnx("s", "2") is False


def test_bitmaps(r):
    # A daily-active-users bitmap, as redis-py users write one: a bit per user id.
    for user in (1, 5, 9, 1000):
        assert r.setbit("active:mon", user, 1) == 0
    assert r.setbit("active:mon", 5, 1) == 1
    for user in (5, 7):
        r.setbit("active:tue", user, 1)
    assert r.getbit("active:mon", 9) == 1 and r.getbit("active:mon", 10) == 0
    assert r.bitcount("active:mon") == 4
    assert r.bitcount("active:mon", 0, 0) == 2
    assert r.bitcount("active:mon", 0, 9, mode="BIT") == 3
    assert r.bitpos("active:mon", 1) == 1 and r.bitpos("active:mon", 0) == 0
    assert r.bitpos("active:mon", 1, 1) == 9
    assert r.bitop("AND", "both", "active:mon", "active:tue") == 126
    assert r.bitcount("both") == 1 and r.getbit("both", 5) == 1
    assert r.bitop("OR", "either", "active:mon", "active:tue") == 126
    assert r.bitcount("either") == 5
    with pytest.raises(redis.ResponseError, match="bit offset is not an integer or out of range"):
        r.setbit("active:mon", -1, 1)
    # BITFIELD through redis-py's builder: counters packed in one string.
    field = r.bitfield("counters")
    assert field.set("u8", "#0", 250).incrby("u8", "#0", 10).get("u8", "#0").execute() == [0, 4, 4]
    field = r.bitfield("counters", default_overflow="SAT")
    assert field.incrby("u8", "#1", 300).incrby("i8", "#2", -300).execute() == [255, -128]
    field = r.bitfield("counters", default_overflow="FAIL")
    assert field.incrby("u8", "#1", 1).execute() == [None]
    assert r.bitfield_ro("counters", "u8", 8, items=[("i8", 16)]) == [255, -128]


def test_lcs(r):
    r.mset({"key1": "ohmytext", "key2": "mynewtext"})
    assert r.lcs("key1", "key2") == "mytext"
    assert r.lcs("key1", "key2", len=True) == 6
    # RESP2: the map comes as a flat array.
    assert r.lcs("key1", "key2", idx=True, minmatchlen=4, withmatchlen=True) == [
        "matches", [[[4, 7], [5, 8], 4]], "len", 6]
    with pytest.raises(redis.ResponseError, match="please just use IDX"):
        r.lcs("key1", "key2", len=True, idx=True)


def test_memory_usage(r):
    r.set("small", "v")
    r.set("large", "x" * 100_000)
    small, large = r.memory_usage("small"), r.memory_usage("large")
    assert 0 < small < 200 and 100_000 <= large < 110_000
    assert r.memory_usage("small", samples=0) == small
    assert r.memory_usage("missing") is None


def test_binary_values(server):
    client = redis.Redis(port=server)
    value = bytes(range(256)) * 4
    client.set(b"\x00bin\r\n", value)
    assert client.get(b"\x00bin\r\n") == value


def test_pipeline(r):
    pipe = r.pipeline(transaction=False)
    for i in range(1000):
        pipe.incr("p")
    results = pipe.execute()
    assert results == list(range(1, 1001))


def test_errors(r):
    with pytest.raises(redis.ResponseError, match="unknown command 'NOSUCH'"):
        r.execute_command("NOSUCH", "x")
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'get' command"):
        r.execute_command("GET")


def test_redis_cli(server):
    def cli(*args):
        return subprocess.run(
            ["redis-cli", "-p", str(server), *args], capture_output=True, text=True, check=True
        ).stdout.strip()

    assert cli("PING") == "PONG"
    assert cli("SET", "cli", "value") == "OK"
    assert cli("GET", "cli") == "value"
    assert cli("INCR", "cli-n") == "1"
    assert cli("NOSUCH").startswith("ERR unknown command 'NOSUCH'")


def test_transaction_pipeline(r):
    pipe = r.pipeline(transaction=True)
    pipe.set("t", "1").incr("t").get("t")
    assert pipe.execute() == [True, 2, "2"]


def test_watch_retry_helper(r):
    r.set("balance", "100")

    def spend(pipe):
        balance = int(pipe.get("balance"))
        pipe.multi()
        pipe.set("balance", balance - 30)

    r.transaction(spend, "balance")
    assert r.get("balance") == "70"


def test_watch_conflict(server, r):
    other = redis.Redis(port=server, decode_responses=True)
    r.set("w", "1")
    with r.pipeline() as pipe:
        pipe.watch("w")
        other.set("w", "1")  # the same value still counts as a write
        pipe.multi()
        pipe.set("w", "mine")
        with pytest.raises(redis.WatchError):
            pipe.execute()
    assert r.get("w") == "1"
    other.close()


def test_execabort(r):
    pipe = r.pipeline(transaction=True)
    pipe.set("a", "1")
    pipe.execute_command("SET", "onlykey")
    with pytest.raises(redis.ResponseError):
        pipe.execute()
    assert r.get("a") is None


def test_info_parsed_by_redis_py(r):
    r.set("x", "1", ex=100)
    info = r.info()
    assert info["redis_mode"] == "standalone"
    assert info["role"] == "master"
    assert info["connected_clients"] >= 1
    assert info["db0"] == {"keys": 1, "expires": 1, "avg_ttl": 0}
    assert "tx_commits" in r.info("transactions")


def test_client_commands(r):
    r.client_setname("pytest")
    assert r.client_getname() == "pytest"
    assert any(c["name"] == "pytest" for c in r.client_list())
    assert isinstance(r.client_id(), int)
    assert len(r.time()) == 2


def test_config_get_set(r):
    assert r.config_get("maxclients") == {"maxclients": "10000"}
    assert "timeout" in r.config_get("*")
    r.config_set("timeout", 0)
    with pytest.raises(redis.ResponseError, match="can't set protected config"):
        r.config_set("dir", "/tmp")
