"""CLIENT PAUSE and UNPAUSE over real sockets, on a server of the test's own (a pause stops every client).

A held command is checked by its reply not coming while the pause lasts (the socket stays silent for a moment) and
coming once it ends; no test asserts how fast anything is.
"""
import select
import socket
import time

import pytest
import redis

from weft_process import read_until, servers  # noqa: F401 (servers: fixture)

QUIET = 0.3  # how long a held command's socket is watched for a reply that must not come


def raw(port):
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    return sock


def silent(sock, seconds=QUIET):
    """True when nothing arrives on `sock` within `seconds` and it stays open."""
    sock.settimeout(seconds)
    try:
        data = sock.recv(65536)
    except socket.timeout:
        return True
    finally:
        sock.settimeout(10)
    assert data, "the server closed the connection"
    return False


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
        assert admin.execute_command("CLIENT", "PAUSE", "4000") == "OK"  # ALL is the default
        other = raw(port)
        other.sendall(b"PING\r\n")
        assert silent(other), "PING ran during CLIENT PAUSE ALL"
        # Under ALL even CLIENT UNPAUSE waits (Redis's behaviour): the pause ends when its time runs out.
        unpause = raw(port)
        unpause.sendall(b"CLIENT UNPAUSE\r\n")
        assert silent(unpause)
        # What fails before it runs is answered at once (a container's unknown subcommand, a wrong arity).
        errors = raw(port)
        errors.sendall(b"CLIENT FOO\r\nCLIENT UNPAUSE x\r\nGET\r\n")
        assert read_until(errors, b"'get' command\r\n").count(b"-ERR") == 3
        errors.close()
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
        # Widened: WRITE, then ALL with no time of its own, holds every command until the WRITE pause's end.
        admin.execute_command("CLIENT", "PAUSE", "3000", "WRITE")
        admin.execute_command("CLIENT", "PAUSE", "0", "ALL")
        pinger = raw(port)
        pinger.sendall(b"PING\r\n")
        assert silent(pinger), "CLIENT PAUSE 0 ALL did not widen the WRITE pause"
        assert read_until(pinger, b"+PONG\r\n") == b"+PONG\r\n"  # when the pause runs out
        pinger.close()


