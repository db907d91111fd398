"""Starts a real weft-server process for the client tests, on a free port, and stops it afterwards."""
import os
import socket
import subprocess
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
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--io-threads", "2", "--appendonly", "no"],
        stdout=subprocess.PIPE,
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
        raise RuntimeError("weft-server did not start")
    yield port
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def r(server):
    client = redis.Redis(port=server, decode_responses=True)
    client.flushall()
    yield client
    client.close()
