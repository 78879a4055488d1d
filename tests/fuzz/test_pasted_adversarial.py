"""The pasted-report readers on adversarial lines (issue 19, item 3): every parser entry
point, on 1 MB lines built from its own patterns' fragments, each in under 1 s.

A line is CONTEXT + FRAGMENT * n + TAIL: the context puts the parser in the state where
a pattern runs (a key, a block, the row before a memory line), the fragment is a piece of
the pattern repeated ('Found GPU1 x', spaces, digits, ' |', 'eyJ-'), the tail makes the
match fail at the very end, which is where a backtracking pattern pays for every start
position. Before the fix one such 400 KB line ran `report --collect-env` past 60 s.

Each case runs (1) the parser itself on one 1 MB line, (2) the whole path users take
(facts_from_texts, the doctor, the anonymized report, its Markdown) on the same line,
which skips it with a note, and (3) that path on 1 MB of lines just under the skip bound,
which it must read, in linear time. The bound is the issue's 1 s, of CPU time (the test
machines are shared); a SIGALRM stop at 20 s ends a quadratic run early (the regex engine
checks signals) instead of hanging the suite.
"""

from __future__ import annotations

import io
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envlock.checks import run_checks
from envlock.errors import FactsError
from envlock.pasted import MAX_LINE_CHARS, facts_from_texts
from envlock.pasted.collect_env import looks_like_collect_env, parse_collect_env
from envlock.pasted.draft import MAX_LINES, Draft
from envlock.pasted.names import names_in_text
from envlock.pasted.nvidia_smi import looks_like_nvidia_smi, parse_nvidia_smi
from envlock.pasted.pip_freeze import parse_pip_freeze
from envlock.report.anonymize import anonymize
from tests.conftest import FIXTURES, REPO, clean_env
from tests.fuzz.test_fuzz import EXAMPLES, FUZZ

pytestmark = pytest.mark.fuzz

MB = 1 << 20
BOUND_S = 1.0  # the bound, per parser run
HARD_STOP_S = 20.0  # a quadratic run is stopped here (the old code took hours at 1 MB)

ROW = "|   0  Tesla K40m          On   | 0000:04:00.0     Off |                    0 |"
GPU_BLOCK = "GPU models and configuration:\nGPU 0: a"

