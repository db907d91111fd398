"""client-output-buffer-limit's soft limit and CLIENT LIST's memory fields, against a real weft-server."""
import socket
import time

import pytest
import redis

from weft_process import client, servers  # noqa: F401 (fixture)


def test_soft_limit_closes_a_client_that_stays_over_it(servers):  # noqa: F811
    s = servers.start(appendonly="no")
    admin = client(s.port)
    admin.set("big", b"x" * (512 * 1024))
    assert admin.config_set("client-output-buffer-limit", "normal 0 1mb 1")
    lazy = socket.create_connection(("127.0.0.1", s.port))
    lazy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    lazy.sendall(b"CLIENT SETNAME lazy\r\n" + b"GET big\r\n" * 64)
    # It never reads: its unsent replies stay over 1 MB; after a second it is closed.
    def lazy_lines():
        return [line for line in admin.execute_command("CLIENT", "LIST").decode().splitlines() if "name=lazy" in line]

    deadline = time.time() + 5
    while not lazy_lines() and time.time() < deadline:
        time.sleep(0.01)
    seen_memory = False
    while time.time() < deadline:
        lines = lazy_lines()
        if not lines:
            break
        fields = dict(field.split("=", 1) for field in lines[0].split(" "))
        if int(fields["omem"]) > 1024 * 1024:
            seen_memory = True
            assert int(fields["tot-mem"]) >= int(fields["omem"])
        time.sleep(0.1)
    else:
        raise AssertionError("the client over the soft limit was not closed")
    assert seen_memory, "CLIENT LIST never showed the pending replies in omem"
    lazy.close()
    # Without a soft limit the same client stays connected.
    assert admin.config_set("client-output-buffer-limit", "normal 0 0 0")
    patient = socket.create_connection(("127.0.0.1", s.port))
    patient.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    patient.sendall(b"CLIENT SETNAME patient\r\n" + b"GET big\r\n" * 64)
    time.sleep(1.5)
    assert "name=patient" in admin.execute_command("CLIENT", "LIST").decode()
    patient.close()
    # A client that reads its replies is left alone.
    for _ in range(20):
        assert len(admin.get("big")) == 512 * 1024
    assert admin.ping()


def test_a_tiny_hard_limit_leaves_small_replies_alone(servers):  # noqa: F811
    # Redis counts only what does not fit a client's 16 KiB reply buffer: with a 1-byte hard limit, small replies
    # still get through, and a client is closed only once more than that waits.
    s = servers.start(appendonly="no")
    admin = client(s.port)
    assert admin.config_set("client-output-buffer-limit", "normal 1 0 0")
    try:
        other = client(s.port)
        for _ in range(5):
            assert other.ping()
            assert other.set("small", "v" * 1000)
            assert len(other.get("small")) == 1000
        other.set("big", "x" * (64 * 1024))
        with pytest.raises(redis.ConnectionError):
            other.get("big")
    finally:
        admin.config_set("client-output-buffer-limit", "normal 0 0 0")
