"""The lock's fields know their rules (envlock/lock/fields.py): verify's rules, the live,
new-in-1.1, hardware and variant fields are read from the model, and the schema and every
string in the code that names a lock field are held to it, so renaming a field cannot
leave a stale rule behind."""

from __future__ import annotations

import ast
import dataclasses
import functools
import json
import operator
import re
import types
import typing
from pathlib import Path
from typing import Any

import pytest

from envlock.lock import Lock, LockVersion, build_lock, flatten, flatten_table
from envlock.lock.fieldmeta import FieldMeta, about
from envlock.lock.fields import LockFields, field_path, lock_fields
from envlock.lock.model import LockedFile, LockedGpu, LockedSource, LockedSystem, LockedTorch
from envlock.verify import DEFAULT_RULES, _Rules, verify
from tests.conftest import REPO
from tests.lock.facts_fixtures import cuda_venv_facts, h100_facts, rich_facts

SCHEMA = json.loads((REPO / "schemas" / "envlock.lock.schema.json").read_text())
PACKAGE = REPO / "envlock"
FIELDS = lock_fields()


# ---------------------------------------------------------------- a renamed copy of the model
def renamed(
    owner: type, attr: str, new: str, *, meta: FieldMeta | None = None, root: type = Lock
) -> type:
    """A copy of the model under `root` whose `owner` has field `attr` called `new` (its
    metadata kept, or `meta`), with every dataclass that holds it copied too."""
    memo: dict[type, type] = {}

    def retype(hint: Any) -> Any:
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if origin in (typing.Union, types.UnionType):
            return functools.reduce(operator.or_, [retype(a) for a in args])
        if origin in (tuple, dict):
            return origin[tuple(a if a is Ellipsis else retype(a) for a in args)]
        return copy(hint) if dataclasses.is_dataclass(hint) else hint

    def copy(cls: type) -> type:
        if cls not in memo:
            memo[cls] = cls  # kept unless something in it is renamed
            hints = typing.get_type_hints(cls)
            specs, changed = [], False
            for f in dataclasses.fields(cls):  # type: ignore[arg-type]
                kw: dict[str, Any] = {"metadata": f.metadata, "compare": f.compare}
                if f.default is not dataclasses.MISSING:
                    kw["default"] = f.default
                if f.default_factory is not dataclasses.MISSING:
                    kw["default_factory"] = f.default_factory
                name = f.name
                if cls is owner and f.name == attr:
                    name = new
                    kw["metadata"] = about(meta) if meta is not None else f.metadata
                hint = retype(hints[f.name])
                changed = changed or (name, hint, kw["metadata"]) != (
                    f.name,
                    hints[f.name],
                    f.metadata,
                )
                specs.append((name, hint, dataclasses.field(**kw)))
            if changed:
                memo[cls] = dataclasses.make_dataclass(
                    cls.__name__, specs, frozen=True, kw_only=True
                )
        return memo[cls]

    return copy(root)


def _entry_attrs() -> list[tuple[str, type, str]]:
    """(path, owner, attr) of every section and dataclass field verify compares (not
    determinism's: it is not compared field by field)."""
    return [
        (e.path, e.owner, e.attr)
        for e in FIELDS.entries
        if e.kind in ("field", "section") and e.owner is not None and e.section.compared
    ]


# ---------------------------------------------------------------- the schema, held to the model
def schema_paths(node: dict[str, Any], path: str = "") -> list[str]:
    """Every property path the schema declares, with "*" for a table's keys and "[*]"
    for an array's items (the form of LockFields.document)."""
    out: list[str] = []
    for key, sub in node.get("properties", {}).items():
        p = f"{path}.{key}" if path else key
        out += [p, *schema_paths(sub, p)]
    if isinstance(node.get("additionalProperties"), dict):
        out += [f"{path}.*", *schema_paths(node["additionalProperties"], f"{path}.*")]
    if isinstance(node.get("items"), dict):
        out += [f"{path}[*]", *schema_paths(node["items"], f"{path}[*]")]
    return out


def schema_problems(fields: LockFields, schema: dict[str, Any] = SCHEMA) -> list[str]:
    declared, model = set(schema_paths(schema)), set(fields.document)
    return [
        f"the schema declares {p}, the model has no such field" for p in sorted(declared - model)
    ] + [f"the model has {p}, the schema does not declare it" for p in sorted(model - declared)]


def _schema_node(path: str) -> dict[str, Any]:
    node = SCHEMA
    for part in re.findall(r"[^.\[\]]+|\[\*\]", path):
        node = (
            node["items"]
            if part == "[*]"
            else (node["additionalProperties"] if part == "*" else node["properties"][part])
        )
    return node


def test_the_schema_declares_exactly_the_fields_of_the_model() -> None:
    assert FIELDS.document  # the walk found the model
    assert schema_problems(FIELDS) == []


