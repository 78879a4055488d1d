"""`envlock completion bash|zsh` (issue 22 item 9c): the scripts are loaded by the real
shells, and their completion functions run on simulated command lines (COMP_WORDS and
COMP_CWORD for bash; words and CURRENT for zsh, with the completion builtins recorded)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from envlock.cli import COMMANDS, build_parser, main
from envlock.report.completion import levels
from tests.conftest import REPO, run_envlock


@pytest.fixture(scope="module")
def scripts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each script as the installed command prints it (the real CLI, the whole parser)."""
    where = tmp_path_factory.mktemp("completion")
    out = {}
    for shell in ("bash", "zsh"):
        done = run_envlock(["completion", shell])
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""
        out[shell] = where / f"envlock.{shell}"
        out[shell].write_text(done.stdout)
    return out


def bash_complete(script: Path, line: str) -> list[str]:
    """What the bash function offers for the last word of `line` ("" after a blank)."""
    words = line.split(" ")
    quoted = " ".join(f"'{w}'" for w in words)
    program = (
        f"source {script}\n"
        "complete -p envlock\n"  # registered for the command
        f"COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}; COMP_LINE='{line}'\n"
        "_envlock\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", program],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=REPO,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    head, *offered = done.stdout.splitlines()
    assert head == "complete -o default -F _envlock envlock"
    return sorted(w for w in offered if w)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("envlock pro", ["probe"]),
        ("envlock ver", ["verify"]),
        ("envlock --ver", ["--version"]),
        ("envlock verify --for", ["--format"]),
        ("envlock verify --format j", ["json", "junit"]),
        ("envlock verify --format=j", ["--format=json", "--format=junit"]),
        ("envlock fleet re", ["report"]),
        ("envlock fleet report --no", ["--nodes"]),
        ("envlock completion ", ["bash", "zsh"]),
        # an option's value is skipped on the way to the word being completed
        ("envlock doctor --facts doctor --str", ["--strict"]),
        ("envlock lock --scope s", ["software"]),
        # an option value without choices, a file argument: the shell's file names
        ("envlock verify --facts ", []),
        ("envlock export ", []),
        # after `run --` the words are the launched command's, not envlock's
        ("envlock run --lock x.toml -- pro", []),
    ],
)
def test_bash_completes_commands_options_and_values(
    scripts: dict[str, Path], line: str, expected: list[str]
) -> None:
    assert bash_complete(scripts["bash"], line) == expected


def test_bash_offers_every_command_and_every_option_of_each(scripts: dict[str, Path]) -> None:
    """The script follows the parser: each command, and each of its long options."""
    assert bash_complete(scripts["bash"], "envlock ") == sorted(COMMANDS)
    assert set(COMMANDS) >= {"completion", "verify", "fleet"}
    subs = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name in ("verify", "doctor", "restore"):
        wanted = {s for a in subs[name]._actions for s in a.option_strings if s.startswith("--")}
        assert set(bash_complete(scripts["bash"], f"envlock {name} --")) == wanted, name


ZSH = shutil.which("zsh")


def zsh_complete(script: Path, line: str) -> list[str]:
    """What the zsh function offers, through stand-ins for the completion builtins
    (compadd, _describe, _files, _normal): a shell function is found before a builtin."""
    words = line.split(" ")
    quoted = " ".join(f"'{w}'" for w in words)
    program = f"""
compdef() {{ print -r -- "compdef $*"; }}
compadd() {{
    local prefix=""
    while [[ $1 == -* && $1 != -- ]]; do
        [[ $1 == -P ]] && {{ prefix=$2; shift; }}
        shift
    done
    [[ $1 == -- ]] && shift
    local w; for w in "$@"; do print -r -- "$prefix$w"; done
}}
_describe() {{
    local -a arr; arr=("${{(@P)${{@[-1]}}}}")
    local w; for w in "${{arr[@]}}"; do print -r -- "${{w%%:*}}"; done
}}
_files() {{ print -r -- "<files>"; }}
_normal() {{ print -r -- "<normal:${{words[CURRENT]}}>"; }}
compset() {{ :; }}
source {script}
words=({quoted}); CURRENT={len(words)}
_envlock
"""
    done = subprocess.run(
        [ZSH or "zsh", "-f", "-c", program],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=REPO,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    head, *offered = done.stdout.splitlines()
    assert head == "compdef _envlock envlock"
    cur = words[-1]
    return sorted({w for w in offered if w.startswith(cur) or w.startswith("<")})


@pytest.mark.skipif(ZSH is None, reason="zsh is not installed (the bash tests run everywhere)")
@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("envlock pro", ["probe"]),
        ("envlock verify --for", ["--format"]),
        ("envlock verify --format j", ["json", "junit"]),
        ("envlock verify --format=j", ["--format=json", "--format=junit"]),
        ("envlock fleet re", ["report"]),
        ("envlock completion ", ["bash", "zsh"]),
        ("envlock doctor --facts doctor --str", ["--strict"]),
        ("envlock verify --facts ", ["<files>"]),
        ("envlock run --lock x.toml -- pro", ["<normal:pro>"]),
    ],
)
def test_zsh_completes_commands_options_and_values(
    scripts: dict[str, Path], line: str, expected: list[str]
) -> None:
    assert zsh_complete(scripts["zsh"], line) == expected


