"""The value types a repeat restore builds before uv starts are envlock/frozen.py's, not
dataclasses: they still compare and hash by value, refuse assignment, and go through
the caches' allow-list unpickler (picklecache) as dataclasses do, foreign ones refused."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from envlock import picklecache
from envlock.install.marker import Marker
from envlock.install.plancache import Guess, load, store
from envlock.install.venvdir import VenvTarget


def _guess() -> Guess:
    return Guess(requirements="six==1.17.0\n", complete=True, pins=1, sections=("packages",),
                 live=False, rules=("pip",))  # fmt: skip


def test_values_compare_hash_and_refuse_assignment() -> None:
    assert _guess() == _guess() and hash(_guess()) == hash(_guess())
    assert _guess() != Guess(requirements="six==1.17.0\n", complete=False)
    assert Guess(requirements="x", complete=True).live is True  # the defaults
    with pytest.raises(AttributeError):
        _guess().pins = 2  # type: ignore[misc]
    t = VenvTarget(given="v", final="/v", force=False, run="/v/r", build="/v/r/venv")
    moved = t.of_pid(12)
    assert moved.run == "/v/.envlock-restore-12" and moved.given == "v" and moved != t
    assert Marker(pid=1, started=None, boot=None, phase="build").moved_in == ()
    assert "requirements='six==1.17.0\\n'" in repr(_guess())


def test_a_guess_goes_through_the_plan_cache(tmp_path: Path) -> None:
    store(tmp_path, "k" * 64, _guess())
    assert load(tmp_path, "k" * 64) == _guess()


def test_the_allow_list_refuses_other_classes_and_bad_state(tmp_path: Path) -> None:
    path = tmp_path / "plan-x.pickle"
    modules = frozenset({"envlock.install.plancache"})
    # a Frozen class of a module the cache does not name
    path.write_bytes(pickle.dumps(Marker(pid=1, started=None, boot=None, phase="build")))
    assert picklecache.load(path, Guess, modules=modules, what="a plan", limit=1 << 20) is None
    # the named class with a state that is not its slots'
    data = pickle.dumps(_guess()).replace(b"requirements", b"requirementz")
    path.write_bytes(data)
    assert picklecache.load(path, Guess, modules=modules, what="a plan", limit=1 << 20) is None
