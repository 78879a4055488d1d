"""Remove what identifies a machine or a person from a report before it is pasted publicly.

Hostnames, usernames, home directories, GPU/MIG UUIDs and secrets (credentials in URLs,
tokens of the common forges and clouds) are replaced everywhere in a JSON-like value,
keys included. The replacement is consistent within one report (the same UUID always
becomes the same pseudonym), so what the checks compare (a CUDA_VISIBLE_DEVICES UUID
against the GPUs' UUIDs, a library path against the wheel directory) compares the same
way after anonymization and a round trip gives the same findings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from envlock.probe.envvars import mask_url_credentials

HOST = "host-redacted"
USER = "user"

_UUID = re.compile(
    r"\b(GPU-|MIG-)?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\b"
)
# Token formats with a recognisable prefix (GitHub, Hugging Face, OpenAI/Anthropic-style,
# Slack, AWS access key ids, GitLab, npm, PyPI upload tokens, JWTs).
_TOKENS = re.compile(
    r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|hf_[A-Za-z0-9]{20,}"
    r"|sk-[A-Za-z0-9_\-]{20,}|xox[abprs]-[A-Za-z0-9\-]{10,}|AKIA[0-9A-Z]{16}"
    r"|glpat-[A-Za-z0-9_\-]{20,}|npm_[A-Za-z0-9]{30,}|pypi-[A-Za-z0-9_\-]{30,}"
    r"|eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,})"
)
# A user's directory: /home/NAME, /Users/NAME, C:\Users\NAME
_HOME_DIR = re.compile(r"(/home/|/Users/|[A-Za-z]:\\\\?Users\\\\?)([^/\\\s:;,'\"]+)")
# Usernames too common to replace outside a path (they are words in OS names, images...)
_COMMON_NAMES = frozenset({"root", "user", "ubuntu", "admin", "runner", "nobody", "default"})


class Anonymizer:
    def __init__(
        self,
        *,
        hostnames: Iterable[str] = (),
        usernames: Iterable[str] = (),
        homes: Iterable[str] = (),
    ) -> None:
        self.hostnames = sorted({h for h in hostnames if h and len(h) >= 2}, key=len, reverse=True)
        self.usernames = {u for u in usernames if u}
        self.homes = sorted(
            {h.rstrip("/\\") for h in homes if h and len(h) > 1}, key=len, reverse=True
        )
        self._uuids: dict[str, str] = {}

    def learn(self, value: Any) -> None:
        """Collect the usernames that appear in home-directory paths anywhere in `value`."""
        for text in _strings(value):
            for m in _HOME_DIR.finditer(text):
                self.usernames.add(m.group(2))

    def scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.scrub(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.scrub(v) for v in value]
        return value

    def text(self, s: str) -> str:
        s = _TOKENS.sub("***", s)
        s = mask_url_credentials(s)
        s = _UUID.sub(self._uuid, s)
        for home in self.homes:
            s = s.replace(home, "~")
        s = _HOME_DIR.sub(lambda m: m.group(1) + USER, s)
        for host in self.hostnames:
            s = re.sub(rf"(?<![\w.-]){re.escape(host)}(?![\w-])", HOST, s, flags=re.IGNORECASE)
        for name in self.usernames:
            if len(name) >= 4 and name.lower() not in _COMMON_NAMES:
                s = re.sub(rf"(?<![\w.-]){re.escape(name)}(?![\w-])", USER, s)
        return s

    def _uuid(self, m: re.Match[str]) -> str:
        key = m.group(2).lower()
        if key not in self._uuids:
            self._uuids[key] = f"00000000-0000-0000-0000-{len(self._uuids) + 1:012d}"
        return (m.group(1) or "") + self._uuids[key]


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)


def anonymize(
    document: Any,
    *,
    hostnames: Iterable[str] = (),
    usernames: Iterable[str] = (),
    homes: Iterable[str] = (),
) -> Any:
    """`document` with identifying values replaced (see the module docstring)."""
    a = Anonymizer(hostnames=hostnames, usernames=usernames, homes=homes)
    a.learn(document)
    return a.scrub(document)
