#!/usr/bin/env bash
# Install Debian packages that are missing: scripts/apt-install.sh [--no-install-recommends] PKG...
#
# Only the absent packages are installed; nothing happens when all are present. The package lists
# are fetched (apt-get update) only when an install from the current lists fails, as on a fresh
# machine whose lists are empty. A policy-rc.d that answers 101 keeps dpkg from starting a
# package's default instance (prosody and ejabberd would start a system server of their own);
# one the machine already has is left alone (CHATSTORM_POLICY_RC_D names another path, for the
# script's own tests only: dpkg reads /usr/sbin/policy-rc.d). Needs root (CI and sessions run as
# root on Debian).
# Exit 0 when everything is installed, 3 when apt-get failed or this is not root.
set -euo pipefail
opts=()
if [ "${1:-}" = --no-install-recommends ]; then opts+=(--no-install-recommends); shift; fi
missing=()
# Installed means "install ok installed": a removed package whose config files remain is known to
# dpkg (`dpkg -s` answers 0) but has no program.
for p in "$@"; do
  [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "chatstorm: ${missing[*]} missing and this is not root: install them (apt-get install -y ${opts[*]} ${missing[*]})" >&2
  exit 3
fi
echo "chatstorm: installing ${missing[*]} (apt-get)" >&2
export DEBIAN_FRONTEND=noninteractive
policy="${CHATSTORM_POLICY_RC_D:-/usr/sbin/policy-rc.d}"
added=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && added=1
fi
rc=0
{ apt-get install -y -q "${opts[@]}" "${missing[@]}" >&2 || { apt-get update -q >&2 && apt-get install -y -q "${opts[@]}" "${missing[@]}" >&2; }; } || rc=$?
[ -n "$added" ] && rm -f "$policy"
if [ "$rc" != 0 ]; then
  echo "chatstorm: apt-get install ${missing[*]} failed (exit $rc)" >&2
  exit 3
fi
exit 0
