"""INFO, commandstats, errorstats, SLOWLOG, CONFIG RESETSTAT and LATENCY through redis-py, against a real weft-server.

Field names were compared with redis-server 7.0 (`INFO everything`); `test_field_names_match_redis` repeats that
comparison when redis-server is installed.
"""
import re
import socket
import time

import pytest
import redis

from weft_process import client, servers  # noqa: F401 (fixture)

SECTIONS = {
    "server": ["redis_version", "redis_mode", "os", "arch_bits", "process_id", "run_id", "tcp_port",
               "uptime_in_seconds", "uptime_in_days", "hz", "executable", "config_file"],
    "clients": ["connected_clients", "maxclients", "blocked_clients"],
    "memory": ["used_memory", "used_memory_human", "used_memory_rss", "used_memory_rss_human", "used_memory_peak",
               "used_memory_peak_human", "maxmemory", "maxmemory_policy", "mem_fragmentation_ratio", "mem_allocator"],
    "persistence": ["loading", "aof_enabled", "aof_rewrite_in_progress", "aof_last_write_status"],
    "stats": ["total_connections_received", "total_commands_processed", "instantaneous_ops_per_sec",
              "total_net_input_bytes", "total_net_output_bytes", "rejected_connections", "expired_keys",
              "keyspace_hits", "keyspace_misses", "total_error_replies"],
    "replication": ["role", "connected_slaves", "master_replid", "master_repl_offset"],
    "cpu": ["used_cpu_sys", "used_cpu_user", "used_cpu_sys_children", "used_cpu_user_children"],
    "cluster": ["cluster_enabled"],
    "transactions": ["tx_commits", "tx_aborts", "tx_retries"],
}

INTEGERS = [
    "arch_bits", "process_id", "tcp_port", "uptime_in_seconds", "connected_clients", "maxclients", "used_memory",
    "used_memory_rss", "used_memory_peak", "maxmemory", "loading", "aof_enabled", "total_connections_received",
    "total_commands_processed", "instantaneous_ops_per_sec", "total_net_input_bytes", "total_net_output_bytes",
    "rejected_connections", "expired_keys", "keyspace_hits", "keyspace_misses", "total_error_replies",
    "connected_slaves", "master_repl_offset", "cluster_enabled", "tx_commits",
]
FLOATS = ["mem_fragmentation_ratio", "used_cpu_sys", "used_cpu_user", "used_cpu_sys_children",
          "used_cpu_user_children", "instantaneous_input_kbps", "instantaneous_output_kbps"]


@pytest.fixture
def weft(servers):  # noqa: F811
    return servers.start(appendonly="no")


@pytest.fixture
def r(weft):
    c = client(weft.port, decode_responses=True)
    yield c
    c.close()


def headers(text):
    return [line[2:] for line in text.split("\r\n") if line.startswith("# ")]


def raw_info(port, *sections):
    """INFO's text as sent, without redis-py's parsing."""
    connection = redis.Connection(port=port)
    try:
        connection.send_command("INFO", *sections)
        return connection.read_response().decode()
    finally:
        connection.disconnect()


def test_info_parses_with_redis_py_and_has_every_section(r, weft):
    r.set("k", "v", ex=100)
    info = r.info()
    for section, names in SECTIONS.items():
        for name in names:
            assert name in info, f"{section}: {name} missing"
    for name in INTEGERS:
        assert isinstance(info[name], int), f"{name} = {info[name]!r}"
    for name in FLOATS:
        assert isinstance(info[name], float) or info[name] == 0, f"{name} = {info[name]!r}"
    assert info["role"] == "master"
    assert info["maxmemory"] == 0 and info["maxmemory_policy"] == "noeviction"
    # weft-server links jemalloc, and says so as Redis does ("jemalloc-5.3.0").
    assert re.fullmatch(r"jemalloc-\d+\.\d+\.\d+", info["mem_allocator"]), info["mem_allocator"]
    assert info["used_memory_rss"] > info["used_memory"] > 0
    assert info["used_memory_peak"] >= info["used_memory"]
    assert info["used_memory_human"][-1] in "BKMG"
    assert info["tcp_port"] == weft.port
    assert info["db0"] == {"keys": 1, "expires": 1, "avg_ttl": 0}
    assert not any(key.startswith("cmdstat_") for key in info)


def test_info_section_selection(r, weft):
    default = ["Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Modules", "Errorstats",
               "Cluster", "Transactions", "Keyspace"]
    assert headers(raw_info(weft.port)) == default
    assert headers(raw_info(weft.port, "default")) == default
    everything = default[:8] + ["Commandstats"] + default[8:]
    assert headers(raw_info(weft.port, "all")) == everything
    assert headers(raw_info(weft.port, "everything")) == everything
    assert headers(raw_info(weft.port, "keyspace", "CPU", "server")) == ["Server", "CPU", "Keyspace"]
    assert raw_info(weft.port, "nosuch") == ""
    server = r.info("server")
    assert "redis_version" in server and "used_memory" not in server
    assert "cmdstat_info" in r.info("everything")
    assert set(r.info("cpu")) == set(SECTIONS["cpu"])


