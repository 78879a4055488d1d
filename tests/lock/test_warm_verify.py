"""verify's warm path (issue 23 item 2): the lock is parsed once (the parsed-lock cache),
unchanged sections are not compared field by field, this host's probe runs while the lock
is read, and parsing verify's options loads no model. Structure, not timing: each test
counts work or watches the order of events."""

from __future__ import annotations

import dataclasses
import os
import pickle
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from envlock.errors import LockError
from envlock.facts import Facts
from envlock.lock import build_lock, dumps_lock
from envlock.lock import io as lock_io
from envlock.lock.model import SCOPES
from tests.lock.facts_fixtures import cuda_venv_facts, h100_facts, rich_facts

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ENVLOCK_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _write(path: Path, facts: Facts) -> Path:
    path.write_text(dumps_lock(build_lock(facts, created="2026-01-01T00:00:00Z")))
    return path


def _count_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = lock_io._parse

    def counting(raw: bytes, p: str):  # type: ignore[no-untyped-def]
        calls.append(p)
        return real(raw, p)

    monkeypatch.setattr(lock_io, "_parse", counting)
    return calls


def test_an_unchanged_lock_is_parsed_once(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lock_path = _write(tmp_path / "envlock.lock.toml", rich_facts())
    parses = _count_parses(monkeypatch)
    first = lock_io.read_lock(lock_path, cache_dir=cache)
    second = lock_io.read_lock(lock_path, cache_dir=cache)
    assert parses == [str(lock_path)]
    assert second == first == lock_io.read_lock(lock_path)  # the uncached reader agrees
    assert len(list((cache / "locks").glob("lock-*.pickle"))) == 1


def test_an_edit_that_keeps_size_and_mtime_is_read_again(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lock_path = _write(tmp_path / "envlock.lock.toml", cuda_venv_facts())
    before = lock_io.read_lock(lock_path, cache_dir=cache)
    st = lock_path.stat()
    text = lock_path.read_text()
    version = before.torch.version if before.torch else None
    assert version and version in text
    edited = version[:-1] + ("9" if version[-1] != "9" else "8")
    lock_path.write_text(text.replace(f'"{version}"', f'"{edited}"', 1))
    os.utime(lock_path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert lock_path.stat().st_size == st.st_size
    after = lock_io.read_lock(lock_path, cache_dir=cache)
    assert after.torch is not None and after.torch.version == edited


def test_a_bad_lock_is_refused_every_time_and_never_cached(cache: Path, tmp_path: Path) -> None:
    lock_path = tmp_path / "envlock.lock.toml"
    text = dumps_lock(build_lock(cuda_venv_facts()))
    lock_path.write_text(
        text.replace('[envlock]\nlock-version = "1.', '[envlock]\nlock-version = "x.')
    )
    for _ in range(2):
        with pytest.raises(LockError):
            lock_io.read_lock(lock_path, cache_dir=cache)
    assert not list(cache.rglob("lock-*.pickle"))


class _Payload:
    """What a planted entry would run if the cache unpickled anything."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path.touch, (Path(self.marker),))


def test_a_foreign_or_damaged_entry_is_a_miss_and_runs_nothing(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from envlock.lock import parsedcache

    lock_path = _write(tmp_path / "envlock.lock.toml", h100_facts())
    expected = lock_io.read_lock(lock_path)
    raw = lock_path.read_bytes()
    entry = parsedcache._entry(cache, raw)
    entry.parent.mkdir(parents=True)
    marker = tmp_path / "ran"
    planted = [
        pickle.dumps(_Payload(str(marker))),
        pickle.dumps({"not": "a lock"}),
        b"\x80\x05garbage",
        b"",
    ]
    parses = _count_parses(monkeypatch)
    for data in planted:
        entry.write_bytes(data)
        assert lock_io.read_lock(lock_path, cache_dir=cache) == expected
    assert not marker.exists()
    assert len(parses) == len(planted)


def test_another_reader_is_a_miss(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from envlock.lock import parsedcache

    lock_path = _write(tmp_path / "envlock.lock.toml", cuda_venv_facts())
    parses = _count_parses(monkeypatch)
    lock_io.read_lock(lock_path, cache_dir=cache)
    real = parsedcache._reader_stamp
    monkeypatch.setattr(parsedcache, "_reader_stamp", lambda: real() + b"valid.py edited")
    lock_io.read_lock(lock_path, cache_dir=cache)
    assert len(parses) == 2


def test_the_cache_keeps_the_newest_entries(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from envlock.lock import parsedcache

    monkeypatch.setattr(parsedcache, "MAX_ENTRIES", 2)
    facts = cuda_venv_facts()
    for i in range(4):
        lock_path = tmp_path / f"{i}.toml"
        lock_path.write_text(dumps_lock(build_lock(facts, created=f"2026-01-0{i + 1}T00:00:00Z")))
        lock_io.read_lock(lock_path, cache_dir=cache)
    assert len(list((cache / "locks").glob("lock-*.pickle"))) == 2


# ------------------------------------------------------------ typed comparison


def _big(facts: Facts, n: int) -> Facts:
    packages = {f"pkg-{i:05d}": f"1.{i}.0" for i in range(n)}
    return facts.replace(
        packages=dataclasses.replace(
            facts.packages, distributions={**facts.packages.distributions, **packages}
        )
    )


def test_unchanged_sections_are_not_matched_field_by_field(monkeypatch: pytest.MonkeyPatch) -> None:
    import envlock.verify as v

    facts = _big(h100_facts(), 20_000)
    lock = build_lock(facts)
    calls = 0
    real = v._Rules.__call__

    def counting(self, path):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        return real(self, path)

    monkeypatch.setattr(v._Rules, "__call__", counting)
    assert v.verify(lock, facts) == []
    assert calls < 100  # was one per field: 20,000 packages and the rest
    distributions = {**facts.packages.distributions, "pkg-00007": "9.9.9"}
    drifted = facts.replace(
        packages=dataclasses.replace(facts.packages, distributions=distributions)
    )
    found = v.verify(lock, drifted)
    assert [f.field for f in found] == ["packages.pkg-00007"]


def _edits(facts: Facts) -> list[Facts]:
    t, d = facts.torch, facts.driver
    gpus = list(d.gpus or [])
    env = dict(facts.env.variables)
    env["NCCL_DEBUG"] = "INFO"
    return [
        facts,
        facts.replace(torch=dataclasses.replace(t, version="2.0.0")),
        facts.replace(driver=dataclasses.replace(d, version="470.1.1")),
        facts.replace(driver=dataclasses.replace(d, gpus=gpus[:1])),
        facts.replace(env=dataclasses.replace(facts.env, variables=env)),
        _big(facts, 3),
    ]


@pytest.mark.parametrize("scope", ["full", "software"])
def test_skipping_equal_sections_changes_no_finding(
    scope: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import envlock.verify as v

    for base in (rich_facts(), cuda_venv_facts()):
        lock = build_lock(base)
        for facts in _edits(base):
            fast = v.verify(lock, facts, scope=scope)
            with monkeypatch.context() as m:
                m.setattr(v, "_equal_sections", lambda lock, now: frozenset())
                full = v.verify(lock, facts, scope=scope)
            assert [f.to_dict() for f in fast] == [f.to_dict() for f in full]


# ------------------------------------------------------------ the use case


def test_the_host_probe_runs_while_the_lock_is_read(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Overlap, not order of luck: the fake lock reader waits for the probe to have
    started (it never would, if the probe came after the lock)."""
    import envlock.usecases.verify as uc

    facts = cuda_venv_facts()
    lock_path = _write(tmp_path / "envlock.lock.toml", facts)
    probing = threading.Event()
    seen: list[bool] = []

    def observe(source, options):  # type: ignore[no-untyped-def]
        probing.set()
        return facts

    real_read = lock_io.read_lock

    def read(path, *, cache_dir=None):  # type: ignore[no-untyped-def]
        seen.append(probing.wait(timeout=10))
        return real_read(path, cache_dir=cache_dir)

    monkeypatch.setattr(uc, "_observe", observe)
    monkeypatch.setattr(lock_io, "read_lock", read)
    verified = uc.verify(
        str(lock_path),
        None,
        facts=None,
        options=uc.VerifyOptions(determinism=False, cache=True),
    )
    assert seen == [True]
    assert not verified.report.failed


def test_a_lock_error_comes_before_waiting_for_the_probe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import envlock.usecases.verify as uc

    release = threading.Event()

    def observe(source, options):  # type: ignore[no-untyped-def]
        release.wait(timeout=30)
        raise AssertionError("the probe's facts were waited for")

    monkeypatch.setattr(uc, "_observe", observe)
    try:
        with pytest.raises(LockError, match="not found"):
            uc.verify(str(tmp_path / "missing.toml"), None, facts=None, options=uc.VerifyOptions())
    finally:
        release.set()


def test_a_probe_error_reaches_the_caller(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import envlock.usecases.verify as uc
    from envlock.errors import ProbeError

    lock_path = _write(tmp_path / "envlock.lock.toml", cuda_venv_facts())

    def observe(source, options):  # type: ignore[no-untyped-def]
        raise ProbeError("the probe broke")

    monkeypatch.setattr(uc, "_observe", observe)
    with pytest.raises(ProbeError, match="the probe broke"):
        uc.verify(str(lock_path), None, facts=None, options=uc.VerifyOptions())


def test_verify_options_load_no_model() -> None:
    """`envlock verify`'s parser is built before the probe starts: it must not import the
    lock model or Facts (their import is what the probe overlaps)."""
    script = (
        "import sys, envlock.cli\n"
        "envlock.cli.build_parser('verify').parse_args(['verify', 'x.toml'])\n"
        "heavy = {'envlock.facts', 'envlock.lock.model', 'envlock.findings'} & set(sys.modules)\n"
        "print(sorted(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        cwd=REPO,
    )
    assert out.stdout.strip() == "[]"


def test_the_commands_scopes_are_the_models() -> None:
    from envlock.commands import verify as command

    assert command.SCOPES == SCOPES


@pytest.mark.parametrize("doctor_errors", [False, True])
def test_verify_probes_only_the_sections_a_lock_holds(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, doctor_errors: bool
) -> None:
    """Compilers and the network are in no lock: verify's probe of this host skips them
    (the doctor's errors, under preflight, read them: then they are probed)."""
    import envlock.livecache
    import envlock.usecases.verify as uc
    from envlock.probe import network, toolchain

    ran: list[str] = []
    for module in (toolchain, network):
        real = module.collect

        def recording(*args, _real=real, _name=module.__name__, **kwargs):  # type: ignore[no-untyped-def]
            ran.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, "collect", recording)
    monkeypatch.setattr(envlock.livecache, "cache_key", lambda facts: None)  # no torch child
    lock_path = _write(tmp_path / "envlock.lock.toml", cuda_venv_facts())
    options = uc.VerifyOptions(determinism=False, cache=True, doctor_errors=doctor_errors)
    uc.verify(str(lock_path), None, facts=None, options=options)
    expected = ["envlock.probe.network", "envlock.probe.toolchain"] if doctor_errors else []
    assert sorted(ran) == expected
