"""CLIENT PAUSE and UNPAUSE over real sockets, on a server of the test's own (a pause stops every client).

A held command is checked by its reply not coming while the pause lasts (the socket stays silent for a moment) and
coming once it ends; no test asserts how fast anything is.
"""
import socket
import time

import pytest
import redis

from weft_process import servers  # noqa: F401 (fixture)

QUIET = 0.3  # how long a held command's socket is watched for a reply that must not come


def raw(port):
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    return sock


def silent(sock, seconds=QUIET):
    """True when nothing arrives on `sock` within `seconds`."""
    sock.settimeout(seconds)
    try:
        data = sock.recv(65536)
    except socket.timeout:
        return True
    finally:
        sock.settimeout(10)
    return data == b""


def read_until(sock, expected):
    data = b""
    while not data.endswith(expected):
        chunk = sock.recv(65536)
        assert chunk, f"closed after {data!r}"
        data += chunk
    return data


@pytest.fixture
def paused_server(servers):  # noqa: F811
    s = servers.start(appendonly="no")
    yield s
    with s.client() as c:
        c.execute_command("CLIENT", "UNPAUSE")


def test_write_pause_holds_writes_and_lets_reads_through(paused_server):
    port = paused_server.port
    with paused_server.client(decode_responses=True) as admin, paused_server.client(decode_responses=True) as reader:
        admin.set("k", "old")
        assert admin.execute_command("CLIENT", "PAUSE", "60000", "WRITE") == "OK"
        writer = raw(port)
        # A write, then a read of the same key in the same pipeline: the read must not overtake the held write.
        writer.sendall(b"SET k new\r\nGET k\r\n")
        assert silent(writer), "a write ran during CLIENT PAUSE WRITE"
        assert reader.get("k") == "old"  # reads go on
        assert reader.execute_command("CLIENT", "ID") > 0
        # Errors found before a command runs are answered at once, as in Redis.
        with pytest.raises(redis.ResponseError, match="wrong number of arguments"):
            reader.execute_command("SET", "x")
        with pytest.raises(redis.ResponseError, match="unknown command"):
            reader.execute_command("NOSUCH")
        assert admin.execute_command("CLIENT", "UNPAUSE") == "OK"
        assert read_until(writer, b"$3\r\nnew\r\n") == b"+OK\r\n$3\r\nnew\r\n"
        assert reader.get("k") == "new"
        writer.close()


def test_write_pause_holds_exec_of_writes_and_queued_writes(paused_server):
    port = paused_server.port
    with paused_server.client(decode_responses=True) as admin:
        admin.execute_command("CLIENT", "PAUSE", "60000", "WRITE")
        reads = raw(port)
        reads.sendall(b"MULTI\r\nGET k\r\nEXEC\r\n")
        assert read_until(reads, b"*1\r\n$-1\r\n") == b"+OK\r\n+QUEUED\r\n*1\r\n$-1\r\n"  # a read-only EXEC runs
        writes = raw(port)
        writes.sendall(b"MULTI\r\nSET k 1\r\nEXEC\r\n")
        assert read_until(writes, b"+OK\r\n") == b"+OK\r\n"  # MULTI itself runs; queuing the SET waits
        assert silent(writes)
        admin.execute_command("CLIENT", "UNPAUSE")
        assert read_until(writes, b"*1\r\n+OK\r\n") == b"+QUEUED\r\n*1\r\n+OK\r\n"
        assert admin.get("k") == "1"
        reads.close()
        writes.close()


def test_all_pause_holds_every_command_until_it_runs_out(paused_server):
    port = paused_server.port
    with paused_server.client(decode_responses=True) as admin:
        assert admin.execute_command("CLIENT", "PAUSE", "1500") == "OK"  # ALL is the default
        other = raw(port)
        other.sendall(b"PING\r\n")
        assert silent(other), "PING ran during CLIENT PAUSE ALL"
        # Under ALL even CLIENT UNPAUSE waits (Redis's behaviour): the pause ends when its time runs out.
        unpause = raw(port)
        unpause.sendall(b"CLIENT UNPAUSE\r\n")
        assert silent(unpause)
        assert read_until(other, b"+PONG\r\n") == b"+PONG\r\n"
        assert read_until(unpause, b"+OK\r\n") == b"+OK\r\n"
        other.close()
        unpause.close()


def test_pause_is_lengthened_and_widened_never_shortened(paused_server):
    port = paused_server.port
    with paused_server.client(decode_responses=True) as admin:
        admin.execute_command("CLIENT", "PAUSE", "60000", "WRITE")
        admin.execute_command("CLIENT", "PAUSE", "10", "WRITE")  # shorter: the first end stays
        time.sleep(0.05)
        writer = raw(port)
        writer.sendall(b"SET a 1\r\n")
        assert silent(writer), "a shorter CLIENT PAUSE cut the first one short"
        admin.execute_command("CLIENT", "UNPAUSE")
        assert read_until(writer, b"+OK\r\n") == b"+OK\r\n"
        writer.close()


def test_pause_errors_match_redis(paused_server):
    with paused_server.client(decode_responses=True) as c:
        for args, message in [
            (("abc",), "timeout is not an integer or out of range"),
            (("-1",), "timeout is negative"),
            (("10", "x"), "CLIENT PAUSE mode must be WRITE or ALL"),
        ]:
            with pytest.raises(redis.ResponseError, match=message):
                c.execute_command("CLIENT", "PAUSE", *args)
        with pytest.raises(redis.ResponseError, match="wrong number of arguments"):
            c.execute_command("CLIENT", "PAUSE")
        with pytest.raises(redis.ResponseError, match=r"wrong number of arguments for 'client\|unpause' command"):
            c.execute_command("CLIENT", "UNPAUSE", "x")
        assert c.execute_command("CLIENT", "UNPAUSE") == "OK"  # no pause: still OK


def test_a_client_that_leaves_while_held_does_not_disturb_the_others(paused_server):
    port = paused_server.port
    with paused_server.client(decode_responses=True) as admin:
        admin.execute_command("CLIENT", "PAUSE", "60000", "WRITE")
        leaving = raw(port)
        leaving.sendall(b"SET gone 1\r\n" * 100)
        assert silent(leaving)
        leaving.close()
        staying = raw(port)
        staying.sendall(b"SET stays 1\r\n")
        assert silent(staying)
        admin.execute_command("CLIENT", "UNPAUSE")
        assert read_until(staying, b"+OK\r\n") == b"+OK\r\n"
        assert admin.get("stays") == "1"
        assert admin.exists("gone") == 0  # the held commands of a closed connection never run
        staying.close()


def test_expired_keys_stay_while_paused(paused_server):
    """As Redis's expireIfNeeded during a pause: an expired key reads as gone but is not deleted (no write while
    paused), and the sweep rests; after the pause the next read deletes it."""
    with paused_server.client(decode_responses=True) as c:
        c.set("short", "v", px=100)
        c.execute_command("CLIENT", "PAUSE", "60000", "WRITE")
        time.sleep(0.3)  # past its expiry, and several of the housekeeper's 100 ms sweeps
        assert c.get("short") is None
        assert c.dbsize() == 1
        assert c.info("stats")["expired_keys"] == 0
        c.execute_command("CLIENT", "UNPAUSE")
        assert c.get("short") is None
        assert c.dbsize() == 0
        assert c.info("stats")["expired_keys"] == 1
