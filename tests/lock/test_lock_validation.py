"""A lock cannot inject installer options or build steps (issue 19, items 2 and 10).

The lock model validates on read: names are PEP 508 names, versions PEP 440, index and
file URLs http(s), hashes 64 lowercase hex digits, environment keys shell names, and no
string anywhere holds a control character (U+2028 and U+0085 included: pip splits a
requirements file with str.splitlines()). A lock that fails is one line, exit 3, naming
the dotted path. Export's options (--torch-index, --base, --wheelhouse, --envlock-spec,
the lock's own file name) are checked too: exit 2. What build_lock cannot write safely
it leaves out or escapes, with a note, so that every lock it writes reads back.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tomli_w
import tomllib

from envlock.errors import LockError, UsageError
from envlock.facts import Facts
from envlock.lock import build_lock, dumps_lock, loads_lock
from envlock.lock.export import plan_install, requirements_text
from tests.conftest import FIXTURES, load_fixture_json, run_envlock
from tests.lock.consumers import docker_instructions, pip_lines
from tests.lock.facts_fixtures import rich_facts

SHA = "0123456789abcdef" * 4
EVIL = "http://evil.example/simple"


def _doc() -> dict[str, Any]:
    return tomllib.loads(dumps_lock(build_lock(rich_facts(), created="2026-01-01T00:00:00Z")))


def _text(mutate: Callable[[dict[str, Any]], object]) -> str:
    doc = _doc()
    mutate(doc)
    return tomli_w.dumps(doc)


def _set(*path: str | int, value: Any) -> Callable[[dict[str, Any]], object]:
    def mutate(doc: dict[str, Any]) -> None:
        table: Any = doc
        for key in path[:-1]:
            table = table.setdefault(key, {}) if isinstance(key, str) else table[key]
        table[path[-1]] = value

    return mutate


def _rename(table: str, old: str, new: str) -> Callable[[dict[str, Any]], object]:
    return lambda doc: doc[table].__setitem__(new, doc[table].pop(old))


HOSTILE_LOCKS = {
    "name-newline": (_rename("packages", "triton", f"triton\n--index-url {EVIL}"), "'packages'"),
    "name-u2028": (_rename("packages", "triton", "triton\u2028-r /etc/passwd"), "'packages'"),
    "version-newline": (_set("packages", "triton", value="1.14.0\n-r /etc/passwd"), "packages.triton"),
    "version-cr": (_set("packages", "triton", value=f"1.14.0\r--index-url {EVIL}"), "packages.triton"),
    "version-nel": (_set("packages", "triton", value="1.14.0\x85--trusted-host x"), "packages.triton"),
    "version-backslash": (_set("packages", "triton", value="1.14.0\\"), "packages.triton"),
    "version-not-pep440": (_set("packages", "triton", value="1.1build1"), "packages.triton"),
    "tool-name": (_rename("tools", "nvidia-ml-py", "nvidia-ml-py --index-url x"), "'tools'"),
    "index-newline": (_set("torch", "index", value=f"{EVIL}\n--trusted-host evil.example"), "torch.index"),
    "index-file": (_set("torch", "index", value="file:///etc/passwd"), "torch.index"),
    "index-javascript": (_set("torch", "index", value="javascript:alert(1)"), "torch.index"),
    "index-space": (_set("torch", "index", value=f"{EVIL} --trusted-host x"), "torch.index"),
    "variant": (_set("torch", "variant", value="cu130\nRUN x"), "torch.variant"),
    "file-url": (
        _set("files", "torch", value=[{"name": "t.whl", "url": "file:///t.whl", "sha256": SHA}]),
        "files.torch[0].url",
    ),
    "file-name": (
        _set("files", "torch", value=[{"name": "a/../t.whl", "url": EVIL, "sha256": SHA}]),
        "files.torch[0].name",
    ),
    "file-sha": (
        _set("files", "torch", value=[{"name": "t.whl", "url": EVIL, "sha256": SHA.upper()}]),
        "files.torch[0].sha256",
    ),
    "env-key": (_rename("env", "NCCL_DEBUG", "NCCL_DEBUG=1\nRUN x"), "'env'"),
    "env-key-space": (_rename("env", "NCCL_DEBUG", "NCCL DEBUG"), "'env'"),
    "env-value": (_set("env", "NCCL_DEBUG", value="WARN\nRUN touch /pwned"), "env.NCCL_DEBUG"),
    "env-value-nul": (_set("env", "NCCL_DEBUG", value="WARN\x00"), "env.NCCL_DEBUG"),
    "gpu-name": (_set("hardware", "gpus", 0, "name", value="NVIDIA H100\u2029x"), "hardware.gpus[0].name"),
    "target": (_set("meta", "target", value="host\x0bRUN x"), "meta.target"),
    "generated-by": (_set("envlock", "generated-by", value="envlock\r\n"), "envlock.generated-by"),
    "image-digest": (_set("image", "digest", value="x y"), "image.digest"),
    "extension": (_set("extensions", "a/b.so", value="md5:00"), "extensions.a/b.so"),
    "source-kind": (
        _set("sources", "triton", value={"kind": "url\n-r x", "url": EVIL}),
        "sources.triton.kind",
    ),
    "unknown-key": (_set("future", "note", value="a\u2028b"), "future.note"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(HOSTILE_LOCKS))
def test_a_hostile_lock_is_refused_on_read_naming_the_dotted_path(case: str) -> None:
    mutate, path = HOSTILE_LOCKS[case]
    with pytest.raises(LockError) as info:
        loads_lock(_text(mutate), where="envlock.lock.toml")
    message = str(info.value)
    assert message.startswith("envlock.lock.toml: in ") and path in message, message
    assert len(message.splitlines()) == 1 and not any(c in message for c in "\r\x85\u2028")


def test_the_unmodified_lock_reads_back() -> None:
    """The cases above fail for their mutation, not for the lock they start from."""
    lock = loads_lock(tomli_w.dumps(_doc()))
    assert lock.packages["triton"] and lock.env["NCCL_DEBUG"] == "WARN" and lock.image


@pytest.mark.parametrize("command", ["export", "export-dockerfile", "restore"])
def test_export_and_restore_of_an_injecting_lock_are_exit_3_and_write_nothing(
    command: str, tmp_path: Path
) -> None:
    lock = tmp_path / "envlock.lock.toml"
    lock.write_text(_text(_set("packages", "triton", value=f"1.14.0\n--index-url {EVIL}")))
    out = tmp_path / "out"
    args = {
        "export": ["export", str(lock), "-o", str(out)],
        "export-dockerfile": ["export", str(lock), "--format", "dockerfile", "-o", str(out)],
        "restore": ["restore", str(lock), "--venv", str(tmp_path / "v"), "--dry-run"],
    }[command]
    proc = run_envlock(args)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert str(lock) in proc.stderr and "packages.triton" in proc.stderr
    assert "--index-url" not in proc.stdout and not out.exists()
    assert not (tmp_path / "v").exists()


# ------------------------------------------------------------------ export's options
def _lock_file(tmp_path: Path, name: str = "envlock.lock.toml") -> Path:
    lock = tmp_path / name
    lock.write_text(tomli_w.dumps(_doc()))
    return lock


DOCKERFILE = ["--format", "dockerfile", "--base", "python:3.11-slim"]
BAD_OPTIONS = {
    "torch-index-newline": ["--torch-index", "https://mirror.example/cpu\n--trusted-host x"],
    "torch-index-u2028": ["--torch-index", "https://mirror.example/cpu\u2028-r /etc/passwd"],
    "torch-index-file": ["--torch-index", "file:///srv/mirror"],
    "base-cr": ["--format", "dockerfile", "--base", "python:3.11\rRUN touch /pwned"],
    "base-u2028": ["--format", "dockerfile", "--base", "python:3.11\u2028RUN touch /pwned"],
    "base-platform": ["--format", "dockerfile", "--base=--platform=linux/arm64"],
    "spec-newline": [*DOCKERFILE, "--envlock-spec", "envlock\nRUN touch /pwned"],
    "spec-option": [*DOCKERFILE, f"--envlock-spec=--index-url={EVIL}"],
    "wheelhouse-newline": [*DOCKERFILE, "--wheelhouse", "w\nRUN touch /pwned"],
    "wheelhouse-flag": [*DOCKERFILE, "--wheelhouse=--from=evil"],
    "wheelhouse-var": [*DOCKERFILE, "--wheelhouse", "$HOME"],
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_OPTIONS))
def test_a_bad_export_option_is_exit_2_in_one_line(case: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run_envlock(["export", str(_lock_file(tmp_path)), *BAD_OPTIONS[case], "-o", str(out)])
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not out.exists()


def test_a_lock_named_to_inject_a_build_step_cannot_be_exported_as_a_dockerfile(
    tmp_path: Path,
) -> None:
    lock = _lock_file(tmp_path, "l\nRUN touch pwned\n#.toml")
    proc = run_envlock(["export", str(lock), *DOCKERFILE])
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "lock's file name" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "RUN touch" not in proc.stdout
    # requirements name the lock in a comment only: one comment line, whatever the name
    req = run_envlock(["export", str(lock)])
    assert req.returncode == 0, req.stderr
    assert [ln.requirement for ln in pip_lines(req.stdout) if ln.requirement is None] == []
    assert req.stdout.splitlines()[0].startswith("# generated by envlock")
    assert "\\nRUN touch pwned\\n#.toml" in req.stdout.splitlines()[0]


def test_hostile_but_valid_values_are_quoted_not_refused(tmp_path: Path) -> None:
    """An environment value with $(...), backticks, quotes, '#' and a trailing backslash
    is legal in a lock: the Dockerfile sets it exactly, in one ENV instruction."""
    value = "a $(touch /pwned) `id` 'q' \"d\" # c \\"
    lock = tmp_path / "envlock.lock.toml"
    lock.write_text(_text(_set("env", "NCCL_DEBUG", value=value)))
    proc = run_envlock(["export", str(lock), *DOCKERFILE, "--envlock-spec", "envlock[x] >= 1; '"])
    assert proc.returncode == 0, proc.stderr
    cmds = [i.cmd for i in docker_instructions(proc.stdout)]
    assert cmds.count("RUN") == 6 and cmds.count("ENV") == 3, proc.stdout


# ------------------------------------------------------------------ item 10
def test_a_bad_image_digest_in_the_lock_is_exit_3_naming_the_lock(tmp_path: Path) -> None:
    lock = tmp_path / "envlock.lock.toml"
    lock.write_text(_text(_set("image", "digest", value="not a digest")))
    proc = run_envlock(["export", str(lock), "--format", "dockerfile"])
    assert proc.returncode == 3, proc.stderr
    assert str(lock) in proc.stderr and "image.digest" in proc.stderr
    assert "--base" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    # a digest of the right shape that Docker would still refuse (an uppercase repository)
    lock.write_text(_text(_set("image", "digest", value="library/Python@sha256:" + "a" * 64)))
    proc = run_envlock(["export", str(lock), "--format", "dockerfile"])
    assert proc.returncode == 3, proc.stderr
    assert (
        str(lock) in proc.stderr and "image.digest" in proc.stderr and "--base" not in proc.stderr
    )
    # --base replaces the lock's digest (then unused); a bad --base is the user's: exit 2
    ok = run_envlock(["export", str(lock), "--format", "dockerfile", "--base", "python:3.11"])
    assert ok.returncode == 0, ok.stderr
    good = _lock_file(tmp_path, "good.lock.toml")
    bad_base = run_envlock(["export", str(good), "--format", "dockerfile", "--base", "Py thon"])
    assert bad_base.returncode == 2 and "--base" in bad_base.stderr


def test_the_locks_own_digest_is_the_default_base(tmp_path: Path) -> None:
    proc = run_envlock(["export", str(_lock_file(tmp_path)), "--format", "dockerfile"])
    assert proc.returncode == 0, proc.stderr
    digest = rich_facts().image.repo_digests[0]  # type: ignore[union-attr]
    assert docker_instructions(proc.stdout)[0].value == (digest,)


# ------------------------------------------------------------------ plans built in Python
def test_plan_install_refuses_a_lock_object_and_options_that_would_inject() -> None:
    lock = build_lock(rich_facts())
    with pytest.raises(LockError, match=r"in 'env.NCCL_DEBUG'"):
        plan_install(dataclasses.replace(lock, env={"NCCL_DEBUG": "x\nRUN y"}))
    with pytest.raises(UsageError, match="--torch-index"):
        plan_install(lock, torch_index=f"https://m.example/x\n--index-url {EVIL}")
    with pytest.raises(UsageError, match="--variant"):
        plan_install(lock, variant="cu126\n--index-url x")
    assert "--extra-index-url https://m.example/x" in requirements_text(
        plan_install(lock, torch_index="https://m.example/x")
    )


# ------------------------------------------------------------------ what build writes
@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.glob("facts.*.json")))
def test_every_recorded_facts_file_locks_to_a_lock_that_reads_back(fixture: str) -> None:
    facts = Facts.from_dict(load_fixture_json(fixture))
    lock = build_lock(facts, created="2026-01-01T00:00:00Z")
    assert lock.notes == ()  # nothing in a real recording needs leaving out
    assert loads_lock(dumps_lock(lock)) == lock


def _hostile_facts() -> Facts:
    facts = rich_facts()
    gpus = facts.driver.gpus or []
    return facts.replace(
        packages=dataclasses.replace(
            facts.packages,
            distributions={
                **facts.packages.distributions,
                f"sympy\n--index-url {EVIL}": "1.0",
                "legacy": "1.1build1",  # Debian's kind: pip cannot install it
                "numpy": "2.0.0\u2028--trusted-host evil.example",
            },
        ),
        env=dataclasses.replace(
            facts.env,
            variables={
                **facts.env.variables,
                "NCCL_DEBUG": "WARN\nRUN touch /pwned",
                "TORCH_LOGS": "+dynamo",
            },
        ),
        driver=dataclasses.replace(
            facts.driver,
            gpus=[dataclasses.replace(gpus[0], name="NVIDIA H100\x85RUN x"), *gpus[1:]],
        ),
    )


def test_build_leaves_out_or_escapes_what_the_reader_refuses_with_notes() -> None:
    lock = build_lock(_hostile_facts())
    again = loads_lock(dumps_lock(lock))
    assert again == lock
    assert "legacy" not in lock.packages and "numpy" not in lock.packages
    assert not any("sympy\n" in n for n in lock.packages)
    assert "NCCL_DEBUG" not in lock.env and lock.env["TORCH_LOGS"] == "+dynamo"
    assert lock.hardware is not None and lock.hardware.gpus[0].name == "NVIDIA H100\\x85RUN x"
    notes = "\n".join(lock.notes)
    for what in ("'legacy' not locked", "'numpy' not locked", "'NCCL_DEBUG' not locked"):
        assert what in notes, notes
    assert "hardware.gpus[0].name" in notes and "written escaped" in notes
    assert all("\n" not in n and "\x85" not in n for n in lock.notes)


def test_lock_from_hostile_facts_notes_what_it_left_out_and_exports_only_pins(
    tmp_path: Path,
) -> None:
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps(_hostile_facts().to_dict()))
    lock = tmp_path / "envlock.lock.toml"
    made = run_envlock(["lock", "--facts", str(facts), "-o", str(lock)])
    assert made.returncode == 0, made.stderr
    assert "envlock lock: note: packages: 'legacy' not locked" in made.stderr
    assert "envlock lock: note: env: 'NCCL_DEBUG' not locked" in made.stderr
    exported = run_envlock(["export", str(lock)])
    assert exported.returncode == 0, exported.stderr
    lines = pip_lines(exported.stdout)
    assert lines and all(ln.requirement is not None for ln in lines)
    assert all(set(ln.options) <= {"hashes"} for ln in lines)
