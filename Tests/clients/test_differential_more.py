"""More differential tests against redis-server 7.0.15: connection and server commands, keys in depth, the wire
protocol byte by byte, and random sequences over a broader command set (SELECT across three databases, MULTI/EXEC,
WATCH with a second connection).

Unlike test_differential.py, replies are read by a small RESP parser of our own, so each reply keeps its RESP type:
a simple string is not a bulk string, a RESP3 null is not a RESP2 null bulk, a verbatim string is not a bulk string.
Error texts are compared in full. Normalized, and only these: what is nondeterministic (client ids and the fields of
CLIENT INFO/LIST that hold ids, addresses, file descriptors, ages and buffer sizes; TIME; TTL-like replies within a
tolerance; the order of KEYS, CONFIG GET and RESP3 sets; SCAN as the union of a full iteration; RANDOMKEY), the
server's version in HELLO (Weft reports another one on purpose), and the sizes of COMMAND COUNT, INFO's fields other
than the section names and the keyspace counts, and COMMAND DOCS' texts (compared by their keys and argument names).
"""
import concurrent.futures
import re
import socket
import time

import pytest
import redis

from test_differential import (  # noqa: F401 (pytestmark: the skip mark)
    Generator,
    assert_same_replies,
    resolve,
    pytestmark,
    with_known_differences,
)

TIMEOUT = 5


# ---------------------------------------------------------------------------------------------------------------
# A RESP2/RESP3 client that keeps the type of every reply.
# ---------------------------------------------------------------------------------------------------------------

class Closed(Exception):
    pass


class Conn:
    def __init__(self, port, protocol):
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.buffer = b""
        if protocol == 3:
            reply = self.command("HELLO", "3")
            assert reply[0] == "%", reply
        self.id = self.command("CLIENT", "ID")[1]

    def close(self):
        self.sock.close()

    def _fill(self):
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            data = b""
        if not data:
            raise Closed()
        self.buffer += data

    def _line(self):
        while b"\r\n" not in self.buffer:
            self._fill()
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def _exact(self, length):
        while len(self.buffer) < length + 2:
            self._fill()
        data, self.buffer = self.buffer[:length], self.buffer[length + 2:]
        return data

    def reply(self):
        """A reply as (type character, value): bytes for strings and errors, int for integers, a list for
        aggregates (of (key, value) pairs for maps and attributes), None for nulls."""
        line = self._line()
        kind, rest = chr(line[0]), line[1:]
        if kind in "+-,#(":
            return kind, rest
        if kind == ":":
            return kind, int(rest)
        if kind in "$=!":
            length = int(rest)
            return kind, None if length < 0 else self._exact(length)
        if kind in "*~>":
            count = int(rest)
            return kind, None if count < 0 else [self.reply() for _ in range(count)]
        if kind in "%|":
            return kind, [(self.reply(), self.reply()) for _ in range(int(rest))]
        if kind == "_":
            return kind, None
        raise AssertionError(f"not a RESP reply: {line!r}")

    def send(self, args):
        encoded = [arg if isinstance(arg, bytes) else str(arg).encode() for arg in args]
        self.sock.sendall(b"*%d\r\n" % len(encoded) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in encoded))

    def command(self, *args):
        self.send(args)
        return self.reply()

    def closed_by_server(self):
        """Whether the server closed the connection (after a reply already read) within a second."""
        self.sock.settimeout(1)
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False
        finally:
            self.sock.settimeout(TIMEOUT)


def show(reply):
    """A compact text for a reply, for failure messages."""
    if isinstance(reply, tuple) and len(reply) == 2 and isinstance(reply[0], str):
        kind, value = reply
        if isinstance(value, list):
            inner = ", ".join(f"{show(k)}: {show(v)}" if isinstance(k, tuple) and kind in "%|" else show(k)
                              for k, v in ((e if kind in "%|" else (e, None)) for e in value))
            return f"{kind}[{inner}]"
        return f"{kind}{value!r}" if not isinstance(value, bytes) or len(value) < 300 else f"{kind}{value[:300]!r}..."
    return repr(reply)


# ---------------------------------------------------------------------------------------------------------------
# Normalization: only nondeterministic parts.
# ---------------------------------------------------------------------------------------------------------------

# CLIENT INFO/LIST fields whose values are the same on two servers given the same commands.
DETERMINISTIC_CLIENT_FIELDS = {"name", "db", "sub", "psub", "ssub", "multi", "flags", "cmd", "user", "redir", "resp"}
CLOCK_TOLERANCE = {"TTL": 1, "EXPIRETIME": 1, "PTTL": 250, "PEXPIRETIME": 250, "OBJECT IDLETIME": 1}
SOME_KEY = ("$", "<some key>")


def upper(arg):
    return (arg.decode(errors="replace") if isinstance(arg, bytes) else str(arg)).upper()


def command_name(args):
    """"GET", or "CLIENT INFO" for the container commands."""
    if not args:
        return ""
    name = upper(args[0])
    if name in ("CLIENT", "COMMAND", "CONFIG", "OBJECT") and len(args) > 1:
        return f"{name} {upper(args[1])}"
    return name


def pairs(reply):
    """The (key, value) pairs of a RESP3 map or of a RESP2 flat array."""
    kind, value = reply
    if kind == "%":
        return list(value)
    if kind == "*" and value is not None and len(value) % 2 == 0:
        return list(zip(value[::2], value[1::2]))
    return None


def sort_sets(reply):
    kind, value = reply
    if isinstance(value, list):
        if kind in "%|":
            value = [(sort_sets(k), sort_sets(v)) for k, v in value]
        else:
            value = [sort_sets(element) for element in value]
            if kind == "~":
                value = sorted(value, key=repr)
    return kind, value


def client_line(line):
    """"id=* addr=* ... name=x ...": the values of the nondeterministic fields replaced by *."""
    fields = []
    for part in line.decode(errors="replace").split(" "):
        name, _, value = part.partition("=")
        fields.append(f"{name}={value if name in DETERMINISTIC_CLIENT_FIELDS else '*'}")
    return " ".join(fields)


def client_text(reply, several):
    kind, value = reply
    if kind not in "$=" or value is None:
        return reply
    if kind == "=":
        value = value[4:] if value[3:4] == b":" else value
        kind = f"= ({reply[1][:3].decode(errors='replace')})"
    lines = [client_line(line) for line in value.split(b"\n") if line]
    if several:
        # Other clients come and go: only the field names of every line, and the lines of the test's connections.
        return kind, sorted({" ".join(field.split("=")[0] for field in line.split(" ")) for line in lines})
    return kind, lines


def info_text(reply):
    kind, value = reply
    if kind not in "$=" or value is None:
        return reply
    if kind == "=":
        kind, value = f"= ({value[:3].decode(errors='replace')})", value[4:]
    sections, keyspace = [], []
    for line in value.decode(errors="replace").split("\r\n"):
        if line.startswith("# "):
            sections.append(line)
        match = re.match(r"^(db\d+):keys=(\d+),expires=(\d+),avg_ttl=\d+$", line)
        if match:
            keyspace.append(match.groups())
        elif line.startswith("db") and ":" in line:
            keyspace.append(("malformed keyspace line", line))
    return kind, sections, keyspace


def doc_keys(reply):
    """COMMAND DOCS by structure: every map's keys, argument names, and the types of the values."""
    entries = pairs(reply)
    if entries is None:
        return reply

    def document(doc):
        fields = pairs(doc)
        if fields is None:
            return doc[0]
        out = []
        for key, value in fields:
            name = key[1]
            if name == b"arguments" and value[1] is not None:
                out.append((name, [document(argument) for argument in value[1]]))
            elif name == b"name":
                out.append((name, value))
            elif name == b"subcommands":
                out.append((name, doc_keys(value)))
            else:
                out.append((name, value[0]))
        return out

    return reply[0], [(name, document(doc)) for name, doc in entries]


def normalize(args, reply, queued=None, info_type=True):
    """`info_type=False` leaves out the RESP type of INFO's reply (only for the random sequences, see there)."""
    if len(reply) != 2 or reply[0] in "-!" or reply[0].startswith("<"):
        return reply
    name = command_name(args)
    if name == "EXEC" and queued is not None and reply[0] == "*" and reply[1] is not None:
        return "*", [normalize(queued[i] if i < len(queued) else [], element, info_type=info_type)
                     for i, element in enumerate(reply[1])]
    reply = sort_sets(reply)
    kind, value = reply
    if name == "HELLO" and pairs(reply) is not None:
        return kind, [(k, (":", "<id>") if k[1] == b"id" else ("$", "<version>") if k[1] == b"version" else v)
                      for k, v in pairs(reply)]
    if name == "CLIENT ID" and kind == ":":
        return kind, "<id>"
    if name == "CLIENT INFO":
        return client_text(reply, several=False)
    if name == "CLIENT LIST":
        own_id = len(args) > 3 and upper(args[2]) == "ID"
        return client_text(reply, several=not own_id)
    if name == "TIME" and kind == "*" and value and len(value) == 2:
        seconds, micros = value
        ok = (seconds[0] == "$" and micros[0] == "$" and seconds[1].isdigit() and micros[1].isdigit()
              and abs(int(seconds[1]) - time.time()) < 10 and int(micros[1]) < 1_000_000)
        return kind, "<time>" if ok else value
    if name == "COMMAND COUNT" and kind == ":":
        return kind, "<count>"
    if name == "COMMAND DOCS":
        return doc_keys(reply)
    if name in ("COMMAND", "COMMAND INFO") and kind == "*" and value is not None:
        # A container's subcommands come in Redis's hash table order.
        return kind, [("*", entry[1][:9] + [(entry[1][9][0], sorted(entry[1][9][1], key=repr))])
                      if entry[0] == "*" and len(entry[1]) == 10 else entry for entry in value]
    if name == "INFO":
        return info_text(reply) if info_type else info_text(reply)[1:]
    if name in ("KEYS", "COMMAND LIST") and kind == "*":
        return kind, sorted(value, key=repr)  # Redis's order is its hash table's
    if name == "CONFIG GET" and pairs(reply) is not None:
        return kind, sorted(pairs(reply), key=repr)
    if name == "RANDOMKEY" and kind == "$" and value is not None:
        return SOME_KEY
    return reply


