"""A log collector's prefix undone from a pasted report's lines (issue 21, vllm#21633).

`docker compose up` / `compose logs` print every line of a service behind its name and
index, padded to the widest ("vllm-1  | "; compose v1 "vllm_1  | "), and `kubectl logs
--prefix` behind the pod and container ("[pod/vllm-0/server] "). OpenMMLab's tools log a
report through their logger (mmengine's MMFormatter, "%(asctime)s - %(name)s - INFO -
%(message)s" with the date "%m/%d %H:%M:%S": "04/22 04:09:09 - mmengine - INFO - "; mmcv's
logger, the logging module's default date "2021-03-01 12:00:00,123 - mmdet - INFO - "):
MMDeploy's tools/check_env.py prints its report so. A report pasted from such
a log carries the same prefix on most of its lines; the reporter's own words after it do
not. The prefix is read from a line's start (behind quote markers and bullets) and removed
wherever it stands at a line's start or after blanks, a flattened paste's too.

Linear in the text: the patterns are anchored at a line's start or at the start of a run
of blanks, with bounded or possessive repeats.
"""

from __future__ import annotations

import re
from collections import Counter

# the name (compose: service-index; kubectl: [pod/...]) at a line's start, after blanks,
# quote markers and bullets
_AT_START = re.compile(
    r"(?:[ \t]*+(?:>|[*+\-](?=[ \t]|$))[ \t]?)*+[ \t]*+"
    r"(?:([A-Za-z0-9][\w.-]{0,100}[-_]\d{1,4})[ \t]{1,40}+\||(\[pod/[^\]\s]{1,300}\]))",
    re.MULTILINE,
)
# a logging module's record prefix (mmengine, mmcv): date, time, the logger's name, a level;
# at a line's start, right after a quote's ">", or a run of blanks taken from its first blank
_LOGGED = re.compile(
    r"(?:^|(?<=>)|(?<![ \t])[ \t]++)(?:\d{2}/\d{2}|\d{4}-\d{2}-\d{2})[ T]\d{2}:\d{2}:\d{2}"
    r"(?:[,.]\d{1,6})? - [\w.-]{1,60} - (?:DEBUG|INFO|WARNING|ERROR|CRITICAL) -(?: |$)"
)
_PASSES = 4  # a log pasted through a log (compose of a compose): one prefix a pass
_LEAST = 3  # lines behind one prefix that make it a log's, however much else the paste holds


def undo_log_prefix(lines: list[str]) -> list[str]:
    """`lines` without the log prefix most of them carry; as they are if none does."""
    for _ in range(_PASSES):
        pattern = _prefix(lines)
        if pattern is None:
            break
        lines = [pattern.sub(_blank_unless_at_start, line) for line in lines]
    return _unlogged(lines)


def _unlogged(lines: list[str]) -> list[str]:
    """`lines` without a logger's record prefix where _LEAST of them carry it (counted by its
    occurrences: a flattened paste has them all on one line). A pass takes every other one
    of prefixes in a row (an empty message's, then the next), so passes run until none is left."""
    if sum(len(_LOGGED.findall(line)) for line in lines) < _LEAST:
        return lines
    for _ in range(_PASSES):
        undone = [_LOGGED.sub(_blank_unless_at_start, line) for line in lines]
        if undone == lines:
            break
        lines = undone
    return lines


def _prefix(lines: list[str]) -> re.Pattern[str] | None:
    """The pattern of the prefix found on _LEAST lines or more than half the non-blank ones (counted by
    its occurrences: a flattened paste has them all on one line), or None."""
    names: Counter[str] = Counter()
    for line in lines:
        m = _AT_START.match(line)
        if m:
            names[m.group(1) or m.group(2)] += 1
    if not names:
        return None
    name = names.most_common(1)[0][0]
    tail = r"[ \t]{1,40}+\|(?:[ \t]|$)" if not name.startswith("[pod/") else r"(?:[ \t]|$)"
    # at a line's start, right after an e-mail quote's ">", or a run of blanks taken from
    # its first blank (never tried again from each blank inside it)
    pattern = re.compile(r"(?:^|(?<=>)|(?<![ \t])[ \t]++)" + re.escape(name) + tail)
    filled = sum(1 for line in lines if line.strip())
    found = sum(len(pattern.findall(line)) for line in lines)
    return pattern if found >= _LEAST or found * 2 > filled else None


def _blank_unless_at_start(m: re.Match[str]) -> str:
    # the prefix of a line goes; one inside a flattened line leaves the blank between pieces
    return "" if m.start() == 0 or m.group().startswith(m.group().lstrip()) else " "
