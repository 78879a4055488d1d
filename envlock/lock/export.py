"""From a lock to what installers read: the install plan, requirements, pylock, Dockerfile.

Pure: a function of the Lock (and the matrix, for another torch variant). The plan
is shared by `envlock export` and `envlock restore`, so that what restore installs is
exactly what export writes.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from envlock import DISTRIBUTION
from envlock.errors import LockError, RestoreError, UsageError
from envlock.lock import valid
from envlock.lock.closure import (
    DEFAULT_INDEX,
    INSTALLER_PACKAGES,
    TORCH_FAMILY,
    UNRESTORABLE_KINDS,
    follows_variant,
    torch_pin_for,
    unrestorable_reason,
)
from envlock.lock.fields import field_path, lock_fields
from envlock.lock.model import SELF_PACKAGES, Lock, LockedTorch, lock_problems
from envlock.lock.version import LockVersion

# Not installed by a restore: the installer's tooling (the new venv brings its own) and
# envlock itself (verify runs from outside the restored environment).
_NOT_INSTALLED = INSTALLER_PACKAGES | SELF_PACKAGES
_FULL_CLOSURE = LockVersion(1, 1)

# Environment variables a Dockerfile sets: those that change numerics or loading and
# mean the same in another container (a library path names this machine's layout).
_NOT_IN_IMAGE = ("LD_LIBRARY_PATH", "LD_PRELOAD")

# Names a Dockerfile COPYs and its RUN lines pass to the shell: exactly the characters
# shlex.quote leaves bare, so the name is the same word for COPY (which splits on
# whitespace and expands $VARS) and for sh; no leading '-' (a COPY flag, a pip option).
_PLAIN = re.compile(r"[A-Za-z0-9_@%+=:,./][A-Za-z0-9_@%+=:,./-]*")
# What FROM takes after a validated image reference (api.export_lock parses it).
_IMAGE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:@\[\]-]*")
_PYTHON_MINOR = re.compile(r"[0-9]{1,4}\.[0-9]{1,4}")


@dataclass(frozen=True, kw_only=True, slots=True)
class Pin:
    name: str
    version: str
    hashes: tuple[str, ...] = ()  # sha256 hex of the files that fit the locked platform
    files: tuple[tuple[str, str, str], ...] = ()  # (file name, url, sha256)


@dataclass(frozen=True, kw_only=True, slots=True)
class InstallPlan:
    pins: tuple[Pin, ...]
    indexes: tuple[str, ...]  # extra indexes the torch variant needs (not the default)
    complete: bool  # the lock holds the full closure: install with --no-deps / sync
    hashed: bool  # every pin carries hashes
    skipped: dict[str, str] = field(default_factory=dict)  # name==version -> why
    variant: str | None = None  # the torch variant installed
    differs: tuple[str, ...] = ()  # lock fields that will differ (another --variant)


def plan_install(
    lock: Lock,
    *,
    variant: str | None = None,
    default_variant: str | None = None,
    torch_index: str | None = None,
) -> InstallPlan:
    """What installing `lock` means: the exact pins, the indexes, what cannot be restored.

    variant: another CUDA variant of the same torch release (checked against the matrix
    by the caller; `default_variant` is the one the default index carries for it).
    torch_index: an index (a mirror) to use instead of the variant's; "none": the
    installer's own configuration only.
    """
    _check_inputs(lock, variant, torch_index)
    locked_variant = lock.torch.variant if lock.torch else None
    other = _other_variant(lock, variant)
    found = _pinned(lock, other, default_variant)
    differs = found.differs
    if other is not None:
        moved = found.torch_index != (lock.torch.index if lock.torch else None)
        differs = [*_variant_fields(index_moves=moved), *differs]
    torch_idx = found.torch_index
    if torch_index is not None:
        torch_idx = None if torch_index == "none" else torch_index
    hashed = bool(found.pins) and all(p.hashes for p in found.pins)
    return InstallPlan(
        pins=tuple(found.pins),
        indexes=(torch_idx,) if torch_idx and torch_idx != DEFAULT_INDEX else (),
        complete=lock.version >= _FULL_CLOSURE and other is None,
        hashed=hashed and other is None,
        skipped=found.skipped,
        variant=other or locked_variant,
        differs=tuple(differs),
    )


def _other_variant(lock: Lock, variant: str | None) -> str | None:
    """`variant` when it is another than the locked one (None: the locked one), and the
    lock holds a torch to choose it for."""
    if variant is None or variant == (lock.torch.variant if lock.torch else None):
        return None
    if lock.torch is None or "torch" not in lock.packages:
        raise RestoreError(f"--variant {variant}: the lock holds no torch to choose a variant of")
    return variant


@dataclass(kw_only=True, slots=True)
class _Pinned:
    """What the locked distributions come to: plan_install's working state."""

    torch_index: str | None
    pins: list[Pin] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # name==version -> why
    differs: list[str] = field(default_factory=list)  # packages another variant changes


