#!/usr/bin/env bash
# The transaction suite: weft-bench against weft-server and redis-server (persistence off in both), with the same
# flags, alternating, best of ROUNDS runs each. Prints `name value unit` lines:
#   tx.transfer.uniform.ratio         MULTI/DECRBY/INCRBY/EXEC transfers per second over 10,000 accounts, Weft/Redis
#   tx.transfer.zipf.ratio            the same, accounts drawn by Zipf 0.99 (contention)
#   tx.transfer-watch.zipf.ratio      WATCH, GET, check, MULTI...EXEC, retry on nil; committed transfers per second
#   tx.<workload>.abort_rate          Weft's engine aborts per commit over the runs (INFO transactions deltas)
#   mixed.uniform.ratio               90% GET / 10% SET of 100 bytes over 100,000 keys; mixed.zipf.p16: Zipf, -P 16
#   counter.ratio                     INCR on 4 hot keys
#   mem.bytes_per_key.ratio           used_memory per key after loading MEM_KEYS 100-byte strings, Weft/Redis
#   mem.rss_per_key.ratio             the same with the process's RSS (VmRSS)
#   scale.<transfer|mixed>.tN         Weft alone with --io-threads N for N in SCALE_THREADS (transfer: Zipf)
# and for each workload the absolute figures of both servers (`<name>.weft`, `<name>.redis`: ops/s, p50/p99/p999
# latency, retries, errors). Every transfer and counter run ends with weft-bench's invariant check (the sum of the
# balances is unchanged; the counters grew by the acknowledged INCRs): `tx.invariants_ok` counts the checks passed,
# `tx.failures` the runs that failed. A failed check or an error reply is shown on stderr and the suite goes on (it
# exits 1 at the end); a server that dies stops it at once.
#
#   bench/load/tx.sh WEFT_SERVER_BINARY WEFT_BENCH_BINARY
# Environment (defaults): WEFT_BENCH_ROUNDS (3), WEFT_BENCH_SECONDS per run (5), WEFT_BENCH_CONNECTIONS (50),
# WEFT_BENCH_IO_THREADS (nproc), WEFT_BENCH_CLIENT_THREADS (nproc), WEFT_BENCH_MEM_KEYS (1000000),
# WEFT_BENCH_SCALE_THREADS (1,2,...,nproc), WEFT_BENCH_SCALE_ROUNDS (1), WEFT_BENCH_TX_PARTS ("mem load scale"),
# WEFT_BENCH_WEFT_PORT (17379), WEFT_BENCH_REDIS_PORT (17380).
set -euo pipefail
weft="$1"
bench="$2"
rounds="${WEFT_BENCH_ROUNDS:-3}"
seconds="${WEFT_BENCH_SECONDS:-5}"
connections="${WEFT_BENCH_CONNECTIONS:-50}"
threads="${WEFT_BENCH_IO_THREADS:-$(nproc)}"
client_threads="${WEFT_BENCH_CLIENT_THREADS:-$(nproc)}"
mem_keys="${WEFT_BENCH_MEM_KEYS:-1000000}"
scale_threads="${WEFT_BENCH_SCALE_THREADS:-$(seq -s, 1 "$(nproc)")}"
scale_rounds="${WEFT_BENCH_SCALE_ROUNDS:-1}"
parts="${WEFT_BENCH_TX_PARTS:-mem load scale}"
declare -A port=([weft]="${WEFT_BENCH_WEFT_PORT:-17379}" [redis]="${WEFT_BENCH_REDIS_PORT:-17380}")
declare -A pid=([weft]="" [redis]="")
failures=0
invariants=0

# $tmp (data and output, removed on exit), die, and the ports' check.
source "$(dirname "$0")/common.sh"

# start weft|redis [IO_THREADS]: a fresh server with persistence off, in its own directory; waits for PONG.
start() {
    local name="$1" io="${2:-$threads}" reply
    mkdir -p "$tmp/$name"
    if [ "$name" = weft ]; then
        "$weft" --port "${port[weft]}" --bind 127.0.0.1 --io-threads "$io" --appendonly no --dir "$tmp/weft" \
            >>"$tmp/weft.out" 2>&1 &
    else
        redis-server --port "${port[redis]}" --bind 127.0.0.1 --save "" --appendonly no --dir "$tmp/redis" \
            --daemonize no >>"$tmp/redis.out" 2>&1 &
    fi
    pid[$name]=$!
    for _ in $(seq 1000); do
        reply=$(redis-cli -p "${port[$name]}" ping 2>/dev/null || true)
        [ "$reply" = PONG ] && return 0
        kill -0 "${pid[$name]}" 2>/dev/null || die "$name exited before answering PONG"
        sleep 0.01
    done
    die "no PONG from $name after 10 s"
}

