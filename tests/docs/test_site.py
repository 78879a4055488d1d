"""The documentation site builds with `mkdocs build --strict` (a broken link or anchor, a
page left out, a bad config fails it) and its nav holds every page under docs/."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import REPO, need

DOCS = REPO / "docs"


def _nav_pages(nav: object) -> list[str]:
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, list):
        return [p for item in nav for p in _nav_pages(item)]
    if isinstance(nav, dict):
        return [p for value in nav.values() for p in _nav_pages(value)]
    return []


def test_the_nav_holds_every_page_once() -> None:
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text())
    assert config["strict"] is True and config["docs_dir"] == "docs"
    nav = _nav_pages(config["nav"])
    pages = sorted(str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md"))
    assert sorted(nav) == pages and len(set(nav)) == len(nav), (sorted(nav), pages)


def test_the_site_builds_in_strict_mode(tmp_path: Path) -> None:
    need(
        importlib.util.find_spec("mkdocs") is not None
        and importlib.util.find_spec("material") is not None,
        "mkdocs and mkdocs-material are not installed (pip install -e . --group docs)",
    )
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    built = tmp_path / "site"
    for page in ("index.html", "commands/verify/index.html", "lock-format/index.html"):
        assert (built / page).is_file(), page
    assert (built / "fleet-report.png").is_file()
    verify = (built / "commands" / "verify" / "index.html").read_text()
    assert "<code>--scope</code>" in verify and "<table>" in verify
