#!/usr/bin/env bash
# Build the Docker images the container tests run against, from Debian
# packages only (no image registry is ever contacted):
#   envlock-test/python:bookworm   debootstrap minbase + python3
#   envlock-test/torch-cpu:2.13.0  the same + torch 2.13.0 (+cpu) and its deps (pip)
#   envlock-test/busybox           busybox-static only: no python3 at all
#   127.0.0.1:5055/envlock-test/python:bookworm
#                                  the python image pushed once to a registry
#                                  on loopback (Debian's docker-registry), so it
#                                  has a real repo digest; the registry is
#                                  stopped again right after the push
# Idempotent: an image that exists is skipped; the debootstrap rootfs is
# cached as a tarball under ~/.cache/envlock-test/ so reruns take seconds.
set -euo pipefail

CACHE="${ENVLOCK_TEST_CACHE:-$HOME/.cache/envlock-test}"
SUITE=bookworm
MIRROR="${ENVLOCK_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
TORCH_VERSION=2.13.0
PY_IMAGE=envlock-test/python:bookworm
TORCH_IMAGE=envlock-test/torch-cpu:2.13.0
BUSYBOX_IMAGE=envlock-test/busybox
REGISTRY=127.0.0.1:5055
DIGEST_IMAGE=$REGISTRY/envlock-test/python:bookworm
LABEL=org.envlock.test=1

log() { echo "build-test-images: $*" >&2; }
have_image() { docker image inspect "$1" >/dev/null 2>&1; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$CACHE/rootfs"

# python3, not python3-minimal: the probe needs json, ctypes and subprocess,
# which Debian ships in libpython3.11-stdlib, not in the -minimal package.
python_rootfs() {
    local tarball="$CACHE/rootfs/python-$SUITE.tar"
    if [ ! -s "$tarball" ]; then
        log "debootstrap $SUITE (minbase + python3) -> $tarball"
        local dir="$WORK/python-rootfs"
        debootstrap --variant=minbase --include=python3 "$SUITE" "$dir" "$MIRROR" \
            >"$WORK/debootstrap.log" 2>&1 || { tail -n 30 "$WORK/debootstrap.log" >&2; exit 1; }
        # the package cache and lists are build leftovers, not part of the image
        rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
        tar -C "$dir" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
        rm -rf "$dir"
    fi
    echo "$tarball"
}

import_image() {  # import_image NAME TARBALL [docker import --change ...]
    local name="$1" tarball="$2"
    shift 2
    docker import --change "LABEL $LABEL" "$@" "$tarball" "$name" >/dev/null
    log "built $name ($(docker image inspect -f '{{.Id}}' "$name" | cut -c1-19))"
}

if have_image "$PY_IMAGE"; then
    log "$PY_IMAGE exists"
else
    import_image "$PY_IMAGE" "$(python_rootfs)" \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["python3"]'
fi

if have_image "$TORCH_IMAGE"; then
    log "$TORCH_IMAGE exists"
else
    # torch 2.13.0 (pip's own choice here: the +cpu wheel) and its dependencies,
    # resolved by pip for the image's cp311, installed with --target into the
    # dist-packages Debian's python3 reads, then layered on the python image
    # (create + cp + commit: no build context, no image registry, no network
    # inside any container). Not copied from the CPU venv: .ci/run creates
    # that one concurrently with this script.
    log "installing torch==$TORCH_VERSION for cp311 with pip --target"
    dest="$WORK/dist-packages"
    PY="${PYTHON:-python3}"
    "$PY" -m pip install -q --disable-pip-version-check --no-warn-script-location \
        --target "$dest" --python-version 3.11 --implementation cp \
        --platform manylinux_2_28_x86_64 --only-binary=:all: "torch==$TORCH_VERSION" \
        >"$WORK/pip.log" 2>&1 || { tail -n 20 "$WORK/pip.log" >&2; exit 1; }
    # scripts and build tooling are not part of what the tests look at
    rm -rf "$dest/bin" "$dest/share" "$dest"/setuptools* "$dest"/_distutils_hack \
        "$dest/distutils-precedence.pth"
    find "$dest" -name __pycache__ -type d -prune -exec rm -rf {} +
    cid="$(docker create --network none --label "$LABEL" "$PY_IMAGE" true)"
    trap 'docker rm -f "$cid" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
    docker cp "$dest/." "$cid:/usr/local/lib/python3.11/dist-packages/"
    docker commit --change 'CMD ["python3"]' "$cid" "$TORCH_IMAGE" >/dev/null
    docker rm "$cid" >/dev/null
    rm -rf "$dest"
    log "built $TORCH_IMAGE ($(docker image inspect -f '{{.Id}}' "$TORCH_IMAGE" | cut -c1-19))"
fi

if have_image "$BUSYBOX_IMAGE"; then
    log "$BUSYBOX_IMAGE exists"
else
    log "building $BUSYBOX_IMAGE from Debian's busybox-static"
    deb_dir="$CACHE/debs"
    mkdir -p "$deb_dir"
    if ! ls "$deb_dir"/busybox-static_*.deb >/dev/null 2>&1; then
        (cd "$deb_dir" && apt-get download busybox-static >/dev/null 2>&1) || {
            apt-get update -qq && (cd "$deb_dir" && apt-get download busybox-static >/dev/null)
        }
    fi
    dir="$WORK/busybox-rootfs"
    dpkg-deb -x "$(ls "$deb_dir"/busybox-static_*.deb | head -n1)" "$WORK/bb"
    mkdir -p "$dir/bin" "$dir/etc" "$dir/tmp" "$dir/dev" "$dir/proc" "$dir/sys"
    chmod 1777 "$dir/tmp"
    cp "$WORK/bb/bin/busybox" "$dir/bin/busybox"
    for applet in $("$dir/bin/busybox" --list); do
        [ "$applet" = busybox ] || ln -sf busybox "$dir/bin/$applet"
    done
    echo 'root:x:0:0:root:/root:/bin/sh' >"$dir/etc/passwd"
    tar -C "$dir" -cf "$WORK/busybox.tar" .
    import_image "$BUSYBOX_IMAGE" "$WORK/busybox.tar" \
        --change 'ENV PATH=/bin' --change 'CMD ["sh"]'
fi

if [ -n "$(docker image inspect -f '{{join .RepoDigests ""}}' "$DIGEST_IMAGE" 2>/dev/null)" ]; then
    log "$DIGEST_IMAGE exists (with a repo digest)"
else
    command -v docker-registry >/dev/null 2>&1 || { log "docker-registry missing (provision-docker.sh installs it)"; exit 1; }
    log "pushing $PY_IMAGE to a registry on $REGISTRY for a repo digest"
    mkdir -p "$WORK/registry"
    cat >"$WORK/registry.yml" <<YML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $WORK/registry
http:
  addr: $REGISTRY
YML
    docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
    reg_pid=$!
    for _ in $(seq 1 50); do
        (exec 3<>/dev/tcp/127.0.0.1/5055) 2>/dev/null && break
        sleep 0.1
    done
    docker tag "$PY_IMAGE" "$DIGEST_IMAGE"
    if ! docker push "$DIGEST_IMAGE" >"$WORK/push.log" 2>&1; then
        kill "$reg_pid" 2>/dev/null || true
        tail -n 20 "$WORK/push.log" "$WORK/registry.log" >&2
        exit 1
    fi
    kill "$reg_pid" 2>/dev/null || true
    wait "$reg_pid" 2>/dev/null || true
    log "built $DIGEST_IMAGE ($(docker image inspect -f '{{index .RepoDigests 0}}' "$DIGEST_IMAGE"))"
fi
