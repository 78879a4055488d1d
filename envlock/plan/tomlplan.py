"""What the TOML plan files (pylock.toml, uv.lock, pyproject.toml) share: the bounded
parse (one PlanError line), a package table's lines in the text (tomllib gives no
positions: the `[[packages]]` / `[[package]]` block whose `name` is the package), and a
locked package as a Requirement pinned to its version, index and first wheel."""

from __future__ import annotations

import re

from envlock.plan._toml import TOMLDecodeError, loads
from envlock.plan.model import PlanError, Requirement, Span
from envlock.plan.reqs import canonical

MAX_PACKAGES = 20_000


def parse(text: str, source: str) -> dict[str, object]:
    try:
        return loads(text)
    except TOMLDecodeError as e:
        raise PlanError(f"{source}: not TOML ({e})") from None
    except RecursionError:
        raise PlanError(f"{source}: nested too deeply to read") from None


def block_spans(text: str, header: str, source: str) -> dict[str, Span]:
    """name -> the span of the first `[[header]]` block that names it (linear in the text)."""
    lines = text.split("\n")
    spans: dict[str, Span] = {}
    starts = [i for i, line in enumerate(lines) if line.strip() == f"[[{header}]]"]
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        for j in range(start + 1, end):
            stripped = lines[j].strip()
            if stripped.startswith("[") and not stripped.startswith(f"[[{header}."):
                end = j
                break
        name = _name_in(lines[start + 1 : end])
        if name is not None and name not in spans:
            last = end
            while last > start + 1 and not lines[last - 1].strip():
                last -= 1
            spans[name] = Span(
                file=source, line=start + 1, end_line=last, text="\n".join(lines[start:last])
            )
    return spans


def _name_in(lines: list[str]) -> str | None:
    for line in lines:
        m = re.match(r"\s*name\s*=\s*\"([^\"]+)\"", line)
        if m:
            return canonical(m[1])
    return None


def locked(
    name: str, version: object, index: object, wheel_urls: list[str], span: Span | None
) -> Requirement | None:
    if not isinstance(version, str) or not version:
        return None
    return Requirement(
        name=canonical(name),
        specifier=f"=={version}",
        index=index if isinstance(index, str) else None,
        url=wheel_urls[0] if wheel_urls else None,
        span=span,
    )


def as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []


def as_table(value: object) -> dict[str, object]:
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}
