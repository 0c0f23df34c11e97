#!/bin/sh
# make bench, part 4: the adaptive send rate (issue 12). smsgwd with
# max_tps = 0 and window = 64 against smsc-sim --load at W = 64 whose
# carrier caps or refuses submits; the rate smsgwd learns, and whether
# anything was lost or sent twice. Called by bench/run.sh (BENCH_RATE=0
# skips it); alone, `sh bench/rate.sh` reuses the database and cases of
# an earlier `make bench` in build/bench/run.
#
#   BENCH_RATE_N300=12000    texts against --max-tps 300 (~40 s)
#   BENCH_RATE_N1000=40000   texts against --max-tps 1000 (~40 s)
#   BENCH_RATE_NNOISE=1000000 texts against --throttle 0.2 --msgqfull 0.1
#                            (no cap: 30% of submits refused at random;
#                            ~30 s, the queued replies take ~270 MiB)
#   BENCH_RATE_NCAP=12000    texts against all three at once (cap 300)
#   BENCH_RATE_BACKLOG=1000000  [outbox] reply_backlog of these runs; empty:
#                            smsgwd's default (2,048), beyond which texts
#                            are refused for later, and smsc-sim's load mode
#                            sends a refused text again at once (~10^5
#                            refusals a second on both CPUs)
#   BENCH_CASES, BENCH_PORT, BENCH_QUIET as in bench/run.sh
#
# Per run, besides smsc-sim's summary: the steady rate, from smsgwd's own
# record of accepted parts (outbox_parts.at, whole seconds): the mean,
# lowest and highest second from the 6th second of sending to the last but
# one; the rate smsgwd learned (smsgwctl links); its cuts of the rate.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$ROOT/build/bench
R=$B/run
CASES=${BENCH_CASES:-1000000}
PORT=${BENCH_PORT:-27750}
OUT=${BENCH_OUT:-$B/rate-results.txt}
PIDS=""

cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap "exit 1" INT TERM

say() { echo "$*" | tee -a "$OUT"; }
. "$ROOT/bench/lib.sh"

cd "$ROOT"
make --no-print-directory BUILD="$B" OPT=-O2 all >/dev/null
if [ ! -s "$R/pristine.db" ] || [ ! -s "$R/smsgwd.conf" ]; then
	echo "rate: no $R/pristine.db; run make bench first"
	exit 1
fi
[ -n "${BENCH_OUT:-}" ] || : > "$OUT"
BACKLOG=${BENCH_RATE_BACKLOG-1000000}
cp "$R/smsgwd.conf" "$R/rate.conf"
[ -z "$BACKLOG" ] || printf '[outbox]\nreply_backlog = %s\n' "$BACKLOG" \
    >> "$R/rate.conf"

# steady DB: "parts_per_s=M (min A max B) replies_per_s=R steady_s=S
# first_s=F" over the seconds from the first accepted part + 5 to the
# last but one; first_s: the parts accepted in the first 5 seconds.
steady() {
	sqlite3 "$1" "
WITH b AS (SELECT min(at) + 5 AS lo, max(at) AS hi FROM outbox_parts),
s AS (SELECT at, count(*) AS n, sum(part = 1) AS r FROM outbox_parts, b
      WHERE at >= lo AND at < hi GROUP BY at)
SELECT printf('parts_per_s=%.1f (min %d max %d) replies_per_s=%.1f steady_s=%d',
    coalesce(sum(n), 0) * 1.0 / max(hi - lo, 1),
    CASE WHEN count(*) < hi - lo THEN 0 ELSE coalesce(min(n), 0) END,
    coalesce(max(n), 0), coalesce(sum(r), 0) * 1.0 / max(hi - lo, 1),
    max(hi - lo, 0))
FROM b LEFT JOIN s;
SELECT printf('first_5s_parts=%d', count(*)) FROM outbox_parts
WHERE at < (SELECT min(at) + 5 FROM outbox_parts);"
}

# learned_rate: the rate in force when smsgwd stopped (0 = no limit).
learned_rate() {
	"$B/smsgwctl" -c "$R/rate.conf" links --json 2>/dev/null |
	    sed -n 's/.*"rate": *\([0-9]*\).*/\1/p' | head -1
}

# rate_run LABEL N TARGET SIM-ARGS...: one run and its line of figures.
rate_run() {
	label=$1 n=$2 target=$3
	shift 3
	CONF=rate.conf smsgwd_run "$label" $((n / 100 + 120)) \
	    --load "$n" --load-window 64 "$@"
	f=$R/$label.sim
	say "rate $label smsc=\"$*\" texts=$n" \
	    "replies_per_s=$(json_field "$f" replies_per_s) ($target)" \
	    "elapsed_s=$(json_field "$f" elapsed_s)" \
	    "missing=$(json_field "$f" missing)" \
	    "duplicates=$(json_field "$f" duplicates)" \
	    "resp_errors=$(json_field "$f" resp_errors)" \
	    "end=\"$(json_field "$f" end)\""
	say "rate $label accepted submits_per_s=$(json_field "$f" submits_per_s)" \
	    "(min $(json_field "$f" submits_per_s_min)" \
	    "max $(json_field "$f" submits_per_s_max); smsc-sim, from the 2nd s)" \
	    "steady: $(steady "$R/smsgwd.db" | tr '\n' ' ')" \
	    "learned_rate=$(learned_rate) cuts=$(grep -c 'throttled status=' \
	    "$R/$label.gw.err" || true)" \
	    "p50_ms=$(json_field "$f" p50_ms) p99_ms=$(json_field "$f" p99_ms)" \
	    "cpu_s_per_1000=$CPU1K peak_rss_kb=$HWM loadavg=\"$LOADAVG\""
}

say "# smsgwd rate bench $(date -u +%Y-%m-%dT%H:%MZ) nproc=$(nproc)" \
    "commit=${BENCH_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null ||
    echo unknown)} reply_backlog=${BACKLOG:-default}"
rate_run cap300 "${BENCH_RATE_N300:-12000}" "target >= 270" --max-tps 300
rate_run cap1000 "${BENCH_RATE_N1000:-40000}" "target >= 900" --max-tps 1000
rate_run noise "${BENCH_RATE_NNOISE:-1000000}" "target >= 280" \
    --throttle 0.2 --msgqfull 0.1
rate_run capnoise "${BENCH_RATE_NCAP:-12000}" "no target; cap 300" \
    --max-tps 300 --throttle 0.2 --msgqfull 0.1
