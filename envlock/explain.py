"""envlock explain: exit codes and known error messages -> cause, the checks that confirm it, fix.

The error strings are those torch, the CUDA runtime, NVML, nvidia-container-cli
and the dynamic loader print, as users paste them into bug reports; each names
the doctor checks that reveal the cause before a launch, so `explain` can run
exactly those on this machine. The messages are data (explain_messages.toml).
"""

from __future__ import annotations

import dataclasses
import functools
import re
import signal
import sys


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Explanation:
    key: str
    title: str
    cause: str
    fix: str
    checks: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    # a GPU runtime error: on a machine without a GPU its cause cannot be confirmed
    gpu: bool = False
    # where the message was seen: public issues whose text `examples` reproduces (a test
    # holds every example to its entry)
    source: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()


@functools.cache
def messages() -> tuple[Explanation, ...]:
    """The known error messages: data, in explain_messages.toml beside this module."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    from importlib import resources

    text = resources.files("envlock").joinpath("explain_messages.toml").read_text("utf-8")
    return tuple(_explanation(row) for row in tomllib.loads(text)["message"])


def _explanation(row: dict[str, object]) -> Explanation:
    unknown = row.keys() - {f.name for f in dataclasses.fields(Explanation)}
    if unknown:  # a typo in the data file must not silently drop a field
        raise ValueError(f"explain_messages.toml: {row.get('key')}: unknown {sorted(unknown)}")

    def strings(key: str) -> tuple[str, ...]:
        value = row.get(key, [])
        assert isinstance(value, list), key
        return tuple(str(v) for v in value)

    return Explanation(
        key=str(row["key"]),
        title=str(row["title"]),
        cause=str(row["cause"]),
        fix=str(row["fix"]),
        checks=strings("checks"),
        patterns=strings("patterns"),
        gpu=row.get("gpu") is True,
        source=strings("source"),
        examples=strings("examples"),
    )


_SIGNAL_CAUSES = {
    signal.SIGKILL: (
        "killed (SIGKILL): most often the kernel OOM killer or a cgroup/container "
        "memory limit; also a scheduler's hard kill after a grace period",
        "check the memory limit and `dmesg | grep -i oom`; lower batch size or "
        "DataLoader workers, or raise the memory limit (docker run --memory, k8s limits)",
    ),
    signal.SIGSEGV: (
        "segmentation fault: a crash in native code (a CUDA/extension library mismatch, "
        "a DataLoader worker with too little /dev/shm, or a bug)",
        "run `envlock doctor`; get a native backtrace with `python -X faulthandler`",
    ),
    signal.SIGABRT: (
        "aborted (SIGABRT): an uncaught C++ exception or failed assertion, often a "
        "CUDA device-side assert or an NCCL abort",
        "rerun with CUDA_LAUNCH_BLOCKING=1 and TORCH_SHOW_CPP_STACKTRACES=1",
    ),
    signal.SIGTERM: (
        "terminated (SIGTERM): the scheduler/orchestrator stopped the job "
        "(time limit, preemption, torchrun tearing down after another rank failed)",
        "check the scheduler's log and the first rank that failed",
    ),
    signal.SIGBUS: (
        "bus error: usually shared memory exhausted (/dev/shm too small)",
        "run the container with --shm-size 16g or --ipc=host",
    ),
    signal.SIGINT: ("interrupted (Ctrl-C)", "nothing to fix"),
}

_SIGNAL_CHECKS = {
    signal.SIGKILL: (),
    signal.SIGSEGV: (
        "EL-CUDNN-SHADOWED",
        "EL-LD-LIBRARY-PATH-SHADOW",
        "EL-WHEELS-MIXED-CUDA",
        "EL-SHM-SMALL",
    ),
    signal.SIGABRT: ("EL-ARCH-UNSUPPORTED", "EL-NCCL-MULTIPLE"),
    signal.SIGBUS: ("EL-SHM-SMALL",),
}


def explain_exit_code(code: int) -> Explanation:
    if code == 0:
        return Explanation(key="exit-0", title="exit code 0", cause="success", fix="nothing to fix")
    if code == 126:
        return Explanation(
            key="exit-126",
            title="exit code 126: command not executable",
            cause="the command was found but could not be executed (permissions, "
            "a directory, or a binary for another architecture)",
            fix="chmod +x it, or check the interpreter line and architecture",
        )
    if code == 127:
        return Explanation(
            key="exit-127",
            title="exit code 127: command not found",
            cause="the shell could not find the command (PATH, venv not activated, "
            "or the image lacks it, e.g. nvidia-smi without --gpus)",
            fix="check PATH / the virtualenv; in containers start with --gpus all",
            checks=("EL-CONTAINER-NO-GPU",),
        )
    if 128 < code < 128 + 65:
        num = code - 128
        try:
            sig = signal.Signals(num)
            name = sig.name
        except ValueError:
            return Explanation(
                key=f"exit-{code}",
                title=f"exit code {code}: signal {num}",
                cause=f"the process was killed by signal {num}",
                fix="see the job's log",
            )
        cause, fix = _SIGNAL_CAUSES.get(
            sig, (f"the process was killed by {name}", "see the job's log")
        )
        return Explanation(
            key=f"exit-{code}",
            title=f"exit code {code} = 128 + {num} ({name})",
            cause=cause,
            fix=fix,
            checks=_SIGNAL_CHECKS.get(sig, ()),
        )
    if code < 0 and -code < 65:  # Python's subprocess reports -N for signal N
        return explain_exit_code(128 - code)
    if code in (1, 2):
        return Explanation(
            key=f"exit-{code}",
            title=f"exit code {code}",
            cause="the program reported an error itself (a Python exception exits 1)",
            fix="read the traceback or the last lines of its output; "
            '`envlock explain "<error message>"` knows common CUDA/torch ones',
        )
    return Explanation(
        key=f"exit-{code}",
        title=f"exit code {code}",
        cause="a program-specific exit status",
        fix="see the program's documentation",
    )


def explain_message(text: str) -> list[Explanation]:
    return [e for e in messages() if any(re.search(p, text, re.IGNORECASE) for p in e.patterns)]


_SIZE = r"(\d{1,15}(?:\.\d{1,15})?) (B|KiB|MiB|GiB|TiB)"  # bounded: float() of 400 digits overflows
_UNITS = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}


def _bytes(m: re.Match[str] | None) -> int | None:
    return int(float(m.group(1)) * _UNITS[m.group(2)]) if m else None


def oom_evidence(text: str, alloc_conf: str | None, *, observed: bool) -> dict[str, str]:
    """What a CUDA OOM message says about fragmentation, and the allocator configuration
    (PYTORCH_CUDA_ALLOC_CONF) of the checked environment (`observed`: it was looked at)."""
    out: dict[str, str] = {}
    asked = _bytes(re.search(r"Tried to allocate " + _SIZE, text))
    idle = _bytes(re.search(_SIZE + r" is reserved by PyTorch but unallocated", text))
    if asked is not None and idle is not None:
        out["fragmentation"] = (
            f"likely: {idle / 2**20:.0f} MiB reserved but unallocated >= the "
            f"{asked / 2**20:.0f} MiB requested (set expandable_segments:True)"
            if idle >= asked
            else f"not the cause: {idle / 2**20:.0f} MiB reserved but unallocated < the "
            f"{asked / 2**20:.0f} MiB requested (the job needs more memory)"
        )
    if not observed:
        out["PYTORCH_CUDA_ALLOC_CONF"] = "not checked"
    elif alloc_conf:
        out["PYTORCH_CUDA_ALLOC_CONF"] = alloc_conf + (
            "" if "expandable_segments:True" in alloc_conf else " (expandable_segments is off)"
        )
    else:
        out["PYTORCH_CUDA_ALLOC_CONF"] = "unset (expandable_segments is off)"
    return out


def memory_evidence(
    cgroup_limit: int | None,
    total: int | None,
    cgroup_version: int | None = None,
    *,
    kernel_log: str,
) -> dict[str, str]:
    """What exit 137 promises to look at: the cgroup memory limit is always named (a
    size, none set, or why it is unknown), then the machine's memory and its kernel log's
    last OOM-killer line (`kernel_log`, read by the caller where the facts come from)."""
    out: dict[str, str] = {}
    if cgroup_limit is not None:
        out["cgroup memory limit"] = f"{cgroup_limit / 2**30:.1f} GiB"
    elif cgroup_version is not None:
        out["cgroup memory limit"] = f"none set (cgroup v{cgroup_version}: unlimited)"
    else:
        out["cgroup memory limit"] = "unknown (no cgroup memory controller readable)"
    if total is not None:
        out["machine memory"] = f"{total / 2**30:.1f} GiB"
    out["dmesg"] = kernel_log
    return out
