"""A real headless browser for the HTML report: Debian's chromium (installed by .ci/run).

`dump_dom` returns the DOM after the page's script ran; `screenshot` writes a PNG that
`png_pixels` decodes with the standard library (zlib, struct) so a test can tell a
drawn page from a blank one.
"""

from __future__ import annotations

import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

from tests.conftest import need

CHROMIUM = Path("/usr/bin/chromium")
# No network, no background services, a profile of its own (the test's tmp directory).
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium() -> Path:
    need(CHROMIUM.exists(), f"{CHROMIUM} is missing (apt-get install chromium)")
    return CHROMIUM


def _run(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(chromium()), *FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def dump_dom(page: Path, profile: Path) -> str:
    return _run(page, profile, "--dump-dom").stdout


def screenshot(page: Path, profile: Path, png: Path, size: str = "1400,900") -> Path:
    _run(page, profile, f"--screenshot={png}", f"--window-size={size}")
    assert png.is_file(), f"chromium wrote no {png}"
    return png


class TableCells(HTMLParser):
    """The text of each row of one table (by id), as lists of cell texts."""

    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id, self.depth, self.rows = table_id, 0, []  # type: ignore[var-annotated]
        self.cell: list[str] | None = None
        self.classes: list[list[str]] = []  # each row's cell classes

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table" and a.get("id") == self.table_id:
            self.depth = 1
        elif self.depth and tag == "tr":
            self.rows.append([])
            self.classes.append([])
        elif self.depth and tag in ("td", "th"):
            self.cell = []
            self.classes[-1].append(a.get("class") or "")

    def handle_endtag(self, tag: str) -> None:
        if self.depth and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append("".join(self.cell))
            self.cell = None
        elif self.depth and tag == "table":
            self.depth = 0

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def table_rows(dom: str, table_id: str) -> tuple[list[list[str]], list[list[str]]]:
    parser = TableCells(table_id)
    parser.feed(dom)
    return parser.rows, parser.classes


def png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB(A) bytes) of an 8-bit truecolour PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, [], 0
    height = depth = colour = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    assert depth == 8 and colour in (2, 6), f"unexpected PNG format: depth {depth} colour {colour}"
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        filt, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if filt == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif filt == 2:
            for i in range(stride):
                line[i] = (line[i] + prev[i]) & 0xFF
        elif filt == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif filt == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        else:
            assert filt == 0, f"bad PNG filter {filt}"
        rows.append(bytes(line))
        prev = line
    return width, height, rows


def colours(path: Path) -> dict[bytes, int]:
    """How many pixels of each colour (RGB) the PNG has."""
    width, _height, rows = png_pixels(path)
    bpp = len(rows[0]) // width
    counts: dict[bytes, int] = {}
    for row in rows:
        for x in range(0, len(row), bpp):
            px = row[x : x + 3]
            counts[px] = counts.get(px, 0) + 1
    return counts
