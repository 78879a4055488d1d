"""Remove what identifies a machine or a person from a report before it is pasted publicly.

Hostnames, usernames, home directories, GPU/MIG UUIDs and secrets (credentials in URLs,
tokens of the common forges and clouds) are replaced everywhere in a JSON-like value,
keys included. The replacement is consistent within one report (the same UUID always
becomes the same pseudonym), so what the checks compare (a CUDA_VISIBLE_DEVICES UUID
against the GPUs' UUIDs, a library path against the wheel directory) compares the same
way after anonymization and a round trip gives the same findings.

A name is replaced where it stands between characters that are not letters or digits:
`-`, `_`, `.`, `/`, `@` and `:` delimit it (HOST-ib0, /var/log/USER-nccl.log, job_USER),
a longer word holding it does not (a user "vidia" leaves "nvidia" alone). Pasted reports
bring their names along: the shell prompts and home paths of the paste
(envlock/pasted/names.py). Path segments of URLs that look like secrets (Ab3kZ9 in
https://host/Ab3kZ9/simple) are masked; words, versions and wheel names are kept.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

from envlock.pasted.names import COMMON_HOSTS, COMMON_USERS, names_from_notes
from envlock.probe.envvars import mask_url_credentials

HOST = "host-redacted"
USER = "user"

_UUID = re.compile(
    r"\b(GPU-|MIG-)?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\b"
)
# Token formats with a recognisable prefix (GitHub, Hugging Face, OpenAI/Anthropic-style,
# Slack, AWS access key ids, GitLab, npm, PyPI upload tokens, JWTs). None but the JWT needs
# anything after its run of characters; the JWT starts only where a run starts, so that
# 'eyJ-eyJ-...' is not scanned to its end from every 'eyJ' (quadratic).
_TOKENS = re.compile(
    r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|hf_[A-Za-z0-9]{20,}"
    r"|sk-[A-Za-z0-9_\-]{20,}|xox[abprs]-[A-Za-z0-9\-]{10,}|AKIA[0-9A-Z]{16}"
    r"|glpat-[A-Za-z0-9_\-]{20,}|npm_[A-Za-z0-9]{30,}|pypi-[A-Za-z0-9_\-]{30,})"
    r"|(?<![A-Za-z0-9_\-])eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}"
)
# what each token format starts with: no need to scan a text holding none of them
_TOKEN_MARKS = ("gh", "hf_", "sk-", "xox", "AKIA", "glpat-", "npm_", "pypi-", "eyJ")
# A user's directory: /home/NAME, /Users/NAME, C:\Users\NAME
_HOME_DIR = re.compile(r"(/home/|/Users/|[A-Za-z]:\\\\?Users\\\\?)([^/\\\s:;,'\"]+)")
# the path of an http(s) URL (credentials and query values are masked before)
_URL_PATH = re.compile(r"(?<![A-Za-z0-9+.\-])(?:git\+)?https?://[^/?#\s]*(/[^?#\s]*)")
# a whole path segment of 6+ characters, with a digit and no dot: what _looks_secret judges
_CANDIDATE_SEGMENT = re.compile(r"(?<![^/])(?=[^/.]*[0-9])[^/.]{6,}(?![^/])")
_PIECES = re.compile(r"[^A-Za-z0-9]+")
# "ResNet50", "cuDNN9", "7B": a word and a number, not a token
_WORD_NUMBER = re.compile(r"[A-Za-z]+[0-9]+|[0-9]+[A-Za-z]+")
# Names replaced outside a home path only from this length: shorter ones are words too
# (a user "ai" in "nvidia-ai", a host "gpu").
MIN_NAME = 3


class Anonymizer:
    def __init__(
        self,
        *,
        hostnames: Iterable[str] = (),
        usernames: Iterable[str] = (),
        homes: Iterable[str] = (),
    ) -> None:
        self.hostnames = {h for h in hostnames if h}
        self.usernames = {u for u in usernames if u}
        self.homes = sorted(
            {h.rstrip("/\\") for h in homes if h and len(h) > 1}, key=len, reverse=True
        )
        self._uuids: dict[str, str] = {}

    def learn(self, value: Any) -> None:
        """Collect the usernames that appear in home-directory paths anywhere in `value`, and
        the user and host names a pasted report's names note gives."""
        for text in _strings(value):
            for m in _HOME_DIR.finditer(text):
                self.usernames.add(m.group(2))
        meta = value.get("meta") if isinstance(value, dict) else None
        notes = meta.get("notes") if isinstance(meta, dict) else None
        if isinstance(notes, list):
            users, hosts = names_from_notes(notes)
            self.usernames.update(users)
            self.hostnames.update(hosts)

    def scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.scrub(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.scrub(v) for v in value]
        return value

    def text(self, s: str) -> str:
        # each pattern only where its literal part occurs: the scans are linear, the guards
        # keep a long value from paying for all of them
        if any(mark in s for mark in _TOKEN_MARKS):
            s = _TOKENS.sub("***", s)
        if "://" in s:
            s = _URL_PATH.sub(_mask_path_tokens, mask_url_credentials(s))
        if "-" in s:
            s = _UUID.sub(self._uuid, s)
        for home in self.homes:
            s = s.replace(home, "~")
        if "/home/" in s or "Users" in s:
            s = _HOME_DIR.sub(lambda m: m.group(1) + USER, s)
        hosts = _names_pattern(self.hostnames, COMMON_HOSTS, re.IGNORECASE)
        if hosts:
            s = hosts.sub(HOST, s)
        users = _names_pattern(self.usernames, COMMON_USERS, 0)
        if users:
            s = users.sub(USER, s)
        return s

    def _uuid(self, m: re.Match[str]) -> str:
        key = m.group(2).lower()
        if key not in self._uuids:
            self._uuids[key] = f"00000000-0000-0000-0000-{len(self._uuids) + 1:012d}"
        return (m.group(1) or "") + self._uuids[key]


