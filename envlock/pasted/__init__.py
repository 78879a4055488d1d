"""Facts from pasted text: a bug report's collect_env block, nvidia-smi, pip freeze.

Pure: text in, partial Facts out (reading the files is envlock.collect's job).
What the text does not say stays "not observed": a section nothing was read for
is unavailable, and `meta.partial` is set, so the doctor names the checks that
could not run (envlock/checks/needs.py) instead of passing them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from envlock.errors import FactsError
from envlock.pasted.collect_env import looks_like_collect_env
from envlock.pasted.d2table import parse_any_report
from envlock.pasted.draft import MAX_LINE_CHARS, Draft
from envlock.pasted.names import names_in_text, names_note
from envlock.pasted.nvidia_smi import parse_nvidia_smi
from envlock.pasted.pip_freeze import parse_pip_freeze
from envlock.pasted.toolenv import parse_tool_report

if TYPE_CHECKING:
    from envlock.facts import Facts

# A collect_env report is a few KiB (vLLM's, with topology and variables, some 20 KiB);
# a pip freeze of a large environment some 50 KiB. Anything past this is not a paste.
MAX_PASTE_BYTES = 16 * 1024 * 1024

__all__ = [
    "MAX_LINE_CHARS",
    "MAX_PASTE_BYTES",
    "Draft",
    "facts_from_texts",
    "looks_like_collect_env",
    "text_of",
]


def text_of(data: bytes, what: str) -> str:
    """Pasted bytes as text: UTF-8 (a UTF-16 file from Windows PowerShell redirection too);
    binary data is refused as one line."""
    if len(data) > MAX_PASTE_BYTES:
        raise FactsError(
            f"{what} is larger than {MAX_PASTE_BYTES // 2**20} MiB: not a pasted report"
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise FactsError(f"{what} is not text (a broken UTF-16 file)") from None
    if b"\x00" in data:
        raise FactsError(f"{what} is not text (binary data)")
    text = data.decode("utf-8", errors="replace")
    if text.count("\ufffd") > max(16, len(text) // 100):
        raise FactsError(f"{what} is not text (not UTF-8)")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def facts_from_texts(
    *,
    collect_env: str | None = None,
    nvidia_smi: str | None = None,
    pip_freeze: str | None = None,
    names: dict[str, str] | None = None,
    envlock_version: str | None = None,
    collected_at: str | None = None,
) -> Facts:
    """Partial Facts from the texts given. `names` says how each was given (a file name,
    "-" for stdin) for the target and error messages. A text of which nothing at all
    could be read is bad input (FactsError, exit 3). Lines longer than MAX_LINE_CHARS, and
    those after the first MAX_LINES, are skipped with a note; the names in shell prompts
    and home paths are kept for `envlock report`'s anonymizer (envlock/pasted/names.py)."""
    names = names or {}
    draft = Draft()
    targets: list[str] = []
    if collect_env is not None:
        name = names.get("collect_env", "collect_env text")
        collect_env = _layout(draft, collect_env)
        collect_env = _read(
            draft,
            collect_env,
            name,
            lambda text, d: parse_tool_report(text, d, parse_any_report),
            "no collect_env fields found (expected lines such as "
            "'PyTorch version: ...' from `python -m torch.utils.collect_env`)",
        )
        # nvidia-smi output pasted next to it
        if parse_nvidia_smi(collect_env, draft):
            draft.note("nvidia-smi output found in the report: read too")
        targets.append(f"collect-env:{name}")
    if nvidia_smi is not None:
        name = names.get("nvidia_smi", "nvidia-smi text")
        _read(
            draft,
            _unquoted(nvidia_smi),
            name,
            parse_nvidia_smi,
            "no nvidia-smi output found (expected its table or `nvidia-smi -q`)",
        )
        targets.append(f"nvidia-smi:{name}")
    if pip_freeze is not None:
        name = names.get("pip_freeze", "pip freeze text")
        _read(
            draft,
            _unquoted(pip_freeze),
            name,
            parse_pip_freeze,
            "no 'name==version' lines found (expected `pip freeze`)",
        )
        targets.append(f"pip-freeze:{name}")
    if not targets:
        raise FactsError("no pasted text given")
    if collect_env is None and pip_freeze is not None and draft.packages.get("torch"):
        _torch_from_packages(draft)
    return _facts(draft, targets, envlock_version, collected_at)


def _layout(draft: Draft, text: str) -> str:
    """The report's own lines, whatever layout it was pasted in (envlock/pasted/layout.py)."""
    from envlock.pasted.layout import undo_layout

    layout = undo_layout(text)
    for note in layout.notes:
        draft.note(note)
    return layout.text


def _unquoted(text: str) -> str:
    """An nvidia-smi or pip freeze text without a reply's, a page's or a form's quoting."""
    from envlock.pasted.layout import undo_quoting

    return undo_quoting(text)


def _read(
    draft: Draft, text: str, name: str, parse: Callable[[str, Draft], int], nothing: str
) -> str:
    """Read one pasted text into the draft; the text as read (see Draft.readable). A text
    `parse` finds nothing in is a FactsError: `nothing`, and what was skipped."""
    text = draft.readable(text, name)
    names_in_text(text, draft)
    if not parse(text, draft):
        raise FactsError(f"{name}: {nothing}" + _skipped(draft, name))
    return text


def _facts(
    draft: Draft, targets: list[str], envlock_version: str | None, collected_at: str | None
) -> Facts:
    """The draft as Facts, named for the texts read (`targets`)."""
    from envlock import __version__
    from envlock.facts import Facts

    if collected_at is None:
        from datetime import datetime, timezone

        collected_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    doc = draft.facts_dict(
        envlock_version=envlock_version or __version__,
        collected_at=collected_at,
        target=" + ".join(targets),
    )
    if draft.users or draft.hosts:  # for envlock report's anonymizer (report/anonymize.py)
        doc["meta"]["notes"] = [names_note(draft.users, draft.hosts), *doc["meta"]["notes"]]
    return Facts.from_dict(doc)


def _skipped(draft: Draft, name: str) -> str:
    """The skipped-lines note, for an error about a text nothing could be read from."""
    skipped = draft.skipped.get(name)
    return f"; {skipped}" if skipped else ""


def _torch_from_packages(draft: Draft) -> None:
    """torch from a pip freeze alone: its version, and its CUDA only when the local version
    says it (+cu128, +cpu); a plain 2.8.0 from PyPI does not say."""
    import re

    version = draft.packages["torch"]
    m = re.search(r"\+cu(\d{2,4})$", version)
    if m:
        digits = m.group(1)
        draft.torch.update(
            {
                "installed": True,
                "version": version,
                "cuda": f"{digits[:-1]}.{digits[-1]}",
                "build": f"cu{digits}",
            }
        )
    elif version.endswith("+cpu"):
        draft.torch.update({"installed": True, "version": version, "cuda": None, "build": "cpu"})
    else:
        draft.torch.update(
            {
                "version": version,
                "unavailable": "pip freeze does not say which CUDA torch was built with",
            }
        )
