"""maxmemory with Redis's noeviction policy, over redis-py: past the limit, commands that may grow the data set
(Redis's denyoom) get Redis's OOM error, while reads and deletes go on; inside MULTI everything but EXEC, DISCARD,
QUIT and RESET is refused, and EXEC then aborts. Weft evicts no keys, so the other policies are refused.
"""
import socket

import pytest
import redis

from weft_process import read_until, servers  # noqa: F401 (servers: fixture)

OOM = "command not allowed when used memory > 'maxmemory'."


def fill_until_refused(c):
    """Sets keys until a SET is refused; returns how many went in."""
    for n in range(1_000_000):
        try:
            c.set(f"fill:{n}", "x" * 200)
        except redis.exceptions.OutOfMemoryError as error:
            assert str(error) == OOM
            return n
    pytest.fail("maxmemory never refused a write")


def test_noeviction_refuses_growth_and_serves_the_rest(servers):  # noqa: F811
    s = servers.start(appendonly="no")
    with s.client(decode_responses=True) as c:
        assert c.config_get("maxmemory*") == {"maxmemory": "0", "maxmemory-policy": "noeviction"}
        c.set("kept", "v")
        used = int(c.info("memory")["used_memory"])
        c.config_set("maxmemory", used + 300_000)
        assert c.info("memory")["maxmemory"] == used + 300_000
        assert fill_until_refused(c) > 100
        for refused in (lambda: c.set("kept", "w"), lambda: c.append("kept", "w"), lambda: c.incr("n"),
                        lambda: c.mset({"a": "1"}), lambda: c.setbit("b", 1, 1), lambda: c.copy("kept", "k2")):
            with pytest.raises(redis.exceptions.OutOfMemoryError, match="maxmemory"):
                refused()
        # Reads, deletes and expiry changes are not denyoom.
        assert c.get("kept") == "v" and c.exists("kept") == 1 and c.strlen("kept") == 1
        assert c.expire("kept", 1000) is True and c.persist("kept") is True
        assert c.delete("fill:0", "fill:1") == 2
        # Inside MULTI even a read is refused (queuing takes memory), and EXEC then aborts.
        conn = redis.Redis(port=s.port, decode_responses=True, single_connection_client=True)
        try:
            assert conn.execute_command("MULTI") == "OK"
            with pytest.raises(redis.exceptions.OutOfMemoryError):
                conn.execute_command("GET", "kept")
            with pytest.raises(redis.exceptions.ExecAbortError):
                conn.execute_command("EXEC")
            assert conn.execute_command("MULTI") == "OK"
            assert conn.execute_command("DISCARD") == "OK"
        finally:
            conn.close()
        # Raising the limit (or removing it) lets writes in again.
        c.config_set("maxmemory", 0)
        assert c.set("kept", "w") is True and c.incr("n") == 1
        assert c.info("memory")["maxmemory_human"] == "0B"


def test_exec_with_a_queued_write_is_refused_once_over_the_limit(servers):  # noqa: F811
    s = servers.start(appendonly="no")
    with s.client(decode_responses=True) as c:
        other = socket.create_connection(("127.0.0.1", s.port), timeout=10)
        try:
            other.sendall(b"MULTI\r\nSET queued 1\r\n")
            assert read_until(other, b"+QUEUED\r\n") == b"+OK\r\n+QUEUED\r\n"
            c.config_set("maxmemory", int(c.info("memory")["used_memory"]) + 200_000)
            fill_until_refused(c)
            other.sendall(b"EXEC\r\n")
            assert read_until(other, b"\r\n") == (
                b"-EXECABORT Transaction discarded because of: OOM command not allowed when used memory > "
                b"'maxmemory'.\r\n")
            assert c.exists("queued") == 0
        finally:
            other.close()


def test_eviction_policies_are_refused(servers):  # noqa: F811
    s = servers.start(appendonly="no")
    with s.client(decode_responses=True) as c:
        with pytest.raises(redis.ResponseError, match="Weft evicts no keys: only noeviction is supported"):
            c.config_set("maxmemory-policy", "allkeys-lru")
        assert c.config_set("maxmemory-policy", "NoEviction") is True
        assert c.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
    refused = servers.make(appendonly="no", **{"maxmemory-policy": "volatile-ttl"})
    assert refused.start_expecting_failure() not in (None, 0)
    assert "Weft evicts no keys: only noeviction is supported" in refused.output()


def test_maxmemory_at_start_with_units(servers):  # noqa: F811
    s = servers.start(appendonly="no", maxmemory="2mb")
    with s.client(decode_responses=True) as c:
        assert c.config_get("maxmemory") == {"maxmemory": str(2 * 1024 * 1024)}
        assert c.info("memory")["maxmemory_policy"] == "noeviction"


def test_large_values_cannot_run_far_past_the_limit(servers):  # noqa: F811
    """Each worker publishes its memory count at once past 64 KiB, so the write that crosses the limit is the last
    one let in (as in Redis), however large the values."""
    s = servers.start(appendonly="no")
    with s.client() as c:
        c.config_set("maxmemory", int(c.info("memory")["used_memory"]) + 20_000)
        accepted = 0
        for n in range(10):
            try:
                c.set(f"big:{n}", b"x" * 1_000_000)
                accepted += 1
            except redis.exceptions.OutOfMemoryError:
                pass
        assert accepted == 1


def test_no_oom_while_clients_are_paused(servers):  # noqa: F811
    """Redis neither evicts nor refuses for memory while clients are paused (isSafeToPerformEvictions): a write is
    held by the pause, and refused only once the pause ends; MULTI with a read goes through."""
    s = servers.start(appendonly="no")
    with s.client(decode_responses=True) as admin:
        admin.config_set("maxmemory", 1)
        sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
        try:
            assert admin.execute_command("CLIENT", "PAUSE", "800", "WRITE") == "OK"
            sock.sendall(b"MULTI\r\nGET k\r\nEXEC\r\n")
            assert read_until(sock, b"*1\r\n$-1\r\n") == b"+OK\r\n+QUEUED\r\n*1\r\n$-1\r\n"
            sock.sendall(b"SET a 1\r\n")
            assert read_until(sock, b"\r\n") == b"-OOM command not allowed when used memory > 'maxmemory'.\r\n"
        finally:
            sock.close()
        admin.config_set("maxmemory", 0)
