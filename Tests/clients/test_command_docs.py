"""redis-cli's COMMAND DOCS against weft-server: the documentation redis-cli 7 builds its hints from.

Where redis-server is installed, redis-cli's output must be the same as against redis-server 7.0.15 (but for the order
of a container's subcommands, which redis-server draws anew at every start).
"""
import shutil
import subprocess

import pytest


def cli(port, *args):
    return subprocess.run(
        ["redis-cli", "-p", str(port), *args], capture_output=True, text=True, timeout=30, check=True
    ).stdout


@pytest.mark.skipif(shutil.which("redis-cli") is None, reason="redis-cli is not installed")
def test_command_docs_set(server, request):
    lines = cli(server, "COMMAND", "DOCS", "set").splitlines()
    assert lines[:3] == ["set", "summary", "Set the string value of a key"]
    for word in ["since", "group", "string", "complexity", "history", "arguments", "key_spec_index", "expiration",
                 "oneof", "EX", "seconds", "PXAT", "unix-time", "KEEPTTL", "pure-token", "optional"]:
        assert word in lines, word
    if shutil.which("redis-server") is None:
        return
    redis_port = request.getfixturevalue("redis_reference")
    for name in ["set", "get", "expire", "scan", "multi", "mset", "getset", "hello", "client|kill"]:
        assert cli(server, "COMMAND", "DOCS", name) == cli(redis_port, "COMMAND", "DOCS", name), name
    for name in ["client", "config", "object", "command"]:
        ours = cli(server, "COMMAND", "DOCS", name).splitlines()
        theirs = cli(redis_port, "COMMAND", "DOCS", name).splitlines()
        assert sorted(ours) == sorted(theirs), name
