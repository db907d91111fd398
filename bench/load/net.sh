#!/usr/bin/env bash
# The network suite: redis-benchmark against weft-server and redis-server (persistence off in both), with the
# same flags, alternating, best of ROUNDS runs each. Prints `net.<test>.ratio value ratio` (Weft ops/s over Redis
# ops/s) and the absolute figures.
#
#   bench/load/net.sh WEFT_SERVER_BINARY
set -euo pipefail
weft="$1"
rounds="${WEFT_BENCH_ROUNDS:-3}"
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

measure() {
    local name="$1"
    shift
    local best_weft=0 best_redis=0 value
    for _ in $(seq "$rounds"); do
        value=$(rps "$weft_port" "$@")
        best_weft=$(awk -v a="$best_weft" -v b="$value" 'BEGIN { print (b > a ? b : a) }')
        value=$(rps "$redis_port" "$@")
        best_redis=$(awk -v a="$best_redis" -v b="$value" 'BEGIN { print (b > a ? b : a) }')
    done
    awk -v n="$name" -v w="$best_weft" -v r="$best_redis" 'BEGIN {
        printf "net.%s.ratio %.3f ratio\n", n, (r > 0 ? w / r : 0)
        printf "net.%s.weft %.0f ops/s\n", n, w
        printf "net.%s.redis %.0f ops/s\n", n, r
    }'
}

measure set.c50.p1 -t set -c 50 -P 1 -n 100000 -r 100000
measure get.c50.p1 -t get -c 50 -P 1 -n 100000 -r 100000
measure set.c50.p16 -t set -c 50 -P 16 -n 1000000 -r 100000
measure get.c50.p16 -t get -c 50 -P 16 -n 1000000 -r 100000
measure mset.c50.p1 -t mset -c 50 -P 1 -n 100000 -r 100000
