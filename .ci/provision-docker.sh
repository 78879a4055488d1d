#!/usr/bin/env bash
# Make a Docker engine answer on this machine, for the `docker` tests.
# Idempotent: installs docker.io/debootstrap/docker-registry only if missing, starts dockerd
# only if no daemon answers. The daemon gets no bridge and no iptables rules:
# test containers run with --network none and never reach anything.
set -euo pipefail

LOG="${ENVLOCK_DOCKERD_LOG:-/var/log/envlock-dockerd.log}"
WAIT_S="${ENVLOCK_DOCKERD_WAIT_S:-60}"

log() { echo "provision-docker: $*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# apt-get ARGS as root. Another apt or dpkg (unattended-upgrades, cloud-init, a
# concurrent provisioning) may hold the apt/dpkg lock: wait for it, up to
# ENVLOCK_APT_LOCK_WAIT_S seconds, instead of failing with apt's exit 100.
APT_LOCK_WAIT_S="${ENVLOCK_APT_LOCK_WAIT_S:-600}"
APT_RETRY_S="${ENVLOCK_APT_RETRY_S:-5}"
apt_get() {
    local deadline=$((SECONDS + APT_LOCK_WAIT_S)) err rc
    err=$(mktemp)
    while :; do
        rc=0
        as_root env DEBIAN_FRONTEND=noninteractive \
            apt-get -o DPkg::Lock::Timeout=60 "$@" 2>"$err" || rc=$?
        if [ "$rc" -eq 100 ] && [ "$SECONDS" -lt "$deadline" ] &&
            grep -qE 'Could not get lock|Unable to acquire the dpkg frontend lock|Unable to lock' "$err"; then
            log "apt-get $1: the apt/dpkg lock is held ($(grep -m1 -oE 'held by process [0-9]+( \([^)]*\))?' "$err" || echo busy)); waiting"
            sleep "$APT_RETRY_S"
            continue
        fi
        cat "$err" >&2
        rm -f "$err"
        return "$rc"
    done
}

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v docker >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
# a registry on loopback, only so a test image gets a real repo digest
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
if [ "${#missing[@]}" -gt 0 ]; then
    # shellcheck disable=SC2207  # unique package names, no spaces
    pkgs=($(printf '%s\n' "${missing[@]}" | sort -u))
    log "installing ${pkgs[*]}"
    apt_get update -qq
    apt_get install -y -qq "${pkgs[@]}" >/dev/null
fi

if docker info >/dev/null 2>&1; then
    log "a Docker daemon already answers"
    exit 0
fi

if [ -n "${DOCKER_HOST:-}" ] && [ "${DOCKER_HOST#unix://}" = "$DOCKER_HOST" ]; then
    log "DOCKER_HOST=$DOCKER_HOST does not answer and is not local; not starting a daemon"
    exit 1
fi

log "starting dockerd (log: $LOG)"
as_root mkdir -p "$(dirname "$LOG")"
# setsid: the daemon must outlive this script and the CI step that ran it
as_root setsid dockerd --bridge=none --iptables=false --ip-masq=false --ip6tables=false \
    >>"$LOG" 2>&1 </dev/null &

for _ in $(seq 1 "$WAIT_S"); do
    if docker info >/dev/null 2>&1; then
        log "daemon is up: $(docker version --format '{{.Server.Version}}' 2>/dev/null)"
        exit 0
    fi
    sleep 1
done
log "dockerd did not answer within ${WAIT_S}s; last log lines:"
tail -n 20 "$LOG" >&2 || true
exit 1
