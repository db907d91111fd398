"""MONITOR: the same lines as redis-server 7.0.15 for the same commands (differential, timestamps and ports
normalized), the monitor's own restrictions, redis-py's and redis-cli's monitor, and every command of many
connections on both event loops fed exactly once (EXEC's commands too, however often the engine re-ran them)."""
import concurrent.futures
import re
import subprocess
import time

import redis

from test_differential_more import Conn

LINE = re.compile(rb"^\+(\d+)\.(\d{6}) \[(\d+) ([^\]]+)\] (.*)$")


def monitor(port):
    """A raw connection in MONITOR mode (its +OK read)."""
    conn = Conn(port, 2)
    assert conn.command("MONITOR") == ("+", b"OK")
    return conn


def fed_line(conn, address):
    """The next line fed to `conn`, as (database, quoted arguments), with the feeding client's address checked."""
    kind, text = conn.reply()
    assert kind == "+", (kind, text)
    match = LINE.match(b"+" + text)
    assert match, text
    seconds = int(match.group(1))
    assert abs(seconds - time.time()) < 60
    assert match.group(4).decode() == address, (match.group(4), address)
    return int(match.group(3)), match.group(5)


def address_of(conn):
    _, info = conn.command("CLIENT", "INFO")
    return re.search(rb"addr=(\S+)", info).group(1).decode()


SCRIPT = [
    ("SET", "a", "1"),
    ("SET", bytes(range(256)), b'x"y\\z\n\r\t\x07\x08 end'),
    ("GET", "a"),
    ("SELECT", "3"),
    ("GET", "a"),
    ("SELECT", "99"),
    ("INCR", "a"),
    ("CONFIG", "GET", "maxclients"),
    ("CLIENT", "LIST"),
    ("CLIENT", "SETNAME", "x"),
    ("SLOWLOG", "LEN"),
    ("NOSUCH", "a"),
    ("GET",),
    ("AUTH", "secret"),
    ("AUTH", "user", "secret"),
    ("HELLO", "2", "AUTH", "default", "secret"),
    ("HELLO", "2", "SETNAME", "n"),
    ("OBJECT", "ENCODING", "a"),
    ("MULTI",),
    ("SET", "k", "v"),
    ("SELECT", "5"),
    ("INCR", "k"),
    ("CONFIG", "GET", "timeout"),
    ("EXEC",),
    ("MULTI",),
    ("SET", "q"),
    ("EXEC",),
    ("WATCH", "w"),
    ("MULTI",),
    ("GET", "w"),
    ("DISCARD",),
    ("HELLO", "2", "SETNAME", "auth", "AUTH", "default", "pw"),
    ("HELLO", "2", "AUTH", "default", "p1", "AUTH", "default", "p2"),
    ("HELLO", "x", "AUTH", "a", "b"),
    ("HELLO", "3", "AUTH", "default"),
    ("HELLO", "2", "BAD", "AUTH", "a", "b"),
    ("AUTH", "a", "b", "c"),
    ("PING",),
    ("ECHO", ""),
]


def fed_script(port):
    """Runs SCRIPT on a fresh connection while another monitors; returns the monitor's lines, normalized, up to
    the ECHO that ends the script."""
    watcher = monitor(port)
    client = Conn(port, 2)
    address = address_of(client)
    for command in SCRIPT:
        client.command(*command)
    lines = []
    while True:
        database, arguments = fed_line(watcher, address)
        lines.append((database, arguments))
        if arguments == b'"ECHO" ""':
            break
    client.close()
    watcher.close()
    return lines


def test_the_same_lines_as_redis(server, redis_reference):
    weft = fed_script(server)
    reference = fed_script(redis_reference)
    assert weft == reference
    # The differential comparison would pass if neither fed anything; these are the lines that must be there.
    assert (3, b'"SELECT" "3"') in weft
    assert (3, b'"AUTH" "(redacted)" "(redacted)"') in weft
    assert (5, b'"EXEC"') in weft
    assert not any(b"CONFIG" in arguments or b"NOSUCH" in arguments for _, arguments in weft)