def _names_pattern(names: set[str], common: frozenset[str], flags: int) -> re.Pattern[str] | None:
    """One pattern for `names` (the longest first, so "node-7.lab" goes before "node-7"),
    each bounded by anything but a letter or digit."""
    kept = sorted(
        (n for n in names if len(n) >= MIN_NAME and n.lower() not in common),
        key=lambda n: (-len(n), n),
    )
    if not kept:
        return None
    return _compiled("|".join(map(re.escape, kept)), flags)


@functools.lru_cache(maxsize=16)
def _compiled(alternatives: str, flags: int) -> re.Pattern[str]:
    # (?<![^\W_]): not after a letter or digit (of any script); "_" delimits, as "-" does
    return re.compile(rf"(?<![^\W_])(?:{alternatives})(?![^\W_])", flags)


def _mask_path_tokens(m: re.Match[str]) -> str:
    """An http(s) URL with the path segments that look like secrets masked."""
    path = _CANDIDATE_SEGMENT.sub(_mask_segment, m.group(1))
    return m.group()[: m.start(1) - m.start()] + path


def _mask_segment(m: re.Match[str]) -> str:
    return "***" if _looks_secret(m.group()) else m.group()


def _looks_secret(segment: str) -> bool:
    """A URL path segment with a piece (between - and _) that looks random: mixed case and
    digits, not a word and a number (Ab3kZ9, not ResNet50 or cu121), or 16+ letters and
    digits (hex, base64). Words (simple, whl, packages, Meta-Llama-3-8B) have no such piece;
    a segment with a dot is a file, version or host name (torch-2.5.1+cu121-...whl, v2.6.3,
    apex.git@COMMIT), kept."""
    if "%" in segment:
        segment = unquote(segment)
        if "." in segment:
            return False  # %2E: a dot after all
    for piece in _PIECES.split(segment):
        # an ASCII alphanumeric piece: letters and digits both when neither isalpha nor isdigit
        if len(piece) < 6 or piece.isalpha() or piece.isdigit():
            continue
        if len(piece) >= 16:
            return True
        mixed_case = not piece.islower() and not piece.isupper()
        if mixed_case and not _WORD_NUMBER.fullmatch(piece):
            return True
    return False


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
