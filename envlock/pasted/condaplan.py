"""conda's package plan pasted into a report, read as the environment the install makes
(issue 21).

Before it changes an environment, `conda install` / `conda create` prints its plan and asks
"Proceed ([y]/n)?". From conda 4.6 (conda/core/link.py, `_change_report_str`, unchanged to
conda 25) each package is one line, the name (cut to 17 characters and "~") then its record
id, `channel/subdir::name-version-build` (`PackageRecord.record_id`), where conda 4.6-4.14
add its metadata (" None" mostly):

    The following NEW packages will be INSTALLED:

      pytorch            pytorch-nightly/osx-arm64::pytorch-1.14.0.dev20221208-py3.8_0
      torchvision        pkgs/main/osx-arm64::torchvision-0.13.1-cpu_py38he5d19f7_0

    The following packages will be UPDATED:   (SUPERSEDED by a higher-priority channel,
                                               DOWNGRADED, REVISED: the same form)

      pytorch            pkgs/main::pytorch-1.0.1-cuda100py37h~ --> pytorch::pytorch-1.0.1-py3.7_cuda10.0.130_cudnn7.4.2_2
      torchvision                                    0.2.1-py_2 --> 0.2.2-py_2

The right of " --> " is what the package becomes: the channel, "/subdir" and "::name-" only
where they change, else "version-build" alone under the name column (the left side is cut to
37 characters). "The following packages will be REMOVED:" lists `name-version-build`. conda
4.3-4.5 (conda/plan.py `display_actions`) wrote `name: version-build channel`, old and new
apart by " --> ", four spaces in:

        pytorch:     0.4.1-py36_cuda9.0.176_cudnn7.1.2_1 pytorch

mamba and micromamba print a table, "+" for a package installed, "-" for one removed (an
upgrade is both):

      + pytorch               1.11.0  cuda112py39ha0cca9b_1  conda-forge/linux-64     Cached

and conda in every release prints the packages it downloads in a table, `name-version | build size
channel` ("pytorch-1.9.0 |py3.9_cuda11.1_cudnn8.0.5_0 1.44 GB pytorch": vision#4240, where
the excerpt holds only that table). A record id is conda's alone and is read on any line
(vision#7022 pasted the lines under a sentence of its own, without conda's heading); the old
form and the table only under their heading. A plan answered "Proceed ([y]/n)? n" is not read.

What a plan states, as collect_env's lines: torch's version (conda's `pytorch`), its CUDA
where its build string names it (the pytorch channel's `py3.8_cuda11.3_cudnn8.2.0_0`, a CPU
`py3.8_cpu_0`; conda-forge's `cuda118_py310h...`, `cpu_py39h...`: matrix/builds.conda_torch,
and its older `cuda112py39h...`),
a macOS build (osx-*: no CUDA there), the system its subdir names (linux-64 is Linux on
x86_64, osx-arm64 macOS on arm64, win-64 Windows), and the family members beside it
(torchvision, torchaudio, torchtext, torchdata) at their versions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from envlock.matrix.builds import conda_torch
from envlock.pasted.toolreading import ToolReading

# conda's headings: which kind of block follows ("new", "changed", "removed", "download")
_HEADING = re.compile(
    r"the following (?:new )?(?:packages|empty environments) will be (installed|updated|"
    r"super[sc]eded by a higher-priority channel|downgraded|revised|removed|downloaded)",
    re.IGNORECASE,
)
_KINDS = {"installed": "new", "removed": "removed", "downloaded": "download"}
# "channel/subdir::name-version-build" (the channel may hold slashes: "anaconda/pkgs/main")
_RECORD = re.compile(r"(?<![^\s`'\"(\[])((?:[\w.+-]{1,80}/){0,6}[\w.+-]{1,80})::([\w.+-]{3,200})")
_SUBDIRS = frozenset(
    {"linux-64", "linux-aarch64", "linux-ppc64le", "linux-s390x", "linux-32", "osx-64"}
    | {"osx-arm64", "win-64", "win-32", "win-arm64", "noarch"}
)
_ARROW = " --> "
# a cut record (conda cuts the left of an arrow at 37 characters) or a package file's name
_FILES = ("~", ".conda", ".tar.bz2")
# conda 4.3-4.5: "    name: version-build [channel]"
_OLD_FORM = re.compile(r"^[ \t]*([A-Za-z0-9_][\w.-]{0,80}):[ \t]+(\S{3,200})(?:[ \t]+(\S+))?")
# mamba and micromamba: "  + name  version  build  channel/subdir  size" ("-": removed)
_MAMBA_ROW = re.compile(
    r"^[ \t]*([+-])[ \t]+([A-Za-z0-9_][\w.-]{0,80})[ \t]+(\d[\w.!+]{0,60})[ \t]+([\w.+]{1,120})"
    r"[ \t]+((?:[\w.+-]{1,80}/){1,6}[\w-]{1,20})(?![^ \t])"
)
# the download table: "    name-version | build  size  channel"
_TABLE_ROW = re.compile(r"^[ \t]*([A-Za-z0-9_][\w.-]{0,120})[ \t]*\|[ \t]*(\S{1,120})")
_PROCEED = re.compile(r"proceed \(\[y\]/n\)\?[ \t]*(\w*)", re.IGNORECASE)
_PROCEED_AT = "proceed ([y]/n)?"
# a conda version: digits first, no "-" (conda's own rule)
_VERSION = re.compile(r"\d[\w.!+]*")
MEMBERS = ("torchvision", "torchaudio", "torchtext", "torchdata")
_TORCH_NAMES = ("pytorch", "torch")
_MAX_LINES = 20_000
_NOTE = (
    "conda's package plan (conda install/create): torch and its family read as the "
    "environment the install makes"
)
# conda-forge's CUDA builds before their "cuda118_py310h..." form: "cuda112py39ha0cca9b_1"
_FORGE_OLD = re.compile(r"cuda(\d{3})py\d")
# the OS line a subdir stands for (collect_env's "OS: ... (arch)")
_SYSTEMS = {
    "linux-64": "Linux (x86_64)",
    "linux-aarch64": "Linux (aarch64)",
    "linux-ppc64le": "Linux (ppc64le)",
    "osx-64": "macOS (x86_64)",
    "osx-arm64": "macOS (arm64)",
    "win-64": "Microsoft Windows (AMD64)",
}


@dataclass(frozen=True, slots=True)
class Planned:
    """One package of a plan as it will be: version, build string, channel and subdir as
    the plan names them ("" where it does not)."""

    version: str
    build: str
    channel: str = ""
    subdir: str = ""


def read_plan(text: str) -> dict[str, Planned]:
    """Every package conda's plans in `text` install or change, by name, as they will be
    (a later plan over an earlier one; a package a plan removes is gone)."""
    found: dict[str, Planned] = {}
    plan: dict[str, Planned | None] = {}
    kind = ""
    for line in text.split("\n")[:_MAX_LINES]:
        heading = _HEADING.search(line)
        if heading:
            kind = _KINDS.get(heading.group(1).lower().split()[0], "changed")
            continue
        if _PROCEED_AT in line.lower():
            _close(found, plan, _declined(line))
            plan, kind = {}, ""
            continue
        for name, planned in _entries(line, kind):
            plan[name] = planned
    _close(found, plan, declined=False)
    return found


def _close(found: dict[str, Planned], plan: dict[str, Planned | None], declined: bool) -> None:
    if declined:
        return
    for name, planned in plan.items():
        if planned is None:
            found.pop(name, None)
        else:
            found[name] = planned


def _declined(line: str) -> bool:
    m = _PROCEED.search(line)
    return m is not None and m.group(1).lower() in ("n", "no")


def _entries(line: str, kind: str) -> list[tuple[str, Planned | None]]:
    """The packages one line of a plan names ((name, None) for one it removes)."""
    mamba = _MAMBA_ROW.match(line)
    if mamba:
        return _mamba(mamba)
    if "::" in line:
        return [e for e in (_record(m.group(1), m.group(2)) for m in _after_arrows(line)) if e]
    if kind == "removed":
        return _removed(line)
    if kind == "download":
        return _table_row(line)
    if kind:
        return _unchanged_channel(line) or _old_form(line)
    return []


def _mamba(m: re.Match[str]) -> list[tuple[str, Planned | None]]:
    """mamba's '  + pytorch  1.11.0  cuda112py39ha0cca9b_1  conda-forge/linux-64  Cached'
    ('-' for one it removes, an upgrade's old row)."""
    channel, _, subdir = m.group(5).rpartition("/")
    if subdir not in _SUBDIRS:
        return []
    name = m.group(2).lower()
    return [(name, None if m.group(1) == "-" else Planned(m.group(3), m.group(4), channel, subdir))]


def _after_arrows(line: str) -> list[re.Match[str]]:
    """The record ids of a line that are what packages become, each after conda's name column
    (the package's name, or its first 17 characters and "~") or after " --> "; one followed
    by " --> " is what the package was. A record id alone (a repodata listing, a file name)
    is no plan's."""
    found = []
    for m in _RECORD.finditer(line):
        # the words around it, a bounded stretch (a line may hold many records)
        before = line[max(0, m.start() - 120) : m.start()].split()
        after = line[m.end() : m.end() + 120].lstrip(" ~")
        if not before or after.startswith("-->"):
            continue
        name = m.group(2).rsplit("-", 2)[0].lower()
        word = before[-1].strip("`'\"*").lower()
        if word == "-->" or word == name or (word.endswith("~") and name.startswith(word[:-1])):
            found.append(m)
    return found


def _record(channel_path: str, rest: str) -> tuple[str, Planned] | None:
    """'pytorch-nightly/osx-arm64' and 'pytorch-1.14.0.dev20221208-py3.8_0' as one package."""
    parts = rest.rstrip("`'\".,;)]").rsplit("-", 2)
    if len(parts) != 3 or not _VERSION.fullmatch(parts[1]) or rest.endswith(_FILES):
        return None
    channel, _, subdir = channel_path.rpartition("/")
    if subdir not in _SUBDIRS:
        channel, subdir = channel_path, ""
    return parts[0].lower(), Planned(parts[1], parts[2], channel, subdir)


def _removed(line: str) -> list[tuple[str, Planned | None]]:
    words = line.split()
    if len(words) != 1:
        return [(n, None) for n, _ in _old_form(line)]
    parts = words[0].rsplit("-", 2)
    return [(parts[0].lower(), None)] if len(parts) == 3 and _VERSION.fullmatch(parts[1]) else []


def _unchanged_channel(line: str) -> list[tuple[str, Planned | None]]:
    """'  torchvision        0.2.1-py_2 --> 0.2.2-py_2': the name column, the new version."""
    words = line.split()
    if len(words) != 4 or words[2] != "-->" or words[0].endswith("~"):
        return []
    version, _, build = words[3].partition("-")
    if not _VERSION.fullmatch(version) or not build or "-" in build:
        return []
    return [(words[0].lower(), Planned(version, build))]


def _old_form(line: str) -> list[tuple[str, Planned | None]]:
    """conda 4.3-4.5's '    pytorch: 0.4.1-py36_cuda9.0.176_cudnn7.1.2_1 pytorch' (the new
    side after ' --> ')."""
    m = _OLD_FORM.match(line)
    if m is None:
        return []
    side = line[m.end(1) + 1 :].split(_ARROW)[-1].split()
    if not side:
        return []
    version, _, build = side[0].partition("-")
    if not _VERSION.fullmatch(version) or not build or "-" in build:
        return []
    channel = side[1] if len(side) > 1 and not side[1].startswith("[") else ""
    return [(m.group(1).lower(), Planned(version, build, channel))]


def _table_row(line: str) -> list[tuple[str, Planned | None]]:
    m = _TABLE_ROW.match(line)
    if m is None:
        return []
    name, _, version = m.group(1).rpartition("-")
    if not name or not _VERSION.fullmatch(version):
        return []
    after = line[m.end() :].split()
    channel = after[-1] if len(after) >= 3 and not after[-1][0].isdigit() else ""
    return [(name.lower(), Planned(version, m.group(2), channel))]


def read_conda_plan(text: str) -> ToolReading | None:
    """torch, its CUDA, the system and the family members a pasted conda plan installs."""
    plan = read_plan(text)
    torch_name = next((n for n in _TORCH_NAMES if n in plan), None)
    members = {m: plan[m] for m in MEMBERS if m in plan}
    if torch_name is None and not members:
        return None
    out = ToolReading()
    if torch_name is not None:
        _torch(plan[torch_name], out)
    for member, planned in members.items():
        out.packages[member] = planned.version
    out.notes.append(_NOTE)
    return out


def _torch(torch: Planned, out: ToolReading) -> None:
    out.put("PyTorch version", torch.version)
    built = conda_torch({"pytorch": f"{torch.version} {torch.build}"})
    if torch.subdir.startswith("osx-") or (built is not None and built.cpu):
        out.put("CUDA used to build PyTorch", "None")
    elif built is not None and built.cuda is not None:
        out.put("CUDA used to build PyTorch", built.cuda)
    elif m := _FORGE_OLD.match(torch.build):
        out.put("CUDA used to build PyTorch", f"{m.group(1)[:-1]}.{m.group(1)[-1]}")
    out.put("OS", _SYSTEMS.get(torch.subdir))
