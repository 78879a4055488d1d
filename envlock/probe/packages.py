"""The `packages` section: every installed distribution, and where each came from.

The full closure: every *.dist-info / *.egg-info on the path (the first on
sys.path wins, as for imports), name normalised as PEP 503, exact version.
`sources` holds what an installer wrote to `direct_url.json` (PEP 610) for the
distributions installed from a URL, a VCS, a local path or as editable: the
lock records it, and an editable or local-path install cannot be restored
elsewhere. `requires` holds, for the family check, every distribution's
Requires-Dist lines that name a torch family member, and `family_dependencies`
the family's own Requires-Dist lines (torchvision's numpy and pillow), read raw:
the host evaluates their markers and versions (`pip check` without pip).
"""

from __future__ import annotations

import os

from envlock.probe import _dists
from envlock.probe._util import read_text

# typing is not imported at run time (~3 ms of every container probe).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from envlock.probe.shapes import PackagesDoc, PackageSourceDoc, RequiresDoc
    from envlock.probe.statcache import StatCache

_DIRECT_URL_LIMIT = 64 * 1024
_PREFIXES = ("nvidia-", "cuda-")
# The torch family (envlock/matrix/family.py FAMILY): every installed distribution's
# Requires-Dist lines naming one of these are recorded, for the family check.
FAMILY = frozenset({"torch", "torchvision", "torchaudio", "torchtext", "triton", "pytorch-triton"})
# envlock's own requirements (pyproject's dependencies and extras but torch; lock/model.py's
# TOOL_PACKAGES: a test holds the two equal)
ENVLOCK_REQUIREMENTS = frozenset(
    {"nvidia-ml-py", "packaging", "tomli", "tomli-w", "rich", "docker", "msgspec", "pyyaml"}
)
# envlock's distribution (envlock.DISTRIBUTION) and `envlock`, its installs' name before
# the rename (envlock on PyPI is another project: issue 22)
SELF_PACKAGES = frozenset({"torch-envlock", "envlock"})
# a Requires-Dist line for an extra: installed only when that extra was asked for (left to
# re's cache, re imported where it is used: only an image holding one of envlock's own
# requirements needs it)
_EXTRA_MARKER = r";.*\bextra\s*=="


def collect(path: list[str] | None = None, cache: StatCache | None = None) -> PackagesDoc:
    """`cache`: each distribution's Requires-Dist lines by its METADATA's stat (this host's
    probe: probe/statcache.py)."""
    dists = _dists.distributions(path, cache)
    found = {n: d.version for n, d in dists.items()}
    sources: dict[str, PackageSourceDoc] = {}
    for name, dist in sorted(dists.items()):
        source = direct_url(dist.path)
        if source is not None:
            sources[name] = source
    return {
        "unavailable": None,
        "distributions": dict(sorted(found.items())),
        "sources": sources,
        "requires": family_requires(dists),
        "family_dependencies": family_dependencies(dists),
        "tool_dependents": tool_dependents(dists),
    }


# Whose own dependencies are checked: the family members a user installs by name.
_CHECKED = ("torch", "torchvision", "torchaudio", "torchtext")


def family_dependencies(dists: dict[str, _dists.Dist]) -> list[RequiresDoc]:
    """torch's, torchvision's, torchaudio's and torchtext's Requires-Dist lines, as written."""
    return [
        {"distribution": name, "version": dists[name].version, "requires": dists[name].requires()}
        for name in _CHECKED
        if name in dists
    ]


def tool_dependents(dists: dict[str, _dists.Dist]) -> dict[str, list[str]]:
    """For each of envlock's requirements installed, the other distributions whose
    Requires-Dist names it (not for an extra): the host decides from them whether it is
    only envlock's (lock/build.py). Markers are not evaluated: a line that may apply
    makes the package the job's, which only locks one more installed package."""
    out: dict[str, list[str]] = {n: [] for n in sorted(ENVLOCK_REQUIREMENTS) if n in dists}
    if not out:
        return out
    import re

    for name, dist in sorted(dists.items()):
        if name in SELF_PACKAGES or name.startswith(_PREFIXES):
            continue
        for req in dist.requires():
            named = _dists.requirement_name(req)
            wanted = _dists.normalize(named) if named else ""
            if wanted in out and name not in out[wanted] and not re.search(_EXTRA_MARKER, req):
                out[wanted].append(name)
    return out


def family_requires(dists: dict[str, _dists.Dist]) -> list[RequiresDoc]:
    """Each installed distribution's Requires-Dist lines that name a torch family member
    (read from its METADATA headers), with its own version."""
    out: list[RequiresDoc] = []
    for name, dist in sorted(dists.items()):
        if name.startswith(_PREFIXES):
            continue  # CUDA library wheels never require torch; their METADATA is skipped
        lines = []
        for req in dist.requires():
            named = _dists.requirement_name(req)
            if named and _dists.normalize(named) in FAMILY:
                lines.append(req)
        if lines:
            out.append({"distribution": name, "version": dist.version, "requires": lines})
    return out


def direct_url(dist_path: str) -> PackageSourceDoc | None:
    """PEP 610's direct_url.json of one distribution, reduced to what a lock needs:
    kind (url, vcs, editable, local), the URL, and for a VCS its commit. None when the
    distribution came from an index (no file), or the file is unreadable."""
    import json  # here: a served probe that never needs it imports no json (nor re)

    if not os.path.isdir(dist_path):
        return None
    text = read_text(os.path.join(dist_path, "direct_url.json"), _DIRECT_URL_LIMIT)
    if text is None:
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("url"), str):
        return None
    url = doc["url"]
    out: PackageSourceDoc = {"url": url, "kind": "url", "commit": None}
    vcs = doc.get("vcs_info")
    directory = doc.get("dir_info")
    if isinstance(vcs, dict):
        out["kind"] = "vcs"
        commit = vcs.get("commit_id")
        out["commit"] = commit if isinstance(commit, str) else None
    elif isinstance(directory, dict):
        out["kind"] = "editable" if directory.get("editable") is True else "local"
    elif url.startswith("file:"):
        out["kind"] = "local"  # a wheel or sdist file on this machine's disk
    return out
