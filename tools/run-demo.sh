#!/bin/sh
# make run: smsc-sim in the foreground (you type "<phone> <text>" as a
# citizen and read the replies), smsgwd in the background logging to a file.
# Ctrl-C stops both.
set -eu
build=${1:-build}
dir=$build/demo
mkdir -p "$dir"
port=${SMSGWD_DEMO_PORT:-2775}

sed -e "s/^port = .*/port = $port/" conf/smsgwd.conf > "$dir/smsgwd.conf"
"$build/smsgwd" -c "$dir/smsgwd.conf" --check-config >/dev/null

cat <<MSG
smsc-sim is the carrier on 127.0.0.1:$port; smsgwd logs to $dir/smsgwd.log.
Type a citizen's text as "<phone> <text>", for example:

    13800138000 CX 11010519491231002X
    13800138000 查询进度

Each line smsc-sim prints is one JSON event; "message" lines are replies.
Ctrl-C stops everything.

MSG

"$build/smsgwd" -c "$dir/smsgwd.conf" 2>"$dir/smsgwd.log" &
gw=$!
trap 'kill -TERM $gw 2>/dev/null; wait $gw 2>/dev/null; exit 0' INT TERM EXIT
"$build/smsc-sim" --listen "127.0.0.1:$port" || true