def same(args, a, b, queued=None):
    name = command_name(args)
    if name == "EXEC" and queued is not None and a[0] == b[0] == "*" and a[1] is not None and b[1] is not None:
        return len(a[1]) == len(b[1]) and all(
            same(queued[i] if i < len(queued) else [], x, y) for i, (x, y) in enumerate(zip(a[1], b[1])))
    if name in CLOCK_TOLERANCE and a[0] == b[0] == ":" and min(a[1], b[1]) >= 0:
        return abs(a[1] - b[1]) <= CLOCK_TOLERANCE[name]
    return a == b


# ---------------------------------------------------------------------------------------------------------------
# Two connections ("main" and "other") to each server.
# ---------------------------------------------------------------------------------------------------------------

class RawPair:
    def __init__(self, reference_port, weft_port, protocol):
        self.ports = (reference_port, weft_port)
        self.protocol = protocol
        self.connections = {"main": self._open_both(), "other": self._open_both()}
        self.in_multi = False
        self.queued = []
        self.watching = False  # whether "main" has watched keys, as far as Redis's replies tell
        self.info_type = True

    def _open_both(self):
        return [Conn(port, self.protocol) for port in self.ports]

    def close(self):
        for connections in self.connections.values():
            for connection in connections:
                connection.close()

    def _substitute(self, args, side):
        """{id} and {other_id}: the client ids of this server's main and other connections."""
        ids = {"{id}": str(self.connections["main"][side].id), "{other_id}": str(self.connections["other"][side].id)}
        return [ids.get(arg, arg) if isinstance(arg, str) else arg for arg in args]

    def _reopen(self, connection, side):
        self.connections[connection][side].close()
        self.connections[connection][side] = Conn(self.ports[side], self.protocol)

    def _call(self, connection, side, args):
        """One command's reply. QUIT's reply says whether the server then closed the connection; a connection the
        server closed or that did not answer is replaced by a new one."""
        conn = self.connections[connection][side]
        try:
            conn.send(self._substitute(args, side))
            reply = conn.reply()
        except (Closed, BrokenPipeError, ConnectionResetError):
            self._reopen(connection, side)
            return ("<connection closed>", None)
        except socket.timeout:
            self._reopen(connection, side)
            return ("<no reply within 5 s>", None)
        if upper(args[0]) == "QUIT":
            reply = (*reply, "then closed" if conn.closed_by_server() else "then left open")
            self._reopen(connection, side)
        return reply

    def _scan(self, side, args):
        """SCAN from cursor 0 to the end: the sorted union of the keys, or the first error."""
        keys, cursor = set(), args[1]
        for _ in range(10_000):
            reply = self._call("main", side, ["SCAN", cursor, *args[2:]])
            if reply[0] != "*" or reply[1] is None:
                return reply
            if not (len(reply[1]) == 2 and reply[1][0][0] == "$" and reply[1][1][0] == "*"):
                return ("malformed SCAN reply", reply)
            cursor = reply[1][0][1]
            keys.update(element[1] for element in reply[1][1][1])
            if cursor == b"0":
                return ("SCAN keys", sorted(keys))
        return ("SCAN did not finish", sorted(keys))

    def run(self, args, connection="main"):
        """Sends `args` to both servers; returns (Redis's reply, Weft's reply, whether they agree), normalized."""
        name = command_name(args)
        if name == "SCAN" and not self.in_multi and connection == "main" and len(args) > 1 and args[1] in ("0", ""):
            a, b = self._scan(0, args), self._scan(1, args)
            return a, b, a == b
        a, b = self._call(connection, 0, args), self._call(connection, 1, args)
        queued = None
        if connection == "main":
            # Cleared only where Redis surely drops the watches; otherwise kept (the safe side for the generator).
            if name == "WATCH" and a == ("+", b"OK"):
                self.watching = True
            elif (name in ("RESET", "QUIT") or a[0] == "<connection closed>"
                  or (name in ("EXEC", "DISCARD") and len(args) == 1 and self.in_multi)
                  or (name == "UNWATCH" and not self.in_multi)):
                self.watching = False
            if name in ("RESET", "QUIT") or a[0] == "<connection closed>":
                self.in_multi = False
            elif self.in_multi:
                if name == "EXEC":
                    queued, self.in_multi = (self.queued if len(args) == 1 else None), False
                elif name == "DISCARD" and len(args) == 1:
                    self.in_multi = False
                elif a == ("+", b"QUEUED"):
                    self.queued.append(args)
            elif name == "MULTI" and a == ("+", b"OK"):
                self.in_multi, self.queued = True, []
        a, b = normalize(args, a, queued, self.info_type), normalize(args, b, queued, self.info_type)
        return a, b, same(args, a, b, queued)


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def raw_pair(request, redis_reference, server):
    both = RawPair(redis_reference, server, request.param)
    for conn in both.connections["main"]:
        assert conn.command("FLUSHALL") == ("+", b"OK")
    yield both
    both.close()
    # Undo what a CONFIG case may have changed (both servers run with these defaults), on new connections: a case
    # may have closed its own.
    for port in both.ports:
        conn = Conn(port, 2)
        assert conn.command("CONFIG", "SET", "timeout", "0") == ("+", b"OK")
        assert conn.command("CONFIG", "SET", "maxclients", "10000") == ("+", b"OK")
        assert conn.command("CONFIG", "SET", "proto-max-bulk-len", "536870912") == ("+", b"OK")
        assert conn.command("CONFIG", "SET", "maxmemory", "0") == ("+", b"OK")
        conn.close()


# ---------------------------------------------------------------------------------------------------------------
# Hand-written cases (steps as in test_differential.py; "{id}"/"{other_id}" are this server's client ids).
# ---------------------------------------------------------------------------------------------------------------

