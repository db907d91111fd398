"""redis-cli's COMMAND DOCS against weft-server: the documentation redis-cli 7 builds its hints from.

Where redis-server is installed, redis-cli's output must be the same as against redis-server 7.0.15 (but for the order
of a container's subcommands, which redis-server draws anew at every start).
"""
import shutil
import socket
import subprocess
import tempfile
import time

import pytest


def cli(port, *args):
    return subprocess.run(
        ["redis-cli", "-p", str(port), *args], capture_output=True, text=True, timeout=30, check=True
    ).stdout


@pytest.fixture(scope="module")
def redis_server():
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as directory:
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.time() + 10
            while subprocess.run(["redis-cli", "-p", str(port), "PING"], capture_output=True, text=True).stdout != "PONG\n":
                if time.time() > deadline:
                    raise RuntimeError("redis-server did not start")
                time.sleep(0.05)
            yield port
        finally:
            process.terminate()
            process.wait(timeout=10)


@pytest.mark.skipif(shutil.which("redis-cli") is None, reason="redis-cli is not installed")
def test_command_docs_set(server, request):
    lines = cli(server, "COMMAND", "DOCS", "set").splitlines()
    assert lines[:3] == ["set", "summary", "Set the string value of a key"]
    for word in ["since", "group", "string", "complexity", "history", "arguments", "key_spec_index", "expiration",
                 "oneof", "EX", "seconds", "PXAT", "unix-time", "KEEPTTL", "pure-token", "optional"]:
        assert word in lines, word
    if shutil.which("redis-server") is None:
        return
    redis_port = request.getfixturevalue("redis_server")
    for name in ["set", "get", "expire", "scan", "multi", "mset", "getset", "hello", "client|kill"]:
        assert cli(server, "COMMAND", "DOCS", name) == cli(redis_port, "COMMAND", "DOCS", name), name
    for name in ["client", "config", "object", "command"]:
        ours = cli(server, "COMMAND", "DOCS", name).splitlines()
        theirs = cli(redis_port, "COMMAND", "DOCS", name).splitlines()
        assert sorted(ours) == sorted(theirs), name
