"""Where a line of a pasted report starts: what the readers read a line by (issue 21).

The layout step (pasted/layout.py) joins back the lines a paste hard-wrapped at a width. A
line that starts with something a reader reads at a line's start is never a wrap's rest,
however wide the line before it: collect_env's keys, block lines, headings and banners;
the other tools' banners and rows (Ultralytics' device line and checks()' 'Setup complete',
ds_report's headings and dotted rows, from their readers' own tables); a Markdown heading
or a list bullet; nvidia-smi topo's rows and legend; a log record's level, rank or time;
Python's traceback, exception and warning lines. A flattened paste is split before
collect_env's keys and block lines (KEY_AT, LINE_START_AT).

Every pattern is anchored at a line's start or bounded: linear in the line.
"""

from __future__ import annotations

import re

from envlock.pasted.check_env import AVAILABLE
from envlock.pasted.collect_env import KEYS
from envlock.pasted.dsreport import HEADINGS as DS_HEADINGS
from envlock.pasted.dsreport import ROW as DS_ROW
from envlock.pasted.trainerenv import LINE_STARTS as ULTRALYTICS_STARTS

# collect_env's keys as printed, those the parser ignores too (a flattened paste is split
# at each of them, so none runs into the value before it)
_OTHER_KEYS = (
    "Is XPU available",
    "XPU used to build PyTorch",
    "Intel GPU driver version",
    "Intel GPU models onboard",
    "Intel GPU models detected",
    "Caching allocator config",
    "CUDA Archs",
    "Aphrodite Version",
    "OneFlow version",
    "OneDiff version",
    "OneDiffX version",
    "Nexfort version",
    "Legend",
    # sglang's check_env (envlock/pasted/check_env.py): its keys where collect_env's differ
    # (not its "CUDA available", which collect_env's "Is CUDA available" ends with)
    "ROCM available",
    "CUDA Driver Version",
    "ROCM Driver Version",
)
# lscpu's keys (the CPU block), and wmic's on Windows (Key=Value; "Key: Value" since 2.5)
_LSCPU_KEYS = (
    r"Architecture|CPU op-mode\(s\)|Address sizes|Byte Order|CPU\(s\)|On-line CPU\(s\) list"
    r"|Off-line CPU\(s\) list|Vendor ID|BIOS Vendor ID|Model name|BIOS Model name|CPU family"
    r"|Model|Thread\(s\) per core|Core\(s\) per socket|Core\(s\) per cluster|Socket\(s\)"
    r"|Cluster\(s\)|Stepping|Frequency boost|CPU max MHz|CPU min MHz|CPU MHz"
    r"|CPU\(s\) scaling MHz|BogoMIPS|Virtualization|Hypervisor vendor|Virtualization type"
    r"|L1d cache|L1i cache|L2 cache|L3 cache|NUMA node\(s\)|NUMA node\d{1,4} CPU\(s\)"
    r"|Vulnerability [A-Za-z0-9 ]{1,40}|Flags|Caches \(sum of all\)"
)
_WMIC_KEYS = (
    r"Architecture|CurrentClockSpeed|DeviceID|Family|L2CacheSize|L2CacheSpeed|Manufacturer"
    r"|MaxClockSpeed|Name|ProcessorType|Revision"
)


def _alternatives(keys: list[str]) -> str:
    # longest first, so "CUDA used to build PyTorch" wins over a key it ends with
    return "|".join(re.escape(k).replace(r"\ ", r"[ \t]{1,8}") for k in sorted(keys, key=len)[::-1])


REPORT_KEYS = [k for k in KEYS if k != "cpu"] + [k.lower() for k in _OTHER_KEYS]
# A known key where a line of the report can start (at the start, after whitespace or after
# the ">" of a flattened e-mail quote), its colon after at most 40 blanks (vLLM aligns them).
KEY_AT = re.compile(
    rf"(?<![^\s>])(?=[A-Za-z])(?:{_alternatives(REPORT_KEYS)}|CPU)[ \t]{{0,40}}[:\uff1a]",
    re.IGNORECASE,
)
# What else starts a line of a report: its block lines, its header, banners, variables.
LINE_START_AT = re.compile(
    r"(?<![^\s>])(?=[A-Za-z\[=\-])(?:\[(?:pip3?|conda|uv)\][ \t]"
    r"|GPU[ \t]\d{1,3}[ \t]?[:\uff1a]"
    r"|GPU[ \t]\d{1,3}(?:,\d{1,3}){1,255}(?:[ \t]Compute[ \t]Capability)?[:\uff1a]"  # check_env
    r"|GPU[ \t]\d{1,3}[ \t]Compute[ \t]Capability[:\uff1a]"
    r"|MIG[ \t][\w.]{1,20}[ \t]{1,4}Device[ \t]{1,4}\d{1,3}[:\uff1a]"
    r"|Collecting environment information"
    rf"|(?:{_LSCPU_KEYS})[ \t]{{0,40}}:"
    rf"|(?:{_WMIC_KEYS})[ \t]{{0,40}}[=:]"
    r"|[A-Z][A-Z0-9_]{1,80}="
    r"|={5,}|-{5,}"
    r"|(?:System|PyTorch|CUDA / GPU|CPU|vLLM) Info(?!\S)"
    r"|Python Environment(?!\S)|Environment Variables(?!\S))"
)
_PATH_LINE = re.compile(r"(?:/|[A-Za-z]:\\)[^\s:;]{2,4096}")
_STAMP = re.compile(r"\[?\d{4}-\d\d-\d\d[T ]\d\d:\d\d")  # a log line's (docker logs -t)


