"""What `probe --image` does while it waits on the daemon: the output's decoder is built
while the container starts, and the container is removed while its output becomes Facts.
The engine is faked (the Docker boundary); everything else runs for real."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from typing import Any

import pytest

from envlock.container import parse
from envlock.container.image import _ImageRun, _Options
from envlock.errors import ContainerError
from envlock.facts import Facts
from tests.conftest import FIXTURES, clean_env
from tests.container.conftest import load_data_json

DOC = (FIXTURES / "facts.cuda-venv+h100-driver-580-replayed.json").read_text()


def test_a_warm_decoder_reads_the_output_as_the_reference_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reference = Facts.from_dict(json.loads(DOC))
    parse.warm_decoder()
    monkeypatch.setattr(Facts, "from_dict", _refuse)  # the reference is not asked
    assert parse.facts_from_json(DOC, "image x") == reference


def test_with_a_warm_decoder_bad_output_is_still_the_references_error() -> None:
    parse.warm_decoder()
    with pytest.raises(ContainerError, match="did not print Facts JSON"):
        parse.facts_from_json("Traceback (most recent call last):", "image x")
    with pytest.raises(ContainerError, match="printed invalid facts"):
        parse.facts_from_json('{"facts_version": 1, "driver": {"gpus": "none"}}', "image x")
    nan = DOC.replace('"facts_version": 1', '"facts_version": 1, "x": NaN', 1)
    assert parse.facts_from_json(nan, "image x") == Facts.from_dict(json.loads(DOC))


def _refuse(data: object) -> Facts:
    raise AssertionError("read by the reference")


class _Engine:
    """A daemon that runs every container to exit 0 with DOC on stdout (the SDK's way:
    no attach, a logs call), and records the thread each removal runs in."""

    hijacks = False

    def __init__(self) -> None:
        self.removed: list[tuple[str, bool]] = []
        self.created = 0

    def create(self, config: Any, name: str) -> str:
        self.created += 1
        return f"c{self.created}"

    def start(self, cid: str) -> None:
        return None

    def wait(self, cid: str, timeout: float) -> int:
        return 0

    def logs(self, cid: str, *, stdout: bool, stderr: bool) -> bytes:
        return DOC.encode() if stdout else b""

    def remove(self, cid: str) -> None:
        self.removed.append((cid, threading.current_thread() is threading.main_thread()))


def test_the_container_is_removed_while_its_output_becomes_facts() -> None:
    engine = _Engine()
    inspect = load_data_json("docker-image-inspect.python-bookworm.json")
    options = _Options(gpus=None, pull=True, shm_size=None, torch_live=False, timeout=60.0)
    run = _ImageRun(engine, "python:3.11", inspect, shm_bytes=None, options=options)  # type: ignore[arg-type]
    try:
        facts = run.facts(run.probe(None))
    finally:
        run.remove_all()
    assert facts.image is not None and facts.image.probe_mode == "python"
    assert engine.removed == [("c1", False)]  # once, and not in the main thread
    run.remove_all()
    assert engine.removed == [("c1", False)]


def test_without_msgspec_the_output_is_read_by_the_reference() -> None:
    """msgspec is a requirement, but an environment that lost it still probes."""
    script = (
        "import sys\n"
        "sys.modules['msgspec'] = None  # import msgspec: ImportError\n"
        "from envlock.container.image import _preload\n"
        "_preload(model=True)()\n"
        "from envlock.container import parse\n"
        "facts = parse.facts_from_json(open(sys.argv[1]).read(), 'image x')\n"
        "print(facts.facts_version)\n"
    )
    doc = str(FIXTURES / "facts.cuda-venv+h100-driver-580-replayed.json")
    proc = subprocess.run(
        [sys.executable, "-c", script, doc], capture_output=True, text=True, env=clean_env()
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "1\n", "")
