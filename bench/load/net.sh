#!/usr/bin/env bash
# The network suite: redis-benchmark against weft-server and redis-server (persistence off in both), with the
# same flags, in ROUNDS pairs of runs (default 5). Prints `net.<test>.ratio value ratio` (the median over the pairs
# of Weft ops/s over Redis ops/s), each server's best ops/s, and a comment line with every pair's ratio.
#
# It also prints `net.<test>.cpu.ratio`: the median over the pairs of the servers' CPU time per request (user and
# system, from /proc/PID/stat), Weft's over Redis's, with each server's median µs per request. On a machine with
# few cores the client competes with the server for them, and ops/s then says as much about the scheduler as about
# the server; the CPU each server spends per request is the steadier figure.
#
# A second set of lines, `net.pinned.<test>.*`, comes from a second pair of servers with the cores split: the
# client runs on the first CPU this script may use, both servers on the others, and Weft with its default
# io-threads, which counts the CPUs it may run on (so one loop on a two-core machine). Both servers then get the same
# cores and the client never competes with them. Skipped on one core.
#
# WEFT_BENCH_CLIENT_CPUS=N (default 1) gives the client N threads (`redis-benchmark --threads N`, in both forms)
# and, pinned, the first N CPUs: on a big machine one client thread is slower than a multi-loop server, and the
# ratio then measures the client. The comment lines say how many it had. redis-benchmark's threads report their
# rate in steps of a quarter second, so with several give runs longer than a second: WEFT_BENCH_NET_SCALE=N
# (default 1) multiplies every run's request count by N.
#
# Given weft-nio-floor (bench/Benchmarks/NIOFloor) too, it measures SET at `-P 1` and `-P 16` against it as well, in
# both forms, as `net.floor.<test>.*` and `net.pinned.floor.<test>.*` (its figures in place of Weft's): a SwiftNIO
# server that parses nothing and answers +OK, with as many event loops as Weft. Its ratio is the most weft-server's
# transport lets it reach.
#
#   bench/load/net.sh WEFT_SERVER_BINARY [WEFT_NIO_FLOOR_BINARY]
set -euo pipefail
weft="$1"
floor="${2:-}"
rounds="${WEFT_BENCH_ROUNDS:-5}"
threads="${WEFT_BENCH_IO_THREADS:-$(nproc)}"
client_cpus="${WEFT_BENCH_CLIENT_CPUS:-1}"
client_flags=()
scale="${WEFT_BENCH_NET_SCALE:-1}"
[ "$client_cpus" -gt 1 ] && client_flags=(--threads "$client_cpus")

