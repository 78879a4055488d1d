"""The documentation site's generated parts: each command's options from envlock's own
argparse parser, and the lock format from its JSON Schema. The pages hold them between
`<!-- BEGIN generated: NAME -->` and `<!-- END generated: NAME -->`;
tests/docs/test_reference.py fails when a page and the code differ, and
`python -m tests.docs.reference` writes them again."""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from envlock.cli import COMMANDS, build_parser

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
SCHEMA = REPO / "envlock" / "schemas" / "envlock.lock.schema.json"
LOCK_FORMAT = DOCS / "lock-format.md"
_BLOCK = re.compile(
    r"<!-- BEGIN generated: (?P<name>[^>]+?) -->\n(?P<body>.*?)<!-- END generated: (?P=name) -->\n",
    re.S,
)


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    if parser._subparsers is None:
        return {}
    return dict(parser._subparsers._group_actions[0].choices)  # type: ignore[attr-defined]


def command_parsers() -> dict[str, argparse.ArgumentParser]:
    """`envlock NAME` and nested `envlock NAME SUB` (fleet report) -> its parser."""
    found: dict[str, argparse.ArgumentParser] = {}
    for name, sub in _subparsers(build_parser()).items():
        if name not in COMMANDS:
            continue
        found[name] = sub
        found |= {f"{name} {s}": p for s, p in _subparsers(sub).items()}
    return found


def page_of(command: str) -> Path:
    """The reference page of a command (a nested one is on its parent's page)."""
    return DOCS / "commands" / f"{command.split()[0]}.md"


def _code(text: str) -> str:
    """A code span for a table cell. One holding `|` is written as HTML with the pipe as
    `&#124;`: Python-Markdown (the site) shows a `\\|` inside a code span as written, GitHub
    splits the cell at a bare one."""
    if "|" not in text:
        return f"`{text}`"
    return "<code>" + html.escape(text).replace("|", "&#124;") + "</code>"


def _escape(text: str) -> str:
    """Markdown for a help text in a table cell: code spans kept as written."""
    out = []
    for part in re.split(r"(`[^`]*`)", text):
        if part.startswith("`"):
            out.append(_code(part[1:-1]))
        else:
            part = part.replace("*", r"\*").replace("<", "&lt;").replace("_", r"\_")
            out.append(part.replace("|", r"\|"))
    return "".join(out)


def _value(action: argparse.Action) -> str:
    if action.nargs == 0:
        return ""
    if action.choices is not None and not isinstance(action.choices, dict):
        return ", ".join(f"`{c}`" for c in action.choices)
    metavar = action.metavar or (action.dest if not action.option_strings else action.dest.upper())
    return f"`{metavar}`"


def options(parser: argparse.ArgumentParser) -> list[str]:
    """Every option string of a parser but --help, and its positionals by name."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
            continue
        found += list(action.option_strings) or [action.dest]
    return found


def options_table(parser: argparse.ArgumentParser) -> str:
    """A Markdown table: each argument or option, its value and its help."""
    formatter = parser._get_formatter()
    rows = ["| argument | value | what it does |", "|---|---|---|"]
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
            continue
        names = ", ".join(f"`{o}`" for o in action.option_strings) or f"`{action.dest}`"
        text = "" if action.help in (None, argparse.SUPPRESS) else formatter._expand_help(action)
        rows.append(f"| {names} | {_value(action)} | {_escape(' '.join(text.split()))} |")
    return "\n".join(rows) + "\n"


def command_block(command: str, parser: argparse.ArgumentParser) -> str:
    usage = " ".join(parser.format_usage().split()).removeprefix("usage: ")
    return f"```\n{usage}\n```\n\n{options_table(parser)}"


def _kind(node: dict[str, object]) -> str:
    """What a schema node accepts, in a few words."""
    if "enum" in node:
        return ", ".join(f"`{v}`" for v in node["enum"])  # type: ignore[attr-defined]
    if "oneOf" in node:
        return " or ".join(_kind(n) for n in node["oneOf"])  # type: ignore[attr-defined]
    kind = str(node.get("type", "value"))
    if "const" in node:
        return f"{kind} `{node['const']}`"
    if "pattern" in node:
        return f"{kind} matching {_code(str(node['pattern']))}"
    return kind


def _rows(node: dict[str, object], path: str, required: bool) -> Iterator[str]:
    desc = _escape(" ".join(str(node.get("description", "")).split()))
    if path:
        yield f"| `{path}` | {_kind(node)} | {'yes' if required else ''} | {desc} |"
    needed = set(node.get("required", ()))  # type: ignore[call-overload]
    props = node.get("properties", {})
    assert isinstance(props, dict)
    for key, child in props.items():
        yield from _rows(child, f"{path}.{key}" if path else key, key in needed)
    items = node.get("items")
    if isinstance(items, dict):
        yield from _rows(items, f"{path}[]", False)
    more = node.get("additionalProperties")
    if isinstance(more, dict):
        yield from _rows(more, f"{path}.<name>", False)


def schema_block() -> str:
    """Every key of the lock, from envlock/schemas/envlock.lock.schema.json."""
    schema = json.loads(SCHEMA.read_text())
    head = ["| key | value | required | notes |", "|---|---|---|---|"]
    return "\n".join([*head, *_rows(schema, "", True)]) + "\n"


def expected() -> dict[Path, dict[str, str]]:
    """page -> generated block name -> its text, as the code says it is now."""
    pages: dict[Path, dict[str, str]] = {}
    for command, parser in command_parsers().items():
        pages.setdefault(page_of(command), {})[f"envlock {command}"] = command_block(
            command, parser
        )
    pages[LOCK_FORMAT] = {"lock schema": schema_block()}
    return pages


def blocks(text: str) -> dict[str, str]:
    """The generated blocks a page holds: name -> text."""
    return {m["name"]: m["body"] for m in _BLOCK.finditer(text)}


def rewrite(text: str, wanted: dict[str, str]) -> str:
    def sub(match: re.Match[str]) -> str:
        name = match["name"]
        body = wanted.get(name, match["body"])
        return f"<!-- BEGIN generated: {name} -->\n{body}<!-- END generated: {name} -->\n"

    return _BLOCK.sub(sub, text)


def main() -> int:
    for page, wanted in expected().items():
        text = page.read_text()
        missing = set(wanted) - set(blocks(text))
        if missing:
            print(f"{page.relative_to(REPO)}: add markers for {sorted(missing)}", file=sys.stderr)
            return 1
        page.write_text(rewrite(text, wanted))
    return 0


if __name__ == "__main__":
    sys.exit(main())