CONNECTION_CASES = {
    "hello": ["HELLO", "HELLO 2", "HELLO 3", "HELLO 2", "HELLO 4", "HELLO 1", "HELLO 0", "HELLO abc", "HELLO -1",
              "HELLO ''", "HELLO 3.0", "HELLO 2 FOO", "HELLO 3 SETNAME", "HELLO 3 AUTH default", "HELLO hello",
              "PING", "GET missing"],
    "hello-setname": ["HELLO 3 SETNAME x", "CLIENT GETNAME", "HELLO 2 SETNAME 'a b'", "CLIENT GETNAME",
                      "HELLO 2 SETNAME ''", "CLIENT GETNAME", "HELLO 3 setname y SETNAME z", "CLIENT GETNAME",
                      "HELLO 4 SETNAME w", "CLIENT GETNAME", "GET missing"],
    "hello-auth-without-password": ["HELLO 2 AUTH default wrong-password", "HELLO 3 AUTH default ''",
                                    "HELLO 3 AUTH nosuchuser pw", "HELLO 2 AUTH default pw SETNAME n",
                                    "CLIENT GETNAME", "AUTH wrong", "AUTH default wrong", "AUTH nosuchuser pw",
                                    "AUTH", "AUTH a b c", "GET missing"],
    "hello-in-multi": ["MULTI", "HELLO 3", "PING", "EXEC", "GET missing", "CLIENT INFO", "RESET", "MULTI",
                       "HELLO 3 SETNAME zz", "EXEC", "CLIENT GETNAME", "GET missing", "CLIENT INFO"],
    "reset": ["RESET", "RESET x", "SELECT 3", "SET a 1", "CLIENT SETNAME nm", "HELLO 3", "MULTI", "SET b 2",
              "RESET", "GET a", "EXEC", "CLIENT GETNAME", "GET b", "GET missing", "SELECT 3", "GET a", "SET w 1",
              "WATCH w", "RESET", "@other SET w 2", "MULTI", "SET w 3", "EXEC", "GET w", "CLIENT INFO"],
    "reset-in-multi": ["MULTI", "SELECT 2", "RESET", "EXEC", "MULTI", "PING", "RESET", "DISCARD"],
    "client-setname": ["CLIENT GETNAME", "CLIENT SETNAME 'a b'", ["CLIENT", "SETNAME", "a\nb"],
                       ["CLIENT", "SETNAME", "a\rb"], ["CLIENT", "SETNAME", "a\tb"], ["CLIENT", "SETNAME", "\x01"],
                       ["CLIENT", "SETNAME", "é"], ["CLIENT", "SETNAME", "\x7f"], "CLIENT GETNAME",
                       "CLIENT SETNAME ok-name_1!~{}", "CLIENT GETNAME", "CLIENT SETNAME ''", "CLIENT GETNAME",
                       "CLIENT SETNAME", "CLIENT SETNAME a b", "CLIENT GETNAME x", "client setname lower",
                       "CLIENT getname", ["CLIENT", "SETNAME", "x" * 5000], "CLIENT GETNAME"],
    "client-id-info-list": ["CLIENT ID", "CLIENT ID x", "CLIENT SETNAME me", "SELECT 2", "CLIENT INFO",
                            "CLIENT INFO x", "CLIENT LIST ID {id}", "CLIENT LIST ID {id} {other_id}",
                            "CLIENT LIST", "CLIENT LIST TYPE normal", "CLIENT LIST TYPE Normal",
                            "CLIENT LIST TYPE pubsub", "CLIENT LIST TYPE master", "CLIENT LIST TYPE replica",
                            "CLIENT LIST TYPE slave", "CLIENT LIST TYPE foo", "CLIENT LIST ID abc",
                            "CLIENT LIST ID 0", "CLIENT LIST ID -1", "CLIENT LIST ID 99999999", "CLIENT LIST ID",
                            "CLIENT LIST ID 1 abc", "CLIENT LIST foo", "CLIENT LIST TYPE", "CLIENT LIST TYPE a b",
                            "MULTI", "CLIENT INFO", "CLIENT ID", "SET a 1", "EXEC", "CLIENT INFO"],
    "client-kill-errors": ["CLIENT KILL", "CLIENT KILL 1.2.3.4:5", "CLIENT KILL foo", "CLIENT KILL foo bar",
                           "CLIENT KILL ID", "CLIENT KILL ID abc", "CLIENT KILL ID 0", "CLIENT KILL ID -1",
                           "CLIENT KILL ID 99999999", "CLIENT KILL ID 7 ID 8", "CLIENT KILL TYPE foo",
                           "CLIENT KILL TYPE pubsub", "CLIENT KILL TYPE master", "CLIENT KILL TYPE replica",
                           "CLIENT KILL USER nosuch", "CLIENT KILL ADDR 1.2.3.4:5", "CLIENT KILL LADDR 1.2.3.4:5",
                           "CLIENT KILL ADDR", "CLIENT KILL ADDR 1.2.3.4:5 ID 7", "CLIENT KILL SKIPME maybe",
                           "CLIENT KILL ID 99999 SKIPME no", "CLIENT KILL MAXAGE 10",
                           "CLIENT KILL ID {id} SKIPME yes", "PING"],
    "client-kill-other": ["@other PING", "CLIENT KILL ID {other_id}", "@other PING", "@other PING",
                          "CLIENT KILL ID {other_id} SKIPME no", "CLIENT KILL ID {id} SKIPME no", "PING"],
    "client-subcommands": ["CLIENT", "CLIENT FOO", "client foo bar", "CLIENT NO-EVICT on", "CLIENT NO-EVICT x",
                           "CLIENT REPLY ON", "CLIENT PAUSE abc", "CLIENT UNPAUSE", "CLIENT TRACKING foo",
                           "CLIENT GETREDIR", "CLIENT CACHING yes", "CLIENT TRACKINGINFO", "CLIENT UNBLOCK abc",
                           "CLIENT SETINFO lib-name x", "CLIENT NO-TOUCH on"],
    "client-subcommands-served": ["CLIENT NO-EVICT on", "CLIENT INFO", "CLIENT NO-EVICT OFF", "CLIENT INFO",
                                  "CLIENT NO-EVICT x", "CLIENT NO-EVICT", "CLIENT NO-EVICT on", "MULTI", "CLIENT INFO",
                                  "EXEC", "RESET", "CLIENT INFO", "CLIENT REPLY ON", "CLIENT REPLY x", "CLIENT REPLY",
                                  "CLIENT TRACKING foo", "CLIENT TRACKING off", "CLIENT TRACKING", "CLIENT GETREDIR",
                                  "CLIENT GETREDIR x", "CLIENT CACHING yes", "CLIENT CACHING no", "CLIENT CACHING x",
                                  "CLIENT TRACKINGINFO", "CLIENT TRACKINGINFO x", "CLIENT UNBLOCK abc",
                                  "CLIENT UNBLOCK 999", "CLIENT UNBLOCK {other_id}", "CLIENT UNBLOCK 999 TIMEOUT",
                                  "CLIENT UNBLOCK 999 error", "CLIENT UNBLOCK 999 x", "CLIENT UNBLOCK 999 TIMEOUT x",
                                  "CLIENT UNBLOCK -1", "CLIENT UNBLOCK", "CLIENT UNBLOCK abc x", "CLIENT HELP",
                                  "CLIENT NO-TOUCH on", "CLIENT TRACKING OFF junk", "CLIENT TRACKING OFF NOLOOP",
                                  "CLIENT TRACKING OFF REDIRECT", "CLIENT TRACKING OFF PREFIX a BCAST OPTIN"],
    "echo-ping": ["ECHO", "ECHO a b", "ECHO ''", ["ECHO", b"\x00\xff\r\n"], "PING", "PING a b", "PING ''",
                  "PING x", "ping", "MULTI", "PING", "PING y", "ECHO z", "ECHO", "EXEC"],
    "quit": ["SET a 1", "QUIT", "GET a", "QUIT x", "MULTI", "QUIT", "EXEC", "@other QUIT", "@other PING"],
    "select-other-dbs": ["SELECT 1", "SET a 1", "SET b 2 EX 100", "SELECT 2", "SET a 2", "MSET c 3 d 4",
                         "SELECT 1", "MGET a b c", "KEYS *", "DBSIZE", "TTL b", "SELECT 2", "KEYS *", "DBSIZE",
                         "SELECT 0", "KEYS *", "DBSIZE", "@other SELECT 2", "@other GET c", "@other DEL c",
                         "SELECT 2", "EXISTS c", "SELECT 15", "SET z 1", "SWAPDB 15 0", "GET z", "SELECT 0",
                         "GET z", "MOVE z 2", "SELECT 2", "GET z", "FLUSHDB", "SELECT 1", "DBSIZE",
                         "INFO keyspace"],
}

