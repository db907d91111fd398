"""Config files (quoting, include, overrides, errors), CONFIG REWRITE round trips, the query buffer limit, and a
SIGTERM under load, against a real weft-server."""
import os
import socket
import subprocess
import threading
import time

import pytest
import redis

from weft_process import SERVER_BINARY, client, free_port, servers  # noqa: F401 (fixture)


def start_with_file(tmp_path, text, *overrides):
    """Starts weft-server on a config file holding `text`; returns (process, port, path)."""
    path = tmp_path / "weft.conf"
    path.write_text(text)
    port = free_port()
    process = subprocess.Popen([SERVER_BINARY, str(path), "--port", str(port), *overrides],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.time() + 30
    while time.time() < deadline:
        if process.poll() is not None:
            raise AssertionError(process.stdout.read().decode())
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process, port, path
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise AssertionError("weft-server did not listen")


def run_expecting_failure(tmp_path, text):
    path = tmp_path / "bad.conf"
    path.write_text(text)
    result = subprocess.run([SERVER_BINARY, str(path), "--port", "0"], capture_output=True, timeout=30)
    return result.returncode, (result.stdout + result.stderr).decode()


def stop(process):
    process.terminate()
    assert process.wait(timeout=30) == 0


def test_quoting_include_and_overrides(tmp_path):
    (tmp_path / "extra.conf").write_text("timeout 7\nmaxclients 77\n")
    text = (
        "# a comment\n"
        "   \n"
        "appendonly no\n"
        'requirepass "two words\\x21"\n'
        f"include {tmp_path / 'extra.conf'}\n"
        "loglevel 'warning'\n"
    )
    process, port, _ = start_with_file(tmp_path, text, "--maxclients", "99", "--proto-max-bulk-len", "2mb")
    try:
        c = client(port, password="two words!", decode_responses=True)
        assert c.config_get("requirepass") == {"requirepass": "two words!"}
        assert c.config_get("timeout") == {"timeout": "7"}
        assert c.config_get("maxclients") == {"maxclients": "99"}  # the command line wins over the file
        assert c.config_get("loglevel") == {"loglevel": "warning"}
        assert c.config_get("proto-max-bulk-len") == {"proto-max-bulk-len": "2097152"}  # a memory value
    finally:
        stop(process)


@pytest.mark.parametrize("text, expected", [
    ("appendonly no\nnosuchdirective 1\n", "bad.conf:2: unknown directive 'nosuchdirective'"),
    ("port notanumber\n", "bad.conf:1: bad value for 'port'"),
    ("aof-backlog-limit 0\n", "bad.conf:1: bad value for 'aof-backlog-limit'"),
    ('requirepass "unbalanced\n', "bad.conf:1: unbalanced quotes"),
    ("appendonly maybe\n", "bad.conf:1: argument must be 'yes' or 'no'"),
    ("include /nonexistent/weft.conf\n", "cannot open config file '/nonexistent/weft.conf'"),
    ("save 3600 1\n", "bad.conf:1: Weft takes no snapshots"),
    ("daemonize yes\n", "bad.conf:1: weft-server does not daemonize"),
    # A memory value from 1 MiB to 4 GiB less a byte (a Weft string's length is 32 bits).
    ("proto-max-bulk-len 4gb\n", "bad.conf:1: bad value for 'proto-max-bulk-len'"),
    ("proto-max-bulk-len 1023kb\n", "bad.conf:1: bad value for 'proto-max-bulk-len'"),
])
def test_bad_config_stops_startup_with_file_line_and_reason(tmp_path, text, expected):
    code, output = run_expecting_failure(tmp_path, text)
    assert code == 1
    assert expected in output, output


def test_redis_server_s_way_of_turning_snapshots_off_is_taken(tmp_path):
    # `redis-server --save "" --appendonly no`, the usual way to run Redis without persistence, works the same.
    process, port, _ = start_with_file(tmp_path, 'save ""\ndaemonize no\n', "--save", "", "--appendonly", "no")
    try:
        c = client(port, decode_responses=True)
        assert c.config_get("save") == {"save": ""}
        assert c.config_get("daemonize") == {"daemonize": "no"}
        assert c.config_set("save", "") is True
        for value, error in [("3600 1", "Weft takes no snapshots"), ("3600", "Invalid save parameters"),
                             ("a b", "Invalid save parameters")]:
            with pytest.raises(redis.ResponseError, match=error):
                c.config_set("save", value)
        with pytest.raises(redis.ResponseError, match="can't set immutable config"):
            c.config_set("daemonize", "no")
    finally:
        stop(process)


def test_config_rewrite_round_trip(tmp_path):
    original = "# Weft test config\nappendonly no\ntimeout 5\n# keep me\nloglevel notice\n"
    process, port, path = start_with_file(tmp_path, original)
    try:
        c = client(port, decode_responses=True)
        assert c.config_set("timeout", "42")
        assert c.config_set("maxclients", "123")
        assert c.config_set("requirepass", 'with space "and" quote')
        assert c.config_set("slowlog-max-len", "64")
        c = client(port, password='with space "and" quote', decode_responses=True)
        assert c.execute_command("CONFIG", "REWRITE") == "OK"
    finally:
        stop(process)
    rewritten = path.read_text().splitlines()
    # Comments and order stay; changed directives are updated in place or appended after Redis's marker.
    assert rewritten[:4] == ["# Weft test config", "appendonly no", "timeout 42", "# keep me"]
    assert "# Generated by CONFIG REWRITE" in rewritten
    process, port, _ = start_with_file(tmp_path, path.read_text())
    try:
        c = client(port, password='with space "and" quote', decode_responses=True)
        assert c.config_get("timeout") == {"timeout": "42"}
        assert c.config_get("maxclients") == {"maxclients": "123"}
        assert c.config_get("slowlog-max-len") == {"slowlog-max-len": "64"}
        assert c.config_get("loglevel") == {"loglevel": "notice"}
    finally:
        stop(process)


def test_config_rewrite_without_a_config_file(servers):  # noqa: F811
    s = servers.start(appendonly="no")
    with pytest.raises(redis.ResponseError, match="The server is running without a config file"):
        s.client().execute_command("CONFIG", "REWRITE")


def test_paths_cannot_be_changed_at_run_time(servers):  # noqa: F811
    s = servers.start(appendonly="no")
    c = s.client()
    for name in ("logfile", "appenddirname", "appendfilename"):
        with pytest.raises(redis.ResponseError, match="can't set immutable config"):
            c.config_set(name, "/tmp/elsewhere")
    # Redis 7 protects dir rather than fixing it (enable-protected-configs): the same refusal, its own text.
    with pytest.raises(redis.ResponseError, match="can't set protected config"):
        c.config_set("dir", "/tmp/elsewhere")


def test_query_buffer_limit_closes_the_client(servers):  # noqa: F811
    s = servers.start(appendonly="no", client_query_buffer_limit="1mb")
    with socket.create_connection(("127.0.0.1", s.port), timeout=5) as raw:
        # One bulk string announced at 10 MB, sent past the 1 MB limit without ever being finished.
        raw.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10000000\r\n")
        closed = False
        try:
            for _ in range(40):
                raw.sendall(b"x" * 65536)
        except (BrokenPipeError, ConnectionResetError):
            closed = True
        if not closed:
            raw.settimeout(5)
            try:
                closed = raw.recv(100) == b""
            except ConnectionResetError:
                closed = True
        assert closed
    assert "Closing client that reached max query buffer length" in s.output()
    assert s.client().ping()


def test_sigterm_under_load_exits_zero_with_the_log_flushed(servers):  # noqa: F811
    s = servers.start(appendfsync="everysec")
    acknowledged = {}
    stop_writing = threading.Event()

    def writer(index):
        c = client(s.port, socket_timeout=10)
        n = 0
        while not stop_writing.is_set():
            key = f"w{index}:{n}"
            try:
                c.set(key, n)
            except (redis.ConnectionError, redis.TimeoutError):
                return
            acknowledged[key] = str(n).encode()
            n += 1

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    deadline = time.time() + 20
    while len(acknowledged) < 200 and time.time() < deadline:  # under load, however slow the machine
        time.sleep(0.05)
    assert s.stop() == 0  # SIGTERM while eight clients write
    stop_writing.set()
    for thread in threads:
        thread.join(timeout=10)
    assert "log flushed and synced" in s.output()
    s.start()
    c = s.client()
    missing = [key for key, value in acknowledged.items() if c.get(key) != value]
    assert not missing, f"{len(missing)} acknowledged writes lost, e.g. {missing[:5]}"
    assert len(acknowledged) > 100


def io_threads_active(port):
    info = client(port).info("server")
    return int(info["io_threads_active"])


@pytest.mark.parametrize("pinned", [True, False])
def test_io_threads_default_is_the_cores_the_process_may_use(tmp_path, pinned):
    # Without io-threads, one event loop per core the process may run on: started under a one-CPU affinity mask
    # (taskset, systemd's CPUAffinity=), it runs one loop, not one per core of the machine taking turns on that CPU.
    cpus = sorted(os.sched_getaffinity(0))
    mask = {cpus[-1]} if pinned else set(cpus)
    port = free_port()
    process = subprocess.Popen(
        [SERVER_BINARY, "--port", str(port), "--bind", "127.0.0.1", "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, preexec_fn=lambda: os.sched_setaffinity(0, mask))
    try:
        deadline = time.time() + 30
        while True:
            assert process.poll() is None, process.stdout.read().decode()
            try:
                loops = io_threads_active(port)
                break
            except redis.exceptions.ConnectionError:
                assert time.time() < deadline, "weft-server did not listen"
                time.sleep(0.05)
        if pinned:
            assert loops == 1
        else:
            # At most one per allowed CPU (a cgroup CPU quota may allow fewer), and at least one.
            assert 1 <= loops <= len(cpus)
    finally:
        stop(process)
