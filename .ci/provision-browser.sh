#!/usr/bin/env bash
# Debian's chromium for the HTML report's headless-browser tests (tests/report/test_html.py),
# and zsh for the completion test. Idempotent: installs only what is missing; apt itself waits (up to
# ENVLOCK_APT_LOCK_WAIT_S) for another apt/dpkg holding the lock.
set -euo pipefail

log() { echo "provision-browser: $*" >&2; }
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

wait_s="${ENVLOCK_APT_LOCK_WAIT_S:-600}"
apt_install() {
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout="$wait_s" update -qq
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get -o DPkg::Lock::Timeout="$wait_s" install -y -qq --no-install-recommends "$@" >/dev/null
}

# zsh: the completion test drives a real interactive zsh (tests/commands/test_completion.py)
if command -v zsh >/dev/null 2>&1; then
    log "zsh present: $(zsh --version)"
else
    log "installing zsh"
    apt_install zsh
fi

if [ -x /usr/bin/chromium ] && /usr/bin/chromium --version >/dev/null 2>&1; then
    log "chromium present: $(/usr/bin/chromium --version 2>/dev/null)"
    exit 0
fi
log "installing chromium"
apt_install chromium
/usr/bin/chromium --version >&2