SERVER_CASES = {
    # Names and arguments echoed into errors stop at a NUL byte, as C's %s stops (and are cut to 128 bytes).
    "nul-in-echoed-names": [["FOO\x00z", "x"], ["FOO", "a\x00b", "c"], ["OBJECT", "a\x00b"], ["CLIENT", "\x00"],
                            ["CONFIG", "é" * 100], ["FOO", "é" * 100, "x"], ["é" * 100]],
    "role": ["ROLE", "ROLE x", "role", "MULTI", "ROLE", "EXEC"],
    "command-count": ["COMMAND COUNT", "COMMAND COUNT x"],
    "command-info-get": ["COMMAND INFO get"],
    "command-info-set": ["COMMAND INFO set"],
    "command-info-mset": ["COMMAND INFO mset"],
    "command-info-several": ["COMMAND INFO get set mset", "COMMAND INFO GET", "COMMAND INFO nosuchcmd",
                             "COMMAND INFO get nosuchcmd"],
    "command-info-keyspace": [["COMMAND", "INFO", name] for name in
                              ["del", "exists", "rename", "copy", "move", "expire", "ttl", "keys", "scan", "touch",
                               "object", "getex", "incr", "ping", "multi", "exec", "watch"]],
    "command-info-subcommands": ["COMMAND INFO client|id", "COMMAND INFO config|get", "COMMAND INFO object|encoding"],
    "command-docs": ["COMMAND DOCS get", "COMMAND DOCS set", "COMMAND DOCS nosuch", "COMMAND DOCS get nosuch",
                     "COMMAND DOCS expire", "COMMAND DOCS GET"],
    "command-getkeys": ["COMMAND GETKEYS set a b", "COMMAND GETKEYS mset a 1 b 2", "COMMAND GETKEYS get",
                        "COMMAND GETKEYS", "COMMAND GETKEYS nosuch a", "COMMAND GETKEYS ping",
                        "COMMAND GETKEYS get a b", "COMMAND GETKEYS copy a b", "COMMAND GETKEYS del a b c",
                        "COMMAND GETKEYS mset a 1 b", "COMMAND GETKEYS scan 0", "COMMAND GETKEYS object encoding k",
                        "COMMAND GETKEYS object help", "COMMAND GETKEYS object encoding", "COMMAND GETKEYS object foo k",
                        "COMMAND GETKEYS OBJECT FREQ k", "COMMAND GETKEYS client list", "COMMAND GETKEYS config get",
                        "COMMAND GETKEYS client", "COMMAND GETKEYS SET A B EX 10", "COMMAND GETKEYS command getkeys get a",
                        "COMMAND GETKEYS exists", "COMMAND GETKEYS mget a b c", "COMMAND GETKEYS rename a",
                        "MULTI", "COMMAND GETKEYS set a b", "EXEC"],
    "command-getkeysandflags": ["COMMAND GETKEYSANDFLAGS set a b", "COMMAND GETKEYSANDFLAGS set a b EX 1 GET",
                                "COMMAND GETKEYSANDFLAGS set a b get", "COMMAND GETKEYSANDFLAGS set a b xget",
                                "COMMAND GETKEYSANDFLAGS mset a 1 b 2", "COMMAND GETKEYSANDFLAGS mset a 1 b",
                                "COMMAND GETKEYSANDFLAGS bitop and d a b c", "COMMAND GETKEYSANDFLAGS lcs a b",
                                "COMMAND GETKEYSANDFLAGS bitfield k get u8 0 overflow sat get i8 0",
                                "COMMAND GETKEYSANDFLAGS bitfield k get u8 0 incrby u8 0 1",
                                "COMMAND GETKEYSANDFLAGS bitfield k get u8", "COMMAND GETKEYSANDFLAGS bitfield k",
                                "COMMAND GETKEYSANDFLAGS bitfield_ro k get u8 0", "COMMAND GETKEYSANDFLAGS rename a b",
                                "COMMAND GETKEYSANDFLAGS copy a b db 1", "COMMAND GETKEYSANDFLAGS del a b",
                                "COMMAND GETKEYSANDFLAGS getdel a", "COMMAND GETKEYSANDFLAGS getex a persist",
                                "COMMAND GETKEYSANDFLAGS object encoding k", "COMMAND GETKEYSANDFLAGS object help",
                                "COMMAND GETKEYSANDFLAGS client list", "COMMAND GETKEYSANDFLAGS client",
                                "COMMAND GETKEYSANDFLAGS get", "COMMAND GETKEYSANDFLAGS nosuch k",
                                "COMMAND GETKEYSANDFLAGS", "COMMAND GETKEYSANDFLAGS watch a b",
                                "COMMAND GETKEYSANDFLAGS msetnx a 1 b 2", "COMMAND GETKEYSANDFLAGS setrange k 0 v",
                                "COMMAND GETKEYSANDFLAGS expire k 10", "COMMAND GETKEYSANDFLAGS incrbyfloat k 1",
                                "COMMAND GETKEYS bitop and d a", "COMMAND GETKEYS lcs a b",
                                "COMMAND GETKEYS bitfield k set u8 0 1", "COMMAND GETKEYS client list"],
    # Every command Weft serves but CLIENT (its SETINFO is 7.2's) and MEMORY (USAGE and HELP only).
    "command-info-every-command": [["COMMAND", "INFO", name] for name in
                                   ['append',
                                    'auth',
                                    'bgrewriteaof',
                                    'bitcount',
                                    'bitfield',
                                    'bitfield_ro',
                                    'bitop',
                                    'bitpos',
                                    'command',
                                    'config',
                                    'copy',
                                    'dbsize',
                                    'decr',
                                    'decrby',
                                    'del',
                                    'discard',
                                    'echo',
                                    'exec',
                                    'exists',
                                    'expire',
                                    'expireat',
                                    'expiretime',
                                    'flushall',
                                    'flushdb',
                                    'get',
                                    'getbit',
                                    'getdel',
                                    'getex',
                                    'getrange',
                                    'getset',
                                    'hello',
                                    'incr',
                                    'incrby',
                                    'incrbyfloat',
                                    'info',
                                    'keys',
                                    'latency',
                                    'lcs',
                                    'mget',
                                    'move',
                                    'mset',
                                    'msetnx',
                                    'multi',
                                    'object',
                                    'persist',
                                    'pexpire',
                                    'pexpireat',
                                    'pexpiretime',
                                    'ping',
                                    'psetex',
                                    'pttl',
                                    'quit',
                                    'randomkey',
                                    'rename',
                                    'renamenx',
                                    'reset',
                                    'role',
                                    'scan',
                                    'select',
                                    'set',
                                    'setbit',
                                    'setex',
                                    'setnx',
                                    'setrange',
                                    'shutdown',
                                    'slowlog',
                                    'strlen',
                                    'substr',
                                    'swapdb',
                                    'time',
                                    'touch',
                                    'ttl',
                                    'type',
                                    'unlink',
                                    'unwatch',
                                    'watch']],
    "memory-usage": ["SET k v", "MEMORY USAGE missing", "MEMORY USAGE k samples", "MEMORY USAGE k SAMPLES -1",
                     "MEMORY USAGE k SAMPLES x", "MEMORY USAGE k foo 1", "MEMORY USAGE", "MEMORY USAGE k a b c",
                     "MEMORY USAGE missing SAMPLES 0", "MEMORY FOO", "MEMORY", "MULTI", "MEMORY USAGE missing",
                     "EXEC"],
    "latency-doctor": ["LATENCY DOCTOR", "LATENCY DOCTOR x", "LATENCY HELP", "latency doctor"],
    "command-info-containers": ["COMMAND INFO config", "COMMAND INFO command", "COMMAND INFO object",
                                "COMMAND INFO slowlog", "COMMAND INFO latency", "COMMAND INFO client|list",
                                "COMMAND INFO CLIENT|KILL", "COMMAND INFO config|set config|nosuch get|x client|",
                                "COMMAND INFO object|encoding|x", "COMMAND INFO |", "COMMAND INFO command|getkeys"],
    "command-other": ["COMMAND FOO", "COMMAND LIST FILTERBY PATTERN getd*", "COMMAND HELP x", "COMMAND HELP",
                      "COMMAND LIST FILTERBY PATTERN GETD*", "COMMAND LIST FILTERBY ACLCAT transaction",
                      "COMMAND LIST FILTERBY ACLCAT @transaction", "COMMAND LIST FILTERBY ACLCAT nosuch",
                      "COMMAND LIST FILTERBY MODULE x", "COMMAND LIST FILTERBY PATTERN", "COMMAND LIST FILTERBY",
                      "COMMAND LIST x", "COMMAND LIST FILTERBY FOO x", "COMMAND LIST FILTERBY PATTERN a b",
                      "COMMAND LIST FILTERBY PATTERN config*", "COMMAND LIST FILTERBY PATTERN OBJECT|*",
                      "COMMAND LIST FILTERBY ACLCAT transaction"],
    "time-dbsize": ["TIME", "TIME x", "DBSIZE", "MSET a 1 b 2", "DBSIZE", "DBSIZE x", "MULTI", "TIME", "DBSIZE",
                    "EXEC"],
    "flushall": ["MSET a 1 b 2", "SELECT 1", "SET c 3", "FLUSHALL ASYNC", "DBSIZE", "SELECT 0", "DBSIZE",
                 "SET a 1", "FLUSHALL SYNC", "DBSIZE", "FLUSHALL sync", "FLUSHALL async", "FLUSHALL FOO",
                 "FLUSHALL ASYNC SYNC", "FLUSHALL SYNC x", "FLUSHALL ''", "FLUSHDB FOO", "FLUSHDB async",
                 "FLUSHDB ASYNC x", "FLUSHDB ''"],
    "swapdb-errors": ["SWAPDB 0 16", "SWAPDB 16 0", "SWAPDB -1 0", "SWAPDB x 0", "SWAPDB 0 x", "SWAPDB x y",
                      "SWAPDB 0 99999999999", "SWAPDB 0 9223372036854775808", "SWAPDB 1.0 0", "SWAPDB '' 0",
                      "SWAPDB", "SWAPDB 0", "SWAPDB 0 1 2"],
    "info-keyspace": ["INFO keyspace", "SET a 1", "INFO keyspace", "SET b 2 EX 100", "PSETEX c 100000 x",
                      "INFO keyspace", "SELECT 3", "SET d 1", "INFO keyspace", "PERSIST d", "EXPIRE d 100",
                      "INFO keyspace", "DEL d", "INFO keyspace", "SELECT 0", "PERSIST b", "INFO keyspace",
                      "SWAPDB 0 5", "INFO KEYSPACE", "FLUSHALL", "INFO keyspace"],
    "info-keyspace-in-multi": ["SET a 1", "MULTI", "SET x 1", "SELECT 3", "SET y 1 EX 100", "INFO keyspace",
                               "DBSIZE", "DEL y", "SELECT 0", "DEL a", "INFO keyspace", "DBSIZE", "EXEC",
                               "INFO keyspace"],
    "info-keyspace-expires-in-multi": ["SET a 1 EX 100", "SET b 2", "SET c 3 EX 50", "MULTI", "EXPIRE b 100",
                                       "INFO keyspace", "PERSIST a", "INFO keyspace", "SET c 4", "INFO keyspace",
                                       "DEL b", "SET d 5 PX 100000", "GETEX d PERSIST", "SETEX e 10 v",
                                       "INFO keyspace", "COPY e f", "RENAME a g", "INFO keyspace", "DEL a g c d e f",
                                       "INFO keyspace", "DBSIZE", "EXEC", "INFO keyspace"],
    "info-default-sections": ["INFO default", "INFO all", "INFO everything"],
    "info-sections": ["INFO keyspace server", "INFO server keyspace", "INFO nosuchsection", "INFO SERVER",
                      "INFO keyspace keyspace",
                      "INFO clients keyspace", "INFO stats nosuch"],
    "config-set-errors": ["CONFIG SET foo bar", "CONFIG SET timeout abc", "CONFIG SET timeout -1",
                          "CONFIG SET timeout 1.5", "CONFIG SET timeout 99999999999999999999",
                          "CONFIG SET maxclients abc", "CONFIG SET maxclients 0", "CONFIG SET maxclients -5",
                          "CONFIG SET timeout 10 timeout 20", "CONFIG GET timeout", "CONFIG SET timeout",
                          "CONFIG SET timeout 0 foo", "CONFIG SET timeout 0 foo bar", "CONFIG SET TIMEOUT abc",
                          "CONFIG SET databases 4", "CONFIG SET port abc", "CONFIG SET appendonly maybe",
                          "CONFIG SET slowlog-max-len abc", "CONFIG SET",
                          "CONFIG SET timeout 5 maxclients abc", "CONFIG GET timeout", "CONFIG SET timeout 0",
                          "CONFIG GET timeout"],
    "config-set-loglevel": ["CONFIG SET loglevel foo"],
    "config-help": ["CONFIG HELP", "CONFIG help", "CONFIG HELP extra", "CONFIG FOO", "CONFIG"],
    # A memory value (units, no sign), at least 1 MiB.
    "config-proto-max-bulk-len": ["CONFIG SET proto-max-bulk-len 1048576", "CONFIG GET proto-max-bulk-len",
                                  "CONFIG SET proto-max-bulk-len 4294967295", "CONFIG GET proto-max-bulk-len",
                                  # Nothing may outgrow it (Weft's string length is 32 bits: this crashed it).
                                  "SETRANGE k 4294967295 x", "SETBIT k 34359738360 1",
                                  "BITFIELD k SET u8 34359738360 1", "EXISTS k",
                                  "CONFIG SET proto-max-bulk-len -1", "CONFIG SET proto-max-bulk-len abc",
                                  "CONFIG SET proto-max-bulk-len 2mb", "CONFIG GET proto-max-bulk-len",
                                  "CONFIG SET proto-max-bulk-len 3G", "CONFIG GET proto-max-bulk-len"],
    # Out of range: the error names the bounds, and Weft's upper one is its own.
    "config-proto-max-bulk-len-bounds": ["CONFIG SET proto-max-bulk-len 1048575", "CONFIG SET proto-max-bulk-len 1kb",
                                         "CONFIG SET proto-max-bulk-len 4294967296", "CONFIG GET proto-max-bulk-len"],
    "config-set-buffer-limits": ["CONFIG SET client-output-buffer-limit 'foo 0 0 0'",
                                 "CONFIG SET client-output-buffer-limit 'master 0 0 0'",
                                 "CONFIG SET client-output-buffer-limit 'normal 0 0'",
                                 "CONFIG SET client-output-buffer-limit 'normal x 0 0'",
                                 "CONFIG SET client-output-buffer-limit 'normal 0 0 -1'",
                                 "CONFIG SET client-output-buffer-limit 'normal 0 0 0 foo 1 1 1'",
                                 "CONFIG SET client-output-buffer-limit 'PubSub 1mb 512kb 30 normal 0 0 0'",
                                 "CONFIG GET client-output-buffer-limit",
                                 "CONFIG SET client-output-buffer-limit 'pubsub 33554432 8388608 60'",
                                 "CONFIG SET client-query-buffer-limit 1", "CONFIG SET client-query-buffer-limit x",
                                 "CONFIG SET client-query-buffer-limit 1mb", "CONFIG GET client-query-buffer-limit",
                                 "CONFIG SET client-query-buffer-limit 1gb",
                                 "CONFIG SET client-output-buffer-limit '  '", "CONFIG SET client-output-buffer-limit ''",
                                 "CONFIG SET save ''", "CONFIG SET save '  '", "CONFIG SET save '-1 1'",
                                 "CONFIG SET save '0 1'", "CONFIG SET save '1 -1'", "CONFIG SET save '3600 1 300'",
                                 "CONFIG SET save 'a b'", "CONFIG GET save", "CONFIG SET daemonize yes",
                                 "CONFIG SET appendfsync sometimes", "CONFIG SET save '1  1'",
                                 "CONFIG SET save ' 1 1 '", "CONFIG SET client-output-buffer-limit 'normal 1 2 3 '",
                                 "CONFIG SET client-output-buffer-limit '  normal 0 0 0'",
                                 "CONFIG SET client-output-buffer-limit 'normal 0 0 0'"],
    "config-maxmemory": ["CONFIG GET maxmemory", "CONFIG GET maxmemory-policy", "CONFIG SET maxmemory 10x",
                         "CONFIG SET maxmemory -1", "CONFIG SET maxmemory 1.5mb", "CONFIG SET maxmemory-policy bogus",
                         "CONFIG SET maxmemory-policy NOEVICTION", "CONFIG GET maxmemory-policy",
                         "CONFIG SET maxmemory 1gb", "CONFIG GET maxmemory", "SET k v", "CONFIG SET maxmemory 0",
                         "CONFIG GET maxmemory"],
    "config-get-directives-weft-lacks": ["CONFIG GET *max-len* slowlog*", "CONFIG GET maxclients max*"],
    "config-get-patterns": ["CONFIG GET timeout time*", "CONFIG GET time* timeout", "CONFIG GET timeout timeout",
                            "CONFIG GET TIMEOUT Timeout", "CONFIG GET databases data*", "CONFIG GET nosuch nosuch2",
                            "CONFIG GET", "CONFIG GET timeout nosuch"],
}