def test_pause_errors_match_redis(paused_server):
    with paused_server.client(decode_responses=True) as c:
        for args, message in [
            (("abc",), "timeout is not an integer or out of range"),
            (("-1",), "timeout is negative"),
            (("10", "x"), "CLIENT PAUSE mode must be WRITE or ALL"),
            (("abc", "x"), "CLIENT PAUSE mode must be WRITE or ALL"),  # the mode is checked first
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
        leaving.sendall(b"CLIENT SETNAME leaving\r\nSET gone 1\r\n" + b"SET gone 1\r\n" * 99)
        assert read_until(leaving, b"+OK\r\n") == b"+OK\r\n"
        assert silent(leaving)
        leaving.close()
        # Once the server has seen it go, UNPAUSE must not run what it left behind.
        deadline = time.time() + 10
        while "name=leaving" in admin.execute_command("CLIENT", "LIST") and time.time() < deadline:
            time.sleep(0.02)
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
        c.set("short", "v", px=1000)
        c.execute_command("CLIENT", "PAUSE", "60000", "WRITE")
        time.sleep(1.3)  # past its expiry, and several of the housekeeper's 100 ms sweeps
        assert c.get("short") is None
        assert c.dbsize() == 1
        assert c.info("stats")["expired_keys"] == 0
        c.execute_command("CLIENT", "UNPAUSE")
        assert c.get("short") is None
        assert c.dbsize() == 0
        assert c.info("stats")["expired_keys"] == 1


def test_held_clients_are_shown_blocked_and_never_closed_for_idleness(paused_server):
    """As Redis's blocked clients: CLIENT LIST shows flag b, INFO counts them, and `timeout` does not close them
    (their held writes would be lost)."""
    port = paused_server.port
    with paused_server.client(decode_responses=True) as admin:
        admin.config_set("timeout", "1")
        try:
            admin.execute_command("CLIENT", "PAUSE", "60000", "WRITE")
            writer = raw(port)
            writer.sendall(b"CLIENT SETNAME held\r\nSET idle 1\r\n")
            assert read_until(writer, b"+OK\r\n") == b"+OK\r\n"
            for _ in range(5):  # past the idle timeout and the housekeeper's checks; the admin stays active
                time.sleep(0.5)
                admin.ping()
            line = next(line for line in admin.execute_command("CLIENT", "LIST").splitlines() if "name=held" in line)
            assert " flags=b " in line, line
            assert admin.info("clients")["blocked_clients"] == 1
            admin.execute_command("CLIENT", "UNPAUSE")
            assert read_until(writer, b"+OK\r\n") == b"+OK\r\n"
            assert admin.get("idle") == "1"
            assert admin.info("clients")["blocked_clients"] == 0
            writer.close()
        finally:
            admin.config_set("timeout", "0")



def get_marker(sock, send=True, after=b""):
    """GET marker on `sock` (already sent unless `send`, after a reply `after`): its raw reply, nil or `done`."""
    if send:
        sock.sendall(b"GET marker\r\n")
    data = b""
    while data not in (after + b"$-1\r\n", after + b"$4\r\ndone\r\n"):
        chunk = sock.recv(65536)
        assert chunk and len(data) < 32, f"unexpected reply {data + chunk!r}"
        data += chunk
    return data[len(after):]


def connection_on_another_loop(port, busy):
    """A new connection that answers PING while `busy`'s command still runs: one on another event loop."""
    for _ in range(6):
        sock = raw(port)
        sock.sendall(b"PING\r\n")
        if select.select([sock], [], [], 0.3)[0] and not select.select([busy], [], [], 0)[0]:
            assert read_until(sock, b"\r\n") == b"+PONG\r\n"
            return sock
        sock.close()
    pytest.fail("no connection landed on another loop while the slow command ran")


@pytest.mark.parametrize("pipelined", [False, True], ids=["get-after-ok", "get-pipelined-after-pause"])
def test_pause_ok_waits_for_a_command_another_loop_is_running(paused_server, pipelined):
    """Redis runs one command at a time, so after CLIENT PAUSE WRITE's OK no write commits, and nothing read after
    the PAUSE can change while the pause lasts. Weft's other event loop may be in the middle of a write as the pause
    begins: the OK, and every command after the PAUSE (even one pipelined behind it), must wait for it. Here a slow
    EXEC (KEYS over many keys, then a write) runs on one loop while CLIENT PAUSE is sent on the other (the test
    server has two; the connection is chosen by its answering PING meanwhile). Whichever way the race goes, the
    marker's value read after the PAUSE must not change while the pause lasts: either the EXEC committed before, or
    the pause holds it (its reply does not come)."""
    port = paused_server.port
    with paused_server.client(decode_responses=True) as setup:
        pipe = setup.pipeline(transaction=False)
        for start in range(0, 200_000, 10_000):
            pipe.mset({f"filler:{n}": "x" for n in range(start, start + 10_000)})
        pipe.execute()
    slow = raw(port)
    slow.sendall(b"MULTI\r\nKEYS filler:*\r\nSET marker done\r\n")
    read_until(slow, b"+QUEUED\r\n+QUEUED\r\n")
    slow.sendall(b"EXEC\r\n")
    admin = connection_on_another_loop(port, slow)
    if pipelined:
        admin.sendall(b"CLIENT PAUSE 60000 WRITE\r\nGET marker\r\n")
        seen = get_marker(admin, send=False, after=b"+OK\r\n")
    else:
        admin.sendall(b"CLIENT PAUSE 60000 WRITE\r\n")
        assert read_until(admin, b"\r\n") == b"+OK\r\n"
        seen = get_marker(admin)
    # The EXEC's reply comes once it has committed, unless the pause holds it.
    committed = bool(select.select([slow], [], [], 10)[0])
    assert get_marker(admin) == seen, "a write committed after CLIENT PAUSE"
    if committed:
        assert seen == b"$4\r\ndone\r\n", "the EXEC committed after CLIENT PAUSE"
    admin.sendall(b"CLIENT UNPAUSE\r\n")
    assert read_until(admin, b"\r\n") == b"+OK\r\n"
    slow.settimeout(30)
    assert read_until(slow, b"+OK\r\n").startswith(b"*2\r\n*200000\r\n")
    assert get_marker(admin) == b"$4\r\ndone\r\n"
    slow.close()
    admin.close()


def test_pause_reply_waits_for_the_log_too_under_appendfsync_always(servers):  # noqa: F811
    """Under appendfsync always a reply to a write waits for the log, and CLIENT PAUSE's OK for every loop: both
    holds together keep the pipeline's replies whole and in order."""
    s = servers.start(appendonly="yes", appendfsync="always")
    sock = raw(s.port)
    try:
        sock.sendall(b"SET a 1\r\nCLIENT PAUSE 200 WRITE\r\nGET a\r\nSET a 2\r\nGET a\r\n")
        assert read_until(sock, b"$1\r\n2\r\n") == b"+OK\r\n+OK\r\n$1\r\n1\r\n+OK\r\n$1\r\n2\r\n"
        sock.sendall(b"CLIENT PAUSE 1 WRITE\r\nINCR n\r\nCLIENT PAUSE 1 WRITE\r\nINCR n\r\n")
        assert read_until(sock, b":2\r\n") == b"+OK\r\n:1\r\n+OK\r\n:2\r\n"
    finally:
        sock.close()
    s.stop()
    s.start()
    with s.client(decode_responses=True) as c:
        assert c.get("a") == "2" and c.get("n") == "2"


def test_pause_and_unpause_racing_leave_no_client_held(paused_server):
    """Short pauses and UNPAUSEs from several connections at once, beside INCRs: once the last pause has run out,
    every held command runs. (An UNPAUSE's cancel once dropped the look at the end of a PAUSE that came just after
    it, leaving clients held until the next PAUSE or UNPAUSE.)"""
    import random
    import threading

    port = paused_server.port
    failures = []

    def client(seed):
        rng = random.Random(seed)
        with redis.Redis(port=port, socket_timeout=10) as c:
            try:
                for _ in range(60):
                    pipe = c.pipeline(transaction=False)
                    for _ in range(rng.randrange(1, 4)):
                        choice = rng.random()
                        if choice < 0.3:
                            pipe.execute_command("CLIENT", "PAUSE", rng.randrange(1, 20), rng.choice(["WRITE", "ALL"]))
                        elif choice < 0.5:
                            pipe.execute_command("CLIENT", "UNPAUSE")
                        else:
                            pipe.incr(f"n{seed}")
                    pipe.execute()
            except redis.RedisError as error:
                failures.append(f"client {seed}: {error!r}")

    threads = [threading.Thread(target=client, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures, failures
    assert not any(thread.is_alive() for thread in threads)