def test_a_watch_failure_feeds_exec_alone(server):
    watcher = monitor(server)
    client = Conn(server, 2)
    other = Conn(server, 2)
    address = address_of(client)
    client.command("WATCH", "watched")
    other.command("SET", "watched", "1")
    client.command("MULTI")
    client.command("SET", "watched", "2")
    assert client.command("EXEC") == ("*", None)
    client.command("ECHO", "end")
    lines = []
    while not lines or lines[-1][1] != b'"ECHO" "end"':
        kind, text = watcher.reply()
        match = LINE.match(b"+" + text)
        if match.group(4).decode() == address:
            lines.append((int(match.group(3)), match.group(5)))
    assert [arguments for _, arguments in lines if not arguments.startswith(b'"CLIENT"')] == [
        b'"WATCH" "watched"', b'"MULTI"', b'"EXEC"', b'"ECHO" "end"'
    ]


def test_the_monitor_may_not_touch_the_keyspace(server, redis_reference):
    for port in (server, redis_reference):
        conn = monitor(port)
        assert conn.command("GET", "a") == ("-", b"ERR Replica can't interact with the keyspace")
        assert conn.command("SET", "a", "1") == ("-", b"ERR Replica can't interact with the keyspace")
        assert conn.command("DBSIZE") == ("-", b"ERR Replica can't interact with the keyspace")
        # Its own PING is answered, then fed to itself.
        assert conn.command("PING") == ("+", b"PONG")
        kind, text = conn.reply()
        assert kind == "+" and text.endswith(b'] "PING"'), text
        # A second MONITOR gets no reply at all: the next reply is the ECHO's.
        conn.send(("MONITOR",))
        assert conn.command("CLIENT", "ID")[0] == ":"
        kind, text = conn.reply()
        assert text.endswith(b'"CLIENT" "ID"'), text
        # RESET ends MONITOR mode.
        assert conn.command("RESET") == ("+", b"RESET")
        assert conn.command("SET", "a", "1") == ("+", b"OK")
        assert conn.command("GET", "a") == ("$", b"1")
        conn.close()


def test_monitor_inside_exec_is_refused(server, redis_reference):
    for port in (server, redis_reference):
        conn = Conn(port, 2)
        conn.command("MULTI")
        assert conn.command("MONITOR") == ("+", b"QUEUED")
        assert conn.command("EXEC") == ("*", [("-", b"ERR MONITOR isn't allowed for DENY BLOCKING client")])
        assert conn.command("SET", "a", "1") == ("+", b"OK")
        conn.close()


def test_client_list_shows_the_monitor(server):
    conn = monitor(server)
    lister = redis.Redis(port=server, decode_responses=True)
    line = next(c for c in lister.client_list() if c["cmd"] == "monitor")
    assert line["flags"] == "O"
    lister.close()
    conn.close()


def test_a_monitor_is_not_closed_for_idleness(server):
    admin = redis.Redis(port=server, decode_responses=True)
    admin.config_set("timeout", "1")
    try:
        watcher = monitor(server)
        idle = Conn(server, 2)
        time.sleep(3)
        # The housekeeper closed the idle client, not the monitor, which still gets lines.
        assert idle.closed_by_server()
        admin.get("after")
        while True:
            kind, text = watcher.reply()
            if text.endswith(b'"GET" "after"'):
                break
        watcher.close()
    finally:
        admin.config_set("timeout", "0")
        admin.close()


def test_every_command_of_every_connection_is_fed_once(server):
    """16 connections (on both event loops) run SETs and MULTI/INCR/EXEC on one hot key, so that the engine re-runs
    transactions; two monitors each see every command exactly once, EXEC's commands between its MULTI and EXEC."""
    watchers = [monitor(server), monitor(server)]
    clients = [redis.Redis(port=server) for _ in range(16)]
    rounds = 40

    def work(index):
        client = clients[index]
        for round_ in range(rounds):
            client.set(f"own:{index}", round_)
            with client.pipeline(transaction=True) as pipe:
                pipe.execute_command("INCR", "hot")
                pipe.execute_command("INCR", f"count:{index}")
                pipe.execute()

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(work, range(16)))
    assert int(clients[0].get("hot")) == 16 * rounds
    marker = redis.Redis(port=server)
    marker.echo("done")
    for watcher in watchers:
        counts = {}
        per_address = {}
        while True:
            kind, text = watcher.reply()
            match = LINE.match(b"+" + text)
            arguments = match.group(5)
            if arguments == b'"ECHO" "done"':
                break
            counts[arguments] = counts.get(arguments, 0) + 1
            per_address.setdefault(match.group(4), []).append(arguments)
        assert counts[b'"INCR" "hot"'] == 16 * rounds
        assert counts[b'"MULTI"'] == 16 * rounds
        assert counts[b'"EXEC"'] == 16 * rounds
        for index in range(16):
            assert counts[f'"INCR" "count:{index}"'.encode()] == rounds
            assert sum(v for k, v in counts.items() if k.startswith(f'"SET" "own:{index}"'.encode())) == rounds
        # Each connection's lines come in its order: MULTI, the two INCRs, EXEC.
        for lines in per_address.values():
            transactions = [line for line in lines if line.startswith((b'"MULTI"', b'"INCR"', b'"EXEC"'))]
            for start in range(0, len(transactions), 4):
                group = transactions[start:start + 4]
                assert group[0] == b'"MULTI"' and group[3] == b'"EXEC"', group
                assert group[1] == b'"INCR" "hot"', group
        watcher.close()
    for client in clients:
        client.close()
    marker.close()


