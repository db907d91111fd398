"""Starts a real weft-server process for the client tests, on a free port, and stops it afterwards; and, for the
tests that compare Weft with Redis, a real redis-server."""
import os
import socket
import subprocess
import tempfile
import time

import pytest
import redis

from weft_process import running_redis


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
    """A redis-server without persistence, for the whole run."""
    with running_redis("--databases", "16") as port:
        yield port


@pytest.fixture
def r(server):
    client = redis.Redis(port=server, decode_responses=True)
    client.flushall()
    yield client
    client.close()
