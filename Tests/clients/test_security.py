"""requirepass, AUTH, HELLO ... AUTH and protected mode, against a real weft-server, with Redis 7's replies.

The expected texts were taken from redis-server 7.0 with the same settings.
"""
import socket
import subprocess

import pytest
import redis

from weft_process import client, running_redis, servers  # noqa: F401 (fixture)


def exchange(port, payload, host="127.0.0.1"):
    """Sends `payload` on a fresh connection; returns (everything answered before a short pause, whether the server
    closed the connection)."""
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(payload)
        s.settimeout(0.3)
        data = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return data, True
                data += chunk
        except socket.timeout:
            return data, False
        except ConnectionResetError:
            return data, True


def raw(port, payload, host="127.0.0.1"):
    """Sends `payload` on a fresh connection and returns everything the server answers before a short pause."""
    return exchange(port, payload, host)[0]


@pytest.fixture
def protected(servers):  # noqa: F811
    return servers.start(appendonly="no", requirepass="sekret")


def test_unauthenticated_clients_get_noauth(protected):
    c = client(protected.port, protocol=2)
    for command in (["PING"], ["GET", "a"], ["SET", "a", "1"], ["CLIENT", "ID"], ["SELECT", "1"], ["INFO"]):
        with pytest.raises(redis.AuthenticationError, match="Authentication required"):
            c.execute_command(*command)
    # Unknown commands and wrong arity are answered before authentication, as in Redis.
    assert raw(protected.port, b"NOSUCH\r\n").startswith(b"-ERR unknown command 'NOSUCH'")
    assert raw(protected.port, b"GET\r\n") == b"-ERR wrong number of arguments for 'get' command\r\n"
    assert raw(protected.port, b"QUIT\r\n") == b"+OK\r\n"
    assert raw(protected.port, b"RESET\r\n") == b"+RESET\r\n"


def test_wrong_passwords_get_wrongpass(protected):
    wrongpass = b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    assert raw(protected.port, b"AUTH wrong\r\n") == wrongpass
    assert raw(protected.port, b"AUTH someone sekret\r\n") == wrongpass
    assert raw(protected.port, b"HELLO 3 AUTH default wrong\r\n") == wrongpass
    assert raw(protected.port, b"HELLO 3\r\n") == (
        b"-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> "
        b"option can be used to authenticate the client and select the RESP protocol version at the same time\r\n"
    )


def test_auth_flows(protected):
    c = redis.Redis(port=protected.port, password="sekret")
    assert c.set("k", "v")
    assert c.get("k") == b"v"
    c3 = redis.Redis(port=protected.port, username="default", password="sekret", protocol=3)
    assert c3.get("k") == b"v"
    # Pipelined commands before AUTH are refused; those after it run.
    answer = raw(protected.port, b"GET k\r\nAUTH sekret\r\nGET k\r\n")
    assert answer == b"-NOAUTH Authentication required.\r\n+OK\r\n$1\r\nv\r\n"
    # RESET forgets the authentication.
    answer = raw(protected.port, b"AUTH default sekret\r\nRESET\r\nGET k\r\n")
    assert answer == b"+OK\r\n+RESET\r\n-NOAUTH Authentication required.\r\n"


def test_a_queued_command_before_auth_aborts_exec(protected):
    answer = raw(protected.port, b"MULTI\r\n")
    assert answer == b"-NOAUTH Authentication required.\r\n"


def test_password_changes_at_run_time(protected):
    c = redis.Redis(port=protected.port, password="sekret")
    assert c.config_get("requirepass") == {"requirepass": "sekret"}
    assert c.config_set("requirepass", "other")
    # The connection stays authenticated; new ones need the new password.
    assert c.ping()
    assert raw(protected.port, b"AUTH sekret\r\n").startswith(b"-WRONGPASS")
    assert raw(protected.port, b"AUTH other\r\nPING\r\n") == b"+OK\r\n+PONG\r\n"
    assert c.config_set("requirepass", "")
    assert raw(protected.port, b"PING\r\n") == b"+PONG\r\n"


