"""The lock as a typed object: one frozen dataclass per table, kebab-case in TOML.

`Lock.from_dict` reads what tomllib parsed (after the version gate) and
raises LockError naming the dotted path of bad data; `Lock.to_dict` gives
the table tomli-w writes (no None: TOML has no null). Keys a lock holds that
this model does not know (a newer minor version, a hand edit) are kept in
`Lock.unknown` as dotted paths, and verify compares them as exact.

Each field carries what the rest of envlock needs to know about it (a
fieldmeta.FieldMeta in its `metadata`; the sections' own fields in sections.py):
verify's rule and the reason it prints, whether only torch's live child observes it,
the lock-version that introduced it, whether it describes the machine. Verify, export
and fleet derive their tables from it (fields.lock_fields), so a field is added or
renamed here and nowhere else.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field

from envlock import DISTRIBUTION, typed
from envlock.digestfacts import DeterminismFacts
from envlock.errors import LockError
from envlock.lock.fieldmeta import V1_1, FieldMeta, about, meta_of, written
from envlock.lock.sections import (
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
from envlock.severity import Severity

# the section tables are importable from here, where Lock holds them
__all__ = [
    "DEFAULT_LOCK_NAME",
    "HARDWARE_SECTIONS",
    "MAX_DEPTH",
    "RULE_KINDS",
    "SCOPES",
    "SELF_PACKAGES",
    "TOOL_PACKAGES",
    "Lock",
    "LockHeader",
    "LockMeta",
    "LockedCuda",
    "LockedDriver",
    "LockedFile",
    "LockedGpu",
    "LockedHardware",
    "LockedImage",
    "LockedSource",
    "LockedSystem",
    "LockedTorch",
    "lock_problems",
]

DEFAULT_LOCK_NAME = "envlock.lock.toml"
SCOPES = ("full", "software")
# How verify compares a field; a [rules] table in the lock maps field patterns to these.
RULE_KINDS = ("exact", "at-least", "same", "warn", "ignore")

# envlock itself and its own requirements (pyproject's [project] dependencies and extras
# but torch; a test holds the two equal) are the tool's, recorded in [tools] and never
# drift, so that installing or upgrading envlock cannot turn `run`/`preflight` into
# drift: unless the job's own distributions require one too (tomli for a project's
# config, nvidia-ml-py for its monitoring), read from the installed dependency graph
# (the probe's packages.tool_dependents; lock/build.py): that one is the job's, locked
# in [packages] and checked. What they pull in (requests, pygments, ...) is the job's
# anyway. envlock itself is under both names: its distribution, and `envlock`, the name
# its installs had before the rename (envlock on PyPI is another project: issue 22).
# The probe names them too (probe/packages.py: it is stdlib-only and imports no model; a
# test holds the two equal).
SELF_PACKAGES = frozenset({DISTRIBUTION, "envlock"})
TOOL_PACKAGES = SELF_PACKAGES | frozenset(
    {"nvidia-ml-py", "packaging", "tomli", "tomli-w", "rich", "docker", "msgspec", "pyyaml"}
)


@dataclass(frozen=True, kw_only=True, slots=True)
class Lock:
    envlock: LockHeader = field(metadata=about(FieldMeta(rule="ignore", per_rank=True)))
    meta: LockMeta = field(
        default_factory=LockMeta, metadata=about(FieldMeta(rule="ignore", per_rank=True))
    )
    system: LockedSystem | None = field(
        default=None, metadata=about(FieldMeta(unavailable=lambda f: f.system.unavailable))
    )
    driver: LockedDriver | None = field(
        default=None,
        metadata=about(
            FieldMeta(
                hardware=True,
                fix="install a driver at least as new as the locked one",
                # nvidia-smi may tell the version when NVML cannot
                unavailable=lambda f: f.driver.unavailable if f.driver.version is None else None,
            )
        ),
    )
    hardware: LockedHardware | None = field(
        default=None,
        metadata=about(
            FieldMeta(
                hardware=True,
                fix="run on the locked hardware, or verify with --scope software",
                unavailable=lambda f: (
                    (f.driver.unavailable or "GPUs could not be listed")
                    if f.driver.gpus is None
                    else None
                ),
            )
        ),
    )
    torch: LockedTorch | None = field(
        default=None,
        metadata=about(
            FieldMeta(
                rule="exact",
                extra=Severity.ERROR,
                why="another torch build: other kernels, defaults and bugs",
                unavailable=lambda f: f.torch.unavailable,
            )
        ),
    )
    cuda: LockedCuda | None = field(
        default=None, metadata=about(FieldMeta(unavailable=lambda f: f.cuda.unavailable))
    )
    packages: dict[str, str] = field(
        default_factory=dict,
        metadata=about(
            FieldMeta(
                rule="exact",
                extra=Severity.WARNING,
                why="a locked package changed version",
                fix="pip install '{key}=={locked}'",
                unavailable=lambda f: f.packages.unavailable,
                keys=(
                    ("torch", FieldMeta(installs_torch=True)),
                    # envlock itself, written by older envlocks: the tool's (its
                    # requirements in a 1.0 lock: verify's _tool_rules)
                    *((name, FieldMeta(rule="ignore")) for name in sorted(SELF_PACKAGES)),
                ),
            )
        ),
    )
    # the installer's and envlock's own: recorded, never drift
    tools: dict[str, str] = field(
        default_factory=dict, metadata=about(FieldMeta(rule="ignore", since=V1_1))
    )
    sources: dict[str, LockedSource] = field(
        default_factory=dict,
        metadata=about(
            FieldMeta(
                rule="exact",
                extra=Severity.WARNING,
                why="where a distribution came from (a URL, a VCS commit, a local or editable path)",
                since=V1_1,
            )
        ),
    )
    # lock --hashes: what an installer checks, not what verify observes
    files: dict[str, tuple[LockedFile, ...]] = field(
        default_factory=dict, metadata=about(FieldMeta(rule="ignore", since=V1_1))
    )
    env: dict[str, str] = field(
        default_factory=dict,
        metadata=about(
            FieldMeta(
                rule="exact",
                extra=Severity.ERROR,
                why="this variable changes which libraries load or how kernels compute",
                fix="export {key}={locked!r}",
                unavailable=lambda f: f.env.unavailable,
                keys=(
                    (
                        "OMP_NUM_THREADS",
                        FieldMeta(
                            rule="exact",
                            severity=Severity.WARNING,
                            extra=Severity.INFO,
                            why="thread count (torchrun sets it per rank)",
                            per_rank=True,
                        ),
                    ),
                ),
            )
        ),
    )
    # native extensions linking torch/CUDA: site-packages path -> "sha256:<hex>"
    extensions: dict[str, str] = field(
        default_factory=dict,
        metadata=about(
            FieldMeta(
                rule="exact",
                extra=Severity.INFO,
                why="an extension file was rebuilt or replaced: other GPU code, other torch symbols",
                fix="reinstall the locked build of {key} (its file digest is in the lock), "
                "or regenerate the lock if the rebuild is intended",
                since=V1_1,
                unavailable=lambda f: f.extensions.unavailable,
            )
        ),
    )
    image: LockedImage | None = field(
        default=None,
        metadata=about(
            FieldMeta(rule="exact", why="the image content changed although its name may not have")
        ),
    )
    # digests without timings; compared by determinism.compare, not field by field
    determinism: DeterminismFacts | None = field(
        default=None, metadata=about(FieldMeta(compared=False))
    )
    # field pattern -> rule kind: verify's input
    rules: dict[str, str] = field(default_factory=dict, metadata=about(FieldMeta(compared=False)))
    # dotted path -> value: keys this model does not know, written back as they were
    unknown: dict[str, object] = field(
        default_factory=dict, metadata=about(FieldMeta(compared=False, written=False))
    )
    # What build_lock left out or escaped so that the lock stays readable (printed by
    # `envlock lock`); never written, and not part of equality.
    notes: tuple[str, ...] = field(
        default=(), compare=False, metadata=about(FieldMeta(compared=False, written=False))
    )

    @property
    def version(self) -> LockVersion:
        return self.envlock.lock_version

    @property
    def scope(self) -> str:
        return self.envlock.scope

    @classmethod
    def from_dict(cls, data: dict[str, object], *, where: str = "lock") -> Lock:
        """The typed lock of a parsed (and version-gated) document; LockError names the path."""
        unknown: dict[str, object] = {}
        reader = typed.Reader(error=LockError, key=typed.kebab, unknown=unknown)
        version = LockVersion.parse(data, where)  # the gate: nothing is read before it
        if _deeper_than(data, MAX_DEPTH):
            raise LockError(f"{where}: tables nested deeper than {MAX_DEPTH} levels: not a lock")
        table = data["envlock"]
        assert isinstance(table, dict)  # the version gate read it as a table
        head = {k: v for k, v in table.items() if k != "lock-version"}
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
        # lock_problems first: the messages of _value_problems quote keys raw
        for path, why in itertools.chain(lock_problems(lock), _value_problems(lock)):
            raise LockError(f"{where}: in '{path}': {why}")
        return lock

    def to_dict(self) -> dict[str, object]:
        """The TOML table: fixed section order, kebab-case keys, no None, no timings."""
        out: dict[str, object] = typed.dump(
            self,
            key=typed.kebab,
            prune=True,
            skip=lambda f: not written(f),
        )
        header = out["envlock"]
        assert isinstance(header, dict)  # [envlock] is always written
        header["lock-version"] = str(self.version)
        for path, value in self.unknown.items():
            _put(out, path, value)
        return out


# Sections verified only under --scope full: they describe the machine, not the software.
HARDWARE_SECTIONS = tuple(
    f.name for f in dataclasses.fields(Lock) if (m := meta_of(f)) is not None and m.hardware
)


def _value_problems(lock: Lock) -> Iterator[tuple[str, str]]:
    """(dotted path, why) for a scope, rule or determinism value the reader refuses."""
    if lock.scope not in SCOPES:
        yield "envlock.scope", f"expected one of {', '.join(SCOPES)}, got {lock.scope!r}"
    for pattern, kind in lock.rules.items():
        if kind not in RULE_KINDS:
            yield f"rules.{pattern}", f"unknown rule {kind!r} (one of {', '.join(RULE_KINDS)})"
    det = lock.determinism
    if det is None:
        return
    if det.device not in ("cpu", "cuda"):
        yield "determinism.device", f"expected cpu or cuda, got {det.device!r}"
    for name, c in det.classes.items():
        if not c.digest.startswith("sha256:"):
            yield f"determinism.classes.{name}.digest", f"expected 'sha256:<hex>', got {c.digest!r}"


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


def _deeper_than(value: object, limit: int) -> bool:
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


def _put(table: dict[str, object], path: str, value: object) -> None:
    """Put an unknown key back where it came from (a dotted path of tables)."""
    *parents, last = path.split(".")
    for name in parents:
        inner = table.setdefault(name, {})
        if not isinstance(inner, dict):  # a known key of another type: leave it
            return
        table = inner
    table.setdefault(last, value)
