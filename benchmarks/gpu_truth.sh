#!/usr/bin/env bash
# The GPU truth kit: ONE call on a lent GPU machine proves every GPU path of envlock
# (tests/gpu) and brings back what it recorded, to be committed as fixtures.
#
#   bash benchmarks/gpu_truth.sh --prepare   here, with PyPI: wheels the device lacks -> .whl/
#   bash benchmarks/gpu_truth.sh             on the device machine, in one `run` call:
#        command: bash benchmarks/gpu_truth.sh   carry: [".whl"]   timeout_s: 480
#   bash benchmarks/gpu_truth.sh --dry-run   anywhere without a GPU (CI): the same set-up
#        steps, every gpu test collected and skipped with "no NVIDIA GPU", the outputs checked
#
# What comes back in $OUT (at most 8 files, as the device tool returns them):
#   facts.<gpu>-driver-<version>-recorded.json    the real probe's facts (hostname, UUIDs replaced)
#   nvml.<gpu>-driver-<version>-recorded.json     raw NVML answers, replay format (tests/probe/fakes.py),
#        with every health query the probe makes (MIG and ECC mode, volatile uncorrectable ECC
#        count, remapped rows, retired pages and their pending status, fabric info) and, in
#        summary.md, each query's nvmlReturn_t per GPU (tests/gpu/nvml_health.py)
#   determinism.<gpu>-torch<X.Y>-recorded.json    the suite's digests with their context
#   junit.xml, pytest.log, summary.md             results, the log, the figures for the note
#
# Environment: PYTHON (default python3: on the device, the image's python with torch),
# OUT (the device tool sets it; --dry-run makes a temporary one), GPU_TRUTH_TIMEOUT
# (seconds for the whole pytest run, default 400: the kit must end within 8 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=run
case "${1:-}" in
    "") ;;
    --prepare) MODE=prepare ;;
    --dry-run) MODE=dry ;;
    -h | --help)
        sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "gpu_truth: unknown option '$1' (use --prepare, --dry-run or nothing; --help)" >&2
        exit 2
        ;;
esac

PY=${PYTHON:-python3}
WHEELS=.whl
# envlock's dependencies that the device image lacks (its package list: the device
# tool's KINDS.md); pure-Python wheels, pinned to what the tests run with here.
NEEDED=("tomli-w==1.2.0" "docker==7.1.0")
T0=$(date +%s)
log() { printf '[gpu_truth %(%H:%M:%S)T] %s\n' -1 "$*"; }

