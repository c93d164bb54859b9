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
# Children first (ejabberd's BEAM runs under a shell wrapper; epmd is started by it, see ejabberd-env.sh).
kids="$(pgrep -P "$pid" 2>/dev/null || true)"
kill -TERM "$pid" $kids 2>/dev/null || true
for _ in $(seq 1 100); do
  alive=""
  for p in $pid $kids; do kill -0 "$p" 2>/dev/null && alive=1; done
  [ -z "$alive" ] && break
  sleep 0.1
done
for p in $pid $kids; do kill -KILL "$p" 2>/dev/null || true; done
if [ -f "$dir/epmd.pid" ]; then kill -TERM "$(cat "$dir/epmd.pid")" 2>/dev/null || true; fi
rm -f "$dir/pid"