def test_auth_without_a_password_configured(servers):  # noqa: F811
    s = servers.start(appendonly="no")
    assert raw(s.port, b"AUTH foo\r\n") == (
        b"-ERR AUTH <password> called without any password configured for the default user. "
        b"Are you sure your configuration is correct?\r\n"
    )
    # The default user has no password: any password passes for it.
    assert raw(s.port, b"AUTH default foo\r\n") == b"+OK\r\n"
    assert raw(s.port, b"AUTH other foo\r\n").startswith(b"-WRONGPASS")


def non_loopback_address():
    """An address of this machine that is not loopback, or None."""
    try:
        output = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    for address in output:
        if ":" not in address and not address.startswith("127."):
            return address
    return None


def test_protected_mode_refuses_remote_clients_without_a_password(servers):  # noqa: F811
    address = non_loopback_address()
    if address is None:
        pytest.skip("no non-loopback IPv4 address on this machine")
    s = servers.make(appendonly="no", bind="0.0.0.0")
    s.start()
    answer = raw(s.port, b"PING\r\n", host=address)
    assert answer.startswith(b"-DENIED Redis is running in protected mode because protected mode is enabled")
    assert answer.endswith(b"to start accepting connections from the outside.\r\n")
    # Loopback clients are served.
    assert raw(s.port, b"PING\r\n") == b"+PONG\r\n"
    # With protected mode off, or with a password, remote clients are served.
    assert raw(s.port, b"CONFIG SET protected-mode no\r\n") == b"+OK\r\n"
    assert raw(s.port, b"PING\r\n", host=address) == b"+PONG\r\n"
    assert raw(s.port, b"CONFIG SET protected-mode yes\r\nCONFIG SET requirepass pw\r\n") == b"+OK\r\n+OK\r\n"
    assert raw(s.port, b"AUTH pw\r\nPING\r\n", host=address) == b"+OK\r\n+PONG\r\n"



@pytest.fixture
def protected_redis():
    """A redis-server with the same password, for the replies to compare with."""
    with running_redis("--requirepass", "sekret", password="sekret") as port:
        yield port


def test_unauthenticated_clients_may_not_declare_much(protected, protected_redis):
    """Before AUTH, Redis refuses a multibulk count above 10 and a bulk above 16 KiB as soon as it reads the
    header, and closes the connection; an AUTH earlier in the same pipeline lifts the limits for what follows."""
    eleven = b"*11\r\n$4\r\nMGET\r\n" + b"$1\r\na\r\n" * 10
    cases = [
        b"*11\r\n",
        eleven,
        b"*10\r\n$4\r\nMGET\r\n" + b"$1\r\na\r\n" * 9,
        b"*2\r\n$4\r\nAUTH\r\n$16385\r\n",
        b"*2\r\n$4\r\nAUTH\r\n$16384\r\n" + b"x" * 16384 + b"\r\n",
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\n",
        b"*2\r\n$4\r\nAUTH\r\n$6\r\nsekret\r\n" + eleven + b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$20000\r\n"
        + b"v" * 20000 + b"\r\n",
        b"AUTH sekret\r\nRESET\r\n",
        b"*11\r\n$-1\r\n",
        b"*abc\r\n",
        b"*2\r\n$4\r\nAUTH\r\n$-5\r\n",
    ]
    for payload in cases:
        weft, expected = exchange(protected.port, payload), exchange(protected_redis, payload)
        assert weft == expected, (payload[:80], weft, expected)
    assert exchange(protected.port, eleven) == (b"-ERR Protocol error: unauthenticated multibulk length\r\n", True)
    # Known difference: a request pipelined in the same read right after a RESET that drops the authentication was
    # already read with the limits of an authenticated client (Redis reads it after the RESET has run); it is
    # still refused with NOAUTH, only not as a protocol error.
