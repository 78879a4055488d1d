"""EL-FAMILY-MISMATCH for a member that is no release (checks/family.py runs it): a nightly,
a vendor's pre-release, or a build from a git checkout ("0.16.1+fdea156").

A source build is compiled against the torch beside it, but its code is that of the branch
its version names. torchvision's version.txt: a patch number (0.16.1) is set only on a
release branch after the release (pytorch/vision#8130, #9061: release-only bumps), so such
a build is that release's code and pairs as the release does; main names the series it
develops, bumped weeks to months after the branch cut (#9376: 0.26.0a0 set on 2026-02-05,
'after the 0.25 release so source builds will use a newer version'), so a development or
.0 version one series behind torch's may be main's code for torch's own release (XLA's
TPU image: torchvision 0.19.0a0+d23a6e1 beside torch 2.5.0) and nothing can be said; two
series behind is older than any main of torch's cycle.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from envlock.checks.context import CheckContext
from envlock.matrix import Version
from envlock.matrix.builds import is_released, torch_origin
from envlock.matrix.family import Family
from envlock.pasted.dispatcher import members_without_cuda


@dataclass(frozen=True, slots=True)
class Problem:
    package: str
    version: str
    why: str
    source: str  # "Requires-Dist", "pairing", "local tag", "source build", ...
    variant: str | None = None  # the member's own variant where the source infers it


def public(version: str) -> str:
    return version.split("+", 1)[0]


_NIGHTLY = re.compile(r"\.dev(\d{8})(?:\+|$)")
# a build from a git checkout: its commit as the local tag ("0.19.0a0+d23a6e1", "+git354fc07")
_COMMIT = re.compile(r"(?:git)?[0-9a-f]{7,40}")


def _night(version: str | None) -> str | None:
    """The date of a nightly build ("2.6.0.dev20241113+rocm6.2" -> "20241113"), or None."""
    m = _NIGHTLY.search(version or "")
    return m.group(1) if m else None


def unreleased(
    family: Family, member: str, have: str, torch_version: str | None
) -> Iterator[Problem]:
    """A member the release table cannot judge by itself: a nightly, or a vendor's or a
    source build ("0.19.0a0+d23a6e1", compiled against the torch beside it: XLA's TPU image
    pins one). Nightlies are judged by date: the nightly index publishes each night's torch
    with that night's members (torch 2.6.0.dev20241113 with torchvision 0.20.0.dev20241113,
    named before the release bumped it to 0.21). Beside a released torch, a pre-release of a
    series the table pairs with an older torch was built in that torch's cycle (pytorch#47304:
    torchvision 0.7.0.dev20200610 beside torch 1.7.0; vllm#4252: NGC's 0.16.0a0 beside pip's
    torch 2.2.1); a source build is judged by the branch its version names (_source_build)."""
    night, torch_night = _night(have), _night(torch_version)
    if night and torch_night and night != torch_night:
        yield Problem(
            member,
            have,
            f"a nightly of {night}, torch is the nightly of {torch_night}: the nightly "
            "index pairs builds of the same date",
            "nightly date",
        )
    torch = Version.of(public(torch_version)) if torch_version else None
    if torch is None:
        return
    local = have.partition("+")[2].lower()
    if _COMMIT.fullmatch(local):
        yield from _source_build(family, member, have, torch)
        return
    series = re.match(r"\d+\.\d+", have)
    # a vendor's own tag ("+corex.4.5.0"): nothing the table says; a variant's (a nightly's
    # "+cu128") is judged as the untagged build
    vendor = bool(local) and torch_origin(have).variant is None
    if series is None or vendor or not is_released(torch_version or ""):
        return
    yield from _pre_release(family, member, have, Version.parse(series.group(0)), torch_version)


def _pre_release(
    family: Family, member: str, have: str, v: Version, torch_version: str | None
) -> Iterator[Problem]:
    """A pre-release or nightly member beside a released torch: one of an older torch's
    cycle, or a nightly of a later one (built against that night's torch and pinned to it)."""
    torch = Version.of(public(torch_version or ""))
    row = family.torch_for(member, v)
    if torch is None or row is None or family.pairs(member, v, torch):
        return
    if row.torch < torch.truncate(2):
        yield Problem(
            member,
            have,
            f"a pre-release of {member} {v}, built in the cycle of torch {row.torch}; "
            f"torch is the release {torch_version}",
            "pre-release series",
        )
    elif _night(have) and row.torch > torch.truncate(2):
        yield Problem(
            member,
            have,
            f"a nightly of {member} {v}, built against a nightly torch of the torch "
            f"{row.torch} cycle and pinned to it; torch is the release {torch_version}",
            "pre-release series",
        )


def _source_build(family: Family, member: str, have: str, torch: Version) -> Iterator[Problem]:
    """A build from a git checkout (a commit as its local tag) whose branch's series does
    not go with torch: a release branch's patch number of another series, or any version
    two or more series before torch's (see the module's docstring)."""
    v = Version.of(public(have))
    built_for = family.torch_for(member, v) if v is not None else None
    if v is None or built_for is None or family.pairs(member, v, torch):
        return
    base = f"a source build of {member} {v.truncate(2)} (commit {have.split('+', 1)[1]})"
    release_branch = v.pep440.pre is None and v.pep440.dev is None and v.pep440.micro > 0
    if release_branch:
        yield Problem(
            member,
            have,
            f"{base}: {public(have)} is a patch release's number, which only the "
            f"release/{v.truncate(2)} branch carries; {member} {v.truncate(2)} goes with "
            f"torch {built_for.torch}",
            "source build",
        )
    elif _behind(family, member, v, torch) >= 2:
        yield Problem(
            member,
            have,
            f"{base}: {member} {v.truncate(2)} goes with torch {built_for.torch}, two or more "
            f"series before torch {torch.truncate(2)}'s, older than any main of its cycle",
            "source build",
        )


def _behind(family: Family, member: str, v: Version, torch: Version) -> int:
    """How many of `member`'s series lie from `v`'s up to torch's row's (0 when torch's row
    names none, or `v` is no older)."""
    row = family.row_for_torch(torch)
    want = row.members.get(member) if row else None
    if want is None:
        return 0
    series = sorted({r.members[member] for r in family.rows if member in r.members})
    have = v.truncate(2)
    if have not in series or want not in series:
        return 0
    return max(0, series.index(want) - series.index(have))


def without_cuda(
    notes: list[str], installed: dict[str, str], listed: bool, torch_tag: str | None
) -> Iterator[Problem]:
    """A member torch's dispatcher found no CUDA kernel in (pasted/dispatcher.py: an operator
    every CUDA build of it registers for CUDA) beside a torch built for CUDA or ROCm: a build
    of it without CUDA. A member whose local tag names its variant is the local tags' to
    judge (a +cpu one) or not this build (a +cu128 one has the kernel); one a package list
    (`listed`) does not hold is not installed now, and where no list was read the refusal
    itself says one is."""
    if torch_tag is None or torch_tag == "cpu":
        return
    for member, op in members_without_cuda(notes).items():
        have = installed.get(member)
        if (have is not None and "+" in have) or (have is None and listed):
            continue
        yield Problem(
            member,
            have or "(its version is not in the paste)",
            f"torch's dispatcher found no CUDA kernel of its operator '{member}::{op}' (the "
            f"backends it lists have none): a build of {member} without CUDA, torch is "
            f"+{torch_tag}",
            "dispatcher",
            "cpu",
        )


def stated_release(ctx: CheckContext) -> Version | None:
    """A released torch the paste names without its build (an untagged 'torch-2.1.1' in a
    hand list: not read as installed): the pairing alone is judged against it, as it needs no
    build (TTS-3313: torchaudio 2.0.1 beside torch 2.1.1)."""
    stated = ctx.facts.torch.version
    return Version.of(stated) if stated is not None and is_released(stated) else None


def symptoms(ctx: CheckContext, package: str) -> list[str]:
    """The member's import failing on a torch symbol (EL-EXT-TORCH-ABI): this mismatch's effect."""
    failing = {e.distribution for e in ctx.facts.extensions.items if e.missing_torch_symbols_total}
    return ["EL-EXT-TORCH-ABI"] if package in failing else []


def after_causes(consequences: list[str]) -> dict[str, object]:
    return {"consequences": consequences} if consequences else {}
