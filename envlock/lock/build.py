"""Building a Lock from Facts: the one place that decides what a committed lock holds.

The lock is committed to repositories, so what goes in is chosen field by
field: no hostnames, no GPU UUIDs/serials/PCI ids, no timestamps outside
[meta], and environment variables only from the allow-list below (secrets
never reach Facts in the first place: see envlock/probe/envvars.py).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import functools
from collections.abc import Callable, Iterable
from typing import TypeVar

from envlock import __version__
from envlock.facts import DeterminismFacts, Facts
from envlock.lock import valid
from envlock.lock.closure import (
    INSTALLER_PACKAGES,
    UNRESTORABLE_KINDS,
    torch_index,
    torch_variant,
)
from envlock.lock.model import (
    SCOPES,
    TOOL_PACKAGES,
    Lock,
    LockedCuda,
    LockedDriver,
    LockedFile,
    LockedGpu,
    LockedHardware,
    LockedImage,
    LockedSource,
    LockedSystem,
    LockedTorch,
    LockHeader,
    LockMeta,
)
from envlock.lock.version import LockVersion
from envlock.versions import release

# Variables that change which libraries load or what kernels compute. Scheduler-assigned
# per-rank/per-job values (CUDA_VISIBLE_DEVICES, RANK, ...) are not locked.
_LOCKED_ENV_PREFIXES = (
    "CUDA_",
    "CUBLAS_",
    "CUDNN_",
    "NCCL_",
    "TORCH_",
    "PYTORCH_",
    "TORCHINDUCTOR_",
    "TRITON_",
    "NVIDIA_",
    "OMP_",
    "MKL_",
    "KMP_",
)
_LOCKED_ENV_NAMES = ("LD_LIBRARY_PATH", "LD_PRELOAD", "PYTHONHASHSEED")
_UNLOCKED_ENV_NAMES = (
    "CUDA_VISIBLE_DEVICES",
    "NVIDIA_VISIBLE_DEVICES",
    "CUDA_HOME",
    "CUDA_PATH",
    "NVIDIA_REQUIRE_CUDA",  # image metadata; lives in [image] checks, not the environment
    "NVIDIA_DRIVER_CAPABILITIES",
    "TORCH_NCCL_ASYNC_ERROR_HANDLING",  # set per launch by torchrun
    "NCCL_COMM_ID",  # host:port of a job's rendezvous: per launch, and a hostname
    "NCCL_HOSTID",
)

_MIB = 1024 * 1024


def tool_names(facts: Facts) -> frozenset[str]:
    """The installer's tooling and what only envlock needs (model.TOOL_PACKAGES): recorded
    in [tools], never drift. One of envlock's requirements that another installed
    distribution requires (the probe's dependency graph), directly or through another
    such one, is the job's. Without the graph (an older probe, a paste): all of them."""
    dependents = facts.packages.tool_dependents
    job: set[str] = set()
    if dependents:
        grew = True
        while grew:  # requirements of requirements: at most one pass per package
            grew = False
            for name, by in dependents.items():
                if name not in job and any(d not in TOOL_PACKAGES or d in job for d in by):
                    job.add(name)
                    grew = True
    return (TOOL_PACKAGES - job) | INSTALLER_PACKAGES


def is_locked_env(name: str) -> bool:
    if name in _UNLOCKED_ENV_NAMES:
        return False
    return name in _LOCKED_ENV_NAMES or name.startswith(_LOCKED_ENV_PREFIXES)


def build_lock(
    facts: Facts, *, scope: str = "full", created: str | None = None, lockable: bool = True
) -> Lock:
    """The lock for `facts` (pure: the same facts give the same lock, bar [meta]).

    lockable=False keeps every value as observed, even one no lock file may hold (verify's
    observed side: such a value is then drift against the lock, not hidden)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")
    d = facts.driver
    full = scope == "full"
    distributions = sorted(facts.packages.distributions.items())
    tools = tool_names(facts)
    lock = Lock(
        envlock=LockHeader(
            lock_version=LockVersion.current(),
            scope=scope,
            generated_by=f"envlock {__version__}",
        ),
        meta=LockMeta(
            created=created or _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            target=facts.meta.target,
        ),
        system=_locked_system(facts),
        driver=_or_none(LockedDriver(version=d.version, cuda_version=d.cuda_version))
        if full
        else None,
        hardware=_locked_hardware(facts) if full else None,
        torch=_locked_torch(facts),
        # an empty table is not written: None, so that the lock reads back equal
        cuda=_or_none(LockedCuda(toolkit=facts.cuda.toolkit.nvcc_version))
        if facts.cuda.toolkit
        else None,
        packages=_text_table((n, v) for n, v in distributions if n not in tools),
        tools=_text_table((n, v) for n, v in distributions if n in tools),
        sources=_locked_sources(facts, tools),
        env={
            _text(k): _text(v) for k, v in sorted(facts.env.variables.items()) if is_locked_env(k)
        },
        extensions=extension_digests(facts),
        image=_locked_image(facts),
        determinism=lockable_determinism(facts.determinism) if facts.determinism else None,
    )
    return lockable_lock(lock) if lockable else lock


def _locked_sources(facts: Facts, tools: frozenset[str]) -> dict[str, LockedSource]:
    return {
        _text(name): LockedSource(
            kind=src.kind,
            # a local path names the locking machine's directories: not committed
            url=None if src.kind in UNRESTORABLE_KINDS else _text(src.url),
            commit=src.commit,
        )
        for name, src in sorted(facts.packages.sources.items())
        if name in facts.packages.distributions and name not in tools
    }


def _locked_system(facts: Facts) -> LockedSystem | None:
    s = facts.system
    return _or_none(
        LockedSystem(
            os=(" ".join(p for p in (s.os.id, s.os.version_id) if p) or None) if s.os else None,
            arch=s.arch,
            glibc=s.glibc,
            python=_python_minor(s.python.version) if s.python else None,
            python_implementation=s.python.implementation.lower() if s.python else None,
        )
    )


def _locked_hardware(facts: Facts) -> LockedHardware | None:
    gpus = facts.driver.gpus
    if gpus is None:
        return None
    return LockedHardware(
        gpu_count=len(gpus),
        gpus=tuple(
            LockedGpu(
                index=g.index,
                name=g.name,
                compute_capability=g.compute_capability,
                memory_mib=(
                    g.memory_total_bytes // _MIB if g.memory_total_bytes is not None else None
                ),
            )
            for g in sorted(gpus, key=lambda g: g.index)
        ),
    )


def _locked_torch(facts: Facts) -> LockedTorch | None:
    t = facts.torch
    if not t.installed:
        return None
    live = t.live
    return _or_none(
        LockedTorch(
            version=t.version,
            cuda=t.cuda,
            hip=t.hip,
            git_version=t.git_version,
            debug=t.debug,
            cudnn=live.cudnn_version if live else None,
            nccl=live.nccl_version if live else None,
            arch_flags=tuple(live.arch_flags) if live and live.arch_flags else None,
            variant=torch_variant(t.version, t.cuda, t.hip),
            # the distribution's version says where it came from: torch 2.14.1 from the
            # default index reports __version__ 2.14.1+cu130, its metadata 2.14.1
            index=torch_index(facts.packages.distributions.get("torch") or t.version),
        )
    )


def _locked_image(facts: Facts) -> LockedImage | None:
    img = facts.image
    if img is None:
        return None
    return _or_none(
        LockedImage(
            reference=img.reference,
            id=img.id,
            digest=img.repo_digests[0] if img.repo_digests else None,
        )
    )


S = TypeVar("S")
T = TypeVar("T")


def lockable_lock(lock: Lock) -> Lock:
    """The lock the reader accepts (model.lock_problems): an entry export could not write
    safely (a name that is not PEP 508, a version pip cannot install, an environment
    value with a line break) is left out, and control characters in free text (a GPU
    name, a path) are written escaped, each with a note, instead of writing a lock that
    no envlock can read back."""
    notes: list[str] = []
    packages = _kept("packages", lock.packages, _pin_problem, notes)
    lock = dataclasses.replace(
        lock,
        packages=packages,
        tools=_kept("tools", lock.tools, _pin_problem, notes),
        sources=_kept(
            "sources",
            {n: s for n, s in lock.sources.items() if n in packages},
            lambda n, s: valid.kind_problem(s.kind),
            notes,
        ),
        files=_kept("files", lock.files, _files_problem, notes),
        env=_kept(
            "env", lock.env, lambda k, v: valid.env_key_problem(k) or valid.text_problem(v), notes
        ),
        extensions=_kept(
            "extensions", lock.extensions, lambda p, d: valid.prefixed_sha256_problem(d), notes
        ),
        torch=_lockable_torch(lock.torch, notes),
        image=_lockable_image(lock.image, notes),
    )
    text = list(valid.text_problems(lock.to_dict(), ""))
    if text:
        notes += [f"{path}: {why}: written escaped" for path, why in text]
        lock = _escaped(lock)
    return dataclasses.replace(lock, notes=(*lock.notes, *notes))


V = TypeVar("V")


def _kept(
    table: str, entries: dict[str, V], problem: Callable[[str, V], str | None], notes: list[str]
) -> dict[str, V]:
    """The entries of a table without those `problem` refuses (each noted)."""
    out = {}
    for key, value in entries.items():
        why = problem(key, value)
        if why:
            notes.append(f"{table}: {valid.show(key)} not locked: {why}")
        else:
            out[key] = value
    return out


def _pin_problem(name: str, version: str) -> str | None:
    return valid.name_problem(name) or valid.version_problem(version)


def _files_problem(name: str, files: tuple[LockedFile, ...]) -> str | None:
    for f in files:
        why = valid.file_name_problem(f.name) or valid.url_problem(f.url)
        why = why or valid.sha256_problem(f.sha256)
        if why:
            return why
    return valid.name_problem(name)


def _lockable_torch(torch: LockedTorch | None, notes: list[str]) -> LockedTorch | None:
    if torch is None:
        return None
    variant, index = torch.variant, torch.index
    if variant is not None and valid.variant_problem(variant):
        notes.append(f"torch.variant not locked: {valid.variant_problem(variant)}")
        variant = index = None  # the index is the variant's
    if index is not None and valid.url_problem(index):
        notes.append(f"torch.index not locked: {valid.url_problem(index)}")
        index = None
    return dataclasses.replace(torch, variant=variant, index=index)


def _lockable_image(image: LockedImage | None, notes: list[str]) -> LockedImage | None:
    why = valid.repo_digest_problem(image.digest) if image and image.digest else None
    if image is None or why is None:
        return image
    notes.append(f"image.digest not locked: {why}")
    return dataclasses.replace(image, digest=None)


def _escaped(value: T) -> T:
    """`value` with control characters in every string (keys too) written as escapes."""
    if isinstance(value, str):
        return valid.escaped(value)  # type: ignore[return-value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: _escaped(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.name != "notes"
        }
        return dataclasses.replace(value, **changes)
    if isinstance(value, dict):
        return {_escaped(k): _escaped(v) for k, v in value.items()}  # type: ignore[return-value]
    if isinstance(value, (tuple, list)):
        return type(value)(_escaped(v) for v in value)
    return value


def _or_none(section: S) -> S | None:
    """A table with nothing in it is not written (TOML has no null), so it reads back as None."""
    names = _field_names(type(section))  # type: ignore[arg-type]
    empty = all(getattr(section, name) in (None, (), {}) for name in names)
    return None if empty else section


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def lockable_determinism(d: DeterminismFacts) -> DeterminismFacts:
    """Digests as the lock holds them: known classes first, sorted context, no timings."""
    from envlock.determinism import ordered

    return dataclasses.replace(
        d,
        context=dict(sorted(d.context.items())),
        settings=dict(sorted(d.settings.items())),
        classes={n: dataclasses.replace(d.classes[n], seconds=None) for n in ordered(d.classes)},
        failed={n: d.failed[n] for n in ordered(d.failed)},
        seconds=None,
    )


def extension_key(file: str, distribution: str) -> str:
    """Where an extension lies, the same on every machine: its path under site-packages
    (torchvision/_C.so); outside one, the distribution and the file name."""
    norm = file.replace("\\", "/")
    for marker in ("/site-packages/", "/dist-packages/"):
        if marker in norm:
            return norm.rsplit(marker, 1)[1]
    return f"{distribution}:{norm.rsplit('/', 1)[-1]}"


def extension_digests(facts: Facts) -> dict[str, str]:
    """The sha256 of every scanned extension file, by extension_key (rebuilt -> drift)."""
    return {
        _text(extension_key(e.file, e.distribution)): e.sha256
        for e in sorted(facts.extensions.items, key=lambda e: e.file)
        if e.sha256
    }


def _text(value: str) -> str:
    """A value that UTF-8 can hold: an environment variable with undecodable bytes reaches
    Python as lone surrogates (b"a\\xffb" -> "a\\udcffb"); the lock keeps them escaped."""
    if value.isascii():  # O(1) in CPython: most values, and none of them can need escaping
        return value
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


def _text_table(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    """{name: value} of text, each through `_text` (inline for ASCII: a fleet builds
    10,000 package tables)."""
    return {(n if n.isascii() else _text(n)): (v if v.isascii() else _text(v)) for n, v in items}


@functools.lru_cache(maxsize=64)  # one per distinct version: a fleet's nodes share a few
def _python_minor(version: str | None) -> str | None:
    if not version:
        return None
    parts = release(version)
    return f"{parts[0]}.{parts[1]}" if len(parts) >= 2 else version
