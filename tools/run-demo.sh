#!/bin/sh
# make run: smsc-sim in the foreground (you type "<phone> <text>" as a
# citizen and read the replies), smsgwd in the background logging to a file,
# a demo database with synthetic cases. Ctrl-C stops both.
set -eu
build=${1:-build}
dir=$build/demo
src=$(pwd)
mkdir -p "$dir"
port=${SMSGWD_DEMO_PORT:-2775}
http=${SMSGWD_DEMO_HTTP:-8080}

sed -e "s/^port = .*/port = $port/" conf/smsgwd.conf > "$dir/smsgwd.conf"
cat >> "$dir/smsgwd.conf" <<CONF

[store]
path = smsgwd.db
[parsers]
patterns = $src/conf/patterns.conf
[templates]
path = $src/conf/templates.conf
[http]
listen = 127.0.0.1:$http
token_file = api.token
CONF
[ -s "$dir/api.token" ] || { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; echo; } > "$dir/api.token"
chmod 600 "$dir/api.token"
"$build/smsgwd" -c "$dir/smsgwd.conf" --check-config >/dev/null
"$build/smsgwctl" -c "$dir/smsgwd.conf" import-cases conf/demo-cases.csv >/dev/null

cat <<MSG
smsc-sim is the carrier on 127.0.0.1:$port; smsgwd logs to $dir/smsgwd.log.
Type a citizen's text as "<phone> <text>", for example:

    13800138000 CX 11010519491231002X
    13900139000 查询 JX2026000124
    13800138000 帮助

In another terminal, mail case JX2026000125 and watch its notice arrive:

    $build/smsgwctl -c $dir/smsgwd.conf case set-status JX2026000125 mailed \\
        --courier EMS --tracking EA000000001CN

Each line smsc-sim prints is one JSON event; "message" lines are what smsgwd
sent. Ctrl-C stops everything.

MSG

"$build/smsgwd" -c "$dir/smsgwd.conf" 2>"$dir/smsgwd.log" &
gw=$!
trap 'kill -TERM $gw 2>/dev/null; wait $gw 2>/dev/null; exit 0' INT TERM EXIT
"$build/smsc-sim" --listen "127.0.0.1:$port" --dlr || true
