"""Each command's reference page is the parser's (issue 22 item 10): a command or option
in the parser and not on its page fails, and so does one on a page that the parser lacks;
the lock format page holds every key of the lock's JSON Schema."""

from __future__ import annotations

import argparse
import re

from envlock.cli import COMMANDS
from tests.docs.reference import (
    DOCS,
    LOCK_FORMAT,
    SCHEMA,
    blocks,
    command_parsers,
    expected,
    options,
    options_table,
    page_of,
)

REGENERATE = "regenerate with `python -m tests.docs.reference`"


def _documented(table: str) -> list[str]:
    """The arguments a reference table's first column names."""
    cells = [row.split(" | ")[0] for row in table.splitlines() if row.startswith("| `")]
    return [name for cell in cells for name in re.findall(r"`([^`]+)`", cell)]


def test_a_page_per_command_and_no_page_for_a_command_that_is_not() -> None:
    pages = {p.stem for p in (DOCS / "commands").glob("*.md")}
    assert pages == set(COMMANDS), f"pages {sorted(pages)} != commands {sorted(COMMANDS)}"


def test_every_option_of_the_parser_is_on_its_page_and_no_other() -> None:
    for command, parser in command_parsers().items():
        page = page_of(command)
        block = blocks(page.read_text()).get(f"envlock {command}")
        assert block is not None, f"{page}: no reference for `envlock {command}`; {REGENERATE}"
        documented = _documented(block)
        assert sorted(documented) == sorted(options(parser)), (
            f"{page}: `envlock {command}` takes {sorted(options(parser))}, the page lists "
            f"{sorted(documented)}; {REGENERATE}"
        )


def test_the_generated_parts_are_as_the_code_says() -> None:
    """Help texts, choices and the schema's keys too, not only the option names."""
    for page, wanted in expected().items():
        assert blocks(page.read_text()) == wanted, f"{page.relative_to(DOCS)}: {REGENERATE}"


def test_the_lock_format_page_names_every_key_of_the_schema() -> None:
    block = blocks(LOCK_FORMAT.read_text())["lock schema"]
    keys = set(re.findall(r'"([a-z][a-z0-9-]*)":\s*\{', SCHEMA.read_text()))
    keys -= {"properties", "items", "additionalProperties", "not", "propertyNames"}
    shown = {
        part
        for path in re.findall(r"^\| `([^`]+)`", block, re.M)
        for part in re.split(r"[.\[\]<>]+", path)
    }
    assert keys - shown == set(), sorted(keys - shown)
    for section in ("envlock", "packages", "torch", "files", "determinism", "rules"):
        assert f"| `{section}` |" in block, section


def test_the_check_fails_on_an_option_the_page_lacks_or_the_parser_lacks() -> None:
    parser = argparse.ArgumentParser(prog="envlock demo")
    parser.add_argument("--kept", help="kept")
    table = options_table(parser)
    parser.add_argument("--added", help="new in the parser")
    assert sorted(_documented(table)) != sorted(options(parser))  # in the parser only
    stale = options_table(parser) + "| `--removed` |  | gone from the parser |\n"
    assert sorted(_documented(stale)) != sorted(options(parser))  # on the page only
    assert _documented(options_table(parser)) == ["--kept", "--added"]