# The CPUs this script may use: the first client_cpus for the pinned client, the rest for the pinned servers.
read -r client_cpu server_cpus < <(python3 -c '
import os, sys
cpus = sorted(os.sched_getaffinity(0))
n = min(int(sys.argv[1]), max(len(cpus) - 1, 1))
print(",".join(map(str, cpus[:n])), ",".join(map(str, cpus[n:])) or "-")' "$client_cpus")

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true' EXIT

# start PORT COMMAND...: starts a server, waits for its PING; sets `started` to its PID.
start() {
    local port="$1"
    shift
    "$@" >/dev/null 2>&1 &
    started=$!
    pids+=("$started")
    for _ in $(seq 100); do
        redis-cli -p "$port" ping >/dev/null 2>&1 && return
        sleep 0.1
    done
    echo "net.sh: the server on port $port did not answer" >&2
    exit 1
}

ticks_per_second=$(getconf CLK_TCK)

# cpu_ticks PID: the user and system CPU time the process has used, in clock ticks.
cpu_ticks() {
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# run PORT PID ARGS...: one redis-benchmark run (one test); prints its requests per second and the server's CPU
# µs per request.
run() {
    local port="$1" pid="$2"
    shift 2
    local requests before after rate
    requests=$(printf '%s\n' "$@" | awk 'previous == "-n" { print } { previous = $0 }')
    before=$(cpu_ticks "$pid")
    rate=$("${client[@]}" redis-benchmark -p "$port" --csv "${client_flags[@]}" "$@" 2>/dev/null | awk -F'"' 'NR == 2 { print $4 }')
    after=$(cpu_ticks "$pid")
    awk -v r="$rate" -v t=$((after - before)) -v hz="$ticks_per_second" -v n="$requests" \
        'BEGIN { printf "%s %.3f\n", r, t * 1000000 / hz / n }'
}

# median VALUES...
median() {
    printf '%s\n' "$@" | sort -g \
        | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

# measure NAME ARGS...: ROUNDS pairs of runs, the order inside a pair alternating (Weft first, then Redis first),
# so that a drift in how much CPU this shared machine gets hits both servers alike. The ratio is the median of the
# pairs' ratios; the ops/s lines are each server's best run, the µs/op lines each server's median.
measure() {
    local name="$1"
    shift
    local best_weft=0 best_redis=0 weft redis weft_cpu redis_cpu ratios=() cpu_ratios=() weft_cpus=() redis_cpus=()
    for round in $(seq "$rounds"); do
        if [ $((round % 2)) -eq 1 ]; then
            read -r weft weft_cpu < <(run "$weft_port" "$weft_pid" "$@")
            read -r redis redis_cpu < <(run "$redis_port" "$redis_pid" "$@")
        else
            read -r redis redis_cpu < <(run "$redis_port" "$redis_pid" "$@")
            read -r weft weft_cpu < <(run "$weft_port" "$weft_pid" "$@")
        fi
        ratios+=("$(awk -v w="$weft" -v r="$redis" 'BEGIN { print (r > 0 ? w / r : 0) }')")
        cpu_ratios+=("$(awk -v w="$weft_cpu" -v r="$redis_cpu" 'BEGIN { print (r > 0 ? w / r : 0) }')")
        weft_cpus+=("$weft_cpu")
        redis_cpus+=("$redis_cpu")
        best_weft=$(awk -v a="$best_weft" -v b="$weft" 'BEGIN { print (b > a ? b : a) }')
        best_redis=$(awk -v a="$best_redis" -v b="$redis" 'BEGIN { print (b > a ? b : a) }')
    done
    awk -v n="$name" -v m="$(median "${ratios[@]}")" -v w="$best_weft" -v r="$best_redis" -v all="${ratios[*]}" \
        -v cm="$(median "${cpu_ratios[@]}")" -v cw="$(median "${weft_cpus[@]}")" -v cr="$(median "${redis_cpus[@]}")" \
        -v call="${cpu_ratios[*]}" -v subject="$subject" 'BEGIN {
        printf "net.%s.ratio %.3f ratio\n", n, m
        printf "net.%s.%s %.0f ops/s\n", n, subject, w
        printf "net.%s.redis %.0f ops/s\n", n, r
        printf "# net.%s: the pairs gave %s\n", n, all
        printf "net.%s.cpu.ratio %.3f ratio\n", n, cm
        printf "net.%s.cpu.%s %.2f µs/op\n", n, subject, cw
        printf "net.%s.cpu.redis %.2f µs/op\n", n, cr
        printf "# net.%s.cpu: the pairs gave %s\n", n, call
    }'
}

# What the `weft_port` server is, in the figures' names: weft, or floor.
subject=weft

# floor_suite PREFIX: SET against weft-nio-floor in weft_port/weft_pid and Redis in redis_port/redis_pid.
floor_suite() {
    local prefix="$1"
    subject=floor
    measure "${prefix}floor.set.c50.p1" -t set -c 50 -P 1 -n $((100000 * scale)) -r 100000
    measure "${prefix}floor.set.c50.p16" -t set -c 50 -P 16 -n $((1000000 * scale)) -r 100000
    subject=weft
}

# suite PREFIX: every test against the servers in weft_port/weft_pid and redis_port/redis_pid.
suite() {
    local prefix="$1"
    measure "${prefix}set.c50.p1" -t set -c 50 -P 1 -n $((100000 * scale)) -r 100000
    measure "${prefix}get.c50.p1" -t get -c 50 -P 1 -n $((100000 * scale)) -r 100000
    measure "${prefix}set.c50.p16" -t set -c 50 -P 16 -n $((1000000 * scale)) -r 100000
    measure "${prefix}get.c50.p16" -t get -c 50 -P 16 -n $((1000000 * scale)) -r 100000
    measure "${prefix}mset.c50.p1" -t mset -c 50 -P 1 -n $((100000 * scale)) -r 100000
    # Long strings changed in place: 100-byte APPENDs to one key (2 MB more each run), and a bit of a 1 MB bitmap
    # flipped by BITFIELD INCRBY u1 (SETBIT's write; redis-benchmark's random numbers have leading zeros, which no
    # offset may have, and a SETBIT to a fixed offset changes nothing after the first).
    measure "${prefix}append.long.c50.p1" -c 50 -P 1 -n $((20000 * scale)) APPEND "${prefix}long" "$(printf 'x%.0s' {1..100})"
    measure "${prefix}bitflip.long.c50.p1" -c 50 -P 1 -n $((100000 * scale)) BITFIELD "${prefix}bitmap" INCRBY u1 8388600 1
}

# The cores shared: nothing pinned, Weft with `threads` event loops.
echo "# net: $(nproc) CPUs, the client with $client_cpus thread(s)"
weft_port=17379
redis_port=17380
start "$weft_port" "$weft" --port "$weft_port" --bind 127.0.0.1 --io-threads "$threads" --appendonly no
weft_pid=$started
start "$redis_port" redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --daemonize no
redis_pid=$started
client=()
suite ""
kill "$weft_pid"
wait "$weft_pid" 2>/dev/null || true
if [ -n "$floor" ]; then
    start "$weft_port" "$floor" "$weft_port" "$threads"
    weft_pid=$started
    floor_suite ""
    kill "$weft_pid"
    wait "$weft_pid" 2>/dev/null || true
fi
kill "$redis_pid"
wait "$redis_pid" 2>/dev/null || true

# The cores split: the client on one, each server (in turn) on the others.
if [ "$server_cpus" != "-" ]; then
    start "$weft_port" taskset -c "$server_cpus" "$weft" --port "$weft_port" --bind 127.0.0.1 --appendonly no
    weft_pid=$started
    start "$redis_port" taskset -c "$server_cpus" redis-server --port "$redis_port" --bind 127.0.0.1 --save "" \
        --appendonly no --daemonize no
    redis_pid=$started
    client=(taskset -c "$client_cpu")
    suite "pinned."
    loops=$(redis-cli -p "$weft_port" info server | tr -d '\r' | awk -F: '$1 == "io_threads_active" { print $2 }')
    echo "# net.pinned: client on CPUs $client_cpu, servers on CPUs $server_cpus, Weft with $loops event loops"
    if [ -n "$floor" ]; then
        kill "$weft_pid"
        wait "$weft_pid" 2>/dev/null || true
        start "$weft_port" taskset -c "$server_cpus" "$floor" "$weft_port" "$loops"
        weft_pid=$started
        floor_suite "pinned."
    fi
fi
