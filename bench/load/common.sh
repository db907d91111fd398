# What the load suites share (sourced by log.sh and tx.sh after they declare the `port` and `pid` arrays, keyed
# weft and redis): a temporary directory for data and both servers' output ($tmp), removed with both servers on
# exit; `die MESSAGE`, which shows the end of every server's output; and a check that nothing else answers on
# the suite's ports (it would take our load and answer our PINGs).

tmp=$(mktemp -d)
trap 'kill ${pid[weft]} ${pid[redis]} 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"' EXIT

die() {
    echo "$(basename "$0"): $*" >&2
    for out in "$tmp"/*.out; do
        [ -f "$out" ] && echo "--- end of $out" >&2 && tail -n 20 "$out" >&2
    done
    exit 1
}

for name in weft redis; do
    ! redis-cli -p "${port[$name]}" ping >/dev/null 2>&1 || die "port ${port[$name]} is already in use"
done
