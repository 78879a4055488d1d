"""The lock as a typed object: one frozen dataclass per table, kebab-case in TOML.

`Lock.from_dict` reads what tomllib parsed (after the version gate) and
raises LockError naming the dotted path of bad data; `Lock.to_dict` gives
the table tomli-w writes (no None: TOML has no null). Keys a lock holds that
this model does not know (a newer minor version, a hand edit) are kept in
`Lock.unknown` as dotted paths, and verify compares them as exact.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from envlock import typed
from envlock.errors import LockError
from envlock.facts import DeterminismFacts
from envlock.lock.version import LockVersion

DEFAULT_LOCK_NAME = "envlock.lock.toml"
SCOPES = ("full", "software")
# Sections verified only under --scope full: they describe the machine, not the software.
HARDWARE_SECTIONS = ("driver", "hardware")
# How verify compares a field; a [rules] table in the lock maps field patterns to these.
RULE_KINDS = ("exact", "at-least", "same", "warn", "ignore")


@dataclass(frozen=True, kw_only=True, slots=True)
class LockHeader:
    lock_version: LockVersion = field(default_factory=LockVersion.current)
    scope: str = "full"
    generated_by: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class LockMeta:
    created: str | None = None
    target: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class LockedSystem:
    os: str | None = None
    arch: str | None = None
    glibc: str | None = None
    python: str | None = None  # major.minor
    python_implementation: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class LockedDriver:
    version: str | None = None
    cuda_version: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class LockedGpu:
    index: int | None = None
    name: str | None = None
    compute_capability: str | None = None
    memory_mib: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class LockedHardware:
    gpu_count: int | None = None
    gpus: tuple[LockedGpu, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class LockedTorch:
    version: str | None = None
    cuda: str | None = None
    hip: str | None = None
    git_version: str | None = None
    debug: bool | None = None
    cudnn: str | None = None
    nccl: str | None = None
    arch_flags: tuple[str, ...] | None = None
    variant: str | None = None  # cpu, cu130, rocm6.2: from the local tag or torch.version.cuda
    index: str | None = None  # the index this build is installed from


@dataclass(frozen=True, kw_only=True, slots=True)
class LockedCuda:
    toolkit: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class LockedImage:
    reference: str | None = None
    id: str | None = None
    digest: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class LockedSource:
    """Where a distribution came from when not from an index (its direct_url.json)."""

    kind: str  # url, vcs, editable, local
    url: str | None = None  # not written for editable and local installs (a local path)
    commit: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class LockedFile:
    """One distribution file that fits the locked platform, with its sha256."""

    name: str
    url: str
    sha256: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Lock:
    envlock: LockHeader
    meta: LockMeta = field(default_factory=LockMeta)
    system: LockedSystem | None = None
    driver: LockedDriver | None = None
    hardware: LockedHardware | None = None
    torch: LockedTorch | None = None
    cuda: LockedCuda | None = None
    packages: dict[str, str] = field(default_factory=dict)
    tools: dict[str, str] = field(default_factory=dict)  # installer's and envlock's own
    sources: dict[str, LockedSource] = field(default_factory=dict)  # lock-version 1.1
    files: dict[str, tuple[LockedFile, ...]] = field(default_factory=dict)  # lock --hashes
    env: dict[str, str] = field(default_factory=dict)
    # native extensions linking torch/CUDA: site-packages path -> "sha256:<hex>" (lock 1.1)
    extensions: dict[str, str] = field(default_factory=dict)
    image: LockedImage | None = None
    determinism: DeterminismFacts | None = None  # digests without timings
    rules: dict[str, str] = field(default_factory=dict)  # field pattern -> rule kind
    unknown: dict[str, Any] = field(default_factory=dict)  # dotted path -> value
    # What build_lock left out or escaped so that the lock stays readable (printed by
    # `envlock lock`); never written, and not part of equality.
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def version(self) -> LockVersion:
        return self.envlock.lock_version

    @property
    def scope(self) -> str:
        return self.envlock.scope

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, where: str = "lock") -> Lock:
        """The typed lock of a parsed (and version-gated) document; LockError names the path."""
        unknown: dict[str, Any] = {}
        reader = typed.Reader(error=LockError, key=typed.kebab, unknown=unknown)
        version = LockVersion.parse(data, where)  # the gate: nothing is read before it
        if _deeper_than(data, MAX_DEPTH):
            raise LockError(f"{where}: tables nested deeper than {MAX_DEPTH} levels: not a lock")
        head = {k: v for k, v in data["envlock"].items() if k != "lock-version"}
        body = {k: v for k, v in data.items() if k != "notes"}
        if "notes" in data:  # not a lock key: kept as any unknown key is
            unknown["notes"] = data["notes"]
        try:
            header = reader.build(LockHeader, head, "envlock")
            lock = reader.build(cls, {**body, "envlock": {}}, "")
        except LockError as exc:
            raise LockError(f"{where}: {exc}") from None
        header = dataclasses.replace(header, lock_version=version)
        lock = dataclasses.replace(lock, envlock=header, unknown=unknown)
        for path, why in lock_problems(lock):  # first: the messages below quote keys raw
            raise LockError(f"{where}: in '{path}': {why}")
        if header.scope not in SCOPES:
            raise LockError(
                f"{where}: in 'envlock.scope': expected one of {', '.join(SCOPES)}, "
                f"got {header.scope!r}"
            )
        for pattern, kind in lock.rules.items():
            if kind not in RULE_KINDS:
                raise LockError(
                    f"{where}: in 'rules.{pattern}': unknown rule {kind!r} "
                    f"(one of {', '.join(RULE_KINDS)})"
                )
        if lock.determinism is not None and lock.determinism.device not in ("cpu", "cuda"):
            raise LockError(
                f"{where}: in 'determinism.device': expected cpu or cuda, "
                f"got {lock.determinism.device!r}"
            )
        for name, c in lock.determinism.classes.items() if lock.determinism else ():
            if not c.digest.startswith("sha256:"):
                raise LockError(
                    f"{where}: in 'determinism.classes.{name}.digest': "
                    f"expected 'sha256:<hex>', got {c.digest!r}"
                )
        return lock

    def to_dict(self) -> dict[str, Any]:
        """The TOML table: fixed section order, kebab-case keys, no None, no timings."""
        out: dict[str, Any] = typed.dump(
            self,
            key=typed.kebab,
            prune=True,
            skip=lambda f: f.name in ("unknown", "notes", "seconds"),
        )
        out["envlock"]["lock-version"] = str(self.version)
        for path, value in self.unknown.items():
            _put(out, path, value)
        return out


def lock_problems(lock: Lock) -> Iterator[tuple[str, str]]:
    """(dotted path, why) for every value that export or restore could not write safely
    (valid.py's grammars), the named fields first, then control characters anywhere."""
    from envlock.lock import valid

    yield from _table_problems(lock)
    yield from _file_problems(lock)
    for key in lock.env:
        why = valid.env_key_problem(key)
        if why:
            yield "env", why
    yield from _field_problems(lock)
    yield from valid.text_problems(lock.to_dict(), "")


def _table_problems(lock: Lock) -> Iterator[tuple[str, str]]:
    """[packages], [tools]: names and versions; [sources]: names and kinds."""
    from envlock.lock import valid

    for table, entries in (("packages", lock.packages), ("tools", lock.tools)):
        for name, version in entries.items():
            why = valid.name_problem(name)
            if why:
                yield table, why
            elif valid.version_problem(version):
                yield f"{table}.{name}", str(valid.version_problem(version))
    for name, src in lock.sources.items():
        why = valid.name_problem(name)
        if why:
            yield "sources", why
        elif valid.kind_problem(src.kind):
            yield f"sources.{name}.kind", str(valid.kind_problem(src.kind))


def _file_problems(lock: Lock) -> Iterator[tuple[str, str]]:
    from envlock.lock import valid

    for name, files in lock.files.items():
        why = valid.name_problem(name)
        if why:
            yield "files", why
            continue
        for i, f in enumerate(files):
            for part, why in (
                ("name", valid.file_name_problem(f.name)),
                ("url", valid.url_problem(f.url)),
                ("sha256", valid.sha256_problem(f.sha256)),
            ):
                if why:
                    yield f"files.{name}[{i}].{part}", why


def _field_problems(lock: Lock) -> Iterator[tuple[str, str]]:
    """[extensions] digests, torch.index and .variant, image.digest."""
    from envlock.lock import valid

    for path, digest in lock.extensions.items():
        why = valid.text_problem(path)
        if why:
            yield "extensions", f"key {why}"
        elif valid.prefixed_sha256_problem(digest):
            yield f"extensions.{path}", str(valid.prefixed_sha256_problem(digest))
    torch, image = lock.torch, lock.image
    checks = (
        ("torch.index", torch and torch.index, valid.url_problem),
        ("torch.variant", torch and torch.variant, valid.variant_problem),
        ("image.digest", image and image.digest, valid.repo_digest_problem),
    )
    for path, value, problem in checks:
        why = problem(value) if value else None
        if why:
            yield path, why


MAX_DEPTH = 32  # a real lock nests 5 deep ([determinism.classes.rng.summary])


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether tables/arrays nest deeper than `limit` (iterative: no recursion to exhaust)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


def _put(table: dict[str, Any], path: str, value: Any) -> None:
    """Put an unknown key back where it came from (a dotted path of tables)."""
    *parents, last = path.split(".")
    for name in parents:
        table = table.setdefault(name, {})
        if not isinstance(table, dict):  # a known key of another type: leave it
            return
    table.setdefault(last, value)
