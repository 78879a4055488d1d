"""The report cache (envlock/reportcache.py): a warm doctor or verify of an unchanged
machine gives the report an earlier run computed, without loading the models; each input
changed (the facts as probed now, NVML's state included, the lock's bytes, an option,
envlock's own files) is computed again; a damaged or foreign entry is a miss that runs
nothing; a report that read more than its inputs (fresh determinism digests) is never
stored.

torch is tests/preflight/test_livecache_keys.py's stand-in, NVML a replayed H100.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from envlock import api, reportcache
from envlock.facts import DeterminismFacts
from envlock.findings import Report
from envlock.lock.io import dumps_lock
from envlock.probe import _dists
from envlock.usecases import doctor as doctor_usecase
from envlock.usecases import verify as verify_usecase
from tests.conftest import REPO, load_fixture_json
from tests.preflight.test_livecache_keys import FakeTorch, _ecc, _mig, _nvml, fake

__all__ = ["fake"]  # the fixture, shared


@pytest.fixture
def recording(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    nvml: dict[str, Any] = load_fixture_json("nvml.h100-driver-580.json")["nvml"]
    _nvml(monkeypatch, nvml)
    return nvml


class Computed:
    """Counts the comparisons really computed (a spy: the real function runs), and the
    distinct keys asked for: one computation per key is the contract. (A probe on a loaded
    machine may see more than the test changed, an extension scan cut short by its time
    budget: another document, rightly another key.)"""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.doctor = 0
        self.verify = 0
        self.keys: set[str] = set()
        report, verify, key = doctor_usecase._report, verify_usecase.verify, reportcache.key

        def counted_report(*args: Any, **kw: Any) -> Report:
            self.doctor += 1
            return report(*args, **kw)

        def counted_verify(*args: Any, **kw: Any) -> verify_usecase.Verified:
            self.verify += 1
            return verify(*args, **kw)

        def counted_key(*args: bytes | str) -> str:
            found = key(*args)  # type: ignore[arg-type]
            self.keys.add(found)
            return found

        monkeypatch.setattr(doctor_usecase, "_report", counted_report)
        monkeypatch.setattr(verify_usecase, "verify", counted_verify)
        monkeypatch.setattr(reportcache, "key", counted_key)

    def once_per_key(self) -> int:
        """The computations, asserted one per distinct key."""
        total = self.doctor + self.verify
        assert total == len(self.keys)
        return total


@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> Computed:
    return Computed(monkeypatch)


def _doctor(**kw: Any) -> Report:
    _dists._cache.clear()  # a per-process memo: each envlock command is a new process
    return api.doctor(cache=True, **kw)


def _verify(lock: Path, **kw: Any) -> Report:
    _dists._cache.clear()
    return api.verify_lock(lock, cache=True, **kw)


def _lock(path: Path) -> Path:
    api.write_lock(path)
    return path


def test_the_doctor_again_is_the_stored_report(
    fake: FakeTorch, recording: dict[str, Any], computed: Computed
) -> None:
    _doctor()  # torch's live facts probed: the next run's facts say "from cache"
    first = _doctor()
    for _ in range(3):
        assert _doctor() == first
    assert computed.once_per_key() < 5  # the same document is computed once
    before = computed.doctor
    uncached = api.doctor(cache=False)
    assert [f.to_dict() for f in uncached.findings] == [f.to_dict() for f in first.findings]
    assert computed.doctor == before + 1  # --no-cache: neither cache


@pytest.mark.parametrize("change", [_mig, _ecc])
def test_nvml_state_is_read_fresh_and_a_change_is_computed_again(
    fake: FakeTorch,
    recording: dict[str, Any],
    computed: Computed,
    monkeypatch: pytest.MonkeyPatch,
    change: Callable[[dict[str, Any]], None],
) -> None:
    _doctor()
    _doctor()
    keys = set(computed.keys)
    changed = json.loads(json.dumps(recording))
    change(changed)
    _nvml(monkeypatch, changed)
    _doctor()  # a live-facts miss too (the GPUs are part of its key)
    assert computed.keys - keys  # another key: NVML's state is in the document
    _nvml(monkeypatch, recording)  # back as it was: that report is still stored
    _doctor()
    computed.once_per_key()


def test_doctor_options_are_part_of_the_key(
    fake: FakeTorch, recording: dict[str, Any], computed: Computed
) -> None:
    _doctor()
    plain = _doctor()
    strict = _doctor(strict=True)
    ignored = _doctor(ignore=["EL-CONTAINER-NO-GPU"])
    assert computed.once_per_key() >= 4
    assert strict.strict and not plain.strict
    assert all(f.check_id != "EL-CONTAINER-NO-GPU" for f in ignored.findings)


def _edit_lock(lock: Path) -> None:
    lock.write_text(lock.read_text() + "\n# edited\n")


def _install(fake: FakeTorch) -> None:
    fake.add_dist("numpy", "2.1.0")


VERIFY_CHANGES: dict[str, tuple[Callable[[FakeTorch, Path], None], dict[str, Any]]] = {
    "the lock's bytes": (lambda f, lock: _edit_lock(lock), {}),
    "a distribution installed (the facts)": (lambda f, lock: _install(f), {}),
    "--strict": (lambda f, lock: None, {"strict": True}),
    "--ignore": (lambda f, lock: None, {"ignore": ["EL-VERIFY-NOT-LOCKED"]}),
    "--rule": (lambda f, lock: None, {"rules": ["packages.*=warn"]}),
    "--scope": (lambda f, lock: None, {"scope": "software"}),
}


@pytest.mark.parametrize("name", sorted(VERIFY_CHANGES))
def test_each_verify_input_changed_is_computed_again(
    fake: FakeTorch, recording: dict[str, Any], computed: Computed, tmp_path: Path, name: str
) -> None:
    lock = _lock(tmp_path / "envlock.lock.toml")
    _verify(lock)  # torch's live facts probed: the next run's facts say "from cache"
    first = _verify(lock)
    assert _verify(lock) == first
    keys = set(computed.keys)
    change, options = VERIFY_CHANGES[name]
    change(fake, lock)
    again = _verify(lock, **options)
    assert computed.keys - keys  # another key
    if name.startswith("a distribution"):  # a live-facts miss too: then "from cache"
        again = _verify(lock, **options)
    assert _verify(lock, **options) == again
    computed.once_per_key()
    if name.startswith("a distribution"):
        assert any(f.field == "packages.numpy" for f in again.findings)


def test_fresh_determinism_digests_are_never_stored(
    fake: FakeTorch, recording: dict[str, Any], computed: Computed, tmp_path: Path
) -> None:
    lock = api.make_lock()
    digests = DeterminismFacts(seed=0, suite_version=1, device="cuda")
    path = tmp_path / "envlock.lock.toml"
    path.write_text(dumps_lock(dataclasses.replace(lock, determinism=digests)))
    for _ in range(3):
        _verify(path)
    assert computed.verify == 3
    assert not list((Path(os.environ["ENVLOCK_CACHE_DIR"]) / "reports").glob("*.pickle"))
    for _ in range(3):
        _verify(path, determinism=False)
    assert computed.verify < 6  # stored without fresh digests


def test_a_warm_run_loads_no_model(fake: FakeTorch, tmp_path: Path) -> None:
    """What the cache is for: the second `envlock verify` and `envlock doctor` load none of
    the Facts model, the lock model, the comparison or the checks."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join((str(REPO), str(fake.site))))
    lock = str(_lock(tmp_path / "envlock.lock.toml"))
    code = (
        "import sys\n"
        "from envlock.cli import main\n"
        "rc = main(sys.argv[1:])\n"
        "heavy = ('envlock.facts.model', 'envlock.lock.model', 'envlock.verify',\n"
        "         'envlock.checks', 'envlock.matrix', 'pynvml')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)), file=sys.stderr)\n"
    )
    for args in (["verify", lock], ["doctor"]):
        runs = [
            subprocess.run(
                [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True
            )
            for _ in range(3)  # torch probed, then from the live-facts cache, then warm
        ]
        assert runs[1].stdout == runs[2].stdout
        assert runs[1].stdout.startswith(("PASS", "FAIL")), runs[1].stdout + runs[1].stderr
        assert runs[2].stderr.strip().splitlines()[-1] == "[]", runs[2].stdout + runs[2].stderr
    # (verify's drift table here, a local distribution that cannot be restored, is rich's;
    # the doctor's lines are not: tests/report/test_printer.py)


def test_envlocks_own_files_are_part_of_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = tmp_path / "code"
    (code / "checks").mkdir(parents=True)
    check = code / "checks" / "gpu.py"
    check.write_text("RULE = 1\n")
    monkeypatch.setattr(reportcache, "_code_dirs", lambda: [str(code)])
    first = reportcache.key("doctor", b"facts")
    assert reportcache.key("doctor", b"facts") == first
    os.utime(check, ns=(check.stat().st_atime_ns, check.stat().st_mtime_ns + 10**9))
    edited = reportcache.key("doctor", b"facts")
    (code / "new.py").write_text("")
    assert len({first, edited, reportcache.key("doctor", b"facts")}) == 3


def test_when_and_how_long_the_probe_ran_are_not_part_of_the_key() -> None:
    doc: dict[str, Any] = {"meta": {"collected_at": "t1", "durations_ms": {"a": 1.0}, "notes": []}}
    same = {"meta": {"collected_at": "t2", "durations_ms": {"a": 9.0}, "notes": []}}
    other = {"meta": {"collected_at": "t1", "durations_ms": {}, "notes": ["x"]}}
    assert reportcache.document_bytes(doc) == reportcache.document_bytes(same)
    assert reportcache.document_bytes(doc) != reportcache.document_bytes(other)


class _Boom:
    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, ("touch pwned",))


@pytest.mark.parametrize(
    "entry",
    [b"not a pickle", pickle.dumps(_Boom()), pickle.dumps(["a list, not a Report"])],
    ids=["damaged", "foreign code", "not a report"],
)
def test_a_damaged_or_foreign_entry_is_a_miss_and_runs_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, entry: bytes
) -> None:
    monkeypatch.chdir(tmp_path)
    key = reportcache.key("doctor", b"facts")
    path = reportcache._entry(tmp_path, key)
    path.parent.mkdir(parents=True)
    path.write_bytes(entry)
    assert reportcache.load(tmp_path, key) is None
    assert not (tmp_path / "pwned").exists()


def test_a_cache_directory_that_cannot_be_used_is_only_a_miss(tmp_path: Path) -> None:
    """ENVLOCK_CACHE_DIR naming a file (or an unwritable place): nothing stored, nothing
    raised; the command computes its report as without the cache."""
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    key = reportcache.key("doctor", b"facts")
    report = Report(command="doctor", target="host")
    reportcache.store(not_a_dir, key, report)
    assert reportcache.load(not_a_dir, key) is None
    reportcache.store(tmp_path, key, report)
    assert reportcache.load(tmp_path, key) == report