def _pinned(lock: Lock, variant: str | None, default_variant: str | None) -> _Pinned:
    """The pins of the locked distributions (bar the installer's own), those that cannot
    be restored, and under another `variant` the torch family's pins from its index."""
    out = _Pinned(torch_index=lock.torch.index if lock.torch else None)
    wanted = {**lock.packages, **{k: v for k, v in lock.tools.items() if k not in _NOT_INSTALLED}}
    for name, version in sorted(wanted.items()):
        if name in _NOT_INSTALLED:
            continue
        source = lock.sources.get(name)
        if source is not None and source.kind in UNRESTORABLE_KINDS:
            out.skipped[f"{name}=={version}"] = unrestorable_reason(source.kind)
        elif variant is not None and follows_variant(name):
            out.differs.append(f"packages.{name}")  # the installer picks the variant's own
        elif variant is not None and name in TORCH_FAMILY:
            pin = torch_pin_for(version, variant, default_variant)
            if pin.version != version:
                out.differs.append(f"packages.{name}")
            out.pins.append(Pin(name=name, version=pin.version))
            out.torch_index = pin.index
        else:
            files = lock.files.get(name, ())
            out.pins.append(
                Pin(
                    name=name,
                    version=version,
                    hashes=tuple(sorted({f.sha256 for f in files})),
                    files=tuple((f.name, f.url, f.sha256) for f in files),
                )
            )
    return out


def _variant_fields(*, index_moves: bool) -> list[str]:
    """The lock fields another variant of the same torch changes (the model's `variant`):
    the variant first, then as the lock writes them; the index only when it moves."""
    fields = lock_fields()
    variant, index = field_path(LockedTorch, "variant"), field_path(LockedTorch, "index")
    paths = [p for p in fields.paths(lambda m: m.variant) if index_moves or p != index]
    return sorted(paths, key=lambda p: p != variant)


def _check_inputs(lock: Lock, variant: str | None, torch_index: str | None) -> None:
    """The lock (a Lock built in Python is not read from a file), the options, and
    that there is something to install."""
    for path, why in lock_problems(lock):
        raise LockError(f"the lock: in '{path}': {why}")
    if torch_index is not None and torch_index != "none" and valid.url_problem(torch_index):
        raise UsageError(f"--torch-index: {valid.url_problem(torch_index)} (or 'none')")
    if variant is not None and valid.variant_problem(variant):
        raise UsageError(f"--variant: {valid.variant_problem(variant)}")
    if not lock.packages:
        raise RestoreError("the lock holds no [packages]: nothing to install")


def requirements_text(plan: InstallPlan, *, header: str = "") -> str:
    """pip/uv requirements: `name==version` (with --hash when every pin has one), the
    index lines the torch variant needs, and comments for what cannot be restored."""
    _check_plan(plan)
    # pip reads a file as str.splitlines() gives it, joins a line that ends in a backslash
    # with the next, drops text after ' #', and shlex-splits option values: comments
    # hold no line break, and every value is of a grammar that holds none of these.
    out = [f"# {valid.comment(header)}"] if header else []
    if not plan.complete:
        out.append("# the lock does not hold the full closure: install with dependencies")
    out += [f"--extra-index-url {shlex.quote(url)}" for url in plan.indexes]
    for pin in plan.pins:
        line = f"{pin.name}=={pin.version}"
        if plan.hashed:
            line += "".join(f" \\\n    --hash=sha256:{h}" for h in pin.hashes)
        out.append(line)
    for what, why in plan.skipped.items():
        out.append(f"# not restorable: {valid.comment(what)}: {valid.comment(why)}")
    return "\n".join(out) + "\n"


