# Sourced by start.sh: run ejabberd in the foreground from a state dir, as Debian's ejabberd user
# (ejabberdctl switches to it when run as root), with its own node name, spool, logs and config,
# and no epmd (ERL_DIST_PORT: the node listens on a fixed port, so nothing outlives it).
ejabberd_foreground() {
  local dir="$1"
  mkdir -p "$dir/spool" "$dir/logs"
  cp /etc/ejabberd/inetrc "$dir/inetrc" 2>/dev/null || true
  local dist
  dist="$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
  cat > "$dir/ejabberdctl.cfg" <<CFG
ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0"
ERLANG_NODE=chatstorm$dist@localhost
ERL_DIST_PORT=$dist
INET_DIST_INTERFACE=127.0.0.1
EJABBERD_CONFIG_PATH=$dir/ejabberd.yml
CFG
  chown -R ejabberd: "$dir" 2>/dev/null || true
  chmod 755 "$dir"
  # setsid: ejabberdctl -> su -> beam form one process group, killed by stop.sh as a group.
  exec setsid ejabberdctl --ctl-config "$dir/ejabberdctl.cfg" --config-dir "$dir" --config "$dir/ejabberd.yml" \
    --spool "$dir/spool" --logs "$dir/logs" foreground
}
