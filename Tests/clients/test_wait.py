"""WAIT on a server without replicas, as redis-server 7.0.15 answers it: 0 at once when no replica is asked for or
inside EXEC; otherwise the client blocks until the timeout (or, with timeout 0, until CLIENT UNBLOCK), then gets 0,
and nothing it pipelined after the WAIT runs before that."""
import time

import pytest

from test_differential_more import Conn
from weft_process import servers  # noqa: F401 (fixture)

ERRORS = [
    ("WAIT", "x", "1"),
    ("WAIT", "1", "-1"),
    ("WAIT", "1", "x"),
    ("WAIT", "1", "1.5"),
    ("WAIT", "1"),
    ("WAIT", "1", "2", "3"),
]


def test_immediate_answers_and_errors_as_redis(server, redis_reference):
    replies = {}
    for port in (server, redis_reference):
        conn = Conn(port, 2)
        got = [conn.command("WAIT", "0", "0"), conn.command("WAIT", "-5", "100")]
        got += [conn.command(*command) for command in ERRORS]
        conn.command("MULTI")
        conn.command("WAIT", "5", "0")
        got.append(conn.command("EXEC"))
        replies[port] = got
        conn.close()
    assert replies[server] == replies[redis_reference]
    assert replies[server][0] == (":", 0)


@pytest.mark.parametrize("protocol", [2, 3])
def test_a_wait_for_replicas_blocks_until_its_timeout(server, protocol):
    conn = Conn(server, protocol)
    started = time.monotonic()
    # Pipelined: the ECHO is answered only after the WAIT, and the WAIT only after its 300 ms.
    conn.send(("WAIT", "1", "300"))
    conn.send(("ECHO", "after"))
    assert conn.reply() == (":", 0)
    assert time.monotonic() - started >= 0.29
    assert conn.reply() == ("$", b"after")
    conn.close()


def test_client_unblock_ends_a_wait_without_timeout(server):
    blocked = Conn(server, 2)
    other = Conn(server, 2)
    assert other.command("CLIENT", "UNBLOCK", str(blocked.id)) == (":", 0)
    blocked.send(("WAIT", "1", "0"))
    blocked.send(("SET", "after-wait", "1"))
    deadline = time.monotonic() + 5
    while b"blocked_clients:1" not in other.command("INFO", "clients")[1]:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    listed = other.command("CLIENT", "LIST", "ID", str(blocked.id))[1]
    assert b" flags=b " in listed, listed
    # Nothing after the WAIT ran.
    assert other.command("EXISTS", "after-wait") == (":", 0)
    assert other.command("CLIENT", "UNBLOCK", str(blocked.id)) == (":", 1)
    assert blocked.reply() == (":", 0)
    assert blocked.reply() == ("+", b"OK")
    assert other.command("CLIENT", "UNBLOCK", str(blocked.id)) == (":", 0)
    assert other.command("EXISTS", "after-wait") == (":", 1)
    # With ERROR, the WAIT gets Redis's -UNBLOCKED error.
    blocked.send(("WAIT", "2", "0"))
    while b"blocked_clients:1" not in other.command("INFO", "clients")[1]:
        time.sleep(0.02)
    assert other.command("CLIENT", "UNBLOCK", str(blocked.id), "ERROR") == (":", 1)
    assert blocked.reply() == ("-", b"UNBLOCKED client unblocked via CLIENT UNBLOCK")
    assert blocked.command("PING") == ("+", b"PONG")
    assert b"blocked_clients:0" in other.command("INFO", "clients")[1]
    blocked.close()
    other.close()


def test_a_blocked_client_that_leaves(server):
    blocked = Conn(server, 2)
    other = Conn(server, 2)
    blocked.send(("WAIT", "1", "0"))
    while b"blocked_clients:1" not in other.command("INFO", "clients")[1]:
        time.sleep(0.02)
    blocked.close()
    deadline = time.monotonic() + 5
    while b"blocked_clients:0" not in other.command("INFO", "clients")[1]:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert other.command("PING") == ("+", b"PONG")
    other.close()


def test_a_blocked_client_is_not_closed_for_idleness(server):
    admin = Conn(server, 2)
    admin.command("CONFIG", "SET", "timeout", "1")
    try:
        blocked = Conn(server, 2)
        started = time.monotonic()
        assert blocked.command("WAIT", "1", "2500") == (":", 0)
        assert time.monotonic() - started >= 2.4
        assert blocked.command("PING") == ("+", b"PONG")
        blocked.close()
    finally:
        Conn(server, 2).command("CONFIG", "SET", "timeout", "0")


def test_wait_behind_replies_held_for_the_log(servers):  # noqa: F811
    s = servers.start(appendfsync="always")
    conn = Conn(s.port, 2)
    conn.send(("SET", "k", "v"))
    conn.send(("WAIT", "1", "100"))
    conn.send(("INCR", "n"))
    assert conn.reply() == ("+", b"OK")
    assert conn.reply() == (":", 0)
    assert conn.reply() == (":", 1)
    conn.close()
