#!/bin/sh
# make bench, part 5: CMPP links (issue 14). The same driver as the SMPP
# runs, smsc-sim --load, speaking CMPP 3.0 as a China Mobile ISMG; smsgwd
# with one [smsc mobile] link, protocol = cmpp30, max_tps = 0, 1M cases;
# replies/s, latency and CPU per text at window 16 (the spec's default)
# and 64 (the SMPP runs' window), the driver's --load-window the same. The
# SMPP link runs at the same windows alongside (same binaries, same hour),
# so the two protocols are compared on equal terms. Called by bench/run.sh
# after the rate runs (BENCH_CMPP=0 skips it); alone, `sh bench/cmpp.sh`
# reuses the database of an earlier `make bench` in build/bench/run, or
# makes one.
#
#   BENCH_CMPP_N=200000         texts per run
#   BENCH_CMPP_WINDOWS="16 64"  the windows, one pair of runs each
#   BENCH_CMPP_SMPP=1           0 skips the SMPP runs alongside
#   BENCH_BUILD=build/bench     where the binaries and run/ live
#   BENCH_CASES, BENCH_PORT, BENCH_QUIET as in bench/run.sh
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${BENCH_BUILD:-$ROOT/build/bench}
case $B in /*) ;; *) B=$ROOT/$B ;; esac
R=$B/run
CASES=${BENCH_CASES:-1000000}
PORT=${BENCH_PORT:-27750}
N=${BENCH_CMPP_N:-200000}
WINDOWS=${BENCH_CMPP_WINDOWS:-16 64}
SMPP=${BENCH_CMPP_SMPP:-1}
OUT=${BENCH_OUT:-$B/cmpp-results.txt}
SP=901234
SECRET=bench-Secret1
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
if [ -z "${BENCH_OUT:-}" ]; then
	: > "$OUT"
	say "# smsgwd CMPP bench $(date -u +%Y-%m-%dT%H:%MZ) nproc=$(nproc)" \
	    "cpu=\"$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)\"" \
	    "commit=$(git rev-parse --short HEAD 2>/dev/null || echo -)"
fi

# Alone without an earlier make bench: the cases and database run.sh makes.
if [ ! -s "$R/pristine.db" ] || [ ! -s "$R/load-cases-$CASES.csv" ]; then
	[ -s "$R/cases-$CASES.csv" ] && [ -s "$R/load-cases-$CASES.csv" ] ||
	    python3 bench/gen-cases.py "$CASES" "$R/cases-$CASES.csv" \
	        "$R/load-cases-$CASES.csv"
	cp conf/patterns.conf conf/templates.conf "$R/"
	printf '[smpp]\nhost = 127.0.0.1\nsystem_id = smsgwd\nsource_addr = 10659000\n[store]\npath = %s\n[http]\nlisten =\n' \
	    import.db > "$R/import.conf"
	rm -f "$R"/import.db*
	t0=$(now)
	"$B/smsgwctl" -c "$R/import.conf" import-cases "$R/cases-$CASES.csv" \
	    > "$R/import.out" 2>&1 || { cat "$R/import.out"; exit 1; }
	say "cmpp: import_cases rows=$CASES seconds=$(since "$t0")"
	mv "$R/import.db" "$R/pristine.db"
fi
cp conf/patterns.conf conf/templates.conf "$R/"

# conf_cmpp W, conf_smpp W: a config with one link at window W.
conf_cmpp() {
	cat > "$R/cmpp-$1.conf" <<EOF
[smsc mobile]
protocol = cmpp30
host = 127.0.0.1
port = $PORT
system_id = $SP
password = $SECRET
source_addr = 10659000
window = $1
max_tps = 0
[store]
path = smsgwd.db
[http]
listen =
EOF
}
conf_smpp() {
	cat > "$R/smpp-$1.conf" <<EOF
[smpp]
host = 127.0.0.1
port = $PORT
system_id = smsgwd
password = secret
bind = transceiver
source_addr = 10659000
window = $1
max_tps = 0
[store]
path = smsgwd.db
[http]
listen =
EOF
}

# report LABEL: one figure line from the run just made.
report() {
	f=$R/$1.sim
	say "$1 texts=$(json_field "$f" texts) end=\"$(json_field "$f" end)\"" \
	    "replies_per_s=$(json_field "$f" replies_per_s)" \
	    "missing=$(json_field "$f" missing) duplicates=$(json_field "$f" duplicates)" \
	    "p50_ms=$(json_field "$f" p50_ms) p99_ms=$(json_field "$f" p99_ms)" \
	    "cpu_s_per_1000=$CPU1K peak_rss_kb=$HWM startup_s=$STARTUP" \
	    "smsc_sim_cpu_s_per_1000=$SIMCPU1K loadavg=\"$LOADAVG\""
}

for W in $WINDOWS; do
	conf_cmpp "$W"
	CONF=cmpp-$W.conf smsgwd_run "cmpp30-w$W" 300 --protocol cmpp30 \
	    --system-id "$SP" --password "$SECRET" --load "$N" --load-window "$W"
	report "cmpp30-w$W"
	[ "$SMPP" != 0 ] || continue
	conf_smpp "$W"
	CONF=smpp-$W.conf smsgwd_run "smpp-w$W" 300 --load "$N" --load-window "$W"
	report "smpp-w$W"
done
