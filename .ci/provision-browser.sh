#!/usr/bin/env bash
# Debian's chromium for the HTML report's headless-browser tests (tests/report/test_html.py).
# Idempotent: installs only when /usr/bin/chromium is missing; apt itself waits (up to
# ENVLOCK_APT_LOCK_WAIT_S) for another apt/dpkg holding the lock.
set -euo pipefail

log() { echo "provision-browser: $*" >&2; }
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if [ -x /usr/bin/chromium ] && /usr/bin/chromium --version >/dev/null 2>&1; then
    log "chromium present: $(/usr/bin/chromium --version 2>/dev/null)"
    exit 0
fi
wait_s="${ENVLOCK_APT_LOCK_WAIT_S:-600}"
log "installing chromium"
as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout="$wait_s" update -qq
as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get -o DPkg::Lock::Timeout="$wait_s" install -y -qq --no-install-recommends chromium >/dev/null
/usr/bin/chromium --version >&2
