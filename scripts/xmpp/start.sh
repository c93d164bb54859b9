#!/usr/bin/env bash
# Start a real XMPP server for chatstorm: scripts/xmpp/start.sh prosody|ejabberd [STATE_DIR]
#
# Installs the Debian package when missing (without letting it start its default instance),
# writes a project config into STATE_DIR (default: $TMPDIR/chatstorm-xmpp-<server>), starts the
# server in the background on a free 127.0.0.1 port, waits until its WebSocket endpoint answers,
# and prints one line: the WebSocket URL. XMPP_RESUME_SECONDS (default 300) sets how long a
# dropped session stays resumable. STATE_DIR/pid holds the PID that stop.sh kills,
# STATE_DIR/url the URL. No systemd, no service scripts: stop with scripts/xmpp/stop.sh STATE_DIR.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
server="${1:-}"
case "$server" in
  prosody|ejabberd) ;;
  *) echo "usage: $0 prosody|ejabberd [STATE_DIR]" >&2; exit 2 ;;
esac
dir="${2:-${TMPDIR:-/tmp}/chatstorm-xmpp-$server}"
# How long a dropped session stays resumable (XEP-0198); short values make resumption fail on purpose.
resume="${XMPP_RESUME_SECONDS:-300}"

# Install the packages when missing, without letting them start a default instance (apt-install.sh).
install_pkg() {
  bash "$here/../apt-install.sh" "$@" || exit 3
}

free_port() {
  node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

if [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
  echo "chatstorm: $server already running from $dir (pid $(cat "$dir/pid")); stop it with $here/stop.sh $dir" >&2
  exit 3
fi
rm -rf "$dir"
mkdir -p "$dir/data" "$dir/certs"
port="$(free_port)"
url="ws://127.0.0.1:$port/xmpp-websocket"

case "$server" in
  prosody)
    install_pkg prosody
    sed -e "s#@PORT@#$port#g" -e "s#@DIR@#$dir#g" -e "s#@RESUME@#$resume#g" "$here/prosody.cfg.lua.in" > "$dir/prosody.cfg.lua"
    prosody --config "$dir/prosody.cfg.lua" -F >"$dir/stdout.log" 2>&1 &
    echo $! > "$dir/pid"
    ;;
  ejabberd)
    install_pkg ejabberd erlang-p1-sqlite3
    sed -e "s#@PORT@#$port#g" -e "s#@DIR@#$dir#g" -e "s#@RESUME@#$resume#g" "$here/ejabberd.yml.in" > "$dir/ejabberd.yml"
    . "$here/ejabberd-env.sh"
    (ejabberd_foreground "$dir") >"$dir/stdout.log" 2>&1 &
    echo $! > "$dir/pid"
    ;;
esac
echo "$url" > "$dir/url"

# Wait until the WebSocket endpoint answers an HTTP request (up to 60 s: ejabberd boots slowly).
for _ in $(seq 1 600); do
  if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
    echo "chatstorm: $server exited during start; its log:" >&2
    tail -n 30 "$dir"/*.log "$dir"/*.err 2>/dev/null >&2 || true
    exit 3
  fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "$url"
    exit 0
  fi
  sleep 0.1
done
echo "chatstorm: $server did not open port $port within 60 s (state in $dir)" >&2
"$here/stop.sh" "$dir" >&2 || true
exit 3
