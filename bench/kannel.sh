#!/bin/sh
# The same loads as bench/run.sh against Kannel (Debian package kannel):
# bearerbox with an SMPP transceiver towards smsc-sim (max-pending-submits
# 64, logging quiet) and smsbox with a fixed-text default sms-service.
# Called by bench/run.sh with its directories and smsgwd's figures; prints
# Kannel's figures and the ratios. Kills only the PIDs it started.
set -eu

B=$1 R=$2 PORT=$3 CASES=$4 N=$5 STEADY=$6
GW_RPS=$7 GW_CPU=$8 GW_P50=$9
shift 9
GW_SP50=$1 GW_SP99=$2
K=$R/kannel
PIDS=""

cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap "exit 1" INT TERM

if ! command -v bearerbox >/dev/null || ! command -v smsbox >/dev/null; then
	if [ "$(id -u)" = 0 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y \
		    --no-install-recommends kannel >/dev/null ||
		{ apt-get update >/dev/null &&
		  DEBIAN_FRONTEND=noninteractive apt-get install -y \
		    --no-install-recommends kannel >/dev/null; }
	fi
	command -v bearerbox >/dev/null ||
	    { echo "kannel: not installed (needs root and apt-get)"; exit 0; }
fi
BEARERBOX=$(command -v bearerbox)
SMSBOX=$(command -v smsbox)

mkdir -p "$K"
cat > "$K/kannel.conf" <<EOF
group = core
admin-port = $((PORT + 1))
admin-password = bench
smsbox-port = $((PORT + 2))
box-allow-ip = 127.0.0.1
log-file = "$K/bearerbox.log"
log-level = 4

group = smsc
smsc = smpp
smsc-id = sim
host = 127.0.0.1
port = $PORT
receive-port = 0
transceiver-mode = true
smsc-username = smsgwd
smsc-password = secret
system-type = ""
max-pending-submits = 64
log-level = 4

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = $((PORT + 2))
log-file = "$K/smsbox.log"
log-level = 4

group = sms-service
keyword = default
text = "Your application is being processed. Reply BZ for help."
EOF

. "$(dirname "$0")/lib.sh"

# kannel_run LABEL SECONDS SIM-ARGS...
kannel_run() {
	label=$1 secs=$2
	shift 2
	start_load_sim "$label" "$@"
	"$BEARERBOX" -v 4 "$K/kannel.conf" > "$K/$label.bb.out" 2>&1 &
	BB=$!
	PIDS="$PIDS $BB"
	sleep 0.5
	"$SMSBOX" -v 4 "$K/kannel.conf" > "$K/$label.sb.out" 2>&1 &
	SB=$!
	PIDS="$PIDS $SB"
	if ! wait_for "$R/$label.sim" '"bind"' 20; then
		echo "kannel: bearerbox did not bind (see $K/$label.bb.out)"
		stop "$SB"; stop "$BB"; stop "$SIM"
		return 1
	fi
	b0=$(cpu_ticks "$BB") s0=$(cpu_ticks "$SB")
	wait_for "$R/$label.sim" '"event":"load"' "$secs" ||
	    echo "kannel $label: no result within $secs s"
	b1=$(cpu_ticks "$BB") s1=$(cpu_ticks "$SB")
	stop "$SB"; stop "$BB"; stop "$SIM"
	n=$(json_field "$R/$label.sim" texts)
	KCPU=$(per_1000 "$b0" "$((b1 + s1 - s0))" "$n")
	grep '"event":"load"' "$R/$label.sim" || true
}

ratio() { echo "$1 $2" | awk '{ if ($2 > 0) printf "%.1f", $1 / $2; else print "n/a" }'; }

kannel_run kannel-w64 300 --load "$N" --load-window 64 || exit 0
f=$R/kannel-w64.sim
K_RPS=$(json_field "$f" replies_per_s) K_P50=$(json_field "$f" p50_ms)
K_CPU=$KCPU
echo "kannel replies_per_s=$K_RPS missing=$(json_field "$f" missing)" \
    "duplicates=$(json_field "$f" duplicates) p50_ms=$K_P50" \
    "p99_ms=$(json_field "$f" p99_ms) cpu_s_per_1000=$K_CPU (bearerbox+smsbox)"

kannel_run kannel-steady $((STEADY / 1000 + 60)) --load "$STEADY" \
    --load-window 64 --load-rate 1000 || exit 0
f=$R/kannel-steady.sim
echo "kannel steady_1000_per_s p50_ms=$(json_field "$f" p50_ms)" \
    "p90_ms=$(json_field "$f" p90_ms) p99_ms=$(json_field "$f" p99_ms)" \
    "max_ms=$(json_field "$f" max_ms) missing=$(json_field "$f" missing)" \
    "cpu_s_per_1000=$KCPU"
echo "ratio replies_per_s smsgwd/kannel=$(ratio "$GW_RPS" "$K_RPS") (target >= 5)"
echo "ratio cpu_per_text kannel/smsgwd=$(ratio "$K_CPU" "$GW_CPU") (target >= 10)"
echo "ratio p50_at_W64 kannel/smsgwd=$(ratio "$K_P50" "$GW_P50") (target >= 10)"
echo "ratio p50_at_1000_per_s kannel/smsgwd=$(ratio "$(json_field "$f" p50_ms)" "$GW_SP50")"
echo "ratio p99_at_1000_per_s kannel/smsgwd=$(ratio "$(json_field "$f" p99_ms)" "$GW_SP99")"
