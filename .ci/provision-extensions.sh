#!/usr/bin/env bash
# Real binaries for the extension-scan tests (issue 14), cached in
# $ENVLOCK_TEST_EXT_ASSETS (default ~/.cache/envlock-test/extensions14):
# - NVIDIA's cuobjdump from the nvidia-cuda-cuobjdump wheel (the ground truth for
#   envlock's own fatbin reader; never installed, only unpacked);
# - torchvision 0.29.1 (pairs with torch 2.14, the CUDA venv) and 0.28.0 (pairs with
#   torch 2.13), unpacked as pip lays out a wheel, so a test can put one on a venv's
#   path without installing into the shared venvs.
# About 15 MB of downloads; re-runs only check that the pieces are there.
set -euo pipefail
PY=${PYTHON:-python3}
DIR=${ENVLOCK_TEST_EXT_ASSETS:-$HOME/.cache/envlock-test/extensions14}
mkdir -p "$DIR/wheels"
fetch() {  # SPEC DEST: download SPEC's wheel (no deps) and unpack it into DIR/DEST once
    local spec=$1 dest=$DIR/$2
    [ -f "$dest/.complete" ] && return 0
    $PY -m pip download -q --disable-pip-version-check --no-deps -d "$DIR/wheels" "$spec"
    local name=${spec%%==*} version=${spec#*==}
    local whl
    whl=$(ls "$DIR"/wheels/"${name//-/_}"-"$version"-*.whl | head -n 1)
    rm -rf "$dest"
    mkdir -p "$dest"
    $PY -m zipfile -e "$whl" "$dest"
    touch "$dest/.complete"
}
fetch nvidia-cuda-cuobjdump==13.5.37 cuobjdump
chmod +x "$DIR"/cuobjdump/nvidia/*/bin/cuobjdump
fetch torchvision==0.29.1 tv
fetch torchvision==0.28.0 tv28
