#!/usr/bin/env bash
# The network suite: redis-benchmark against weft-server and redis-server (persistence off in both), with the
# same flags, in ROUNDS pairs of runs (default 5). Prints `net.<test>.ratio value ratio` (the median over the pairs
# of Weft ops/s over Redis ops/s), each server's best ops/s, and a comment line with every pair's ratio.
#
#   bench/load/net.sh WEFT_SERVER_BINARY
set -euo pipefail
weft="$1"
rounds="${WEFT_BENCH_ROUNDS:-5}"
threads="${WEFT_BENCH_IO_THREADS:-$(nproc)}"
weft_port=17379
redis_port=17380

"$weft" --port "$weft_port" --bind 127.0.0.1 --io-threads "$threads" --appendonly no >/dev/null 2>&1 &
weft_pid=$!
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --daemonize no >/dev/null 2>&1 &
redis_pid=$!
trap 'kill $weft_pid $redis_pid 2>/dev/null || true; wait 2>/dev/null || true' EXIT
for port in $weft_port $redis_port; do
    for _ in $(seq 100); do
        redis-cli -p "$port" ping >/dev/null 2>&1 && break
        sleep 0.1
    done
done

# rps PORT ARGS...: requests per second of one redis-benchmark run (one test).
rps() {
    local port="$1"
    shift
    redis-benchmark -p "$port" --csv "$@" 2>/dev/null | awk -F'"' 'NR == 2 { print $4 }'
}

# measure NAME ARGS...: ROUNDS pairs of runs, the order inside a pair alternating (Weft first, then Redis first),
# so that a drift in how much CPU this shared machine gets hits both servers alike. The ratio is the median of the
# pairs' ratios; the ops/s lines are each server's best run.
measure() {
    local name="$1"
    shift
    local best_weft=0 best_redis=0 weft redis ratios=()
    for round in $(seq "$rounds"); do
        if [ $((round % 2)) -eq 1 ]; then
            weft=$(rps "$weft_port" "$@")
            redis=$(rps "$redis_port" "$@")
        else
            redis=$(rps "$redis_port" "$@")
            weft=$(rps "$weft_port" "$@")
        fi
        ratios+=("$(awk -v w="$weft" -v r="$redis" 'BEGIN { print (r > 0 ? w / r : 0) }')")
        best_weft=$(awk -v a="$best_weft" -v b="$weft" 'BEGIN { print (b > a ? b : a) }')
        best_redis=$(awk -v a="$best_redis" -v b="$redis" 'BEGIN { print (b > a ? b : a) }')
    done
    local median
    median=$(printf '%s\n' "${ratios[@]}" | sort -g \
        | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }')
    awk -v n="$name" -v m="$median" -v w="$best_weft" -v r="$best_redis" -v all="${ratios[*]}" 'BEGIN {
        printf "net.%s.ratio %.3f ratio\n", n, m
        printf "net.%s.weft %.0f ops/s\n", n, w
        printf "net.%s.redis %.0f ops/s\n", n, r
        printf "# net.%s: the pairs gave %s\n", n, all
    }'
}

measure set.c50.p1 -t set -c 50 -P 1 -n 100000 -r 100000
measure get.c50.p1 -t get -c 50 -P 1 -n 100000 -r 100000
measure set.c50.p16 -t set -c 50 -P 16 -n 1000000 -r 100000
measure get.c50.p16 -t get -c 50 -P 16 -n 1000000 -r 100000
measure mset.c50.p1 -t mset -c 50 -P 1 -n 100000 -r 100000