# stop NAME: SIGTERM, then waits until the process has exited.
stop() {
    [ -n "${pid[$1]}" ] || return 0
    kill -TERM "${pid[$1]}" 2>/dev/null || echo "tx.sh: $1 had exited before it was stopped" >&2
    wait "${pid[$1]}" 2>/dev/null || true
    pid[$1]=""
}

# alive NAME: fails loudly if the server has died (a crash under load is a finding, not a figure).
alive() {
    kill -0 "${pid[$1]}" 2>/dev/null || die "$1 died during the run"
}

# info NAME SECTION FIELD: one field of INFO, empty if absent.
info() {
    redis-cli -p "${port[$1]}" info "$2" 2>/dev/null | tr -d '\r' | awk -F: -v f="$3" '$1 == f { print $2 }'
}

# rss NAME: the server process's resident set in bytes.
rss() {
    awk '/^VmRSS:/ { print $2 * 1024 }' "/proc/${pid[$1]}/status"
}

# max A B, ratio A B (0 if B is 0, nan if either is nan or empty): arithmetic on decimals.
max() { awk -v a="$1" -v b="$2" 'BEGIN { print (b + 0 > a + 0 ? b : a) }'; }
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        if (a == "" || b == "" || a == "nan" || b == "nan") print "nan"; else printf "%.3f", (b > 0 ? a / b : 0)
    }'
}

# bench NAME PREFIX ARGS...: one weft-bench run against NAME; its output goes to $tmp/run.txt. On failure (a
# broken invariant, an error reply, a lost connection) prints the output to stderr and counts a failure.
bench() {
    local name="$1" prefix="$2"
    shift 2
    if ! "$bench" --port "${port[$name]}" --duration "$seconds" --connections "$connections" \
        --threads "$client_threads" --prefix "$prefix" "$@" >"$tmp/run.txt" 2>&1; then
        failures=$((failures + 1))
        {
            echo "tx.sh: weft-bench $* against $name failed:"
            cat "$tmp/run.txt"
        } >&2
    fi
    invariants=$((invariants + $(grep -c '^invariant ok' "$tmp/run.txt" || true)))
    alive "$name"
}

# throughput PREFIX: the `PREFIX N ops/s` figure of the last run, 0 if none.
throughput() {
    awk -v p="$1" '$1 == p && $3 == "ops/s" { v = $2 } END { print v + 0 }' "$tmp/run.txt"
}

# figures FILE: the `name value unit` lines of a run's output (not the invariant and FAILED lines).
figures() {
    awk 'NF == 3 && $2 ~ /^-?[0-9.]+$|^nan$/' "$1"
}

# counters: Weft's tx_commits and tx_aborts, as "COMMITS ABORTS".
counters() {
    echo "$(info weft transactions tx_commits) $(info weft transactions tx_aborts)"
}

# workload NAME ARGS...: ROUNDS runs against each server, alternating; prints the best run's figures of each, the
# throughput ratio and Weft's abort rate over all its runs.
workload() {
    local name="$1" server value commits aborts before after
    shift
    declare -A best=([weft]=0 [redis]=0)
    commits=0
    aborts=0
    for _ in $(seq "$rounds"); do
        for server in weft redis; do
            [ "$server" = weft ] && before=$(counters)
            bench "$server" "$name.$server" "$@"
            if [ "$server" = weft ]; then
                after=$(counters)
                read -r commits aborts < <(awk -v b="$before" -v a="$after" -v c="$commits" -v x="$aborts" 'BEGIN {
                    split(b, p, " "); split(a, q, " "); print c + q[1] - p[1], x + q[2] - p[2] }')
            fi
            value=$(throughput "$name.$server")
            if awk -v a="$value" -v b="${best[$server]}" 'BEGIN { exit !(a > b || b == 0) }'; then
                best[$server]=$value
                cp "$tmp/run.txt" "$tmp/best.$server.txt"
            fi
        done
    done
    figures "$tmp/best.weft.txt"
    figures "$tmp/best.redis.txt"
    echo "$name.ratio $(ratio "${best[weft]}" "${best[redis]}") ratio"
    awk -v n="$name" -v c="$commits" -v a="$aborts" 'BEGIN {
        printf "%s.abort_rate %.6f ratio\n", n, (c > 0 ? a / c : 0) }'
    rm -f "$tmp/best.weft.txt" "$tmp/best.redis.txt"
}