KEY_CASES = {
    "bit-write-changing-nothing-encoding": ["SET k 123", "SETBIT k 2 1", "OBJECT ENCODING k", "SET j abc",
                                            "SETBIT j 1 1", "OBJECT ENCODING j"],
    "scan-type": ["MSET s1 a s2 b", "SCAN 0 TYPE string", "SCAN 0 TYPE String", "SCAN 0 TYPE list",
                  "SCAN 0 TYPE none", "SCAN 0 TYPE unknown", "SCAN 0 TYPE hash COUNT 100", "SCAN 0 TYPE set",
                  "SCAN 0 TYPE zset", "SCAN 0 TYPE stream", "SCAN 0 TYPE ''", "SCAN 0 TYPE string MATCH s1",
                  "SCAN 0 TYPE string TYPE list"],
    "scan-match-binary": [["MSET", b"\xff\x00a", "1", b"\xff\x00b", "2", b"\x00", "3", b"a\xffb", "4", "a*b", "5",
                           b"\xc3\xa9", "6"]]
    + [["SCAN", "0", "MATCH", pattern] for pattern in
       [b"\xff*", b"\xff\x00?", b"*\x00*", b"\x00", b"a?b", b"a[\xff]b", b"[\xc3]*", b"?\xa9", b"a\\*b", b"*"]]
    + [["KEYS", pattern] for pattern in [b"\xff*", b"*\x00*", b"a[\xfe-\xff]b", b"[^a]*", b"?"]],
    "keys-escapes": [["MSET", *[part for i, key in enumerate(
        ["a*", "ab", "a?", "a", "b", "c", "d", "[a]", "-", "!", "^", "\\", "a\\b", "]", "*", "?"]) for part in
        (key, str(i))]]] + [["KEYS", pattern] for pattern in [
            "a\\*", "a\\?", "[a-c]", "[^a]", "[!a]", "[^a-c]", "\\[a\\]", "[\\]]", "\\*", "\\?", "\\\\", "a\\\\b",
            "[\\-]", "[a\\-c]", "[--]", "[!]", "[\\!]", "[]]", "[^]]", "\\", "a\\", "[a-", "[c-a]", "[a-c-d]",
            "\\a", "[\\a]", "*\\*", "?\\?"]],
    "object-idletime": ["SET s hello", "OBJECT IDLETIME s", "OBJECT IDLETIME missing"],
    "object": ["SET s hello", "SET i 5", "SET j 10000", "SET k 9999", "SET l -1", "SET m 0", "OBJECT FREQ s",
               "OBJECT FREQ missing", "OBJECT REFCOUNT s",
               "OBJECT REFCOUNT i", "OBJECT REFCOUNT j", "OBJECT REFCOUNT k", "OBJECT REFCOUNT l",
               "OBJECT REFCOUNT m", "OBJECT REFCOUNT missing", "APPEND i 0", "OBJECT REFCOUNT i", "INCR m",
               "OBJECT REFCOUNT m", "SET n 5", "SETRANGE n 0 6", "OBJECT REFCOUNT n", "OBJECT ENCODING n",
               "SET o 1", "INCRBYFLOAT o 1", "OBJECT REFCOUNT o", "OBJECT ENCODING o", "SET p 5", "COPY p q",
               "OBJECT REFCOUNT q", "OBJECT ENCODING q", "SET r 10 EX 100", "OBJECT REFCOUNT r", "GETSET u 9",
               "OBJECT REFCOUNT u", "RENAME u v", "OBJECT REFCOUNT v", "OBJECT HELP", "OBJECT help",
               "OBJECT HELP x", "OBJECT FREQ", "OBJECT IDLETIME a b", "OBJECT REFCOUNT", "OBJECT FOO k",
               "OBJECT ENCODING i", "OBJECT"],
    "touch": ["TOUCH nosuch", "TOUCH nosuch nosuch2", "SET s1 a", "TOUCH nosuch s1 s1", "TOUCH", "SELECT 1",
              "TOUCH s1"],
    "expire-overflow": ["SET k v"] + [f"{command} k {value}" for command, value in [
        ("EXPIRE", "9223372036854775807"), ("EXPIRE", "9223372036854775"), ("EXPIRE", "9223372036854776"),
        ("EXPIRE", "9223372036854774"), ("EXPIRE", "-9223372036854775807"), ("EXPIRE", "-9223372036854776"),
        ("PEXPIRE", "9223372036854775000"), ("PEXPIRE", "9223372036854775807"), ("EXPIREAT", "92233720368547758"),
        ("EXPIREAT", "9223372036854775807"), ("EXPIREAT", "-9223372036854775807"),
        ("PEXPIREAT", "-9223372036854775808"),
        ("EXPIRE", "9223372036854775808"), ("EXPIRE", "-9223372036854775809"), ("SETEX", "9223372036854775 v"),
        ("GETEX", "EX 9223372036854775"), ("GETEX", "PX 9223372036854775807"), ("GETEX", "EXAT 9223372036854775807"),
    ]] + ["TTL k", "EXISTS k"],
    "pexpireat-far-future": ["SET k v", "PEXPIREAT k 9223372036854775806", "PTTL k", "TTL k", "EXPIRETIME k",
                             "PEXPIRETIME k", "PEXPIREAT k 9223372036854775807", "PEXPIREAT k 922337203685477580",
                             "TTL k", "EXPIREAT k 9223372036854775", "TTL k", "EXPIRETIME k",
                             "EXPIREAT k 9223372036854774 GT", "EXPIRE k 100 GT", "EXPIRE k 100 LT", "TTL k",
                             "EXPIREAT k 9223372036854775 LT", "SET k v PXAT 9223372036854775806",
                             "PEXPIRETIME k", "SET k v EXAT 9223372036854775", "EXPIRETIME k",
                             "GETEX k PXAT 9223372036854775806", "PEXPIRETIME k"],
    "expire-nx-xx-gt-lt": ["SET k v", "EXPIRE k 100 GT", "TTL k", "EXPIRE k 100 LT", "TTL k", "PERSIST k",
                           "EXPIRE k 100 XX", "EXPIRE k 100 XX LT", "EXPIRE k 100 XX GT", "TTL k",
                           "EXPIRE k 100 NX", "EXPIRE k 200 NX", "TTL k", "EXPIRE k 50 GT", "EXPIRE k 200 XX GT",
                           "TTL k", "EXPIRE k 300 XX LT", "EXPIRE k 100 XX LT", "TTL k", "EXPIRE k 150 GT XX",
                           "EXPIRE k 100 LT NX", "EXPIRE k 100 GT NX", "PEXPIRE k 100000 LT LT", "TTL k",
                           "EXPIRE k 0 GT", "EXISTS k", "EXPIRE k 0 LT", "EXISTS k", "SET k v", "EXPIRE k 0 GT",
                           "EXISTS k", "EXPIRE k 0 XX", "EXISTS k", "EXPIRE missing 100 NX", "EXPIRE missing 1 LT",
                           "EXPIRE missing 100 GT LT", "EXPIRE missing abc NX", "EXPIRE k 100 nX", "TTL k"],
    "set-keepttl-getex": ["SET k v EX 100", "SET k w KEEPTTL", "TTL k", "SET k x KEEPTTL GET", "TTL k",
                          "SET k y KEEPTTL NX", "SET k y KEEPTTL XX", "TTL k", "GETEX k PXAT 1000", "EXISTS k",
                          "SET k v", "GETEX k PXAT NOWMS-5000", "EXISTS k", "SET k v EX 100",
                          "GETEX k EXAT NOW-1", "GET k", "GETEX missing PXAT 1000", "GETEX missing PERSIST"],
    "set-get-missing": ["SET nokey x GET", "GET nokey", "SET nokey2 x GET NX", "SET nokey2 y GET NX",
                        "SET nokey3 x GET XX", "GET nokey3", "SET nokey4 x GET EX 100", "TTL nokey4",
                        "SET nokey5 x GET PXAT 1", "EXISTS nokey5", "SET nokey4 y GET PXAT 1", "EXISTS nokey4"],
    "rename-ttl": ["SET t v EX 100", "RENAME t t2", "TTL t2", "TTL t", "RENAME t2 t2", "TTL t2", "SET u w",
                   "RENAME u t2", "TTL t2", "SET t3 x PX 500000", "RENAMENX t3 t2", "RENAMENX t3 t4", "PTTL t4",
                   "SELECT 1", "SET t5 a EX 50", "RENAME t5 t6", "TTL t6", "SELECT 0", "TTL t6"],
    "copy-replace-db": ["SET c1 v EX 100", "COPY c1 c2 REPLACE", "TTL c2", "SET c3 z", "COPY c1 c3",
                        "COPY c1 c3 REPLACE", "GET c3", "TTL c3", "COPY c1 c4 DB 16", "COPY c1 c4 DB -1",
                        "COPY c1 c4 DB 999999999999999999999", "COPY c1 c4 DB 2147483648", "COPY c1 c4 DB 1 REPLACE",
                        "SELECT 1", "TTL c4", "GET c4", "COPY c4 c4 DB 1", "COPY c4 c4", "COPY c4 c4 DB 0",
                        "COPY c4 c5 DB 0 REPLACE", "SELECT 0", "GET c5", "COPY missing c6 DB 16",
                        "COPY c1 c6 DB 16 REPLACE", "COPY c1 c6 REPLACE DB", "COPY c1 c6 DB 1 FOO"],
}


