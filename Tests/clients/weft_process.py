"""Starts, stops and kills weft-server processes on a data directory, for the persistence and crash tests.

Also: a full dump of the keyspace to compare before and after a restart, the commit log's segment files and block
boundaries (`Sources/CommitLog/LogFormat.swift`), and CRC32C to rewrite a block header.
"""
import contextlib
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

SERVER_BINARY = os.environ.get("WEFT_SERVER", ".build/debug/weft-server")
# weft-log is built next to weft-server.
LOG_TOOL = os.environ.get("WEFT_LOG", str(Path(SERVER_BINARY).parent / "weft-log"))

DATABASES = 16
HEADER_SIZE = 56
MAGIC = b"WEFTLOG1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_redis(*settings, password=None):
    """A redis-server without persistence on a free port with `settings` (more `--directive value` words), killed
    on leaving; skips the test where redis-server is not installed. Yields its port."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    with tempfile.TemporaryDirectory() as directory:
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", directory, *settings],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.time() + 10
            while True:
                try:
                    if redis.Redis(port=port, password=password, socket_timeout=10).ping():
                        break
                except redis.ConnectionError:
                    if time.time() > deadline or process.poll() is not None:
                        raise RuntimeError("redis-server did not start")
                    time.sleep(0.05)
            yield port
        finally:
            process.kill()
            process.wait(timeout=10)


def client(port, db=0, **options):
    """A redis-py client that never retries on its own: a test must see every failure."""
    options.setdefault("socket_timeout", 10)
    return redis.Redis(port=port, db=db, retry=Retry(NoBackoff(), 0), **options)


class ServerExited(Exception):
    """The server exited while a test waited for it to answer PING."""

    def __init__(self, returncode, output):
        super().__init__(f"weft-server exited with status {returncode}:\n{output}")
        self.returncode = returncode
        self.output = output


class WeftProcess:
    """One weft-server process at a time on `data_dir`; each launch's stdout and stderr go to `output_path.<n>`.

    Options are directives without their `--` (`appendfsync="always"`, `aof_load_corrupt="yes"`: underscores become
    dashes). `appendonly` is "yes" unless given.
    """

    def __init__(self, data_dir, output_path, **options):
        self.data_dir = Path(data_dir)
        self.output_path = Path(output_path)
        self.options = {"appendonly": "yes", **options}
        self.port = None
        self.process = None
        self.launches = 0

    @property
    def log_dir(self):
        return self.data_dir / self.options.get("appenddirname", "appendonlydir")

    def arguments(self):
        arguments = [SERVER_BINARY, "--port", str(self.port), "--bind", "127.0.0.1", "--io-threads", "2",
                     "--dir", str(self.data_dir)]
        for name, value in self.options.items():
            arguments += ["--" + name.replace("_", "-"), str(value)]
        return arguments

    def launch(self):
        """Starts the process and returns at once."""
        assert self.process is None or self.process.poll() is not None, "already running"
        self.port = free_port()
        self.launches += 1
        with open(self.current_output_path(), "wb") as output:
            self.process = subprocess.Popen(self.arguments(), stdout=output, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL)
        return self

    def start(self, timeout=30):
        """Starts the process and waits until it answers PING with PONG (not LOADING). Raises `ServerExited`."""
        self.launch()
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise ServerExited(self.process.returncode, self.output())
            try:
                password = self.options.get("requirepass") or None
                with client(self.port, socket_timeout=2, socket_connect_timeout=2, password=password) as probe:
                    if probe.ping():
                        return
            except redis.BusyLoadingError:
                time.sleep(0.02)
            except (redis.ConnectionError, redis.TimeoutError):
                time.sleep(0.02)
        self.kill()
        raise RuntimeError(f"weft-server did not answer PING within {timeout} s:\n{self.output()}")

    def start_expecting_failure(self, timeout=30):
        """Starts the process and waits for it to exit or to answer PING.

        Returns the exit status, or None when the server started (it is left running; the fixture kills it).
        """
        self.launch()
        try:
            self.wait_ready(timeout)
        except ServerExited as exited:
            return exited.returncode
        return None

    def client(self, db=0, **options):
        return client(self.port, db=db, **options)

    def running(self):
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout=30):
        """SIGTERM, then waits; returns the exit status."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"weft-server did not exit within {timeout} s of SIGTERM:\n{self.output()}")

    def kill(self):
        """SIGKILL, then waits; returns the exit status."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
        return self.process.wait(timeout=30) if self.process is not None else None

    def current_output_path(self):
        return self.output_path.with_name(f"{self.output_path.name}.{self.launches}")

    def output(self):
        """What the latest process printed (stdout and stderr)."""
        try:
            return self.current_output_path().read_bytes().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""


class Servers:
    """Makes `WeftProcess`es in one test's tmp dir and kills whatever is still running at teardown."""

    def __init__(self, tmp_path):
        self.tmp_path = Path(tmp_path)
        self.made = []

    def make(self, data_dir=None, create=True, **options):
        """A server on `data_dir` (default `<tmp>/data`, made unless `create` is false); not started yet."""
        data_dir = Path(data_dir) if data_dir is not None else self.tmp_path / "data"
        if create:
            data_dir.mkdir(parents=True, exist_ok=True)
        output = self.tmp_path / f"server-{len(self.made)}.out"
        made = WeftProcess(data_dir, output, **options)
        self.made.append(made)
        return made

    def start(self, data_dir=None, **options):
        return self.make(data_dir, **options).start()

    def kill_all(self):
        for made in self.made:
            if made.running():
                made.kill()


