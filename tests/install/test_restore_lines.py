"""How install/restore.py words an installer's steps and reads its output, without shlex
and with its patterns compiled only when a line needs them (a repeat restore's CPU while
uv runs): the same words and counts as shlex.quote and the patterns they replace."""

from __future__ import annotations

import re
import shlex

from hypothesis import given
from hypothesis import strategies as st

from envlock.install import restore

# the patterns install/restore.py applied to every line before
ESCAPES = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]")
PASSWORD = re.compile(r"(://[^/\s:@]+:)[^/\s@]+@")
PACKAGE = re.compile(r"^(?:Collecting |Processing |Requirement already satisfied: | ?\+ )\S")

WORDS = [
    "",
    "uv",
    "/tmp/a b/.envlock-restore-build/venv/bin/python",
    "it's",
    "--prompt=x",
    "caf\u00e9",
    "a\tb",
    "$HOME",
    "x'y\"z",
    "@%+=:,./-_",
    "~/v",
]
LINES = [
    " + certifi==2024.8.30",
    "+ idna==3.10",
    " +  two spaces",
    "+ ",
    "Collecting requests==2.32.3",
    "Collecting  x",
    "Processing ./w.whl",
    "Requirement already satisfied: six",
    "Requirement already satisfied: ",
    "Resolved 6 packages in 57ms",
    "\x1b[32m + idna\x1b[0m",
    "error: https://user:secret@host.example/simple/x failed",
    "see https:\x1b[0m//u:p@h/x",
    "progress 10%\r progress 100%\n",
    "\x1b7 saved \x1b[?25l",
    "+\u00a0nbsp",
]


def old_clean(raw: str) -> str:
    line = raw.rstrip("\n").split("\r")[-1]
    return PASSWORD.sub(r"\1****@", ESCAPES.sub("", line))


def test_quote_is_shlex_quote() -> None:
    for word in WORDS:
        assert restore._quote(word) == shlex.quote(word), word


@given(st.text())
def test_quote_is_shlex_quote_for_any_text(word: str) -> None:
    assert restore._quote(word) == shlex.quote(word)


def test_lines_read_as_the_patterns_read_them() -> None:
    for line in LINES:
        assert restore._clean(line) == old_clean(line), line
        cleaned = old_clean(line)
        assert restore._names_package(cleaned) == bool(PACKAGE.match(cleaned)), cleaned
    assert restore._clean("error: https://user:secret@host/x") == "error: https://user:****@host/x"
    assert restore._clean("see https:\x1b[0m//u:p@h/x") == "see https://u:****@h/x"
    assert restore._names_package(" + certifi==2024.8.30")
    assert not restore._names_package(" +  two spaces")


ALPHABET = st.sampled_from([*"+ :/@\x1b[0m;?\rCPRa\u00a0\t-", "Collecting ", "://"])


@given(st.lists(ALPHABET, max_size=24).map("".join))
def test_any_line_reads_as_the_patterns_read_it(line: str) -> None:
    assert restore._clean(line) == old_clean(line)
    assert restore._names_package(line) == bool(PACKAGE.match(line))