def _check_plan(plan: InstallPlan) -> None:
    """Refuse what the requirement and pylock grammars cannot hold (a plan made from a
    valid lock never is: this guards plans built by hand)."""
    for pin in plan.pins:
        why = valid.name_problem(pin.name) or valid.version_problem(pin.version)
        why = why or next(filter(None, map(valid.sha256_problem, pin.hashes)), None)
        for name, url, sha in pin.files:
            why = why or valid.file_name_problem(name) or valid.url_problem(url)
            why = why or valid.sha256_problem(sha)
        if why:
            raise LockError(f"cannot export {valid.show(pin.name)}: {why}")
    for url in plan.indexes:
        why = valid.url_problem(url)
        if why:
            raise LockError(f"cannot export the index: {why}")


def pylock_document(lock: Lock, plan: InstallPlan, *, created_by: str) -> dict[str, object]:
    """A PEP 751 pylock.toml, built and validated with packaging.pylock. Needs the files
    and hashes `envlock lock --hashes` records (a pylock names every file with its hash)."""
    from packaging.pylock import Package, PackageWheel, Pylock, PylockValidationError
    from packaging.specifiers import SpecifierSet
    from packaging.utils import canonicalize_name
    from packaging.version import Version

    python = _pylock_inputs(lock, plan)
    packages = []
    for pin in plan.pins:
        wheels = [
            PackageWheel(name=name, url=url, hashes={"sha256": sha})
            for name, url, sha in pin.files
            if name.endswith(".whl")
        ]
        sdists = [(n, u, s) for n, u, s in pin.files if not n.endswith(".whl")]
        sdist = None
        if not wheels and sdists:
            from packaging.pylock import PackageSdist

            n, u, s = sdists[0]
            sdist = PackageSdist(name=n, url=u, hashes={"sha256": s})
        packages.append(
            Package(
                name=canonicalize_name(pin.name),
                version=Version(pin.version),
                wheels=wheels or None,
                sdist=sdist,
            )
        )
    doc = Pylock(
        lock_version=Version("1.0"),
        created_by=created_by,
        requires_python=SpecifierSet(f"=={python}.*") if python else None,
        packages=packages,
    )
    try:
        doc.validate()
    except PylockValidationError as exc:
        raise LockError(f"the pylock built from this lock is not valid: {exc}") from None
    return dict(doc.to_dict())


def _pylock_inputs(lock: Lock, plan: InstallPlan) -> str | None:
    """Refuse what a pylock cannot say; the Python minor it requires (or None)."""
    _check_plan(plan)
    missing = [p.name for p in plan.pins if not p.files]
    if missing:
        raise RestoreError(
            f"--format pylock needs file hashes, and the lock has none for {missing[0]}"
            + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
            + ": regenerate it with `envlock lock --hashes`"
        )
    python = lock.system.python if lock.system else None
    if python and not _PYTHON_MINOR.fullmatch(python):
        raise LockError(f"in 'system.python': {valid.show(python)} is not MAJOR.MINOR")
    return python


