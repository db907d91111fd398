"""Starts a real weft-server process for the client tests, on a free port, and stops it afterwards; and, for the
tests that compare Weft with Redis, a real redis-server."""
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest
import redis


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server():
    binary = os.environ.get("WEFT_SERVER", ".build/debug/weft-server")
    port = free_port()
    # Its output goes to a file: a pipe nobody reads would fill and stop the server at its next log line.
    output = tempfile.NamedTemporaryFile(prefix="weft-server-", suffix=".out", delete=False)
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--io-threads", "2", "--appendonly", "no"],
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if redis.Redis(port=port).ping():
                break
        except redis.ConnectionError:
            time.sleep(0.05)
    else:
        process.kill()
        with open(output.name, errors="replace") as printed:
            raise RuntimeError("weft-server did not start:\n" + printed.read())
    yield port
    process.terminate()
    process.wait(timeout=10)
    output.close()
    os.unlink(output.name)


@pytest.fixture(scope="session")
def redis_reference():
    """A redis-server without persistence on a free port, killed at the end of the run; skips the test where
    redis-server is not installed."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    with tempfile.TemporaryDirectory() as directory:
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", directory, "--databases", "16"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.time() + 10
            while True:
                try:
                    if redis.Redis(port=port, socket_timeout=10).ping():
                        break
                except redis.ConnectionError:
                    if time.time() > deadline or process.poll() is not None:
                        raise RuntimeError("redis-server did not start")
                    time.sleep(0.05)
            yield port
        finally:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def r(server):
    client = redis.Redis(port=server, decode_responses=True)
    client.flushall()
    yield client
    client.close()
