"""install/quickplan.py's stored plan, read from a file anyone with the cache directory
may have written: whatever its bytes (damaged, crafted, a length past the end), the
reader gives the entry's key and guess or None, never an exception, and a guess only
of the shape store() writes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envlock.install import quickplan
from envlock.install.plancache import Guess
from tests.fuzz.test_fuzz import EXAMPLES, FUZZ

pytestmark = pytest.mark.fuzz

_FIELDS = st.lists(st.one_of(st.text(max_size=6), st.sampled_from(["0", "1", "2", "99"])),
                   max_size=30)  # fmt: skip


def _entry(tmp_path: Path) -> tuple[Path, Path, bytes]:
    lock = tmp_path / "envlock.lock.toml"
    if not lock.exists():
        lock.write_text("[envlock]\n")
    guess = Guess(requirements="six==1.17.0\n", complete=True, pins=1, sections=("packages",),
                  live=False, rules=())  # fmt: skip
    quickplan.store(str(tmp_path), str(lock), os.stat(lock), "k" * 64, guess)
    path = Path(quickplan.entry_path(str(tmp_path), str(lock), os.stat(lock)))
    return lock, path, path.read_bytes()


def _read(tmp_path: Path, lock: Path) -> None:
    found = quickplan.load(str(tmp_path), str(lock))
    if found is not None:
        key, guess = found
        assert isinstance(key, str) and isinstance(guess, Guess)
        assert isinstance(guess.requirements, str) and type(guess.complete) is bool
        assert all(type(s) is str for s in (*guess.sections, *guess.rules))


@settings(FUZZ, deadline=None, max_examples=EXAMPLES)
@given(data=st.data())
def test_any_bytes_in_the_entry_are_a_guess_or_a_miss(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    tmp_path = tmp_path_factory.getbasetemp() / "quick-entry"  # one lock and entry, rewritten
    tmp_path.mkdir(exist_ok=True)
    lock, path, good = _entry(tmp_path)
    choice = data.draw(st.sampled_from(["bytes", "flip", "cut", "value", "field"]))
    if choice == "bytes":
        raw = data.draw(st.binary(max_size=200))
    elif choice == "flip":
        at = data.draw(st.integers(0, 1 << 16)) % len(good)  # the entry's length varies
        raw = good[:at] + bytes([good[at] ^ data.draw(st.integers(1, 255))]) + good[at + 1 :]
    elif choice == "cut":
        raw = good[: data.draw(st.integers(0, 1 << 16)) % (len(good) + 1)]
    elif choice == "value":
        raw = quickplan._encode(data.draw(_FIELDS))
    else:  # fields of a good entry replaced, inserted or dropped
        fields = quickplan.decode(good)
        assert fields is not None
        at = data.draw(st.integers(0, 1 << 16)) % len(fields)
        fields[at : at + data.draw(st.integers(0, 2))] = data.draw(_FIELDS)[:2]
        raw = quickplan._encode(fields)
    path.write_bytes(raw)
    _read(tmp_path, lock)


@FUZZ
@given(st.lists(st.text(), max_size=12))
def test_what_is_encoded_is_what_is_decoded(fields: list[str]) -> None:
    fields = [f.encode("utf-8", "surrogatepass").decode("utf-8", "replace") for f in fields]
    fields.append(os.fsdecode(b"/tmp/caf\xe9.toml"))  # a path's undecodable byte
    assert quickplan.decode(quickplan._encode(fields)) == fields
