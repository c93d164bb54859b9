#!/usr/bin/env bash
# System packages the test suite needs, installed when missing (CI and sessions run as root on
# Debian; nothing else is assumed). Safe to run again: it installs only what is absent.
#
# - docker-compose: `docker-compose config` validates docker-compose.yml (test/deploy); without
#   its recommended docker.io, as no Docker engine runs here.
# - chromium: the HTML report tests (test/report/chromium.ts installs it itself when missing).
# - prosody, ejabberd, erlang-p1-sqlite3: the real XMPP servers (scripts/xmpp/start.sh installs
#   them itself when missing).
# The tests would install the last two groups on first use, inside a test file that then holds
# one of the suite's two workers for a minute or more; installed here, .ci/run fetches them while
# `npm ci` runs.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/apt-install.sh" --no-install-recommends docker-compose
bash "$here/apt-install.sh" chromium prosody ejabberd erlang-p1-sqlite3