TRANSACTION_CASES = {
    # WATCH across FLUSHDB, FLUSHALL and SWAPDB (see KNOWN_DIFFERENCES for SWAPDB).
    "watch-swapdb-missing": ["SET b 1", "WATCH a", "@other SWAPDB 0 1", "MULTI", "PING", "EXEC"],
    "watch-flushall-missing": ["SET b 1", "WATCH a", "@other FLUSHALL", "MULTI", "PING", "EXEC"],
    "watch-own-flushdb-missing": ["SET b 1", "WATCH a", "FLUSHDB", "MULTI", "PING", "EXEC"],
    "watch-swapdb-brings-key": ["SELECT 1", "SET a 1", "SELECT 0", "WATCH a", "@other SWAPDB 0 1", "MULTI", "PING",
                                "EXEC"],
    "watch-then-select": ["SELECT 1", "WATCH a", "SELECT 0", "@other SET a 1", "MULTI", "PING", "EXEC",
                          "WATCH a", "SELECT 1", "@other SELECT 0", "@other SET a 2", "MULTI", "GET a", "EXEC"],
    "exec-nil-after-touched-watch": ["WATCH a", "@other SET a 1", "MULTI", "GET a", "EXEC", "EXEC"],
    "connection-commands-in-multi": ["MULTI", "CLIENT SETNAME t", "CLIENT GETNAME", "CLIENT ID", "ECHO e",
                                     "SELECT 2", "SELECT 99", "PING", "TIME", "EXEC", "CLIENT GETNAME", "SET a 1",
                                     "SELECT 0", "GET a", "SELECT 2", "GET a"],
    # A queued UNWATCH: EXEC has already let the watches go (a dirty one still fails it); Weft used to release them
    # twice and crash.
    "unwatch-in-multi": ["SET a 1", "WATCH a", "MULTI", "UNWATCH", "EXEC", "@other SET a 2", "WATCH a b", "MULTI",
                         "UNWATCH", "SET a 3", "UNWATCH", "EXEC", "GET a", "WATCH a", "@other SET a 4", "MULTI",
                         "UNWATCH", "SET a 5", "EXEC", "GET a", "@other SET a 6", "MULTI", "SET a 7", "EXEC",
                         "GET a", "PING"],
    # A value written with a time already past is gone for the rest of the transaction too (and KEEPTTL keeps
    # nothing of it).
    "set-past-time-in-multi": ["MULTI", "SET k v EXAT 1", "GET k", "EXISTS k", "PTTL k", "EXEC", "MULTI",
                               "SET k 5 PXAT 1", "INCR k", "EXEC", "GET k", "PTTL k", "MULTI", "SET k 5 PXAT 1",
                               "SET k 7 NX", "EXEC", "GET k", "MULTI", "SET k 5 PXAT 1", "APPEND k x", "STRLEN k",
                               "EXEC", "GET k", "MULTI", "SET k 5 PXAT 1", "SET k 6 KEEPTTL", "EXEC", "GET k",
                               "PTTL k", "MULTI", "SET k 5 PXAT 1", "MSETNX k 1 j 2", "EXEC", "MGET k j",
                               "MULTI", "SET n v PXAT 1", "DEL n", "EXISTS n", "EXEC", "DBSIZE", "MULTI",
                               "SET k 9 PXAT 1", "DEL k", "EXEC", "DBSIZE", "EXISTS k"],
    # AUTH is queued like any command; its error is EXEC's, and the others still run.
    "auth-in-multi": ["MULTI", "AUTH x", "SET a 1", "AUTH a b", "AUTH", "EXEC", "GET a", "MULTI", "AUTH x y z",
                      "EXEC"],
    # SHUTDOWN may not be queued, and fails the transaction; ABORT finds no shutdown to stop.
    "shutdown-in-multi": ["MULTI", "SHUTDOWN ABORT", "SET a 1", "EXEC", "GET a", "MULTI", "SHUTDOWN FOO", "EXEC",
                          "MULTI", "SHUTDOWN", "DISCARD", "SHUTDOWN ABORT", "SHUTDOWN abort", "SHUTDOWN ABORT NOW",
                          "SHUTDOWN NOW ABORT", "SHUTDOWN NOSAVE SAVE", "SHUTDOWN FOO", "SHUTDOWN NOSAVE FOO",
                          "PING"],
}


