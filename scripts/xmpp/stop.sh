#!/usr/bin/env bash
# Stop a server started by scripts/xmpp/start.sh: scripts/xmpp/stop.sh STATE_DIR|prosody|ejabberd
# Kills the PID in STATE_DIR/pid (TERM, then KILL after 10 s) and its process group's children
# that start.sh started; never by name.
set -euo pipefail
arg="${1:-}"
case "$arg" in
  prosody|ejabberd) dir="${TMPDIR:-/tmp}/chatstorm-xmpp-$arg" ;;
  "") echo "usage: $0 STATE_DIR|prosody|ejabberd" >&2; exit 2 ;;
  *) dir="$arg" ;;
esac
[ -f "$dir/pid" ] || { echo "chatstorm: no pid file in $dir" >&2; exit 0; }
pid="$(cat "$dir/pid")"
# Its children too (ejabberd's BEAM runs under ejabberdctl and su; no epmd, see ejabberd-env.sh).
descendants() { local c; for c in $(pgrep -P "$1" 2>/dev/null || true); do echo "$c"; descendants "$c"; done; }
kids="$(descendants "$pid" | tr '\n' ' ')"
# start.sh starts ejabberd under setsid (its own process group, PGID = PID): signal the group.
kill -TERM -- "-$pid" 2>/dev/null || true
kill -TERM "$pid" $kids 2>/dev/null || true
for _ in $(seq 1 100); do
  alive=""
  for p in $pid $kids; do kill -0 "$p" 2>/dev/null && alive=1; done
  [ -z "$alive" ] && break
  sleep 0.1
done
kill -KILL -- "-$pid" 2>/dev/null || true
for p in $pid $kids; do kill -KILL "$p" 2>/dev/null || true; done
rm -f "$dir/pid"