have_wheels() {
    local spec name
    for spec in "${NEEDED[@]}"; do
        name=${spec%%==*}
        name=${name//-/_}
        compgen -G "$WHEELS/${name}-${spec##*==}-*.whl" >/dev/null || return 1
    done
}

prepare() {
    log "downloading ${NEEDED[*]} into $WHEELS/ (Python 3.12 wheels, as the device needs)"
    mkdir -p "$WHEELS"
    "$PY" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
        --python-version 3.12 --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 \
        -d "$WHEELS" "${NEEDED[@]}"
    have_wheels || { log "FAILED: wheels missing after download"; exit 1; }
}

if [ "$MODE" = prepare ]; then
    prepare
    exit 0
fi
have_wheels || {
    if [ "$MODE" = dry ]; then prepare; else
        log "FAILED: no wheels in $WHEELS/ (run --prepare here, then carry .whl)"
        exit 1
    fi
}

if [ "$MODE" = dry ]; then
    WORK=$(mktemp -d)
    trap 'rm -rf "$WORK"' EXIT
    OUT=${OUT:-$WORK/out}
    SITE=$WORK/site
else
    : "${OUT:?OUT is not set: run this through the device tool, or pass --dry-run}"
    SITE=/tmp/envlock-site
fi
mkdir -p "$OUT"

# Install offline, from the carried wheels only. Into a separate folder that is put on
# the path of every process the tests start (tests/conftest.py keeps PYTHONPATH).
log "installing ${NEEDED[*]} offline into $SITE"
"$PY" -m pip install -q --disable-pip-version-check --no-index --no-deps --no-compile \
    --no-cache-dir --upgrade --target "$SITE" "$WHEELS"/*.whl
export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}"
"$PY" -c "import tomli_w, docker, envlock.api" \
    || { log "FAILED: envlock does not import after the install"; exit 1; }

export ENVLOCK_GPU_OUT=$OUT ENVLOCK_GPU_PYTHON
ENVLOCK_GPU_PYTHON=$(command -v "$PY")
{
    echo "# envlock GPU truth run ($MODE), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo
    echo "- python: $("$PY" --version 2>&1) at $ENVLOCK_GPU_PYTHON"
    echo "- torch: $("$PY" -c 'import torch; print(torch.__version__, torch.version.cuda)' 2>&1 | tail -1)"
    echo "- nvidia-smi: $( (nvidia-smi -L 2>&1 || echo 'not available') | head -3 | tr '\n' ' ')"
} >"$OUT/summary.md"

TIMEOUT_OPTS=()
if "$PY" -c "import pytest_timeout" 2>/dev/null; then TIMEOUT_OPTS=(--timeout=300); fi
log "running tests/gpu (whole run limited to ${GPU_TRUTH_TIMEOUT:-400} s)"
set +e
PYTHONUNBUFFERED=1 timeout "${GPU_TRUTH_TIMEOUT:-400}" "$PY" -m pytest tests/gpu \
    tests/probe/test_nvml_recorder.py -p no:cacheprovider -W default -rA \
    --junitxml="$OUT/junit.xml" "${TIMEOUT_OPTS[@]}" >"$OUT/pytest.log" 2>&1
RC=$?
# NVML's health answers as recorded: each query's return code per GPU into summary.md; a
# query the recording lacks is a problem (tests/checks/test_health.py waits for them)
"$PY" -m tests.gpu.nvml_health "$OUT" || { [ "$RC" -ne 0 ] || RC=1; }
set -e
tail -n 25 "$OUT/pytest.log"
echo "- pytest exit status: $RC; kit seconds so far: $(($(date +%s) - T0))" >>"$OUT/summary.md"

# The outputs: what the device tool brings back, and (dry run) that nothing ran on a GPU.
"$PY" - "$OUT" "$MODE" <<'EOF'
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

out, mode = Path(sys.argv[1]), sys.argv[2]
files = sorted(p for p in out.rglob("*") if p.is_file())
problems = []
if len(files) > 8:
    problems.append(f"{len(files)} files in OUT: the device tool returns at most 8")
for p in files:
    if p.parent != out or not re.fullmatch(r"[A-Za-z0-9._-]+", p.name):
        problems.append(f"{p.relative_to(out)}: not a name the device tool returns")
cases = ET.parse(out / "junit.xml").getroot().iter("testcase")
outcome = {}
for case in cases:
    kind = next((c.tag for c in case if c.tag in ("failure", "error", "skipped")), "passed")
    msg = next((c.get("message", "") for c in case if c.tag == "skipped"), "")
    outcome[f"{case.get('classname')}.{case.get('name')}"] = (kind, msg)
gpu = {k: v for k, v in outcome.items() if k.startswith("tests.gpu.")}
if len(gpu) < 10:
    problems.append(f"only {len(gpu)} gpu tests collected (expected at least 10)")
if mode == "dry":
    for name, (kind, msg) in gpu.items():
        if kind != "skipped" or "no NVIDIA GPU" not in msg:
            problems.append(f"{name}: {kind} {msg!r} (a dry run skips every gpu test: no NVIDIA GPU)")
bad = [k for k, (kind, _) in outcome.items() if kind in ("failure", "error")]
problems += [f"{k}: failed" for k in bad]
counts = {}
for kind, _ in outcome.values():
    counts[kind] = counts.get(kind, 0) + 1
with open(out / "summary.md", "a") as fh:
    fh.write(f"- tests: {counts}\n")
    for p in problems:
        fh.write(f"- PROBLEM: {p}\n")
print(f"gpu_truth: {counts}; files: {', '.join(p.name for p in files)}")
for p in problems:
    print(f"gpu_truth: PROBLEM: {p}", file=sys.stderr)
sys.exit(1 if problems else 0)
EOF
log "done ($MODE) in $(($(date +%s) - T0)) s; pytest exit status $RC"
[ "$RC" -eq 0 ] || exit "$RC"