# the readers' own line starts (literal): a flattened paste is split before each where it
# holds two (Ultralytics' device line and 'Setup complete' on one line)
_READER_STARTS = (*ULTRALYTICS_STARTS, *DS_HEADINGS, "nvcc: NVIDIA (R) Cuda compiler")
READER_AT = re.compile(rf"(?<![^\s>])(?:{'|'.join(re.escape(s) for s in _READER_STARTS)})")
# a Markdown heading, a list bullet; nvidia-smi topo's rows and legend ("GPU0  X  NV18",
# "NIC0: mlx5_0", "SYS  = Connection traversing PCIe ..."); a logger's level or rank
# ("INFO:", "[WARNING]", "WARNING[XFORMERS]:", "[rank0]:", SD.Next's "22:47:27-892572 INFO");
# Python's traceback, its exception and warning lines ("RuntimeError: ...",
# "torch.cuda.OutOfMemoryError: ..."; not a warning's ".../__init__.py:106: UserWarning:", whose
# path a word wrap breaks at a hyphen: "site-" / "packages/torch/...")
_OTHER_START = re.compile(
    r"#{1,6}[ \t]|[-*+\u2022][ \t]"
    r"|(?:GPU|NIC)\d{1,3}(?:[ \t]|:)|[A-Z][A-Z0-9#]{0,3}[ \t]{1,4}=[ \t]"
    r"|\[?(?:DEBUG|INFO|WARN|WARNING|ERROR|CRITICAL|FATAL)\]?(?:\[[\w.-]{1,40}\])?(?::|[ \t])"
    r"|\[rank\d{1,5}\]:|>>>(?:[ \t]|$)|In \[\d{1,5}\]:"
    r"|\d{1,2}:\d\d:\d\d(?:[.,-]\d{1,6})?[ \t]"
    r"|Traceback \(most recent call last\):|File \"[^\"\n]{1,4096}\", line \d"
    r"|(?:[a-z_][a-z0-9_]{0,40}\.){0,4}[A-Z][A-Za-z0-9_]{0,60}(?:Error|Warning|Exception):(?:[ \t]|$)"
)


def starts_line(line: str) -> bool:
    """Whether a line reads as the start of a report's line (not a wrapped value's rest)."""
    s = line.lstrip()
    if (
        not s
        or s.startswith((*_READER_STARTS, "```", "~~~"))
        or KEY_AT.match(s)
        or LINE_START_AT.match(s)
    ):
        return True
    # nvidia-smi's table: a row ("| ... |") or a rule ("+---", "|===")
    if (s[0] == "|" and s.rstrip().endswith("|")) or s.startswith(("+-", "+=", "|=", "|-")):
        return True
    if _STAMP.match(s) or _OTHER_START.match(s) or DS_ROW.match(s):
        return True
    # a whole path on a line of its own (the cuDNN block lists one a line): a cut at a
    # column falls before a "/" once in a path, a word wrap moves a path only with what
    # follows it on its line; check_env's whole "CUDA available: True" (sglang-8432)
    return _PATH_LINE.fullmatch(s) is not None or AVAILABLE.match(s) is not None


# a line that is whole as printed: a traceback's frame ('File "x.py", line 3, in f'; its code
# is the next line), a table's rule ("+-----+", nvidia-smi's), a warning's header whose message
# starts on the next line (torch's: ".../cuda/__init__.py:235: UserWarning:")
_WHOLE = re.compile(
    r'File "[^"\n]{1,4096}", line \d{1,7}, in [^\s]{1,200}|\+[-=+]{5,}\+'
    r"|[^\n]{1,4096}\.py:\d{1,6}:[ \t][A-Za-z]{0,40}Warning:"
)


def whole_line(line: str) -> bool:
    """Whether a line is whole as its tool printed it (never a terminal's cut): also a Python
    prompt's complete input (">>> torch.version.cuda": its output is the next line; an input
    cut mid-call leaves a bracket open or a comma at its end)."""
    s = line.strip()
    if s.startswith((">>> ", "... ")) and len(s) <= 200:
        return (
            s.count("(") == s.count(")") and s.count("[") == s.count("]") and s[-1] not in ",\\+("
        )
    return _WHOLE.fullmatch(s) is not None
