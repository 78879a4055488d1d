"""Record what PyPI states of every torch release line, for torch.toml's release fields.

`python -m tests.matrix.record_pypi` asks PyPI's JSON API (pypi.org/pypi/torch/json) for
each release's files and, for the X.Y.0 Linux x86_64 wheel, reads torch/version.py out of
the wheel with HTTP range requests (the zip's central directory, then that one member: a
few kilobytes, not the wheel). It writes tests/fixtures/pypi.torch-releases-recorded.json,
which tests/matrix/test_pypi_record.py holds torch.toml to, offline.

Recorded per release line X.Y (every X.Y.* on PyPI):
- python_tags: the CPython minors of its Linux x86_64 wheels (cp37 -> 3.7), per patch;
- requires_python: the X.Y.0 files' Requires-Python (None: the wheels declare none);
- default_cuda: torch.version.cuda of the X.Y.0 wheel, the build a plain `pip install` gets.
"""

from __future__ import annotations

import datetime
import json
import re
import struct
import urllib.parse
import urllib.request
import zlib
from typing import Any

from tests.conftest import FIXTURES

PYPI = "https://pypi.org/pypi/torch/json"
RECORD = FIXTURES / "pypi.torch-releases-recorded.json"
_CP = re.compile(r"-cp(\d)(\d+)-")
_CUDA = re.compile(r"^cuda\b[^=\n]*=\s*'([^']+)'", re.M)
_VERSION = re.compile(r"^__version__\s*=\s*'([^']+)'", re.M)


def _get(url: str, start: int | None = None, end: int | None = None) -> bytes:
    headers = {"Range": f"bytes={start}-{end}"} if start is not None else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=120) as r:
        data: bytes = r.read()
    return data


def _zip_member(url: str, size: int, name: str) -> bytes:
    """One member of a remote zip, through range requests."""
    tail = _get(url, max(0, size - 70_000), size - 1)
    eocd = tail.rfind(b"PK\x05\x06")
    cd_size, cd_off = struct.unpack("<II", tail[eocd + 12 : eocd + 20])
    cd = _get(url, cd_off, cd_off + cd_size - 1)
    pos = 0
    while pos < len(cd):
        (method,) = struct.unpack("<H", cd[pos + 10 : pos + 12])
        csize, _, nlen, elen, clen = struct.unpack("<IIHHH", cd[pos + 20 : pos + 34])
        offset = struct.unpack("<I", cd[pos + 42 : pos + 46])[0]
        fname = cd[pos + 46 : pos + 46 + nlen].decode()
        pos += 46 + nlen + elen + clen
        if fname == name:
            head = _get(url, offset, offset + 30 + 2048 + csize)
            n2, e2 = struct.unpack("<HH", head[26:30])
            raw = head[30 + n2 + e2 : 30 + n2 + e2 + csize]
            return zlib.decompress(raw, -15) if method == 8 else raw
    raise LookupError(f"{name} not in {url}")


def _linux_wheels(files: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        f
        for f in files
        if f["filename"].endswith(".whl") and "linux" in f["filename"] and "x86_64" in f["filename"]
    ]


def _line(releases: dict[str, list[dict[str, Any]]], line: str) -> dict[str, Any]:
    patches = sorted(
        (v for v in releases if re.fullmatch(rf"{re.escape(line)}\.\d+", v) and releases[v]),
        key=lambda v: int(v.rsplit(".", 1)[1]),
    )
    tags = {
        v: sorted(
            {
                f"{m.group(1)}.{m.group(2)}"
                for f in _linux_wheels(releases[v])
                if (m := _CP.search(f["filename"]))
            },
            key=lambda t: tuple(map(int, t.split("."))),
        )
        for v in patches
    }
    first = f"{line}.0"
    wheel = sorted(_linux_wheels(releases[first]), key=lambda f: f["filename"])[-1]
    url = urllib.parse.urljoin(PYPI, wheel["url"])
    version_py = _zip_member(url, wheel["size"], "torch/version.py").decode()
    cuda, version = _CUDA.search(version_py), _VERSION.search(version_py)
    return {
        "python_tags": tags,
        "requires_python": sorted({f["requires_python"] or "" for f in releases[first]}),
        "default_wheel": wheel["filename"],
        "default_wheel_sha256": wheel["digests"]["sha256"],
        "default_version": version.group(1) if version else None,
        "default_cuda": cuda.group(1) if cuda else None,
    }


def record() -> dict[str, Any]:
    releases: dict[str, list[dict[str, Any]]] = json.loads(_get(PYPI))["releases"]
    lines = [f"1.{n}" for n in range(14)] + [f"2.{n}" for n in range(15)]
    return {
        "obtained": f"python -m tests.matrix.record_pypi ({datetime.date.today()}): {PYPI} "
        "and torch/version.py of each X.Y.0 Linux x86_64 wheel read by HTTP range requests",
        "releases": {line: _line(releases, line) for line in lines},
    }


if __name__ == "__main__":
    RECORD.write_text(json.dumps(record(), indent=2) + "\n")
    print(RECORD)
