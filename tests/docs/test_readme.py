"""The README's promises: its commands exist, exit codes match the code, hook file parses."""

from __future__ import annotations

import re

from envlock.cli import COMMANDS, EPILOG, build_parser
from envlock.errors import ExitCode
from tests.conftest import REPO

README = (REPO / "README.md").read_text()


def first_screen_commands() -> list[str]:
    """The command lines of the README's first code block: install + doctor, then tests."""
    block = README.split("```bash\n", 1)[1].split("```", 1)[0]
    return [ln for ln in block.splitlines() if ln.strip() and not ln.startswith("#")]


def test_first_screen_has_setup_and_test_commands() -> None:
    first = "\n".join(README.splitlines()[:25])
    install, tests = first_screen_commands()
    assert install in first and tests in first
    # PEP 668 (Debian 12, Ubuntu 24.04): no pip install into the system Python
    for line in (install, tests):
        assert line.startswith("python3 -m venv "), line
        assert not re.search(r"(?<![\w/.])(python3? -m )?pip install", line), line
    assert re.search(r"/bin/pip install \. && \S*/bin/envlock doctor$", install), install
    assert "--group dev" in tests and tests.endswith("python -m pytest"), tests
    prose = " ".join(first.split())
    assert "EL-TORCH-MISSING" in prose and "--python" in prose  # what the first run says
    assert "uv tool install" in prose or "pipx install" in prose
    ci = (REPO / ".ci" / "run").read_text()
    assert "-m pytest" in ci and "--group dev" in ci  # .ci/run runs the README's test command


def _long_options(help_text: str) -> set[str]:
    """The long options an `envlock CMD --help` lists: its option lines, read up to the
    two spaces where the option's description starts (not its prose)."""
    return {
        opt
        for line in help_text.splitlines()
        if line.lstrip().startswith("-")
        for opt in re.findall(r"(?<![\w-])(--[a-z][\w-]*)", line.strip().split("  ")[0])
        if opt != "--help"
    }


def test_every_command_has_a_readme_section_and_its_help_is_in_the_readme() -> None:
    """README and `--help` in step: a section heading per command, and every option
    `envlock CMD --help` lists is documented (as `--option`) in the README."""
    headings = [ln for ln in README.splitlines() if ln.startswith("## ")]
    parser = build_parser()
    documented = set(re.findall(r"(?<![\w-])(--[a-z][\w-]*)", README))
    for name in COMMANDS:
        assert any(f"`envlock {name}" in h for h in headings), f"no README section for {name}"
        sub = parser._subparsers._group_actions[0].choices[name]  # type: ignore[union-attr]
        helps = [sub.format_help()]
        if name == "fleet":
            helps += [a.format_help() for a in sub._subparsers._group_actions[0].choices.values()]
        options = set().union(*(_long_options(h) for h in helps))
        # run and completion take no long option of their own
        assert options or name in ("run", "completion"), (
            f"could not read the options of `envlock {name} --help`"
        )
        missing = sorted(options - documented)
        assert not missing, f"`envlock {name} --help` lists {missing}, which the README never names"


def test_exit_code_table_matches_the_code() -> None:
    table = dict(re.findall(r"^\| (\d+) \| (.+?) \|$", README, re.M))
    assert sorted(int(k) for k in table) == sorted(int(c) for c in ExitCode)
    for code in ExitCode:
        assert f"  {int(code)}  " in EPILOG


def test_every_option_in_readme_examples_exists() -> None:
    """Options shown after `envlock <cmd>` in README code blocks are accepted by that command."""
    parser = build_parser()
    subs = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for cmd, rest in re.findall(r"^envlock (\w+)(.*)$", README, re.M):
        if cmd not in subs:
            continue
        known = {o for a in subs[cmd]._actions for o in a.option_strings}
        if cmd == "fleet":
            known |= {
                o
                for a in subs[cmd]._subparsers._group_actions[0].choices["report"]._actions
                for o in a.option_strings
            }
        own = rest.split("#")[0].split(" -- ")[0]  # after " -- " come the wrapped command's options
        for opt in re.findall(r"(?<![\w-])(--[a-z][\w-]*)", own):
            assert opt in known, f"README shows `envlock {cmd} ... {opt}` which it does not accept"


def test_pre_commit_hook_file_is_valid() -> None:
    text = (REPO / ".pre-commit-hooks.yaml").read_text()
    assert "id: envlock-verify" in text and "entry: python -m envlock.precommit" in text
    # pre-commit installs envlock for the hook: no activated venv needed; the hook verifies
    # the project's interpreter through --python (tests/docs/test_pre_commit_hook.py)
    assert "language: python" in text