def protocol_cases():
    return {
        "inline-ping": [b"PING\r\n"],
        "inline-quoted": [b'SET a "b c"\r\n', b"GET a\r\n"],
        "inline-spaces": [b'SET a "b c"\r\n', b"  GET a  \r\n"],
        "inline-tab": [b"ECHO\ta\r\n"],
        "inline-lf-only": [b"PING\nPING\n"],
        "inline-cr-only": [b"PING\rPING\r\n"],
        "inline-unbalanced-double": [b'SET a "b c\r\n', b"PING\r\n"],
        "inline-unbalanced-single": [b"SET a 'b\r\n"],
        "inline-quote-followed-by-char": [b'SET a "b"c\r\n'],
        "inline-escapes": [b'ECHO "\\t\\r\\n\\b\\a\\\\\\"\\xZZ\\q\\x41"\r\n'],
        "inline-single-quote-escape": [b"ECHO 'a\\'b'\r\n"],
        "inline-empty-quotes": [b'"" a\r\n', b'""\r\n', b'ECHO ""\r\n'],
        "inline-nul": [b"ECHO a\x00b\r\n"],
        "inline-looks-like-resp": [b"$4\r\nPING\r\n", b":1\r\n", b"+PING\r\n"],
        "empty-lines": [b"\r\n\r\n", b"\n", b"   \r\n", b"PING\r\n"],
        "multibulk-zero": [b"*0\r\n", b"PING\r\n"],
        "multibulk-negative": [b"*-1\r\n", b"*-5\r\nPING\r\n"],
        "multibulk-minus-zero": [b"*-0\r\n"],
        "null-bulk-argument": [b"*1\r\n$-1\r\n"],
        "minus-zero-bulk": [b"*1\r\n$-0\r\n"],
        "empty-bulk-command": [b"*1\r\n$0\r\n\r\n"],
        "bad-multibulk-length": [b"*abc\r\n"],
        "multibulk-plus": [b"*+1\r\n"],
        "multibulk-space": [b"* 1\r\n"],
        "multibulk-leading-zero": [b"*01\r\n$4\r\nPING\r\n"],
        "multibulk-too-big": [b"*2147483648\r\n"],
        "multibulk-not-int": [b"*99999999999999999999\r\n"],
        "multibulk-large-waits": [b"*1048577\r\n", b"$4\r\nPING\r\n"],
        "bulk-not-int": [b"*1\r\n$abc\r\n"],
        "bulk-plus": [b"*1\r\n$+4\r\nPING\r\n"],
        "bulk-space": [b"*1\r\n$ 4\r\n"],
        "bulk-leading-zero": [b"*1\r\n$04\r\nPING\r\n"],
        "bulk-over-proto-max-bulk-len": [b"*1\r\n$536870913\r\n"],
        "bulk-at-proto-max-bulk-len-waits": [b"*1\r\n$536870912\r\n", b"PING\r\n"],
        "bulk-1mb-waits": [b"*2\r\n$4\r\nECHO\r\n$1048577\r\n"],
        "expected-dollar": [b"*2\r\n$3\r\nGET\r\n:1\r\n"],
        "expected-dollar-inline-after-header": [b"*1\r\n", b"PING\r\n"],
        "bulk-missing-crlf": [b"*1\r\n$4\r\nPINGPING\r\n"],
        "bulk-split": [b"*1\r\n$4\r\nPI", b"NG\r\n", b"*2\r\n$4\r\nEC", b"HO\r\n$1", b"\r\nx\r\n"],
        "pipeline-mixed": [b"PING\r\n*1\r\n$4\r\nPING\r\nECHO x\r\n*2\r\n$4\r\nECHO\r\n$1\r\ny\r\n"],
        "pipeline-stops-at-error": [b"PING\r\n*1\r\n$-1\r\nPING\r\n"],
        "multi-then-protocol-error": [b"MULTI\r\nSET a \"b\r\n"],
        "long-inline-65536-waits": [b"A" * 65536],
        "long-inline-65537": [b"A" * 65537],
        "long-inline-with-newline": [b"ECHO " + b"A" * 70000 + b"\r\n"],
        "long-multibulk-count": [b"*" + b"1" * 65536],
        "long-bulk-count": [b"*1\r\n$" + b"1" * 65532],
        "quit-inline": [b"QUIT\r\nPING\r\n"],
        "quit-multibulk": [b"*1\r\n$4\r\nQUIT\r\n"],
        "quit-with-args": [b"QUIT x\r\n"],
        "hello3-then-nulls": [b"HELLO 3\r\n", b"GET nosuch\r\n", b"*0\r\n", b"HELLO 2\r\n", b"GET nosuch\r\n"],
        "wrong-arity-inline": [b"GET\r\n", b"GET a b\r\n"],
        "unknown-inline-long-args": [b"FOO " + b"x" * 200 + b" y\r\n"],
        # CLIENT REPLY: OFF and SKIP are not answered; SKIP drops the next reply; ON answers OK.
        "client-reply-modes": [b"CLIENT REPLY OFF\r\nSET reply:k 1\r\nGET reply:k\r\nNOSUCH\r\nCLIENT REPLY ON\r\n"
                               b"GET reply:k\r\nCLIENT REPLY SKIP\r\nGET reply:k\r\nPING x\r\nCLIENT REPLY SKIP\r\n"
                               b"CLIENT REPLY SKIP\r\nGET reply:k\r\nGET reply:k\r\nCLIENT REPLY x\r\nECHO last\r\n"],
        "client-reply-across-reads": [b"CLIENT REPLY SKIP\r\n", b"PING a\r\nPING b\r\nCLIENT REPLY OFF\r\n",
                                      b"PING c\r\nCLIENT REPLY SKIP\r\n", b"CLIENT REPLY ON\r\nPING d\r\n"],
        "client-reply-skip-then-reset": [b"CLIENT REPLY SKIP\r\nRESET\r\nPING\r\nCLIENT REPLY OFF\r\nRESET\r\nPING x\r\n"],
        # (After CLIENT REPLY OFF a protocol error's reply is dropped too; Redis then leaves the connection open
        # but reads no more from it, Weft closes it: not compared.)
    }


def transcript(port, chunks, idle):
    """Sends each chunk and reads until the server is idle for `idle` seconds or closes: [(bytes, closed)]."""
    out = []
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.settimeout(idle)
        for chunk in chunks:
            try:
                sock.sendall(chunk)
            except OSError as error:
                out.append(("send failed", type(error).__name__))
                break
            data, closed = b"", False
            while True:
                try:
                    received = sock.recv(65536)
                except socket.timeout:
                    break
                except ConnectionResetError:
                    closed = "reset"
                    break
                if not received:
                    closed = True
                    break
                data += received
            out.append((normalize_bytes(data), closed))
            if closed:
                break
    return out


def normalize_bytes(data):
    data = re.sub(rb"(\$2\r\nid\r\n:)\d+", rb"\1<id>", data)
    return re.sub(rb"(\$7\r\nversion\r\n)\$\d+\r\n[^\r]*", rb"\1<version>", data)


@pytest.fixture(scope="module")
def protocol_transcripts(redis_reference, server):
    """Every protocol case on both servers at once (each on its own connection), so the idle waits overlap."""
    cases = protocol_cases()
    with concurrent.futures.ThreadPoolExecutor(max_workers=2 * len(cases)) as pool:
        futures = {(name, side): pool.submit(transcript, port, chunks, 0.6)
                   for name, chunks in cases.items() for side, port in (("redis", redis_reference), ("weft", server))}
        return {key: future.result() for key, future in futures.items()}


def short(transcript_):
    return [(data if len(data) < 200 else data[:200] + b"...(%d bytes)" % len(data), closed)
            for data, closed in transcript_]


@pytest.mark.parametrize("name", list(protocol_cases()))
def test_protocol_bytes(protocol_transcripts, name):
    ours, theirs = protocol_transcripts[(name, "redis")], protocol_transcripts[(name, "weft")]
    assert ours == theirs, f"chunks {short([(c, None) for c in protocol_cases()[name]])}\n" \
                           f"  redis: {short(ours)}\n  weft:  {short(theirs)}"


# Differences Weft keeps for now, each with its reason; strict, so a case that starts to agree fails until it is
# taken off this list.
SWAP_WATCH = "SWAPDB fails every WATCH on both databases; Redis fails only those on keys that exist in either."
KNOWN_DIFFERENCES = {
    "connection/client-subcommands": (
        "CLIENT SETINFO is served, as in Redis 7.2 (redis-py sends it); Redis 7.0 does not know it."
    ),
    "server/info-default-sections": (
        "INFO has Weft's own Transactions section (the issue asks for it) and no Latencystats section."
    ),
    "server/config-set-loglevel": "loglevel also takes `nothing`, as in Redis 7.2, so the error lists it.",
    "server/config-get-directives-weft-lacks": (
        "Weft has maxmemory and maxmemory-policy, not Redis's other maxmemory-* directives, nor ACL directives."
    ),
    "keys/object-idletime": "Weft keeps no access times, so OBJECT IDLETIME is not served.",
    "server/config-proto-max-bulk-len-bounds": (
        "A Weft string holds at most 4 GiB less a byte (its length is 32 bits), so proto-max-bulk-len stops there;"
        " Redis allows up to LONG_MAX."
    ),
    "keys/bit-write-changing-nothing-encoding": (
        "A SETBIT or BITFIELD write that changes no bit leaves the value as it was (and WATCH untouched, as in"
        " Redis); Redis still makes it raw, which in Weft would take a new value and fail other clients' WATCH."
    ),
    "transactions/watch-swapdb-missing": SWAP_WATCH,
}

CASES = {
    f"{family}/{name}": steps
    for family, cases in [("connection", CONNECTION_CASES), ("server", SERVER_CASES), ("keys", KEY_CASES),
                          ("transactions", TRANSACTION_CASES)]
    for name, steps in cases.items()
}


@pytest.mark.parametrize("steps", with_known_differences(CASES, KNOWN_DIFFERENCES))
def test_same_replies(raw_pair, steps):
    assert_same_replies(raw_pair, steps, show)


# ---------------------------------------------------------------------------------------------------------------
# Random sequences over a broader set: test_differential's string/key/expiry commands, plus three databases,
# another connection's writes under WATCH, connection commands, OBJECT, INFO keyspace, CLIENT name and HELLO/RESET.
# A sequence stops at its first mismatch, so differences the hand-written cases above already pin would end every
# sequence early: the generator leaves out OBJECT IDLETIME and OBJECT REFCOUNT (keys/object), HELLO inside
# MULTI (connection/hello-in-multi), and FLUSHDB, FLUSHALL and SWAPDB while "main"
# watches keys (Weft fails every WATCH on a flushed or swapped database, Redis only those on keys that existed:
# test_differential's known difference watch-flushdb-missing, and transactions/watch-*-missing here); and INFO's
# reply is compared by its sections and keyspace counts whatever its RESP type (RESP3's verbatim string is pinned by
# server/info-keyspace).
# ---------------------------------------------------------------------------------------------------------------

BROAD_SEEDS = [11, 12, 13, 14, 15]
BROAD_COMMANDS_PER_SEED = 600