def test_a_closed_monitor_leaves_the_feed(server):
    watcher = monitor(server)
    watcher.close()
    client = redis.Redis(port=server)
    for _ in range(100):
        client.set("after-close", "1")
    assert client.get("after-close") == b"1"
    client.close()


def test_redis_py_monitor(server):
    client = redis.Redis(port=server, decode_responses=True)
    with client.monitor() as m:
        client.set("py:key", "value with spaces")
        while True:
            fed = m.next_command()
            if "py:key" in fed["command"]:
                break
        assert fed["command"] == "SET py:key value with spaces"
        assert fed["db"] == 0
        assert fed["client_type"] == "tcp"
        assert fed["client_address"] == "127.0.0.1"
    client.close()


def test_redis_cli_monitor(server):
    process = subprocess.Popen(
        ["redis-cli", "-p", str(server), "monitor"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        first = process.stdout.readline()
        assert first.strip() == b"OK", first
        client = redis.Redis(port=server)
        client.set("cli:key", "v")
        line = process.stdout.readline()
        while b"cli:key" not in line:
            line = process.stdout.readline()
        assert re.match(rb'^\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] "SET" "cli:key" "v"$', line.strip()), line
        client.close()
    finally:
        process.kill()
        process.wait(timeout=10)


def raw_exchange(port, steps):
    """Runs `steps` on raw connections: ("monitor"|"other", bytes to send) or ("pause", seconds); returns what the
    monitor connection received, timestamps and ports normalized, read until it goes quiet or closes."""
    import socket

    connections = {
        name: socket.create_connection(("127.0.0.1", port), timeout=5) for name in ("monitor", "other")
    }
    for name, data in steps:
        if name == "pause":
            time.sleep(data)
        else:
            connections[name].sendall(data)
    received = b""
    watcher = connections["monitor"]
    watcher.settimeout(0.6)
    try:
        while True:
            chunk = watcher.recv(65536)
            if not chunk:
                received += b"<closed>"
                break
            received += chunk
    except socket.timeout:
        pass
    for connection in connections.values():
        connection.close()
    return re.sub(rb"\+\d+\.\d{6} \[(\d+) [^\]]+:\d+\]", rb"+T [\1 A]", received)


def test_the_monitors_own_commands_as_redis(server, redis_reference):
    """Commands pipelined after MONITOR are fed to it; CLIENT PAUSE does not hold a monitor; CLIENT REPLY SKIP
    silences the feed until the skipped command has run; QUIT gets its +OK and nothing more."""
    cases = [
        [("monitor", b"MONITOR\r\nPING\r\nECHO x\r\n")],
        [
            ("monitor", b"MONITOR\r\n"),
            ("pause", 0.2),
            ("other", b"CLIENT PAUSE 1500 ALL\r\n"),
            ("pause", 0.2),
            ("monitor", b"PING\r\n"),
            ("pause", 0.2),
        ],
        [
            ("monitor", b"MONITOR\r\nCLIENT REPLY SKIP\r\n"),
            ("pause", 0.2),
            ("other", b"SET skip 1\r\n"),
            ("pause", 0.2),
            ("monitor", b"PING\r\n"),
            ("pause", 0.2),
            ("other", b"SET after 1\r\n"),
            ("pause", 0.2),
        ],
        [("monitor", b"MONITOR\r\n"), ("pause", 0.2), ("monitor", b"QUIT\r\n")],
    ]
    for steps in cases:
        weft = raw_exchange(server, steps)
        reference = raw_exchange(redis_reference, steps)
        assert weft == reference, (steps, weft, reference)
        assert weft.startswith(b"+OK\r\n")
    # The pause case answered at once: its PONG came inside the 0.6 s read, not after the 1.5 s pause.
    assert b"+PONG" in raw_exchange(server, cases[1])