def test_commandstats_after_known_calls(r):
    # From zero (redis-py's own CLIENT SETINFO at connect is not counted then).
    r.config_resetstat()
    for i in range(3):
        r.set(f"k{i}", i)
    assert r.get("k1") == "1"
    assert r.get("missing") is None
    assert r.mget("k0", "k2", "nope") == ["0", "2", None]
    with pytest.raises(redis.ResponseError, match="invalid expire time"):
        r.set("k0", "x", ex=0)
    with pytest.raises(redis.ResponseError, match="wrong number of arguments"):
        r.execute_command("GET")
    r.config_get("maxclients")
    stats = r.info("commandstats")
    assert stats["cmdstat_set"]["calls"] == 4
    assert stats["cmdstat_set"]["failed_calls"] == 1
    assert stats["cmdstat_get"] == {
        "calls": 2, "usec": stats["cmdstat_get"]["usec"], "usec_per_call": stats["cmdstat_get"]["usec_per_call"],
        "rejected_calls": 1, "failed_calls": 0,
    }
    assert isinstance(stats["cmdstat_get"]["usec"], int)
    assert isinstance(stats["cmdstat_get"]["usec_per_call"], float)
    assert stats["cmdstat_mget"]["calls"] == 1
    assert stats["cmdstat_config|get"]["calls"] == 1
    info = r.info("stats")
    assert info["keyspace_hits"] == 3
    assert info["keyspace_misses"] == 2
    # Commands that ran: CONFIG RESETSTAT, 4 SET, 2 GET, MGET, CONFIG GET, the INFO commandstats before this INFO.
    assert info["total_commands_processed"] == 10


def test_errorstats_count_replies_by_code(r, weft):
    r.config_resetstat()
    with pytest.raises(redis.ResponseError, match="unknown command"):
        r.execute_command("NOSUCHCOMMAND", "a")
    # Weft serves strings only, so no command answers WRONGTYPE; EXECABORT and NOAUTH stand in for a second and a
    # third code.
    assert r.execute_command("MULTI")
    with pytest.raises(redis.ResponseError, match="unknown command"):
        r.execute_command("NOSUCHCOMMAND")
    with pytest.raises(redis.exceptions.ExecAbortError):
        r.execute_command("EXEC")
    r.config_set("requirepass", "sekret")
    with socket.create_connection(("127.0.0.1", weft.port), timeout=5) as stranger:
        stranger.sendall(b"GET k\r\n")
        assert stranger.recv(100) == b"-NOAUTH Authentication required.\r\n"
    r.config_set("requirepass", "")
    errors = r.info("errorstats")
    assert errors["errorstat_ERR"] == {"count": 2}
    assert errors["errorstat_EXECABORT"] == {"count": 1}
    assert errors["errorstat_NOAUTH"] == {"count": 1}
    assert r.info("stats")["total_error_replies"] == 4
    assert r.info("commandstats")["cmdstat_exec"]["failed_calls"] == 1
    assert r.info("commandstats")["cmdstat_get"]["rejected_calls"] == 1


def test_slowlog_logs_everything_at_zero(r, weft):
    assert r.config_get("slowlog-*") == {"slowlog-log-slower-than": "10000", "slowlog-max-len": "128"}
    r.config_set("slowlog-log-slower-than", 0)
    r.client_setname("watcher")
    r.set("big", "x" * 300)
    entries = r.slowlog_get(2)
    assert len(entries) == 2
    newest, older = entries
    assert newest["command"] == b"SET big " + b"x" * 128 + b"... (172 more bytes)"
    assert older["command"] == b"CLIENT SETNAME watcher"
    assert newest["id"] > older["id"]
    assert abs(newest["start_time"] - time.time()) < 60
    assert isinstance(newest["duration"], int)
    assert newest["client_address"].startswith(b"127.0.0.1:")
    assert newest["client_name"] == b"watcher"
    r.execute_command("MSET", *[f"k{i}" for i in range(40)])
    arguments = r.execute_command("SLOWLOG", "GET", "1")[0][3]
    assert len(arguments) == 32 and arguments[-1] == "... (10 more arguments)"
    assert r.slowlog_len() >= 4
    # LEN, then GET: GET also sees LEN's own entry.
    assert r.slowlog_len() + 1 == len(r.slowlog_get(-1))
    assert r.slowlog_reset()
    # The RESET itself is logged after it ran, as in Redis.
    assert r.slowlog_len() == 1
    r.config_set("slowlog-log-slower-than", -1)
    r.slowlog_reset()
    r.ping()
    assert r.slowlog_len() == 0
    with pytest.raises(redis.ResponseError, match="count should be greater than or equal to -1"):
        r.execute_command("SLOWLOG", "GET", "-5")
    assert r.execute_command("SLOWLOG", "HELP")[0].startswith("SLOWLOG <subcommand>")