class BroadGenerator(Generator):
    def __init__(self, seed):
        super().__init__(seed)
        choice, key = self.random.choice, self.key
        dbs = ["0", "1", "2"]
        # The base generator's SELECT, SWAPDB and MOVE use databases 0 and 1: replaced by ones over 0, 1 and 2.
        state = self.random.getstate()
        self.commands = [(weight, make) for weight, make in self.commands
                         if make()[0] not in ("SELECT", "SWAPDB", "MOVE")]
        self.random.setstate(state)
        self.commands += [
            (1.5, lambda: ["SELECT", choice(dbs + ["3", "x"])]),
            (0.5, lambda: ["SWAPDB", choice(dbs), choice(dbs)]),
            (1, lambda: ["MOVE", key(), choice(dbs)]),
            (1, lambda: ["COPY", key(), key(), "DB", choice(dbs), *choice([[], ["REPLACE"]])]),
            (1, lambda: ["OBJECT", choice(["FREQ", "ENCODING"]), key()]),
            (1, lambda: ["INFO", "keyspace"]),
            (0.5, lambda: ["CLIENT", "SETNAME", choice(["n1", "n2", "", "a b"])]),
            (0.5, lambda: ["CLIENT", "GETNAME"]),
            (0.3, lambda: ["HELLO", choice(["2", "3"])]),
            (0.2, lambda: ["RESET"]),
            (1, lambda: ["ECHO", choice(["x", ""])]),
            (0.5, lambda: ["PING"]),
            (1, lambda: ["WATCH", *self.keys(1, 3)]),
            (0.5, lambda: ["TIME"]),
        ]
        self.weights = [weight for weight, _ in self.commands]
        self.other_commands = [
            lambda: ["SET", key(), choice(["1", "x"])], lambda: ["DEL", key()], lambda: ["INCR", key()],
            lambda: ["EXPIRE", key(), "500"], lambda: ["PERSIST", key()], lambda: ["GET", key()],
            lambda: ["SELECT", choice(dbs)], lambda: ["RENAME", key(), key()], lambda: ["FLUSHDB"],
            lambda: ["SWAPDB", choice(dbs), choice(dbs)],
        ]
        self.other_weights = [6, 3, 3, 2, 2, 2, 2, 1, 0.2, 0.3]

    def next_step(self, in_multi, watching):
        while True:
            if self.random.random() < 0.1:
                connection, command = "other", self.random.choices(self.other_commands, self.other_weights)[0]()
            else:
                connection, command = "main", self.next(in_multi)
            if in_multi and command[0] == "HELLO":
                continue
            if watching and command[0] in ("FLUSHDB", "FLUSHALL", "SWAPDB"):
                continue
            return connection, command


@pytest.mark.parametrize("seed", BROAD_SEEDS)
def test_random_broad_sequences(raw_pair, seed):
    generator = BroadGenerator(seed)
    raw_pair.info_type = False
    history = []
    for index in range(BROAD_COMMANDS_PER_SEED):
        connection, args = generator.next_step(raw_pair.in_multi, raw_pair.watching)
        ours, theirs, agree = raw_pair.run(args, connection)
        prefix = "@other " if connection == "other" else ""
        history.append(f"  {index}: {prefix}{args!r} -> {show(ours)}")
        if not agree:
            context = "\n".join(history[-15:-1])
            pytest.fail(f"seed {seed}, command {index}: {prefix}{args!r}\n  redis: {show(ours)}\n"
                        f"  weft:  {show(theirs)}\nprevious commands (with Redis's replies):\n{context}")


# Commands that meet a key past its time delete it, as Redis's `expireIfNeeded` does, whether or not they then write
# anything; DBSIZE tells. (Not KEYS, which leaves it in Redis 7.0: there the answer would depend on when Redis's own
# active expiry ran. RANDOMKEY runs with the expired key alone: Redis deletes the expired keys it happens to draw.)
EXPIRED_KEY_MEETINGS = ["DEL k", "UNLINK k", "PERSIST k", "EXPIRE k 100", "PEXPIREAT k 99999999999999", "SET k v XX",
                        "SETRANGE k 0 x", "RENAME k j", "GETDEL k", "SCAN 0", "SCAN 0 MATCH k*", "RANDOMKEY",
                        "GET k", "MULTI|DEL k", "MULTI|SCAN 0",
                        # An EXEC under the exclusive gate: the key a command met is removed from the database it
                        # was in, after a FLUSHDB or SWAPDB, and a later command's transaction does not forget it.
                        "MULTI|GET k|FLUSHDB", "MULTI|SET k w XX|FLUSHALL", "MULTI|SCAN 0 COUNT 100|FLUSHDB",
                        "MULTI|GET k|SWAPDB 0 1", "MULTI|GET k|SET other2 x|CLIENT SETNAME a",
                        "MULTI|SET k w XX|CLIENT ID", "MULTI|SCAN 0|CONFIG GET maxmemory",
                        # A watched cell that FLUSHDB carries into the new database, written again in the same EXEC
                        # (EXISTS then deletes the past-time key in Redis too, which keeps it until touched).
                        "WATCH k|MULTI|GET k|FLUSHDB|SET k v PXAT 1|EXEC|EXISTS k",
                        "WATCH k|MULTI|GET k|FLUSHALL|SET k v"]


@pytest.mark.parametrize("meeting", EXPIRED_KEY_MEETINGS)
def test_a_command_that_meets_an_expired_key_deletes_it(raw_pair, meeting):
    for step in ["SET k v PX 1"] + ([] if meeting == "RANDOMKEY" else ["SET other x"]):
        raw_pair.run(resolve(step)[1])
    time.sleep(0.01)
    steps = meeting.split("|")
    if "MULTI" in steps and "EXEC" not in steps:
        steps += ["EXEC"]
    steps += ["DBSIZE", "EXISTS k", "KEYS *", "SELECT 1", "DBSIZE", "SELECT 0", "SET zz 1", "DBSIZE"]
    assert_same_replies(raw_pair, steps, show)


# INFO's keyspace_hits and keyspace_misses count each key a command reads as Redis's lookupKeyRead does (not the
# lookups for writing), and expired_keys each expired key a command deletes, also by writing over it.
STATISTICS_COMMANDS = [["GET", "k"], ["GET", "m"], ["GETEX", "k"], ["GETEX", "m"], ["SET", "k", "abc", "GET"],
                       ["SET", "m2", "v", "GET"], ["EXISTS", "k", "m", "k"], ["TTL", "k"], ["PTTL", "m"],
                       ["EXPIRETIME", "k"], ["TYPE", "m"], ["OBJECT", "ENCODING", "k"], ["DUMP", "k"],
                       ["COPY", "k", "c2"], ["COPY", "m", "c3"], ["TOUCH", "k", "m"], ["GETBIT", "m", "1"],
                       ["BITPOS", "k", "1"], ["BITFIELD_RO", "k", "GET", "u8", "0"], ["BITFIELD", "k", "GET", "u8", "0"],
                       ["LCS", "k", "m"], ["LCS", "k", "k"], ["BITOP", "AND", "d", "k", "m"], ["GETDEL", "m"],
                       ["GETSET", "m", "1"], ["MGET", "k", "m"], ["INCR", "n"], ["APPEND", "k", "x"],
                       ["MEMORY", "USAGE", "k"], ["RENAME", "k", "k2"], ["SETNX", "k", "1"], ["MSETNX", "a", "1", "k", "2"]]
# Writes of a time already past, met again in the same EXEC.
OWN_EXPIRED_WRITES = [["MULTI"], ["SET", "n", "v", "PXAT", "1"], ["DEL", "n"], ["SET", "k", "w", "PXAT", "1"],
                      ["APPEND", "k", "x"], ["EXEC"]]
EXPIRED_WRITES = [["SET", "e", "x"], ["SET", "e", "x", "GET"], ["APPEND", "e", "x"], ["INCR", "e"], ["GETSET", "e", "1"],
                  ["SETNX", "e", "1"], ["SETRANGE", "e", "0", "x"], ["MSET", "e", "1"], ["SET", "e", "x", "NX"],
                  ["BITFIELD", "e", "SET", "u8", "0", "1"], ["DEL", "e"], ["GETEX", "e"]]


def statistics_after(port, command, expired_key):
    client = redis.Redis(port=port, protocol=2)
    client.flushall()
    client.set("k", "abc")
    # Reset first: either server's active expiry may delete the key before the command, and counts it too.
    client.config_resetstat()
    if expired_key:
        client.set("e", "5", px=1)
        time.sleep(0.005)
    try:
        client.execute_command(*command)
    except redis.ResponseError:
        pass
    stats = client.info("stats")
    figures = (stats["keyspace_hits"], stats["keyspace_misses"], stats["expired_keys"], client.dbsize())
    client.close()
    return figures


@pytest.mark.parametrize("command", STATISTICS_COMMANDS, ids=" ".join)
def test_keyspace_hits_and_misses(redis_reference, server, command):
    assert statistics_after(server, command, False) == statistics_after(redis_reference, command, False)


@pytest.mark.parametrize("command", EXPIRED_WRITES, ids=" ".join)
def test_a_write_over_an_expired_key_counts_it_expired(redis_reference, server, command):
    assert statistics_after(server, command, True) == statistics_after(redis_reference, command, True)


def test_writes_made_with_a_past_time_count_as_expired_when_met(redis_reference, server):
    figures = []
    for port in (redis_reference, server):
        client = redis.Redis(port=port, protocol=2)
        client.flushall()
        client.set("k", "abc")
        client.config_resetstat()
        for command in OWN_EXPIRED_WRITES:
            client.execute_command(*command)
        stats = client.info("stats")
        figures.append((stats["expired_keys"], client.dbsize(), client.get("k")))
        client.close()
    assert figures[1] == figures[0]
