"""Every install line in the repository installs this project: `envlock` on PyPI is an
unrelated project (a secrets-encryption CLI that also installs an `envlock` command), so
a snippet copied from the README, the docs, CI, the pre-commit hook, an error message or
an exported Dockerfile must name the distribution in pyproject's [project].name."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import tomllib
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from envlock import DISTRIBUTION, __version__
from tests.conftest import FIXTURES, REPO, run_envlock

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
NAME = PYPROJECT["project"]["name"]

# `pip install ...`, `uv pip install`, `uv tool install`, `pipx install`, `uv add`, up to the
# end of the command (a backtick, a quote closing a YAML string, `&&`, `;`, `|`, `#`).
_COMMAND = re.compile(r"\b(?:pip3?|pipx|uv(?: pip| tool)?)\s+(?:install|add)\b([^`\n#;&|]*)")
# pre-commit's additional_dependencies: [a, b]
_EXTRA_DEPS = re.compile(r"additional_dependencies:\s*\[([^\]]*)\]")

_TEXT = (".md", ".py", ".toml", ".yaml", ".yml", ".sh", ".txt", ".cfg", ".json")
_SKIP = ("tests/", "CHANGELOG.md")  # tests hold hostile specs; the changelog tells of the rename


def _shipped_files() -> list[Path]:
    """What a user reads or runs: README, docs, CI, hooks, benchmarks and the package."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    files = [p for p in listed if p.endswith(_TEXT) or p.startswith(".ci/")]
    return [REPO / p for p in files if not p.startswith(_SKIP) and (REPO / p).is_file()]


def _requirements(line: str) -> list[str]:
    """The requirement-like words of every install command on the line."""
    words: list[str] = []
    for match in _COMMAND.finditer(line):
        words += match.group(1).split()
    for match in _EXTRA_DEPS.finditer(line):
        words += match.group(1).split(",")
    return [w.strip().strip("'\"").strip() for w in words]


def _names(word: str) -> str | None:
    """The distribution a word of an install command names (None: an option, a path)."""
    if not word or word.startswith(("-", ".", "/", "$", "{", "<")) or "://" in word:
        return None
    try:
        return canonicalize_name(Requirement(word).name)
    except InvalidRequirement:
        return None


def install_lines(text: str) -> list[tuple[int, str, str]]:
    """(line number, distribution, line) for each distribution an install command names."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        for word in _requirements(line):
            name = _names(word)
            if name is not None:
                found.append((number, name, line.strip()))
    return found


def test_the_distribution_is_free_of_the_unrelated_envlock() -> None:
    assert canonicalize_name(NAME) != "envlock"
    assert DISTRIBUTION == NAME  # the name error messages and `--version` use


def test_the_collector_finds_the_unrelated_project() -> None:
    """The collector would catch each way a snippet can name the wrong project."""
    bad = [
        "pip install envlock",
        "- run: pip install 'envlock[torch]' && envlock doctor",
        "python3 -m pip install --upgrade envlock==0.1.0; envlock doctor",
        "uv tool install envlock",
        "pipx install envlock  # the CLI",
        "additional_dependencies: [torch, 'envlock>=0.1']",
        "RUN python -m pip install --no-cache-dir envlock",
    ]
    for line in bad:
        assert [n for _, n, _ in install_lines(line)] and all(
            n == "envlock" for _, n, _ in install_lines(line) if n != "torch"
        ), line
    assert not install_lines("install envlock into the project's venv (`pip install .`)")


def test_every_install_line_names_this_distribution() -> None:
    shipped = _shipped_files()
    # the documentation site is read too, every page of it
    docs = {p for p in (REPO / "docs").rglob("*.md")}
    assert docs and docs <= set(shipped), sorted(map(str, docs - set(shipped)))
    wrong = []
    ours = 0
    for path in shipped:
        for number, name, line in install_lines(path.read_text(errors="replace")):
            if name == "envlock":
                wrong.append(f"{path.relative_to(REPO)}:{number}: {line}")
            ours += name == canonicalize_name(NAME)
    assert not wrong, "installs the unrelated PyPI project `envlock`:\n" + "\n".join(wrong)
    assert ours >= 3, "the README, the CI snippets and the hook install this project by name"


def test_the_readme_installs_it_by_name_and_warns_of_the_other_envlock() -> None:
    readme = (REPO / "README.md").read_text()
    named = {name for _, name, _ in install_lines(readme)}
    assert canonicalize_name(NAME) in named
    prose = " ".join(readme.split())
    assert "also installs an `envlock` command" in prose
    assert "`envlock --version` says which one is on PATH" in prose
    # the documentation site installs it by name too (the docs' home, the CI page)
    for page in ("index.md", "ci.md"):
        named = {name for _, name, _ in install_lines((REPO / "docs" / page).read_text())}
        assert canonicalize_name(NAME) in named, page
    # what the exported Dockerfile installs by default, as export's --help says: on
    # export's page since the README became a front page (issue 22 item 10)
    export_page = " ".join((REPO / "docs" / "commands" / "export.md").read_text().split())
    defaults = re.findall(r"`--envlock-spec`, default `([^`]+)`", export_page)
    assert defaults == [NAME], defaults


def test_the_exported_dockerfile_installs_this_project(tmp_path: Path) -> None:
    lock = FIXTURES / "lock.torch-cpu-v1.0-written-by-main-7391dc9.toml"
    proc = run_envlock(["export", str(lock), "--format", "dockerfile", "--base", "python:3.11"])
    assert proc.returncode == 0, proc.stderr
    names = {name for _, name, _ in install_lines(proc.stdout)}
    assert canonicalize_name(NAME) in names and "envlock" not in names, proc.stdout
    help_text = run_envlock(["export", "--help"]).stdout
    assert f"default: {NAME}" in " ".join(help_text.split())


def test_version_names_the_project_and_its_distribution() -> None:
    """`envlock --version` tells this envlock from the other project's `envlock` on PATH."""
    proc = run_envlock(["--version"])
    assert proc.returncode == 0
    line = proc.stdout.strip()
    assert line.startswith(f"envlock {__version__}") and NAME in line, line
    assert "PyTorch" in line and "\n" not in line, line