def test_a_field_new_in_a_lock_version_says_so_in_the_schema() -> None:
    """`since` is the model's; the schema's descriptions name the same lock-version."""
    for path in FIELDS.document:
        meta = FIELDS.by_path[path].meta if path in FIELDS.by_path else None
        since = meta.since if meta is not None else LockVersion(1, 0)
        said = re.findall(r"lock-version (\d+\.\d+)", _schema_node(path).get("description", ""))
        assert said == ([str(since)] if since > LockVersion(1, 0) else []), path


# ---------------------------------------------------------------- every field has its rule
def test_every_compared_field_gets_a_rule_from_the_model() -> None:
    """No field falls back to verify's catch-all exact comparison: it says its rule, or its
    section does for it."""
    assert FIELDS.uncovered == ()
    rule_for = _Rules(list(DEFAULT_RULES))
    for facts in (cuda_venv_facts(), h100_facts(), rich_facts()):
        for path in flatten(build_lock(facts)):
            assert rule_for(path).pattern != "*", path


def test_a_field_without_a_rule_in_a_section_without_one_is_named() -> None:
    """The check above can fail: system.arch saying nothing, in a section that says no
    rule for its fields, would fall back to exact."""
    model = renamed(LockedSystem, "arch", "arch", meta=FieldMeta())
    assert lock_fields(model).uncovered == ("system.arch",)


# ---------------------------------------------------------------- a rename is caught
@pytest.mark.parametrize(("path", "owner", "attr"), _entry_attrs(), ids=lambda v: str(v))
def test_renaming_a_field_fails_the_schema_check_and_takes_its_rules_along(
    path: str, owner: type, attr: str
) -> None:
    """Rename any compared field in a copy of the model: the schema no longer matches it
    (so the rename cannot pass unnoticed), and everything verify, export and fleet read
    from the model moves to the new name: rule, reason, liveness, version, scope."""
    fields = lock_fields(renamed(owner, attr, f"{attr}_renamed"))
    new = re.sub(r"[^.\]]+$", f"{attr.replace('_', '-')}-renamed", path)

    def moved(p: str) -> str:
        return re.sub(rf"^{re.escape(path)}(?=$|[.\[])", new, p)

    assert set(schema_problems(fields)) == {
        f"the schema declares {p}, the model has no such field"
        for p in FIELDS.document
        if moved(p) != p
    } | {
        f"the model has {moved(p)}, the schema does not declare it"
        for p in FIELDS.document
        if moved(p) != p
    }

    assert fields.rules() == tuple((moved(p), m) for p, m in FIELDS.rules())
    for flag in ("live", "variant", "per_rank", "hardware", "installs_torch", "unavailable"):
        get = operator.attrgetter(flag)
        assert fields.prefixes(get) == tuple(map(moved, FIELDS.prefixes(get))), flag
    assert fields.newer_than(LockVersion(1, 0)) == tuple(
        map(moved, FIELDS.newer_than(LockVersion(1, 0)))
    )
    assert fields.uncovered == ()


# ---------------------------------------------------------------- strings naming lock fields
# Modules that name the flattened lock's fields in strings; elsewhere dotted strings name
# Facts fields (fleet/files.py's per-node values, the checks), modules or torch APIs.
LOCK_MODULES = ("verify.py", "lock/*.py", "fleet/compare.py")
# Dotted strings in those modules that are not lock fields, with why.
NOT_FIELDS = {
    "envlock.lock.toml": "the lock's default file name",
    "envlock.lock.": "the lock package's module names",
}
_DOTTED = re.compile(r"[a-z][a-z0-9-]*(?:\.[A-Za-z0-9_-]+|\[(?:\*|\d+)\])+\.?")


def lock_strings(paths: list[Path]) -> list[tuple[str, int, str]]:
    """(file, line, text) of every string literal that is a dotted name, and of the
    constant head of every f-string ("packages." of f"packages.{name}")."""
    out = []
    for file in paths:
        for node in ast.walk(ast.parse(file.read_text())):
            text = None
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
            elif isinstance(node, ast.JoinedStr) and node.values:
                head = node.values[0]
                if isinstance(head, ast.Constant) and isinstance(head.value, str):
                    text = head.value
            if text is not None and _DOTTED.fullmatch(text) and text not in NOT_FIELDS:
                out.append((file.relative_to(REPO).as_posix(), node.lineno, text))
    return out


def _names_a_field(text: str, fields: LockFields) -> bool:
    """Whether `text` is (a prefix of) a path of the model, a table's keys being any."""
    parts = re.findall(r"[^.\[\]]+|\[[^\]]*\]", text.rstrip("."))
    parts = ["[*]" if p.startswith("[") else p for p in parts]
    for doc in fields.document:
        want = re.findall(r"[^.\[\]]+|\[\*\]", doc)
        n = len(want)
        # a table key may hold dots (packages.zope.interface)
        long_key = want[-1] == "*" and len(parts) > n
        parts_cut = [*parts[: n - 1], ".".join(parts[n - 1 :])] if long_key else parts
        if len(parts_cut) <= n and all(
            w == "*" or w == p for w, p in zip(want, parts_cut, strict=False)
        ):
            return True
    return False


