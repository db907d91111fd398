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


def raw_replies(port, steps, read_for=0.8):
    """Sends `steps` (bytes, or a number of seconds to sleep) on one raw connection; returns what came back within
    `read_for` seconds of the last step, with "<closed>" if the server closed it."""
    import socket

    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    for step in steps:
        if isinstance(step, bytes):
            sock.sendall(step)
        else:
            time.sleep(step)
    sock.settimeout(read_for)
    received = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return received + b"<closed>"
            received += chunk
    except OSError:
        return received
    finally:
        sock.close()


def test_blocked_wait_edges_as_redis(server, redis_reference):
    """A WAIT held by a pause with a protocol error behind it; CLIENT REPLY SKIP over a blocked WAIT; the idle
    timeout right after a WAIT's answer."""
    for port in (server, redis_reference):
        other = Conn(port, 2)
        other.command("CLIENT", "PAUSE", "300", "ALL")
        held = raw_replies(port, [b"WAIT 1 300\r\n*1\r\n$x\r\n"], read_for=1.5)
        assert held == b":0\r\n-ERR Protocol error: invalid bulk length\r\n<closed>", (port, held)
        skipped = raw_replies(port, [b"CLIENT REPLY SKIP\r\nWAIT 1 200\r\nPING\r\n"])
        assert skipped == b"+PONG\r\n", (port, skipped)
        other.command("CONFIG", "SET", "timeout", "1")
        try:
            answered = raw_replies(port, [b"WAIT 1 2500\r\n", 2.8, b"PING\r\n"], read_for=0.5)
            assert answered == b":0\r\n+PONG\r\n", (port, answered)
        finally:
            Conn(port, 2).command("CONFIG", "SET", "timeout", "0")
        other.close()


def test_an_unblock_racing_the_timer_answers_one_wait(server):
    """CLIENT UNBLOCK sent about when a 20 ms WAIT times out, with a WAIT without timeout pipelined behind it: an
    UNBLOCK that answered 1 delivers its error, and the second WAIT never ends unless unblocked."""
    other = Conn(server, 2)
    for _ in range(40):
        blocked = Conn(server, 2)
        blocked.send(("WAIT", "1", "20"))
        blocked.send(("WAIT", "1", "0"))
        blocked.send(("PING",))
        time.sleep(0.02)
        unblocked = other.command("CLIENT", "UNBLOCK", str(blocked.id), "ERROR")
        blocked.sock.settimeout(0.3)
        replies = []
        try:
            while True:
                replies.append(blocked.reply())
        except OSError:
            pass
        error = ("-", b"UNBLOCKED client unblocked via CLIENT UNBLOCK")
        if unblocked == (":", 1):
            assert replies in ([error], [(":", 0), error, ("+", b"PONG")]), replies
        else:
            assert replies == [(":", 0)], replies
        blocked.close()
    other.close()
