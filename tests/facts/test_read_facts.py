"""`--facts FILE` and `--python` read facts with the fleet's typed decoder (msgspec,
`facts.fast_facts`) where it reads as the reference (`Facts.from_dict`) does and pays for
itself (msgspec already loaded, or a document of FAST_FROM_BYTES or more), and with the
reference for everything else: the same Facts, float for float, and the same errors."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import envlock.facts
from envlock.collect import Source, collect_facts, probe_interpreter
from envlock.errors import FactsError
from envlock.facts import Facts, load_json, read_facts_file
from envlock.facts.decode import FAST_FROM_BYTES
from tests.conftest import FIXTURES, clean_env

FACTS_FIXTURES = sorted(FIXTURES.glob("facts.*.json"))
importlib.import_module("msgspec")  # a warm process: msgspec is loaded, so it is used


def _reference(raw: bytes) -> Facts:
    return Facts.from_dict(load_json(raw))


def refuse_reference(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Facts.from_dict replaced by one that records its use and refuses."""
    used: list[str] = []

    def refuse(cls: type[Facts], data: object) -> Facts:
        used.append("from_dict")
        raise AssertionError("the reference decoder read a document msgspec reads alike")

    monkeypatch.setattr(Facts, "from_dict", classmethod(refuse))
    return used


@pytest.mark.parametrize("path", FACTS_FIXTURES, ids=lambda p: p.name)
def test_facts_file_is_read_by_the_typed_decoder_as_the_reference_reads_it(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _reference(path.read_bytes())
    refuse_reference(monkeypatch)  # from here on the reference refuses
    got = collect_facts(Source(facts_file=str(path)))
    assert got == expected
    assert got.to_json() == expected.to_json()  # float for float, list for list


def _variants(raw: bytes) -> dict[str, bytes]:
    """A fixture with what msgspec reads otherwise or refuses, each as a file's bytes."""

    def put(key: bytes, value: bytes) -> bytes:  # a value before the key's own
        return raw.replace(b'"%s": ' % key, b'"%s": %s, "x": ' % (key, value), 1)

    return {
        "as written": raw,
        "bom": b"\xef\xbb\xbf" + raw,
        "NaN": put(b"import_seconds", b"NaN"),
        "no facts_version": raw.replace(b'"facts_version"', b'"facts_version_"', 1),
        "facts_version 2": raw.replace(b'"facts_version": 1', b'"facts_version": 2', 1),
        "lone surrogate": put(b"hostname", b'"\\ud800"'),
        "int of 101 digits": put(b"cpu_count", b"7" * 101),
        "not UTF-8": put(b"hostname", b'"\xff"'),
        "a wrong type": put(b"cpu_count", b'"many"'),
        "not JSON": raw.rstrip()[:-1],
    }


def _outcome(read: Callable[[str], Facts], path: str) -> str:
    try:
        return read(path).to_json()
    except FactsError as exc:
        return f"FactsError: {exc}"


def _old_read_facts_file(path: str) -> Facts:
    """read_facts_file as it was: the reference for every document."""
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FactsError(f"cannot read facts file {path}: not UTF-8 text") from None
    try:
        return Facts.from_json(text)
    except FactsError as exc:
        raise FactsError(f"{path}: {exc}") from None


@pytest.mark.parametrize("path", FACTS_FIXTURES, ids=lambda p: p.name)
def test_what_msgspec_reads_otherwise_still_reads_or_fails_as_before(
    path: Path, tmp_path: Path
) -> None:
    for name, raw in _variants(path.read_bytes()).items():
        target = tmp_path / f"{name}.json"
        target.write_bytes(raw)
        assert _outcome(read_facts_file, str(target)) == _outcome(
            _old_read_facts_file, str(target)
        ), name


def test_python_probe_is_read_by_the_typed_decoder_as_the_reference_reads_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another interpreter's probe (this one's, served from memory): its JSON read by
    msgspec, equal to what the reference makes of the same bytes."""
    seen: list[bytes] = []
    fast = envlock.facts.fast_if_cheaper

    def spy(raw: bytes) -> Facts | None:
        seen.append(raw)
        return fast(raw)

    monkeypatch.setattr(envlock.facts, "fast_if_cheaper", spy)
    reference = Facts.from_dict
    used = refuse_reference(monkeypatch)
    got = probe_interpreter(sys.executable, torch_live=False, timeout=120)
    assert used == [] and len(seen) == 1
    expected = reference(load_json(seen[0]))
    assert got == expected and got.to_json() == expected.to_json()


COLD = """
import sys
from envlock.facts import read_facts_file
read_facts_file(sys.argv[1])
small = "msgspec" in sys.modules
read_facts_file(sys.argv[2])
print(small, "msgspec" in sys.modules)
"""


def test_one_small_file_in_a_fresh_process_is_read_without_msgspec(tmp_path: Path) -> None:
    """Importing msgspec and building its decoder costs more than the reference takes for
    one probe: `doctor --facts` of an 11 KB file does not load it; a big file does."""
    small = FIXTURES / "facts.cuda-venv+h100-driver-580-replayed.json"
    doc = json.loads(small.read_text())
    item = {"distribution": "ext", "file": "ext/_C.so", "links": ["libtorch.so"], "sass": ["sm_90"]}
    doc["extensions"]["items"] = [dict(item, file=f"ext/_C{i}.so") for i in range(2000)]
    big = tmp_path / "facts.big.json"
    big.write_text(json.dumps(doc))
    assert small.stat().st_size < FAST_FROM_BYTES <= big.stat().st_size
    proc = subprocess.run(
        [sys.executable, "-c", COLD, str(small), str(big)],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=120,
    )
    assert proc.stdout.split() == ["False", "True"], proc.stderr[-2000:]
