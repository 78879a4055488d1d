"""The Dockerfile plan reader (and the requirements, pylock, uv.lock and pyproject readers
beside it) fuzzed: the corpus's real Dockerfiles with lines dropped, duplicated and
replaced by Dockerfile noise, random text, and 1 MB adversarial inputs. Each read gives a
Plan whose spans lie inside the file, or one PlanError line, within the 2 s of CPU per example (cpubound.py) of
every example; each adversarial input is read in under 1 s of CPU time.

The adversarial inputs are those that took 3-20 s each before the shell words were split
by one linear pattern (shlex joined its tokens character by character) and before
instructions, heredocs and requirement lists got their bounds: `${` and `$A` repeated
through a 1 MB RUN line, a 1 MB run of `;`, an unclosed quote before 1 MB of words, a
million `[`, 200,000 requirements on one pip line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from envlock.plan import dockerfile, pylock, pyproject, requirements, uvlock
from envlock.plan.model import Plan, PlanError, ReadOptions
from tests.conftest import REPO, clean_env
from tests.fuzz.test_fuzz import EXAMPLES, FUZZ

pytestmark = pytest.mark.fuzz

PLAN_DOCKERFILE = settings(FUZZ, deadline=None, max_examples=max(30, EXAMPLES // 2))
CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "plan"
DOCKERFILES = sorted(p for p in CORPUS.glob("*/Dockerfile*") if p.is_file())
NOISE = [
    "\\",
    "`",
    "# escape=`",
    "# syntax=docker/dockerfile:1",
    "ARG A=${A:-${B:+x}}",
    "ARG",
    "FROM ${A}",
    "FROM --platform=$BUILDPLATFORM scratch AS a",
    "FROM a",
    "ENV A=1 B='2 3' C",
    "ENV",
    "RUN <<EOF",
    "RUN <<-'X' bash",
    "EOF",
    'RUN ["pip", "install", "torch==2.1.0"]',
    'RUN ["sh", "-c"]',
    "RUN pip install 'torch==2.7.0' --index-url https://download.pytorch.org/whl/cu128 \\",
    "RUN conda install -c pytorch pytorch=1.2.0=py3.7_cuda9.2_0 cudatoolkit=9.2",
    "RUN uv pip install -r requirements.txt",
    'RUN pip install "unclosed',
    "    && pip3 install torchvision==0.16.0+cu121",
    "\t",
    "\x00",
    "\udcff",
    "$" * 20,
    "9" * 40,
]


def _check(plans: list[Plan], text: str) -> None:
    lines = text.split("\n")
    for plan in plans:
        spans = [i.span for i in plan.installs] + [v.span for v in plan.env]
        if plan.base is not None:
            spans.append(plan.base.reference.span)
        for span in spans:
            if span.file == "Dockerfile":
                assert 1 <= span.line <= span.end_line <= len(lines)
                assert span.text == "\n".join(lines[span.line - 1 : span.end_line])


def _read(text: str) -> None:
    """The Dockerfile reader on `text`: Plans or one PlanError line, nothing else."""
    try:
        plans = dockerfile.read(text, "Dockerfile", ReadOptions(read_beside=lambda _f, _n: None))
    except PlanError as e:
        assert str(e) and "\n" not in str(e).strip(), str(e)
        return
    _check(plans, text)


@st.composite
def mangled(draw: st.DrawFn) -> str:
    lines = DOCKERFILES[draw(st.integers(0, len(DOCKERFILES) - 1))].read_text().split("\n")
    for _ in range(draw(st.integers(1, 8))):
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        op = draw(st.sampled_from(("drop", "dup", "noise", "cut")))
        if op == "drop" and lines:
            lines.pop(i)
        elif op == "dup" and lines:
            lines.insert(i, lines[i])
        elif op == "noise":
            lines.insert(i, draw(st.sampled_from(NOISE)))
        elif lines:
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
    return "\n".join(lines)


@PLAN_DOCKERFILE
@given(mangled())
@example("FROM python\nRUN <<EOF\n")
@example("# escape=`\nFROM a\nRUN pip install `\n")
@example("ARG A=${A:-${A:-${A:-${A:-${A:-${A:-${A:-${A:-${A:-x}}}}}}}}}\nFROM a\n")
def test_mangled_real_dockerfiles(text: str) -> None:
    _read(text)


@PLAN_DOCKERFILE
@given(st.lists(st.sampled_from(NOISE) | st.text(max_size=40), max_size=30).map("\n".join))
@example("\\")  # a line that is only the escape character (an assertion, before)
def test_noise_lines(text: str) -> None:
    _read(text)


@settings(FUZZ, deadline=None, max_examples=max(30, EXAMPLES // 3))
@given(st.text(max_size=400), st.sampled_from((requirements, pylock, uvlock, pyproject)))
@example("[[package]]\nname = 'torch'\nversion = '2'\n", uvlock)
@example("lock-version = '1.0'\n[[packages]]\nname = 'x'\n", pylock)
def test_the_other_plan_readers_on_random_text(text: str, reader: object) -> None:
    try:
        reader.read(text, "plan.file", ReadOptions())  # type: ignore[attr-defined]
    except PlanError as e:
        assert "\n" not in str(e).strip()


MB = 1 << 20
ADVERSARIAL = {
    "dollar-braces": "FROM python\nRUN echo " + "${" * (MB // 2) + "\n",
    "dollars": "FROM python\nRUN echo " + "$A" * (MB // 2) + "\n",
    "semicolons": "FROM python\nRUN " + ";" * MB + "\n",
    "open-quote": "FROM python\nRUN pip install '" + "a " * (MB // 2) + "\n",
    "json-deep": "FROM python\nRUN " + "[" * MB + "\n",
    "pip-args": "FROM python\nRUN pip install " + "a==1 " * (MB // 5) + "\n",
    "continuations": "FROM python\nRUN pip install \\\n" + "  torch \\\n" * (MB // 10) + "\n",
    "nested-default": "ARG A=" + "${A:-" * (MB // 5) + "\nFROM python\n",
    "env-pairs": "FROM python\nENV " + "A=1 " * (MB // 4) + "\n",
    "many-instructions": "FROM python AS a\n" * (MB // 17),
    "comment-lines": "FROM python\nRUN a \\\n" + "#\n" * (MB // 2) + "b\n",
    "just-under-the-cap": "FROM python\nRUN pip install " + "$A${B:-c} 'x' " * 18_000 + "\n",
}
_TIMER = """
import json, sys, time
from envlock.plan.dockerfile import read
from envlock.plan.model import PlanError, ReadOptions
times = {}
for name, text in json.loads(sys.stdin.read()).items():
    start = time.process_time()
    try:
        read(text, "Dockerfile", ReadOptions())
    except PlanError:
        pass
    times[name] = time.process_time() - start
print(json.dumps(times))
"""


def test_adversarial_dockerfiles_are_read_in_linear_time() -> None:
    # CPU time in a child (the machines are shared); its timeout stops a quadratic run
    proc = subprocess.run(
        [sys.executable, "-c", _TIMER],
        input=json.dumps(ADVERSARIAL),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env=clean_env(),
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    times = json.loads(proc.stdout)
    slow = {name: round(t, 2) for name, t in times.items() if t >= 1.0}
    assert not slow, slow
