#!/usr/bin/env bash
# The log suite: what the commit log costs, against Redis's AOF. Each measurement starts both servers fresh, in
# their own temporary directories, with the same flags. Prints `name value unit` lines:
#   log.<always|everysec>.ratio  SET ops/s, Weft over Redis, both with that appendfsync (best of ROUNDS, alternating)
#   log.always.cost[.redis]      SET ops/s with appendfsync always over SET ops/s with appendonly no
#   log.bytes.ratio              bytes in appendonlydir after the same 200,000 SETs and a graceful stop
#   log.restore.ratio            seconds from process start to PONG with KEYS keys, best of ROUNDS (lower is better)
#
#   bench/load/log.sh WEFT_SERVER_BINARY
# WEFT_BENCH_ROUNDS (3), WEFT_BENCH_IO_THREADS (nproc) and WEFT_BENCH_LOG_KEYS (1000000) tune it.
set -euo pipefail
weft="$1"
rounds="${WEFT_BENCH_ROUNDS:-3}"
threads="${WEFT_BENCH_IO_THREADS:-$(nproc)}"
keys="${WEFT_BENCH_LOG_KEYS:-1000000}"
declare -A port=([weft]=17379 [redis]=17380) pid=([weft]="" [redis]="")

# $tmp (data and output, removed on exit), die, and the ports' check.
source "$(dirname "$0")/common.sh"

# start weft|redis DIR FSYNC [DIRECTIVES...]: FSYNC is always, everysec or no, or off for `appendonly no`.
start() {
    local name="$1" dir="$2" fsync="$3"
    shift 3
    local log=(--appendonly yes --appendfsync "$fsync")
    [ "$fsync" = off ] && log=(--appendonly no)
    mkdir -p "$dir"
    if [ "$name" = weft ]; then
        "$weft" --port "${port[weft]}" --bind 127.0.0.1 --io-threads "$threads" --dir "$dir" "${log[@]}" "$@" \
            >>"$tmp/weft.out" 2>&1 &
    else
        redis-server --port "${port[redis]}" --bind 127.0.0.1 --save "" --dir "$dir" "${log[@]}" "$@" \
            --daemonize no >>"$tmp/redis.out" 2>&1 &
    fi
    pid[$name]=$!
}

# wait_pong NAME: polls every 10 ms until PING answers PONG (not -LOADING); fails if the server exits first.
wait_pong() {
    local reply deadline=$(($(date +%s) + 600))
    while :; do
        reply=$(redis-cli -p "${port[$1]}" ping 2>/dev/null || true)
        [ "$reply" = PONG ] && return 0
        kill -0 "${pid[$1]}" 2>/dev/null || die "$1 exited before answering PONG"
        [ "$(date +%s)" -lt "$deadline" ] || die "no PONG from $1 after 600 s (last reply: $reply)"
        sleep 0.01
    done
}

# stop NAME: a graceful stop (SIGTERM for Weft, SHUTDOWN for Redis), waiting until the process has exited.
stop() {
    local status=0
    if [ "$1" = weft ]; then
        kill -TERM "${pid[weft]}" 2>/dev/null || die "weft exited before it was stopped"
    else
        redis-cli -p "${port[redis]}" shutdown >/dev/null 2>&1 || true
    fi
    wait "${pid[$1]}" || status=$?
    [ "$status" -eq 0 ] || echo "log.sh: $1 exited with status $status after a graceful stop" >&2
    pid[$1]=""
}

# expect_dbsize NAME N: fails loudly unless DBSIZE is N.
expect_dbsize() {
    local size
    size=$(redis-cli -p "${port[$1]}" dbsize 2>&1 || true)
    [ "$size" = "$2" ] || die "DBSIZE of $1 is '$size', expected $2"
}

# max A B, min A B (0 means none yet), minus A B: arithmetic on decimals.
max() { awk -v a="$1" -v b="$2" 'BEGIN { print (b > a ? b : a) }'; }
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == 0 || b < a ? b : a) }'; }
minus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", a - b }'; }

# rps NAME: requests per second of one redis-benchmark SET run.
rps() {
    local value
    value=$(redis-benchmark -p "${port[$1]}" --csv -t set -c 50 -P 1 -d 100 -r 100000 -n 100000 2>/dev/null |
        awk -F'"' 'NR == 2 { print $4 }')
    [ -n "$value" ] || die "redis-benchmark against $1 failed"
    echo "$value"
}

# throughput FSYNC: both servers fresh with that policy; sets best_weft and best_redis (SET ops/s).
throughput() {
    start weft "$tmp/$1/weft" "$1"
    start redis "$tmp/$1/redis" "$1"
    wait_pong weft
    wait_pong redis
    best_weft=0
    best_redis=0
    for _ in $(seq "$rounds"); do
        best_weft=$(max "$best_weft" "$(rps weft)")
        best_redis=$(max "$best_redis" "$(rps redis)")
    done
    stop weft
    stop redis
    rm -rf "${tmp:?}/$1"
}