def test_slowlog_directives_on_the_command_line(servers):  # noqa: F811
    weft = servers.start(appendonly="no", slowlog_log_slower_than="0", slowlog_max_len="2")
    c = client(weft.port, decode_responses=True)
    assert c.config_get("slowlog-*") == {"slowlog-log-slower-than": "0", "slowlog-max-len": "2"}
    for _ in range(5):
        c.ping()
    assert c.slowlog_len() == 2


def test_config_resetstat(r):
    r.config_set("slowlog-log-slower-than", 0)
    r.set("a", 1)
    r.get("a")
    with pytest.raises(redis.ResponseError):
        r.execute_command("NOSUCH")
    logged = r.slowlog_len()
    assert r.config_resetstat()
    info = r.info("everything")
    assert info["total_commands_processed"] == 1
    assert info["cmdstat_config|resetstat"]["calls"] == 1
    assert "cmdstat_set" not in info and "cmdstat_get" not in info
    assert not any(key.startswith("errorstat_") for key in info)
    assert info["total_error_replies"] == 0
    assert info["keyspace_hits"] == 0
    assert info["total_connections_received"] == 0
    assert r.slowlog_len() >= logged


def test_latency_latest_is_empty(r):
    assert r.execute_command("LATENCY", "LATEST") == []
    assert r.execute_command("LATENCY", "RESET") == 0


def test_instantaneous_ops_per_sec_follows_the_load(r):
    deadline = time.time() + 1.0
    while time.time() < deadline:
        pipe = r.pipeline(transaction=False)
        for _ in range(200):
            pipe.ping()
        pipe.execute()
    assert r.info("stats")["instantaneous_ops_per_sec"] > 0


def test_field_names_match_redis(weft, redis_reference):
    port = redis_reference
    client(port).set("k", "v")
    ours = client(weft.port)
    ours.set("k", "v")
    expected = raw_info(port, "everything")
    answered = raw_info(weft.port, "everything")

    def names(text):
        section, found = None, {}
        for line in text.split("\r\n"):
            if line.startswith("# "):
                section = line[2:]
                found[section] = set()
            elif ":" in line:
                found[section].add(line.split(":", 1)[0])
        return found

    redis_names, weft_names = names(expected), names(answered)
    # Redis prints a Latencystats section Weft does not keep; Weft adds its Transactions section.
    assert set(weft_names) - {"Transactions"} == set(redis_names) - {"Latencystats"}
    for section in ["Server", "Clients", "Memory", "Stats", "Replication", "CPU", "Cluster"]:
        extra = weft_names[section] - redis_names[section] - {"weft_version"}
        assert not extra, f"{section}: fields Redis does not print: {sorted(extra)}"
        for name in SECTIONS[section.lower()]:
            assert name in redis_names[section] and name in weft_names[section]


def test_transactions_section(r):
    """Weft's own section: commits, aborts, retries, fallbacks, exclusive runs, WATCH failures and the conflict
    rate, all integers; it survives CONFIG RESETSTAT (the engine's counters are not reset)."""
    r.set("a", 1)
    r.flushdb()
    info = r.info("transactions")
    for field in ("tx_commits", "tx_aborts", "tx_retries", "tx_fallbacks_to_locking", "tx_exclusive_runs",
                  "tx_watch_failures", "tx_instantaneous_conflicts_per_sec"):
        assert isinstance(info[field], int), (field, info)
    assert info["tx_commits"] >= 2 and info["tx_exclusive_runs"] >= 1
    assert info["tx_retries"] == info["tx_aborts"]
    assert r.config_resetstat()
    time.sleep(0.3)  # a few 100 ms samples after the reset
    assert r.info("transactions")["tx_instantaneous_conflicts_per_sec"] >= 0
    assert r.ping()


def test_debug_lastsave_and_protected_dir_as_redis(server, redis_reference):
    """DEBUG is refused as Redis 7 refuses it by default (before it runs: inside MULTI the EXEC aborts); LASTSAVE is
    the start of a server that writes no snapshots, as INFO's rdb_last_save_time; CONFIG SET dir is protected."""
    replies = {}
    for port in (server, redis_reference):
        c = redis.Redis(port=port, decode_responses=True)
        got = []
        for command in (("DEBUG", "SLEEP", "0"), ("DEBUG", "OBJECT", "k"), ("DEBUG",), ("CONFIG", "SET", "dir", "/tmp")):
            try:
                got.append(c.execute_command(*command))
            except redis.ResponseError as error:
                got.append(str(error))
        with c.pipeline(transaction=True) as pipe:
            pipe.execute_command("DEBUG", "OBJECT", "k")
            try:
                pipe.execute()
            except redis.ResponseError as error:
                got.append(str(error).split(";")[0])
        lastsave = c.lastsave().timestamp()
        info = c.info("persistence")
        uptime = c.info("server")["uptime_in_seconds"]
        assert info["rdb_last_save_time"] == int(lastsave)
        assert abs(time.time() - uptime - lastsave) < 3
        replies[port] = got
        c.close()
    assert replies[server] == replies[redis_reference]
    assert replies[server][0].startswith("DEBUG command not allowed.")
