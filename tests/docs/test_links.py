"""Every relative link in the README and the documentation points at a file that exists,
and a link's #anchor at a heading of that file (as GitHub and MkDocs name headings)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import REPO

# [text](target) and ![alt](target), not in code; autolinks and absolute URLs are left alone
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^```.*?^```", re.M | re.S)


def markdown_files() -> list[Path]:
    return [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]


def _slugs(text: str) -> set[str]:
    """A page's anchors: GitHub's slug of each heading, and Python-Markdown's (MkDocs)."""
    found = set()
    for heading in re.findall(r"^#{1,6} (.+)$", _FENCE.sub("", text), re.M):
        words = heading.strip().lower()
        found.add(re.sub(r"[^\w\- ]", "", words).replace(" ", "-"))  # GitHub
        found.add(re.sub(r"[-\s]+", "-", re.sub(r"[^\w\s-]", "", words)).strip("-"))  # toc
    return found


def broken_links(path: Path) -> list[str]:
    name = path.relative_to(REPO) if path.is_relative_to(REPO) else path.name
    text = _FENCE.sub("", path.read_text())
    text = re.sub(r"`[^`\n]*`", "", text)
    broken = []
    for target in _LINK.findall(text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        file, _, anchor = target.partition("#")
        dest = (path.parent / file).resolve() if file else path
        if not dest.is_file():
            broken.append(f"{name}: {target} (no such file)")
        elif anchor and dest.suffix == ".md" and anchor not in _slugs(dest.read_text()):
            broken.append(f"{name}: {target} (no such heading)")
    return broken


def test_every_relative_link_resolves() -> None:
    links = [t for p in markdown_files() for t in _LINK.findall(p.read_text())]
    assert len(links) >= 40, len(links)  # the README's and the pages' links are read
    broken = [b for p in markdown_files() for b in broken_links(p)]
    assert not broken, "\n".join(broken)


def test_a_broken_link_or_anchor_is_caught(tmp_path: Path) -> None:
    (tmp_path / "commands").mkdir()
    (tmp_path / "exit-codes.md").write_text((REPO / "docs" / "exit-codes.md").read_text())
    page = tmp_path / "commands" / "doctor.md"
    page.write_text(
        "# envlock doctor\n"
        + "\n[gone](../nowhere.md) [anchor](../exit-codes.md#no-such-heading)"
        + " [fine](../exit-codes.md#exit-codes) `[code](not-a-link.md)`\n"
    )
    assert [b.split(": ", 1)[1] for b in broken_links(page)] == [
        "../nowhere.md (no such file)",
        "../exit-codes.md#no-such-heading (no such heading)",
    ]
