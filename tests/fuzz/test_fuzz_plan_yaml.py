"""The YAML plan readers (compose, Kubernetes, conda environment) fuzzed: the corpus's real
files with lines dropped, duplicated, re-indented and replaced by YAML-ish noise; random
documents of the keys the readers look at, written by PyYAML with anchors and merge keys;
alias bombs of random width and depth; and random text. Each read gives Plans whose spans
lie inside the file, or one PlanError line, within the 2 s of CPU per example (cpubound.py) of every example."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from envlock.plan import compose, condaenv, kube
from envlock.plan.model import Plan, PlanError, ReadOptions
from tests.fuzz.test_fuzz import EXAMPLES, FUZZ

pytestmark = pytest.mark.fuzz

# three readers an example: a third of the suite's count each (2 s an example: issue 24)
PLAN_YAML = settings(FUZZ, deadline=None, max_examples=max(30, EXAMPLES // 3))
CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "plan"
YAML_FILES = sorted(
    p for p in CORPUS.glob("*/*") if p.suffix in (".yml", ".yaml", ".tpl") and p.is_file()
)
READERS = (compose, kube, condaenv)
NOISE = [
    "  ",
    "- ",
    ": ",
    "&a ",
    "*a",
    "<<: *a",
    "!!python/object:os.system",
    "{",
    "}",
    "[",
    "]",
    "---",
    "'",
    '"',
    "\t",
    "nvidia.com/gpu: 1",
    "shm_size: 64m",
    "count: all",
    "\x00",
    "\udcff",
    "9" * 40,
]


def _read_all(text: str, source: str = "fuzz.yml") -> None:
    """Every reader on `text`: Plans or one PlanError line, nothing else."""
    for reader in READERS:
        try:
            plans = reader.read(text, source, ReadOptions(read_beside=lambda _f, _n: None))
        except PlanError as e:
            message = str(e)
            assert message and "\n" not in message and "Traceback" not in message
            continue
        _check_spans(plans, text)


def _check_spans(plans: list[Plan], text: str) -> None:
    count = max(1, len(text.splitlines()))
    for plan in plans:
        stated = [plan.gpu_request, plan.shm_size_bytes, plan.ipc]
        spans = [s.span for s in stated if s is not None]
        spans += [e.span for e in plan.env] + [i.span for i in plan.installs]
        if plan.base is not None:
            spans.append(plan.base.reference.span)
        for span in spans:
            assert 1 <= span.line <= span.end_line <= count, (span, count)


@st.composite
def mangled(draw: st.DrawFn) -> str:
    lines = draw(st.sampled_from(YAML_FILES)).read_text().splitlines()
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        if not lines:
            break
        i = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        action = draw(st.sampled_from(["drop", "dup", "indent", "dedent", "noise", "cut"]))
        if action == "drop":
            del lines[i]
        elif action == "dup":
            lines.insert(i, lines[i])
        elif action == "indent":
            lines[i] = "  " + lines[i]
        elif action == "dedent":
            lines[i] = lines[i][2:]
        elif action == "noise":
            at = draw(st.integers(min_value=0, max_value=len(lines[i])))
            lines[i] = lines[i][:at] + draw(st.sampled_from(NOISE)) + lines[i][at:]
        else:
            lines[i] = lines[i][: draw(st.integers(min_value=0, max_value=len(lines[i])))]
    return "\n".join(lines) + "\n"


@given(mangled())
@PLAN_YAML
def test_mangled_corpus_files(text: str) -> None:
    _read_all(text)


KEYS = st.sampled_from(
    [
        "services",
        "image",
        "build",
        "context",
        "dockerfile",
        "args",
        "deploy",
        "resources",
        "reservations",
        "devices",
        "count",
        "device_ids",
        "capabilities",
        "gpus",
        "runtime",
        "shm_size",
        "ipc",
        "environment",
        "apiVersion",
        "kind",
        "spec",
        "template",
        "containers",
        "limits",
        "nvidia.com/gpu",
        "volumes",
        "volumeMounts",
        "emptyDir",
        "medium",
        "sizeLimit",
        "mountPath",
        "env",
        "name",
        "value",
        "dependencies",
        "pip",
        "channels",
        "variables",
        "x-base",
    ]
)
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.sampled_from(["all", "gpu", "nvidia", "Memory", "/dev/shm", "8gb", "64Mi", "host"]),
    st.sampled_from(["pytorch=2.1.0", "torch==2.7.0", "nvidia/cuda:12.1.0-runtime-ubuntu22.04"]),
    st.text(max_size=12),
)
DOCUMENTS = st.recursive(
    LEAVES,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=5)),
    max_leaves=40,
)


@given(DOCUMENTS, st.booleans())
@PLAN_YAML
def test_random_documents_of_the_keys_read(document: object, shared: bool) -> None:
    # `shared`: the same object twice, which PyYAML writes as an anchor and an alias
    top = {"services": {"a": document, "b": document if shared else {}}, "spec": document}
    _read_all(yaml.safe_dump(top, allow_unicode=True))


@given(
    st.integers(min_value=2, max_value=12),
    st.integers(min_value=2, max_value=12),
    st.sampled_from(["seq", "map", "merge"]),
    st.sampled_from(["services", "spec", "dependencies"]),
)
@PLAN_YAML
def test_alias_bombs(width: int, depth: int, shape: str, at: str) -> None:
    lines = ["l0: &l0 {image: x, containers: [{name: c}], pip: [torch]}"]
    for n in range(1, depth + 1):
        ref = f"*l{n - 1}"
        if shape == "seq":
            body = "[" + ", ".join([ref] * width) + "]"
        elif shape == "map":
            body = "{" + ", ".join(f"k{i}: {ref}" for i in range(width)) + "}"
        else:
            body = "{<<: [" + ", ".join([ref] * width) + f"], k: {n}}}"
        lines.append(f"l{n}: &l{n} {body}")
    head = "apiVersion: v1\nkind: Bomb\n" if at == "spec" else ""
    _read_all(head + "\n".join(lines) + f"\n{at}: *l{depth}\n")


@given(st.text(max_size=400))
@example("\udcff    volumes:\n  - a\nservices: {}\n")  # libyaml's UnicodeEncodeError, once
@PLAN_YAML
def test_random_text(text: str) -> None:
    _read_all(text)