@pytest.fixture
def servers(tmp_path):
    made = Servers(tmp_path)
    yield made
    made.kill_all()


def read_until(sock, expected):
    """Reads from `sock` until what it has read ends with `expected`; fails if the server closes first."""
    data = b""
    while not data.endswith(expected):
        chunk = sock.recv(65536)
        assert chunk, f"closed after {data!r}"
        data += chunk
    return data


# MARK: the keyspace


def dump(port, databases=DATABASES):
    """Every key of every database: {db: {key: (value, expiry)}}, expiry the absolute PEXPIRETIME or -1."""
    result = {}
    for db in range(databases):
        with client(port, db=db) as c:
            keys = set(c.scan_iter(count=1000))
            entries = {}
            for key in keys:
                pipe = c.pipeline(transaction=False)
                pipe.get(key)
                pipe.execute_command("PEXPIRETIME", key)
                value, expiry = pipe.execute()
                if value is None:  # expired between SCAN and GET
                    continue
                entries[key] = (value, expiry)
            assert c.dbsize() == len(entries), f"db {db}: DBSIZE disagrees with SCAN"
            if entries:
                result[db] = entries
    return result


# MARK: the commit log's files


def segments(log_dir):
    """The segment files of a log directory (`weft-<16 hex>.log`), by number."""
    found = []
    for path in Path(log_dir).glob("weft-*.log"):
        digits = path.name[len("weft-"):-len(".log")]
        if len(digits) == 16 and all(ch in "0123456789abcdef" for ch in digits):
            found.append((int(digits, 16), path))
    return [path for _, path in sorted(found)]


def directory_size(log_dir):
    return sum(p.stat().st_size for p in Path(log_dir).iterdir() if p.is_file())


def blocks(path):
    """(offset, size) of every block of a segment, from the headers' stored payload lengths."""
    data = Path(path).read_bytes()
    found = []
    offset = 0
    while offset < len(data):
        assert data[offset:offset + 8] == MAGIC, f"{path}: no block header at offset {offset}"
        stored = struct.unpack_from("<I", data, offset + 44)[0]
        size = HEADER_SIZE + stored
        assert offset + size <= len(data), f"{path}: block at {offset} runs past the end"
        found.append((offset, size))
        offset += size
    return found


def last_nonempty_segment(log_dir):
    nonempty = [p for p in segments(log_dir) if p.stat().st_size > 0]
    assert nonempty, f"no segment with data in {log_dir}: {list(Path(log_dir).iterdir())}"
    return nonempty[-1]


def reflected_crc_table(polynomial):
    """The byte table of a reflected CRC with the given (reflected) polynomial."""
    table = []
    for index in range(256):
        crc = index
        for _ in range(8):
            crc = (crc >> 1) ^ polynomial if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC32C_TABLE = reflected_crc_table(0x82F63B78)


def crc32c(data, crc=0):
    """CRC-32C (Castagnoli), as `Sources/CommitLog/CRC32C.swift` computes it."""
    crc ^= 0xFFFFFFFF
    for byte in data:
        crc = _CRC32C_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283  # the standard check value


def rewrite_header(path, offset, version=None):
    """Changes a block header's fields in place and recomputes its CRC32C (bytes 52..<56 over 0..<52)."""
    data = bytearray(Path(path).read_bytes())
    if version is not None:
        struct.pack_into("<H", data, offset + 8, version)
    struct.pack_into("<I", data, offset + 52, crc32c(bytes(data[offset:offset + 52])))
    Path(path).write_bytes(bytes(data))


def flip_bit(path, position, bit=0):
    data = bytearray(Path(path).read_bytes())
    data[position] ^= 1 << bit
    Path(path).write_bytes(bytes(data))


def cut(path, count):
    """Cuts `count` bytes off the end of a file."""
    size = Path(path).stat().st_size
    os.truncate(path, size - count)
