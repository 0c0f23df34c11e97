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

Twenty seconds in, the demo mails case JX2026000125 (as the agency's case
system would) and its proactive notice arrives for 13700137000. Do it again
yourself from another terminal, with other cases or statuses:

    $build/smsgwctl -c $dir/smsgwd.conf case set-status JX2026000124 collected
    $build/smsgwctl -c $dir/smsgwd.conf case show JX2026000125

smsc-sim shows what a phone would: "→" a citizen's text, "←" a message
smsgwd sent, with its part count and the delivery receipt's outcome
("[notice]" when the phone had no text waiting for an answer), and "--"
the SMPP link. Ctrl-C stops everything.

MSG

"$build/smsgwd" -c "$dir/smsgwd.conf" 2>"$dir/smsgwd.log" &
gw=$!
# The case system marks a case mailed a little later: one notification.
( sleep 20 && "$build/smsgwctl" -c "$dir/smsgwd.conf" case set-status \
    JX2026000125 mailed --courier EMS --tracking EA000000001CN \
    >>"$dir/smsgwctl.log" 2>&1 ) &
demo=$!
# A closed terminal (HUP) must stop the demo too: smsgwd would take a
# HUP as "reload" and keep running.
trap 'kill -TERM $gw $demo 2>/dev/null; wait $gw 2>/dev/null; exit 0' INT TERM HUP EXIT
"$build/smsc-sim" --listen "127.0.0.1:$port" --dlr || true