def stale_strings(fields: LockFields) -> list[str]:
    sections = {e.path for e in fields.sections()}
    files = sorted({p for pattern in LOCK_MODULES for p in PACKAGE.glob(pattern)})
    return [
        f"{file}:{line}: {text!r} names no field of the lock"
        for file, line, text in lock_strings(files)
        if re.split(r"[.\[]", text, maxsplit=1)[0] in sections and not _names_a_field(text, fields)
    ]


def test_every_lock_field_named_in_a_string_exists() -> None:
    files = sorted({p for pattern in LOCK_MODULES for p in PACKAGE.glob(pattern)})
    found = lock_strings(files)
    assert any(text == "torch.index" for _, _, text in found)  # the scan sees them
    assert stale_strings(FIELDS) == []


def test_a_renamed_field_still_named_in_a_string_is_reported() -> None:
    """torch.index is named in the reader's messages (model.py): renaming the field
    without them is caught, although no rule of verify's names it any more."""
    model = renamed(LockedTorch, "index", "index_url")
    stale = stale_strings(lock_fields(model))
    assert stale and all("'torch.index' names no field" in s for s in stale), stale
    assert any(s.startswith("envlock/lock/model.py:") for s in stale)


# ---------------------------------------------------------------- what the model drives
def test_field_path_names_a_field_and_refuses_a_missing_one() -> None:
    assert field_path(LockedTorch, "index") == "torch.index"
    assert field_path(LockedGpu, "compute_capability") == "hardware.gpus[*].compute-capability"
    with pytest.raises(LookupError, match=r"no field LockedTorch\.cudnn_version"):
        field_path(LockedTorch, "cudnn_version")


def _locks() -> list[Lock]:
    cuda, h100 = cuda_venv_facts(), h100_facts()
    no_gpus = h100.replace(driver=dataclasses.replace(h100.driver, gpus=[]))
    locks = [
        build_lock(facts, lockable=lockable)
        for facts in (cuda, h100, rich_facts(), no_gpus)  # no_gpus: "hardware.gpus" = []
        for lockable in (True, False)
    ]
    base = locks[0]
    assert base.torch is not None
    sha = "ab" * 32
    locks.append(  # what no recording holds: [sources], [files], empty and false values
        dataclasses.replace(
            base,
            sources={"mypkg": LockedSource(kind="vcs", url="https://x.test/r.git", commit="c1")},
            files={"numpy": (LockedFile(name="n.whl", url="https://x.test/n.whl", sha256=sha),)},
            torch=dataclasses.replace(base.torch, arch_flags=(), debug=False, hip=""),
            env={},
        )
    )
    return locks


@pytest.mark.parametrize("scope", ["full", "software"])
def test_flatten_reads_the_typed_lock_as_the_file_writes_it(scope: str) -> None:
    """The typed walk gives the fields, values and order of the written table."""
    for lock in _locks():
        table = lock.to_dict()
        skip = ("determinism", "rules") + (("driver", "hardware") if scope == "software" else ())
        written = flatten_table({k: v for k, v in table.items() if k not in skip})
        assert list(flatten(lock, scope=scope).items()) == list(written.items())


def test_verify_reads_the_typed_lock_without_writing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """No round trip through the TOML table for a lock whose keys the model knows."""
    facts = h100_facts()
    lock = build_lock(facts)
    drifted = facts.replace(torch=dataclasses.replace(facts.torch, version="2.13.0+cu130"))
    expected = verify(lock, drifted)
    assert expected

    def written(self: Lock) -> dict[str, Any]:
        raise AssertionError("verify wrote the lock's table")

    monkeypatch.setattr(Lock, "to_dict", written)
    assert verify(lock, drifted) == expected


def test_a_lock_version_1_0_is_not_told_about_fields_1_1_added() -> None:
    """[extensions] came with lock-version 1.1 (the model's `since`, as the schema says): a
    1.0 lock never held them, so the extensions observed now are not reported as 'not
    set in the lock', as torch.variant, [tools] and [sources] are not."""
    facts = rich_facts()
    assert facts.extensions.items
    assert "extensions." in FIELDS.newer_than(LockVersion(1, 0))
    lock = dataclasses.replace(build_lock(facts), extensions={})
    old = dataclasses.replace(
        lock, envlock=dataclasses.replace(lock.envlock, lock_version=LockVersion(1, 0))
    )
    assert not any(f.field.startswith("extensions.") for f in verify(old, facts))
    # a 1.1 lock without them is told
    assert any(f.field.startswith("extensions.") for f in verify(lock, facts))
