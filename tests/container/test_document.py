"""`probe --image --json` hands the probe's document through without the Facts model
(envlock.container.document): the same bytes as the model's `to_json()`, or the model's
way wherever the walk cannot vouch for a document."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from envlock.container import factshape
from envlock.container.document import ImageDoc, image_document, image_fields
from envlock.container.parse import facts_from_json, image_facts, with_image
from envlock.errors import ContainerError
from envlock.facts import ImageFacts
from tests.conftest import FIXTURES, clean_env
from tests.container.conftest import DATA, load_data_json
from tests.container.factshape import computed

DOCS = sorted([*FIXTURES.glob("facts.*.json"), *DATA.glob("facts.*.json")])
INSPECT = load_data_json("docker-image-inspect.python-bookworm.json")


def _image(**changes: object) -> ImageDoc:
    fields = image_fields(
        "python:3.11",
        INSPECT,
        kind="image",
        shm_size_bytes=64 << 20,
        gpus_requested=None,
        gpu_request_error=None,
        probe_mode="python",
    )
    return {**fields, **changes}  # type: ignore[typeddict-item]


def model_document(text: str, image: ImageDoc, notes: list[str], withheld: list[str]) -> str:
    """What the model writes for the probe's output `text` (its to_json())."""
    facts = facts_from_json(text, "image x")
    return with_image(facts, ImageFacts(**image), notes, withheld).to_json()


def test_the_shape_file_follows_the_model() -> None:
    """Regenerate with `python -m tests.container.factshape` when the model changes."""
    held = {name: getattr(factshape, name) for name in computed()}
    assert held == computed()


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_a_recorded_document_is_written_as_the_model_writes_it(path: Path) -> None:
    text = path.read_text()
    image, notes, withheld = _image(), ["a note"], ["AWS_SECRET_ACCESS_KEY"]
    doc = image_document(text, image, notes, withheld)
    assert doc is not None
    assert json.dumps(doc, indent=2) == model_document(text, image, notes, withheld)


def test_the_image_fields_are_those_of_image_facts() -> None:
    options = {
        "kind": "image",
        "shm_size_bytes": 1 << 30,
        "gpus_requested": "all",
        "gpu_request_error": "could not select device driver",
        "probe_mode": "python",
    }
    fields = image_fields("python:3.11", INSPECT, **options)  # type: ignore[arg-type]
    assert ImageFacts(**fields) == image_facts("python:3.11", INSPECT, **options)  # type: ignore[arg-type]


def _text(mutate: object) -> str:
    data = json.loads((FIXTURES / "facts.cpu-venv-nodriver.json").read_text())
    assert callable(mutate)
    mutate(data)
    return json.dumps(data)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d["system"].pop("hostname"),  # a default filled in
        lambda d: d["meta"]["durations_ms"].update(total=3),  # an int written as a float
        lambda d: d.update(extra={"x": 1}),  # an unknown key left out
        lambda d: d["system"].update(cpu_model="é\u2028\x00"),  # text as it is
        lambda d: d.pop("env"),  # a section absent
        lambda d: d.update(system=dict(reversed(list(d["system"].items())))),  # key order
    ],
)
def test_what_the_model_normalises_is_normalised_alike(mutate: object) -> None:
    text = _text(mutate)
    doc = image_document(text, _image(), [], [])
    assert doc is not None
    assert json.dumps(doc, indent=2) == model_document(text, _image(), [], [])


@pytest.mark.parametrize(
    "text",
    [
        "Traceback (most recent call last):",
        '{"facts_version": 2}',
        '{"facts_version": true}',
        '{"facts_version": 1}',  # meta is required
        '{"facts_version": 1, "meta": {"envlock_version": "1", "collected_at": "x"},'
        ' "driver": {"gpus": "none"}}',
        '{"facts_version": 1, "meta": {"envlock_version": 1, "collected_at": "x"}}',
        '{"facts_version": 1, "x": ' + "9" * 101 + "}",
    ],
)
def test_what_the_model_refuses_goes_the_models_way(text: str) -> None:
    assert image_document(text, _image(), [], []) is None
    with pytest.raises(ContainerError):
        model_document(text, _image(), [], [])


def test_a_value_the_walk_cannot_vouch_for_goes_the_models_way() -> None:
    # NaN is JSON to Python's reader (the model keeps it); the walk hands it on too
    text = _text(lambda d: d["meta"]["durations_ms"].update(total=float("nan")))
    doc = image_document(text, _image(), [], [])
    assert doc is not None and json.dumps(doc, indent=2) == model_document(text, _image(), [], [])
    # a daemon's odd answer: the image's id a number
    assert image_document(_text(lambda d: None), _image(id=7), [], []) is None


def test_too_many_gpus_go_the_models_way() -> None:
    text = _text(lambda d: d["driver"].update(pci_gpus=[{}] * (factshape.MAX_GPUS + 1)))
    assert image_document(text, _image(), [], []) is None


def test_an_image_probe_loads_no_facts_model() -> None:
    """The whole `probe --image --json` path to the document, over a fake engine (the
    Docker boundary) in a fresh interpreter: envlock.facts and msgspec never load."""
    doc = (FIXTURES / "facts.cuda-venv+h100-driver-580-replayed.json").read_text()
    script = f"""
import json, sys
from envlock.container import image
DOC = {doc!r}
class Engine:  # the SDK's way: no attach, the output by a logs call
    hijacks = False
    def create(self, config, name): return "c1"
    def start(self, cid): pass
    def wait(self, cid, timeout): return 0
    def logs(self, cid, *, stdout, stderr): return DOC.encode() if stdout else b""
    def remove(self, cid): pass
inspect = json.loads(open({str(DATA / "docker-image-inspect.python-bookworm.json")!r}).read())
options = image._Options(None, True, None, False, 60.0, load_model=False)
run = image._ImageRun(Engine(), "python:3.11", inspect, shm_bytes=None, options=options)
doc = run.document(run.probe(None))
run.remove_all()
print(doc["image"]["probe_mode"], doc["facts_version"])
print(sorted(m for m in sys.modules if m.startswith(("envlock.facts", "msgspec"))))
"""
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=clean_env()
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["python 1", "[]"]
