# Helpers shared by bench/run.sh and bench/kannel.sh (POSIX sh, sourced).
# The callers keep the PIDs they start in $PIDS and kill only those.

now() { date +%s.%N; }
since() { echo "$(now) $1" | awk '{ printf "%.3f", $1 - $2 }'; }

# wait_for FILE PATTERN SECONDS: 0 once a line matches, 1 at the deadline.
wait_for() {
	i=0
	while [ "$i" -lt $(($3 * 50)) ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.02
		i=$((i + 1))
	done
	return 1
}

# CPU clock ticks (user + system) of a process so far; its peak RSS in kB.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hwm_kb() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status"; }

# per_1000 TICKS0 TICKS1 TEXTS: CPU seconds per 1,000 texts, 4 decimals.
per_1000() {
	echo "$1 $2 $(getconf CLK_TCK) $3" |
	    awk '{ printf "%.4f", ($2 - $1) / $3 / $4 * 1000 }'
}

# json_field FILE NAME: NAME's value in the last JSON line that has it.
json_field() { sed -n "s/.*\"$2\":\"\{0,1\}\([^\",}]*\).*/\1/p" "$1" | tail -1; }

# start_load_sim LABEL ARGS...: smsc-sim --load in the background, output to
# $R/LABEL.sim; sets SIM and adds it to PIDS. Uses B, R, PORT and CASES.
start_load_sim() {
	label=$1
	shift
	: > "$R/$label.sim"
	"$B/smsc-sim" --json --listen "127.0.0.1:$PORT" --no-stdin \
	    --load-cases "$R/load-cases-$CASES.csv" "$@" \
	    > "$R/$label.sim" 2> "$R/$label.sim.err" &
	SIM=$!
	PIDS="$PIDS $SIM"
	wait_for "$R/$label.sim" '"listening"' 5 ||
	    { echo "smsc-sim did not start"; exit 1; }
}

# stop PID: SIGTERM, then SIGKILL after 5 s.
stop() {
	kill "$1" 2>/dev/null || return 0
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 250 ]; do sleep 0.02; i=$((i + 1)); done
	kill -9 "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# wait_quiet: with BENCH_QUIET=S, wait up to S seconds until the 1-minute
# load average is below 0.7 (other work on the machine), polling every 5 s.
# Sets LOADAVG to the three load averages when the run starts.
wait_quiet() {
	i=0
	while [ "$i" -lt "${BENCH_QUIET:-0}" ] &&
	    ! awk '{ exit !($1 < 0.7) }' /proc/loadavg; do
		sleep 5
		i=$((i + 5))
	done
	LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
}

# smsgwd_run LABEL SECONDS SIM-ARGS...: one load run against smsgwd, on a
# copy of $R/pristine.db with $R/$CONF (smsgwd.conf); $PREP, if set, runs
# first. Sets GW, SIM, STARTUP, CPU1K, SIMCPU1K, HWM, LOADAVG; leaves the run's
# database in $R/smsgwd.db and smsgwd's log in $R/LABEL.gw.err.
smsgwd_run() {
	label=$1 secs=$2
	shift 2
	wait_quiet
	cp "$R/pristine.db" "$R/smsgwd.db"
	rm -f "$R/smsgwd.db-wal" "$R/smsgwd.db-shm"
	[ -z "${PREP:-}" ] || $PREP
	start_load_sim "$label" "$@"
	t0=$(now)
	"$B/smsgwd" -c "$R/${CONF:-smsgwd.conf}" 2> "$R/$label.gw.err" &
	GW=$!
	PIDS="$PIDS $GW"
	wait_for "$R/$label.sim" '"bind"' 10 || { echo "smsgwd did not bind"; exit 1; }
	STARTUP=$(since "$t0")
	c0=$(cpu_ticks "$GW") d0=$(cpu_ticks "$SIM")
	if ! wait_for "$R/$label.sim" '"event":"load"' "$secs"; then
		echo "$label: no result within $secs s"
	fi
	c1=$(cpu_ticks "$GW") d1=$(cpu_ticks "$SIM" 2>/dev/null || echo "$d0")
	HWM=$(hwm_kb "$GW")
	stop "$GW"
	stop "$SIM"
	f=$R/$label.sim
	n=$(json_field "$f" texts)
	CPU1K=$(per_1000 "$c0" "$c1" "$n")
	SIMCPU1K=$(per_1000 "$d0" "$d1" "$n")
	grep '"event":"load"' "$f" | tee -a "$OUT"
}