# used_memory NAME: INFO memory's used_memory, else the engine's figure from INFO, else nan.
used_memory() {
    local value
    value=$(info "$1" memory used_memory)
    [ -n "$value" ] || value=$(info "$1" all used_memory)
    [ -n "$value" ] || value=$(info "$1" all engine_memory)
    [ -n "$value" ] && echo "$value" || echo nan
}

# memory: MEM_KEYS 100-byte strings loaded into each fresh server; used_memory and RSS grown per key.
memory() {
    local name size
    declare -A bytes rss_bytes
    for name in weft redis; do
        start "$name"
        local used0 rss0 used1 rss1
        used0=$(used_memory "$name")
        rss0=$(rss "$name")
        "$bench" --port "${port[$name]}" --workload fill --keys "$mem_keys" --value-size 100 \
            --threads "$client_threads" --prefix "mem.fill.$name" >"$tmp/run.txt" 2>&1 ||
            die "loading $mem_keys keys into $name failed: $(cat "$tmp/run.txt")"
        figures "$tmp/run.txt" | grep '\.rate '
        size=$(redis-cli -p "${port[$name]}" dbsize)
        [ "$size" = "$mem_keys" ] || die "DBSIZE of $name is '$size' after loading $mem_keys keys"
        used1=$(used_memory "$name")
        rss1=$(rss "$name")
        if [ "$used0" = nan ] || [ "$used1" = nan ]; then
            echo "tx.sh: $name reports no used_memory in INFO: mem.bytes_per_key.ratio is nan" >&2
        fi
        bytes[$name]=$(awk -v a="$used0" -v b="$used1" -v k="$mem_keys" 'BEGIN {
            if (a == "nan" || b == "nan") print "nan"; else printf "%.1f", (b - a) / k }')
        rss_bytes[$name]=$(awk -v a="$rss0" -v b="$rss1" -v k="$mem_keys" 'BEGIN { printf "%.1f", (b - a) / k }')
        echo "mem.used_memory.$name $used1 bytes"
        echo "mem.rss.$name $rss1 bytes"
        stop "$name"
    done
    echo "mem.bytes_per_key.ratio $(ratio "${bytes[weft]}" "${bytes[redis]}") ratio"
    echo "mem.bytes_per_key.weft ${bytes[weft]} bytes"
    echo "mem.bytes_per_key.redis ${bytes[redis]} bytes"
    echo "mem.rss_per_key.ratio $(ratio "${rss_bytes[weft]}" "${rss_bytes[redis]}") ratio"
    echo "mem.rss_per_key.weft ${rss_bytes[weft]} bytes"
    echo "mem.rss_per_key.redis ${rss_bytes[redis]} bytes"
}

# load: every workload against both servers, fresh, with the same flags.
load() {
    start weft
    start redis
    workload tx.transfer.uniform --workload transfer --dist uniform
    workload tx.transfer.zipf --workload transfer --dist zipf
    workload tx.transfer-watch.zipf --workload transfer-watch --dist zipf
    workload mixed.uniform --workload mixed --dist uniform
    workload mixed.zipf.p16 --workload mixed --dist zipf --pipeline 16
    workload counter --workload counter
    stop weft
    stop redis
}

# scale: Weft alone, restarted with each --io-threads count; best of SCALE_ROUNDS.
scale() {
    local n kind best value
    for n in ${scale_threads//,/ }; do
        start weft "$n"
        for kind in transfer mixed; do
            best=0
            for _ in $(seq "$scale_rounds"); do
                if [ "$kind" = transfer ]; then
                    bench weft "scale.$kind.t$n" --workload transfer --dist zipf
                else
                    bench weft "scale.$kind.t$n" --workload mixed --dist uniform
                fi
                value=$(throughput "scale.$kind.t$n")
                best=$(max "$best" "$value")
            done
            echo "scale.$kind.t$n $best ops/s"
        done
        stop weft
    done
}

echo "tx.cores $(nproc) cores"
echo "tx.io_threads $threads threads"
for part in $parts; do
    case "$part" in
        mem) memory ;;
        load) load ;;
        scale) scale ;;
        *) die "unknown part '$part' in WEFT_BENCH_TX_PARTS (mem, load, scale)" ;;
    esac
done
echo "tx.invariants_ok $invariants count"
echo "tx.failures $failures count"
[ "$failures" -eq 0 ] || die "$failures weft-bench runs failed (see above)"
