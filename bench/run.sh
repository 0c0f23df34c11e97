#!/bin/sh
# make bench: smsgwd against smsc-sim --load on loopback, then the same load
# against Kannel (bearerbox + smsbox). Prints one line per figure and writes
# them to build/bench/results.txt. Every run is bounded in time and count;
# only the PIDs started here are killed.
#
#   BENCH_CASES=1000000  cases in the database
#   BENCH_N=200000       texts in the throughput run (W = 64)
#   BENCH_STEADY=30000   texts in the steady 1,000/s run
#   BENCH_NOTIFY=100000  notifications queued in the drain run
#   BENCH_DRAIN_TPS=1000 max_tps in the drain run (100 texts/s ride along
#                        for BENCH_DRAIN_S=65 s)
#   BENCH_RATE=1         0 skips the adaptive-rate runs (bench/rate.sh)
#   BENCH_CMPP=1         0 skips the CMPP link runs (bench/cmpp.sh)
#   BENCH_KANNEL=1       0 skips the Kannel comparison
#   BENCH_QUIET=0        before each run, wait up to this many seconds for
#                        a 1-minute load average below 0.7
#   BENCH_PORT=27750     smsc-sim's port (Kannel's bearerbox uses +1, +2)
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$ROOT/build/bench
R=$B/run
CASES=${BENCH_CASES:-1000000}
N=${BENCH_N:-200000}
STEADY=${BENCH_STEADY:-30000}
NOTIFY=${BENCH_NOTIFY:-100000}
DRAIN_TPS=${BENCH_DRAIN_TPS:-1000}
DRAIN_S=${BENCH_DRAIN_S:-65}
KANNEL=${BENCH_KANNEL:-1}
RATE=${BENCH_RATE:-1}
PORT=${BENCH_PORT:-27750}
OUT=$B/results.txt
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
mkdir -p "$R"
: > "$OUT"
say "# smsgwd bench $(date -u +%Y-%m-%dT%H:%MZ) nproc=$(nproc)" \
    "cpu=\"$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)\"" \
    "loadavg=\"$(cut -d' ' -f1-3 /proc/loadavg)\""

if [ ! -s "$R/cases-$CASES.csv" ]; then
	python3 bench/gen-cases.py "$CASES" "$R/cases-$CASES.csv" \
	    "$R/load-cases-$CASES.csv"
fi
cp conf/patterns.conf conf/templates.conf "$R/"
cat > "$R/smsgwd.conf" <<EOF
[smpp]
host = 127.0.0.1
port = $PORT
system_id = smsgwd
password = secret
bind = transceiver
source_addr = 10659000
window = 64
max_tps = 0
[store]
path = smsgwd.db
[http]
listen =
EOF

# Import into a fresh database; every run then starts from a copy of it,
# so rate limits and the message log do not carry over between runs.
rm -f "$R"/smsgwd.db* "$R"/pristine.db*
t0=$(now)
"$B/smsgwctl" -c "$R/smsgwd.conf" import-cases "$R/cases-$CASES.csv" \
    > "$R/import.out" 2>&1
say "import_cases rows=$CASES seconds=$(since "$t0") (target <= 10)"
mv "$R/smsgwd.db" "$R/pristine.db"

# 1. Throughput: as fast as a window of 64 allows.
smsgwd_run w64 120 --load "$N" --load-window 64
f=$R/w64.sim
say "smsgwd replies_per_s=$(json_field "$f" replies_per_s) (target >= 40000)" \
    "missing=$(json_field "$f" missing) duplicates=$(json_field "$f" duplicates)" \
    "p50_ms=$(json_field "$f" p50_ms) p99_ms=$(json_field "$f" p99_ms)" \
    "loadavg=\"$LOADAVG\""
say "smsgwd cpu_s_per_1000=$CPU1K peak_rss_kb=$HWM (target <= 32768)" \
    "startup_s=$STARTUP cases=$CASES (target <= 0.200; exec to bind_transceiver)" \
    "smsc_sim_cpu_s_per_1000=$SIMCPU1K"
GW_RPS=$(json_field "$f" replies_per_s)
GW_CPU=$CPU1K
GW_P50=$(json_field "$f" p50_ms)

# 2. Latency at a steady 1,000 texts/s.
smsgwd_run steady $((STEADY / 1000 + 60)) --load "$STEADY" --load-window 64 \
    --load-rate 1000
f=$R/steady.sim
say "smsgwd steady_1000_per_s p50_ms=$(json_field "$f" p50_ms)" \
    "p90_ms=$(json_field "$f" p90_ms) p99_ms=$(json_field "$f" p99_ms)" \
    "max_ms=$(json_field "$f" max_ms) (target p99 <= 5)" \
    "missing=$(json_field "$f" missing) cpu_s_per_1000=$CPU1K" \
    "loadavg=\"$LOADAVG\""
GW_SP50=$(json_field "$f" p50_ms)
GW_SP99=$(json_field "$f" p99_ms)

# 3. A bulk of notifications draining at max_tps while citizens text in:
# NOTIFY new cases (phones 131..., none of them a load sender) imported
# with --notify into the run's database, then 100 texts/s for DRAIN_S s.
if [ ! -s "$R/notify-$NOTIFY.csv" ]; then
	python3 bench/gen-cases.py --new "$NOTIFY" "$R/notify-$NOTIFY.csv"
fi
sed "s/^max_tps = 0/max_tps = $DRAIN_TPS/" "$R/smsgwd.conf" > "$R/drain.conf"
queue_notifications() {
	"$B/smsgwctl" -c "$R/drain.conf" import-cases --notify \
	    "$R/notify-$NOTIFY.csv" > "$R/notify-import.out" 2>&1
}
PREP=queue_notifications CONF=drain.conf smsgwd_run drain $((DRAIN_S + 60)) \
    --load $((DRAIN_S * 100)) --load-window 64 --load-rate 100
f=$R/drain.sim
QUEUED=$(sed -n 's/.*; \([0-9]*\) notifications\{0,1\} queued.*/\1/p' "$R/notify-import.out" | tail -1)
say "smsgwd drain queued=$QUEUED max_tps=$DRAIN_TPS" \
    "window_s=$(json_field "$f" rate_window_s)" \
    "submits_per_s=$(json_field "$f" submits_per_s)" \
    "(min $(json_field "$f" submits_per_s_min) max $(json_field "$f" submits_per_s_max);" \
    "target $DRAIN_TPS +-2%)" \
    "notifications_per_s=$(json_field "$f" other_submits_per_s)" \
    "reply_p50_ms=$(json_field "$f" p50_ms) reply_p99_ms=$(json_field "$f" p99_ms)" \
    "(target <= 50) missing=$(json_field "$f" missing)" \
    "peak_rss_kb=$HWM (target <= 32768, 1M cases + $NOTIFY notifications)" \
    "loadavg=\"$LOADAVG\""

# 4. The adaptive send rate against an SMSC that caps or refuses submits.
if [ "$RATE" != 0 ]; then
	BENCH_OUT=$OUT sh bench/rate.sh
fi

# 5. CMPP links: the same driver speaking CMPP 3.0, W = 16 and 64.
if [ "${BENCH_CMPP:-1}" != 0 ]; then
	BENCH_OUT=$OUT sh bench/cmpp.sh
fi

[ "$KANNEL" = 1 ] || exit 0
sh bench/kannel.sh "$B" "$R" "$PORT" "$CASES" "$N" "$STEADY" \
    "$GW_RPS" "$GW_CPU" "$GW_P50" "$GW_SP50" "$GW_SP99" | tee -a "$OUT"