# (kind, context, fragment, tail); kind is the paste option the text is given as.
CASES: list[tuple[str, str, str, str]] = [
    # collect_env: torch's warnings, searched on every line
    ("collect_env", "", "Found GPU1 x", ""),
    ("collect_env", "", "Found GPU1 x which is of cuda capability ", "x"),
    ("collect_env", "", " ", "x"),
    ("collect_env", "", "a with CUDA capability sm_", "1"),
    ("collect_env", "", "The current PyTorch install supports CUDA capabilities sm_1 ", ""),
    ("collect_env", "", "driver on your system is too old (found version ", ""),
    # key lines: 'Key  : value', the 'PyTorch version 1.5' form, banners, quotes
    ("collect_env", "a", " ", "b"),
    ("collect_env", "PyTorch version", " ", "x"),
    ("collect_env", "", "=", "x"),
    ("collect_env", ">", " ", "x"),
    ("collect_env", "", "a:", ""),
    ("collect_env", "PyTorch version: ", "1", "x"),
    ("collect_env", "PyTorch version: 1.1", "a", ""),
    # blocks: GPU lines (and their UUIDs), cuDNN files, the CPU block
    ("collect_env", GPU_BLOCK, " ", "b"),
    ("collect_env", GPU_BLOCK, " ", "(UUID: x"),
    ("collect_env", GPU_BLOCK, "(UUID: ", "x"),
    ("collect_env", "cuDNN version: Probably one of the following:\n", "cudnn", "x"),
    ("collect_env", "cuDNN version: Probably one of the following:\n", "libcudnn", "x"),
    ("collect_env", "cuDNN version: Probably one of the following:\n", "cudnn64_", "x"),
    ("collect_env", "CPU:\nModel name: a", " ", "b"),
    ("collect_env", "CPU:\nCPU(s): 1", " ", "x"),
    ("collect_env", "CPU:\nFlags: ", "avx ", ""),
    # values read by pattern after the block: compilers, OS, platform, pip/conda lines
    ("collect_env", "GCC version: ", "1", ""),
    ("collect_env", "CMake version: version ", "1", ""),
    ("collect_env", "OS: ", "(a)", " x"),
    ("collect_env", "OS: (", "a", ""),
    ("collect_env", "Python platform: Linux-", "-", ""),
    ("collect_env", "Python version: 3.11 ", "[", ""),
    ("collect_env", "Versions of relevant libraries:\n[pip3] a", " ", "b"),
    ("collect_env", "Versions of relevant libraries:\n[pip3] ", "a", " (x"),
    ("collect_env", "Versions of relevant libraries:\n[conda] a", " ", ""),
    # environment variables (vLLM's block): masked values, then the anonymizer
    ("collect_env", "Environment Variables\nNCCL_DEBUG=", "a", " ://"),
    ("collect_env", "Environment Variables\nNCCL_DEBUG=", "a1", " ://"),
    ("collect_env", "Environment Variables\nNCCL_DEBUG=https://h/", "a/", "x"),
    ("collect_env", "Environment Variables\nNCCL_DEBUG=https://h/", "a", "1"),
    ("collect_env", "Environment Variables\nNCCL_DEBUG=", "eyJ-", ""),
    ("collect_env", "Environment Variables\nNCCL_DEBUG=", "eyJaaaaaaaaaaa.", ""),
    ("collect_env", "Environment Variables\nNCCL_DEBUG=", "/home/", ""),
    ("collect_env", "Environment Variables\nNCCL_DEBUG=", "GPU-", ""),
    ("collect_env", "Environment Variables\nNCCL_DEBUG=", "0-", ""),
    ("collect_env", "Environment Variables\nLD_LIBRARY_PATH=/", "a", ""),
    ("collect_env", "Environment Variables\nLD_LIBRARY_PATH=", "/a", ""),
    ("collect_env", "", "\n", ""),
    ("collect_env", "", "\t\n", "PyTorch version"),
    # shell prompts (the names the anonymizer learns) and home paths
    ("collect_env", "[", "a", "@"),
    ("collect_env", "a@", "a", " x"),
    ("collect_env", "(", "(a) ", ""),
    ("collect_env", "", "/home/a", ""),
    ("collect_env", "", "/home/", ""),
    # a compose / kubectl log prefix (layout.undo_log_prefix): on every line, blanks before
    # it, a name that nearly is one, a flattened log
    ("collect_env", "", "vllm-1  | \n", "x"),
    ("collect_env", "a-1 | x\na-1 | y\na-1 | z\n", " ", "a-2 |"),
    ("collect_env", "a-1 | x\na-1 | y\na-1 | z\n", "a-1", " "),
    ("collect_env", "a-1 | x\na-1 | y\na-1 | z\n", " a-1  |", ""),
    ("collect_env", "", "a" * 90 + "-", "1 |"),
    ("collect_env", "", "[pod/a] \n", ""),
    # nvidia-smi: the table header, GPU rows and the memory row below one
    ("nvidia_smi", "NVIDIA-SMI ", "1", ""),
    ("nvidia_smi", "NVIDIA-SMI 1 ", " ", "Driver Version: "),
    ("nvidia_smi", "|   0  a", " ", "b"),
    ("nvidia_smi", "|   0  a", " On", " x"),
    ("nvidia_smi", "| 0 ", "| ", ""),
    ("nvidia_smi", ROW + "\n", "1", ""),
    ("nvidia_smi", ROW + "\n| ", "1MiB /", ""),
    ("nvidia_smi", ROW + "\n| 1MiB / 2MiB |", " ", "x"),
    ("nvidia_smi", ROW + "\n|", " Default", " x"),
    ("nvidia_smi", ROW + "\n| 1MiB / 2MiB ", " |", "x"),
    ("nvidia_smi", ROW + "\n| 1MiB / 2MiB | Enabled", " ", "|x"),
    # nvidia-smi -q: key : value lines, GPU headings
    ("nvidia_smi", "a", " ", "b"),
    ("nvidia_smi", "    Product Name : a", " ", "b"),
    ("nvidia_smi", "", "a.", "!"),
    ("nvidia_smi", "", ":", ""),
    ("nvidia_smi", "GPU 00000000:07:00.0", " ", "x"),
    ("nvidia_smi", "Driver Version", " ", "x"),
    ("nvidia_smi", "", " |", ""),
    # pip freeze
    ("pip_freeze", "", "a", "!"),
    ("pip_freeze", "a[", "x", ""),
    ("pip_freeze", "a", " ", "="),
    ("pip_freeze", "a @", " ", ""),
    ("pip_freeze", "-e ", "#egg=", ""),
    ("pip_freeze", "a==", "1", ""),
]
# a real line for each kind, so that the text is read as that kind and a case's
# line sits among the fields a parser keeps state for
HEADERS = {
    "collect_env": "PyTorch version: 2.5.1+cu121\n",
    "nvidia_smi": "| NVIDIA-SMI 535.54.03    Driver Version: 535.54.03    CUDA Version: 12.2 |\n",
    "pip_freeze": "torch==2.5.1\n",
}


