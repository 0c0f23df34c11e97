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
