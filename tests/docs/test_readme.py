"""The README's and the documentation's promises: their commands exist, every option of a
command is on its page, exit codes match the code, hook file parses, the README stays a
front page."""

from __future__ import annotations

import re
from pathlib import Path

from envlock.cli import COMMANDS, EPILOG, build_parser
from envlock.errors import ExitCode
from tests.conftest import REPO
from tests.docs.reference import DOCS, page_of

README = (REPO / "README.md").read_text()
EXIT_CODES = DOCS / "exit-codes.md"


def doc_pages() -> list[Path]:
    """Every Markdown page of the documentation site."""
    return sorted(DOCS.rglob("*.md"))


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


def test_every_command_has_a_page_and_its_help_is_on_it() -> None:
    """Docs and `--help` in step: a page per command titled with it, and every option
    `envlock CMD --help` lists is documented (as `--option`) on that page."""
    parser = build_parser()
    for name in COMMANDS:
        page = page_of(name)
        assert page.is_file(), f"no documentation page for {name}"
        text = page.read_text()
        assert text.startswith(f"# envlock {name}"), f"{page} is not titled `envlock {name}`"
        documented = set(re.findall(r"(?<![\w-])(--[a-z][\w-]*)", text))
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
        assert not missing, f"`envlock {name} --help` lists {missing}, which {page} never names"


def test_the_readme_is_a_front_page_that_links_every_command() -> None:
    """At most about 250 lines (issue 22 item 10): what it is, install, five commands,
    exit codes, links; every command's page is one link away."""
    assert len(README.splitlines()) <= 250, len(README.splitlines())
    headings = [ln for ln in README.splitlines() if ln.startswith("### ")]
    assert len([h for h in headings if "`envlock " in h]) == 5, headings
    for name in COMMANDS:
        link = f"({page_of(name).relative_to(REPO)})"
        assert link in README, f"the README does not link {link}"
    for heading in ("## Exit codes", "## Documentation"):
        assert heading in README.splitlines(), heading


def test_exit_code_table_matches_the_code() -> None:
    """The README's table and the exit-codes page's: the same codes, those of the code."""
    readme = dict(re.findall(r"^\| (\d+) \| (.+?) \|$", README, re.M))
    page = dict(re.findall(r"^\| (\d+) \| (.+?) \|$", EXIT_CODES.read_text(), re.M))
    assert page == readme
    table = readme
    assert sorted(int(k) for k in table) == sorted(int(c) for c in ExitCode)
    for code in ExitCode:
        assert f"  {int(code)}  " in EPILOG


def test_every_option_in_readme_examples_exists() -> None:
    """Options shown after `envlock <cmd>` in the code blocks of the README and of every
    documentation page are accepted by that command."""
    parser = build_parser()
    subs = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    texts = "\n".join([README, *(p.read_text() for p in doc_pages())])
    shown = re.findall(r"^(?:\$ )?envlock (\w+)(.*)$", texts, re.M)
    assert len(shown) >= 50, len(shown)  # the examples moved with the text, not dropped
    for cmd, rest in shown:
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
            assert opt in known, (
                f"the docs show `envlock {cmd} ... {opt}`, which it does not accept"
            )


def test_pre_commit_hook_file_is_valid() -> None:
    text = (REPO / ".pre-commit-hooks.yaml").read_text()
    assert "id: envlock-verify" in text and "entry: python -m envlock.precommit" in text
    # pre-commit installs envlock for the hook: no activated venv needed; the hook verifies
    # the project's interpreter through --python (tests/docs/test_pre_commit_hook.py)
    assert "language: python" in text