def line_of(context: str, fragment: str, tail: str, size: int) -> str:
    n = max(1, (size - len(context) - len(tail)) // len(fragment))
    return context + fragment * n + tail


@contextmanager
def stopped_after(seconds: float, what: str) -> Iterator[None]:
    """Ends a run that goes on past `seconds` with an assertion (re checks signals)."""

    def stop(signum: int, frame: FrameType | None) -> None:
        raise AssertionError(f"{what}: still running after {seconds:.0f} s")

    old = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def seconds(fn: Callable[[], object], what: str) -> float:
    """CPU seconds `fn` took: what the parsing costs, whatever else shares the machine."""
    with stopped_after(HARD_STOP_S, what):
        start = time.process_time()
        fn()
        return time.process_time() - start


def parsers(kind: str, text: str) -> list[tuple[str, Callable[[], object]]]:
    """Every parser entry point that reads a text of this kind."""
    if kind == "collect_env":
        return [
            ("parse_collect_env", lambda: parse_collect_env(text, Draft())),
            ("looks_like_collect_env", lambda: looks_like_collect_env(text)),
            # a collect_env paste is read for nvidia-smi output too
            ("parse_nvidia_smi", lambda: parse_nvidia_smi(text, Draft())),
            ("names_in_text", lambda: names_in_text(text, Draft())),
            ("anonymize", lambda: anonymize({"value": text}, usernames=["alice"])),
        ]
    if kind == "nvidia_smi":
        return [
            ("parse_nvidia_smi", lambda: parse_nvidia_smi(text, Draft())),
            ("looks_like_nvidia_smi", lambda: looks_like_nvidia_smi(text)),
            ("names_in_text", lambda: names_in_text(text, Draft())),
        ]
    return [
        ("parse_pip_freeze", lambda: parse_pip_freeze(text, Draft())),
        ("names_in_text", lambda: names_in_text(text, Draft())),
    ]


def whole_path(kind: str, text: str) -> object:
    """What `envlock report --collect-env FILE` does with the text, in process."""
    try:
        facts = facts_from_texts(**{kind: text})
    except FactsError as exc:
        assert "\n" not in str(exc)
        return str(exc)
    run_checks(facts)
    from envlock.api import bug_report
    from envlock.report.markdown import render_markdown

    doc = bug_report(facts=facts)
    meta = doc["envlock_report"]
    out = io.StringIO()
    render_markdown(
        {"facts": doc, "doctor": meta["doctor"], "top": meta["top"], "anonymized": True}, out
    )
    return out.getvalue()


def case_id(case: tuple[str, str, str, str]) -> str:
    kind, context, fragment, tail = case
    return f"{kind}:{(context[-12:] + '|' + fragment + '|' + tail)!r}"


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_every_parser_on_a_1_mb_line_is_under_1_s(case: tuple[str, str, str, str]) -> None:
    kind, context, fragment, tail = case
    text = HEADERS[kind] + line_of(context, fragment, tail, MB)
    entries = parsers(kind, text)
    if "\n" in fragment:  # a million lines, not one: for the whole-text searches alone
        entries = [(name, run) for name, run in entries if name.startswith("looks_like")]
    slow = {}
    for name, run in entries:
        took = seconds(run, f"{name} on {case_id(case)}")
        if took > BOUND_S:
            slow[name] = round(took, 2)
    assert slow == {}, f"over {BOUND_S} s on a 1 MB line: {slow}"


# skipping costs the same whatever the line holds: the first case of each kind, and the
# million line breaks
SKIPPED = [next(c for c in CASES if c[0] == kind) for kind in HEADERS] + [
    c for c in CASES if "\n" in c[2]
]


@pytest.mark.parametrize("case", SKIPPED, ids=[case_id(c) for c in SKIPPED])
def test_the_report_path_skips_a_1_mb_line_with_a_note(case: tuple[str, str, str, str]) -> None:
    kind, context, fragment, tail = case
    text = HEADERS[kind] + line_of(context, fragment, tail, MB)
    out: list[object] = []
    took = seconds(lambda: out.append(whole_path(kind, text)), case_id(case))
    assert took < BOUND_S, f"{took:.2f} s"
    skipped = (
        f"lines after the {MAX_LINES}th skipped"
        if "\n" in fragment
        else f"longer than {MAX_LINE_CHARS} characters skipped"
    )
    assert skipped in str(out[0])


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_the_report_path_on_1_mb_of_lines_under_the_bound(
    case: tuple[str, str, str, str],
) -> None:
    """Lines just short enough to be read: the parsers themselves must be linear."""
    kind, context, fragment, tail = case
    line = line_of(context, fragment, tail, MAX_LINE_CHARS)
    text = HEADERS[kind] + "\n".join([line] * (MB // len(line)))
    out: list[object] = []
    took = seconds(lambda: out.append(whole_path(kind, text)), case_id(case))
    assert took < BOUND_S, f"{took:.2f} s"
    assert "characters skipped" not in str(out[0])


def test_the_cli_reads_a_1_mb_line_in_about_the_time_of_a_real_report(tmp_path: Any) -> None:
    """`envlock report --collect-env FILE` end to end: the old code ran past 60 s on a
    400 KB line. The difference to a real report's run (interpreter start, imports), in
    CPU seconds of the child, is what the line costs."""
    bad = tmp_path / "bad.txt"
    bad.write_text(HEADERS["collect_env"] + "Found GPU1 x" * (MB // 12) + "\n")

    def run(path: Any) -> tuple[float, subprocess.CompletedProcess[str]]:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.run(
            [sys.executable, "-m", "envlock", "report", "--collect-env", str(path)],
            capture_output=True,
            text=True,
            env=clean_env(),
            cwd=REPO,
            timeout=HARD_STOP_S * 3,
            check=False,
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        return cpu, proc

    real, ok = run(FIXTURES / "collect_env" / "pytorch-150733.txt")
    took, proc = run(bad)
    assert ok.returncode == 0 and proc.returncode == 0, ok.stderr + proc.stderr
    assert f"1 line longer than {MAX_LINE_CHARS} characters skipped" in proc.stdout
    assert took - real < BOUND_S, f"{took:.2f} s against {real:.2f} s for a real report"


# ---------------------------------------------------------------- hypothesis
FRAGMENTS = sorted({c[2] for c in CASES} | {"a ", ":", " :", "\t", "(", ")", "|", "1.", "x@"})
CONTEXTS = sorted({c[1] for c in CASES})
TAILS = sorted({c[3] for c in CASES} | {"", "!"})


@st.composite
def adversarial_text(draw: st.DrawFn) -> tuple[str, str]:
    kind = draw(st.sampled_from(sorted(HEADERS)))
    parts = [HEADERS[kind]]
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        fragment = draw(st.sampled_from(FRAGMENTS)) + draw(st.sampled_from(["", " ", "a", "1"]))
        size = draw(st.integers(min_value=1000, max_value=60_000))
        parts.append(
            line_of(draw(st.sampled_from(CONTEXTS)), fragment, draw(st.sampled_from(TAILS)), size)
        )
    return kind, "\n".join(parts)


@settings(FUZZ, deadline=None, max_examples=max(30, EXAMPLES // 15))
@given(adversarial_text())
def test_long_repetitive_lines_from_the_patterns_fragments(case: tuple[str, str]) -> None:
    """Long repetitive lines, under and over the skip bound: each example, every parser
    and the whole report path, within the suite's 2 s of CPU per example (cpubound.py)."""
    kind, text = case
    for _, run in parsers(kind, text):
        run()
    whole_path(kind, text)
