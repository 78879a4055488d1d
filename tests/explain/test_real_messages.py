"""explain on the real text of the errors people hit most: every example in the message
table comes from the public issue its `source` names, and is recognised as its entry."""

from __future__ import annotations

import json

import pytest

from envlock.explain import explain_message, messages, oom_evidence
from tests.conftest import FIXTURES, run_envlock

EXAMPLES = [(e.key, x) for e in messages() for x in e.examples]
# The errors the issue lists, each needing real text and a source
MOST_HIT = {
    "cuda-oom",
    "illegal-memory-access",
    "device-busy",
    "system-not-ready",
    "nccl-timeout",
    "nccl-error",
    "shm",
    "extension-abi",
    "cudnn-missing",
}


def test_every_most_hit_error_has_real_text_and_a_source() -> None:
    by_key = {e.key: e for e in messages()}
    for key in MOST_HIT:
        entry = by_key[key]
        assert entry.examples, key
        assert entry.source and all(u.startswith("https://github.com/") for u in entry.source)
    assert len({e.key for e in messages()}) == len(messages())


@pytest.mark.parametrize(
    ("key", "text"), EXAMPLES, ids=[f"{k}-{i}" for i, (k, _) in enumerate(EXAMPLES)]
)
def test_real_message_is_recognised(key: str, text: str) -> None:
    assert key in [e.key for e in explain_message(text)]


def test_missing_cudnn_is_not_blamed_on_shadowing() -> None:
    matched = explain_message(
        "ImportError: libcudnn.so.9: cannot open shared object file: No such file or directory"
    )
    assert [e.key for e in matched] == ["cudnn-missing"]
    assert not {"EL-CUDNN-SHADOWED", "EL-LD-LIBRARY-PATH-SHADOW"} & {
        c for e in matched for c in e.checks
    }
    mismatch = explain_message(
        "RuntimeError: cuDNN version incompatibility: PyTorch was compiled  against (8, 5, 0) "
        "but found runtime version (8, 3, 3)."
    )
    assert [e.key for e in mismatch] == ["cudnn-mismatch"]


def test_oom_fragmentation_hint_from_the_message() -> None:
    frag, no_frag = (x for k, x in EXAMPLES if k == "cuda-oom" and ("736.86" in x or "9.35" in x))
    assert oom_evidence(frag, None, observed=True)["fragmentation"].startswith("likely")
    assert oom_evidence(no_frag, None, observed=True)["fragmentation"].startswith("not the cause")
    conf = oom_evidence(frag, "expandable_segments:True", observed=True)
    assert conf["PYTORCH_CUDA_ALLOC_CONF"] == "expandable_segments:True"
    assert oom_evidence(frag, None, observed=False)["PYTORCH_CUDA_ALLOC_CONF"] == "not checked"


def test_gpu_error_without_a_gpu_cannot_be_confirmed_here() -> None:
    text = dict(EXAMPLES)["illegal-memory-access"]
    proc = run_envlock(["explain", text, "--no-torch-live"])
    assert proc.returncode == 0, proc.stderr
    assert "cannot be confirmed on this machine" in proc.stdout
    assert "cause is elsewhere" not in proc.stdout


def test_gpu_error_with_recorded_gpu_facts_has_no_such_note() -> None:
    text = dict(EXAMPLES)["illegal-memory-access"]
    h100 = FIXTURES / "facts.cuda-venv+h100-driver-580-replayed.json"
    proc = run_envlock(["explain", text, "--facts", str(h100), "--format", "json"])
    assert json.loads(proc.stdout)["gpu_note"] is None


def test_device_busy_confirmed_from_a_pasted_nvidia_smi() -> None:
    """NVIDIA/DIGITS#2005: the error, and nvidia-smi showing GPU 0 in E. Process mode."""
    text = dict(EXAMPLES)["device-busy"]
    smi = FIXTURES / "nvidia_smi" / "digits-2005.txt"
    proc = run_envlock(["explain", text, "--nvidia-smi", str(smi), "--format", "json"])
    doc = json.loads(proc.stdout)
    assert [f["id"] for f in doc["findings"]] == ["EL-GPU-COMPUTE-MODE"]
    assert doc["gpu_note"] is None
    assert proc.returncode == 0  # a warning; --strict fails