# report NAME WEFT REDIS UNIT FORMAT: the ratio line, then both figures.
report() {
    awk -v n="$1" -v w="$2" -v r="$3" -v u="$4" -v f="$5" 'BEGIN {
        printf "log.%s.ratio %.3f ratio\n", n, (r > 0 ? w / r : 0)
        printf "log.%s.weft " f " %s\n", n, w, u
        printf "log.%s.redis " f " %s\n", n, r, u
    }'
}

# log_fsync: SET throughput with appendfsync always, everysec, then appendonly no (the cost of always).
log_fsync() {
    local always_weft always_redis
    throughput always
    always_weft=$best_weft
    always_redis=$best_redis
    report always "$best_weft" "$best_redis" ops/s %.0f
    throughput everysec
    report everysec "$best_weft" "$best_redis" ops/s %.0f
    throughput off
    awk -v aw="$always_weft" -v ar="$always_redis" -v ow="$best_weft" -v or="$best_redis" 'BEGIN {
        printf "log.off.weft %.0f ops/s\nlog.off.redis %.0f ops/s\n", ow, or
        printf "log.always.cost %.3f ratio\n", (ow > 0 ? aw / ow : 0)
        printf "log.always.cost.redis %.3f ratio\n", (or > 0 ? ar / or : 0)
    }'
}

# dir_bytes DIR: bytes in the regular files of DIR/appendonlydir.
dir_bytes() {
    [ -d "$1/appendonlydir" ] || die "no appendonlydir in $1: $(ls -A "$1")"
    find "$1/appendonlydir" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'
}

# log_bytes: the same 200,000 SETs into each fresh server (no rewrites), graceful stops, then the logs' sizes.
log_bytes() {
    local name
    for name in weft redis; do
        start "$name" "$tmp/bytes/$name" everysec --auto-aof-rewrite-percentage 0
        wait_pong "$name"
        redis-benchmark -p "${port[$name]}" -q -t set -n 200000 -r 100000 -d 100 -c 50 >/dev/null 2>&1 ||
            die "redis-benchmark against $name failed"
        stop "$name"
    done
    report bytes "$(dir_bytes "$tmp/bytes/weft")" "$(dir_bytes "$tmp/bytes/redis")" bytes %d
    rm -rf "$tmp/bytes"
}

# restart NAME DIRECTIVES...: sets seconds, from process start to PONG; checks DBSIZE, then stops it again.
restart() {
    local name="$1" t0
    shift
    t0=$(date +%s.%N)
    start "$name" "$tmp/restore/$name" everysec "$@"
    wait_pong "$name"
    seconds=$(minus "$(date +%s.%N)" "$t0")
    expect_dbsize "$name" "$keys"
    stop "$name"
}

# log_restore: KEYS SETs of 100 random hex bytes piped into each, graceful stops, then the best of ROUNDS restarts
# (alternating). No rewrites, and Redis replays a plain AOF (no RDB preamble).
log_restore() {
    local name summary best_w=0 best_r=0
    local -A args=([weft]="--auto-aof-rewrite-percentage 0"
        [redis]="--aof-use-rdb-preamble no --auto-aof-rewrite-percentage 0")
    python3 - "$keys" >"$tmp/keys.resp" <<'EOF'
import os, sys
n = int(sys.argv[1])
for start in range(0, n, 10000):
    chunk = []
    for i in range(start, min(start + 10000, n)):
        key, value = b"key:%d" % i, os.urandom(50).hex().encode()
        chunk.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$100\r\n%s\r\n" % (len(key), key, value))
    sys.stdout.buffer.write(b"".join(chunk))
EOF
    for name in weft redis; do
        # shellcheck disable=SC2086 # the directives split into words on purpose
        start "$name" "$tmp/restore/$name" everysec ${args[$name]}
        wait_pong "$name"
        summary=$(redis-cli -p "${port[$name]}" --pipe <"$tmp/keys.resp" 2>&1 | tail -n 1)
        [ "$summary" = "errors: 0, replies: $keys" ] || die "redis-cli --pipe into $name: $summary"
        expect_dbsize "$name" "$keys"
        stop "$name"
    done
    rm -f "$tmp/keys.resp"
    for _ in $(seq "$rounds"); do
        # shellcheck disable=SC2086
        restart weft ${args[weft]}
        best_w=$(min "$best_w" "$seconds")
        # shellcheck disable=SC2086
        restart redis ${args[redis]}
        best_r=$(min "$best_r" "$seconds")
    done
    report restore "$best_w" "$best_r" s %.3f
    rm -rf "$tmp/restore"
}

log_fsync
log_bytes
log_restore