@pytest.mark.skipif(ZSH is None, reason="zsh is not installed")
def test_zsh_script_parses(scripts: dict[str, Path]) -> None:
    done = subprocess.run(
        [ZSH or "zsh", "-n", str(scripts["zsh"])], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_every_command_path_is_in_the_scripts(scripts: dict[str, Path]) -> None:
    paths = [level.path for level in levels(build_parser())]
    assert "fleet report" in paths and "" in paths
    for shell, script in scripts.items():
        text = script.read_text()
        for path in paths:
            assert f'"{path}")' in text, (shell, path)


def test_an_unknown_shell_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", "fish"]) == 2
    assert "invalid choice: 'fish'" in capsys.readouterr().err


# ------------------------------------------------ a real interactive zsh, keys typed
# The stand-in test above records what the function hands to zsh's builtins; this one
# types TAB into an interactive zsh (zpty) with compinit loaded, as a user's shell has
# it, and reads the line back: zsh's own functions (_describe declares locals named
# _opts, _subs, ...) run for real, which the stand-ins cannot show.
_ZPTY = r"""
zmodload zsh/zpty
drain() { local chunk n=0; REPLY=""; while (( n < 15 )); do
    if zpty -rt z chunk 2>/dev/null; then REPLY+=$chunk; n=0; else sleep 0.1; (( n++ )); fi
done }
zpty z zsh -f -i
zpty -w z "PS1='>'; autoload -U compinit; compinit -u -D; source ${(q)1}; envlock() { :; }"
drain
for line in "${@[2,-1]}"; do
    zpty -w -n z "$line"$'\t'
    drain
    print -r -- "${line}=>${REPLY//$'\e'\[[0-9;]#[A-Za-z]/}"
    zpty -w -n z $'\C-e\C-u'
    drain
done
zpty -d z
"""


def zsh_typed(script: Path, lines: list[str]) -> dict[str, str]:
    """What each line reads after TAB in an interactive zsh."""
    done = subprocess.run(
        [ZSH or "zsh", "-f", "-c", _ZPTY, "zpty-test", str(script), *lines],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = {}
    for row in done.stdout.splitlines():
        line, sep, shown = row.partition("=>")
        if sep and line in lines:
            out[line] = shown
    return out


@pytest.mark.skipif(
    ZSH is None and not os.environ.get("CI"), reason="zsh is not installed (CI installs it)"
)
@pytest.mark.slow
def test_tab_in_a_real_interactive_zsh(scripts: dict[str, Path]) -> None:
    cases = {
        "envlock veri": "envlock verify",
        "envlock verify --for": "envlock verify --format",
        "envlock doctor --no-c": "envlock doctor --no-cache",
        "envlock verify --format ju": "envlock verify --format junit",
        "envlock verify --format=ju": "envlock verify --format=junit",
        "envlock fleet re": "envlock fleet report",
        "envlock completion b": "envlock completion bash",
    }
    shown = zsh_typed(scripts["zsh"], list(cases))
    for line, completed in cases.items():
        assert completed in shown.get(line, ""), (line, shown.get(line))