def dockerfile_text(
    lock: Lock,
    plan: InstallPlan,
    *,
    base: str,
    lock_name: str,
    requirements_name: str,
    wheelhouse: str | None = None,
    envlock_spec: str = DISTRIBUTION,
) -> str:
    """A Dockerfile that recreates the locked software on `base`: the pinned install from
    the exported requirements, the locked variables that change numerics or loading, a
    non-root user, and `envlock verify --scope software` as the last build step."""
    env = _dockerfile_inputs(lock, base, lock_name, requirements_name, wheelhouse, envlock_spec)
    q = shlex.quote
    pip = "python -m pip install --no-cache-dir --disable-pip-version-check"
    find = f" --no-index --find-links /tmp/envlock/{q(wheelhouse)}" if wheelhouse else ""
    lines = [
        f"# generated by envlock export from {valid.comment(lock_name)} (lock-version {lock.version})",
        f"FROM {base}",
        "ENV PIP_NO_INPUT=1 PYTHONDONTWRITEBYTECODE=1",
    ]
    if env:
        lines.append("ENV " + " \\\n    ".join(f"{k}={_docker_quote(v)}" for k, v in env.items()))
    lines += [
        "RUN useradd --create-home --uid 1000 envlock || adduser -D -u 1000 envlock",
        f"COPY {q(requirements_name)} {q(lock_name)} /tmp/envlock/",
    ]
    if wheelhouse:
        lines.append(f"COPY {q(wheelhouse)} /tmp/envlock/{q(wheelhouse)}")
    deps = " --no-deps" if plan.complete else ""
    job, tool = "/home/envlock/venv", "/home/envlock/.envlock"
    lines += [
        "USER envlock",
        "WORKDIR /home/envlock",
        f"ENV VIRTUAL_ENV={job} PATH={job}/bin:$PATH",
        _make_venv(job, wheelhouse),
        f"RUN {job}/bin/{pip}{find}{deps} -r /tmp/envlock/{q(requirements_name)}",
        "# envlock checks the result from its own venv, so that it is not part of the job's",
        _make_venv(tool, wheelhouse),
        f"RUN {tool}/bin/{pip}{find} {q(envlock_spec)}",
        f"RUN {tool}/bin/envlock verify /tmp/envlock/{q(lock_name)} --python {job}/bin/python "
        "--scope software --no-determinism",
    ]
    return "\n".join(lines) + "\n"


def _dockerfile_inputs(
    lock: Lock,
    base: str,
    lock_name: str,
    requirements_name: str,
    wheelhouse: str | None,
    envlock_spec: str,
) -> dict[str, str]:
    """Refuse what a Dockerfile line cannot hold as one word (exit 2 for an option, 3 for
    the lock); the variables the image sets."""
    if not _IMAGE.fullmatch(base):
        raise UsageError(f"--base {valid.show(base)}: not an image reference")
    for what, name in (
        ("the lock's file name", lock_name),
        ("the requirements file name", requirements_name),
        ("--wheelhouse", wheelhouse),
    ):
        if name is not None and not _PLAIN.fullmatch(name):
            raise UsageError(
                f"{what} {valid.show(name)} cannot be named in a Dockerfile: use letters, "
                "digits and _@%+=:,./- only (not first: -)"
            )
    if not envlock_spec or envlock_spec.startswith("-") or valid.text_problem(envlock_spec):
        raise UsageError(
            f"--envlock-spec {valid.show(envlock_spec)}: not a requirement "
            "(empty, an option, or a control character)"
        )
    env = {k: v for k, v in lock.env.items() if k not in _NOT_IN_IMAGE}
    for key, value in env.items():
        why = valid.env_key_problem(key) or valid.text_problem(value)
        if why:
            raise LockError(f"in 'env': {why}")
    return env


def _make_venv(path: str, wheelhouse: str | None) -> str:
    """A venv with pip: from the base's ensurepip, or (for builds without network, on
    bases without pip such as Debian's python3) from the pip wheel in the wheelhouse."""
    if not wheelhouse:
        return f"RUN python3 -m venv {path}"
    house = f"/tmp/envlock/{shlex.quote(wheelhouse)}"
    return (
        f"RUN python3 -m venv --without-pip {path} && {path}/bin/python "
        f'"$(ls {house}/pip-*.whl | head -n 1)/pip" install --no-cache-dir --no-index '
        f"--find-links {house} pip"
    )


def _docker_quote(value: str) -> str:
    """A value for an ENV line: double-quoted, with Docker's escapes (the value holds no
    control character: dockerfile_text refuses those)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"'
