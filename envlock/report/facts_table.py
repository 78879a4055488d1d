"""`envlock probe` as tables for people: one table a source, unavailable sources say why.

The tables are built from the facts document (the probe's own dict, or `Facts.to_dict()`
for a facts file, an image, another interpreter), so this host's probe needs no Facts
model. Off a terminal, where rich would print them unchanged (printable ASCII, lines
within the width, a stream that takes the GPU table's box characters), they are laid out
here as rich lays them out, and rich (35-110 ms to import) is not loaded:
`tests/report/test_facts_table.py` and `tests/fuzz/test_fuzz_facts_table.py` hold both
layouts to the same output.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple, TextIO, cast

from envlock.report.printer import _rich_only, width_for
from envlock.report.safe import plain

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rich.table import Table

    from envlock.facts import Facts
    from envlock.probe.shapes import (
        CudaLibDoc,
        DriverDoc,
        EnvDoc,
        ExtensionDoc,
        ExtensionsDoc,
        FactsDoc,
        SystemDoc,
        TorchDoc,
        TorchLiveDoc,
    )

_GIB = 1024**3
Value = str | int | float | bool | list[str] | None


# NamedTuples, not dataclasses: `envlock probe` off a terminal never loads dataclasses
class KvTable(NamedTuple):
    """A titled two-column table: key, value (rows already as text)."""

    title: str
    rows: tuple[tuple[str, str], ...]
    unavailable: str | None = None  # why the source gave nothing: its first row


class Grid(NamedTuple):
    """The GPU table: a header row and a row a GPU, in rich's heavy-head box."""

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def _gib(n: int | None) -> str | None:
    return None if n is None else f"{n / _GIB:.1f} GiB"


def _kv(title: str, rows: Sequence[tuple[str, Value]], unavailable: str | None = None) -> KvTable:
    out: list[tuple[str, str]] = []
    for key, value in rows:
        if value is None or value == [] or value == "":
            continue
        if isinstance(value, bool):
            text = "yes" if value else "no"
        elif isinstance(value, list):
            text = " ".join(map(str, value))
        else:
            text = str(value)
        out.append((plain(key), plain(text)))
    return KvTable(title, tuple(out), plain(unavailable) if unavailable else None)


def render_facts(facts: Facts | FactsDoc, out: TextIO, *, target: str | None = None) -> None:
    """`target`: how the source names itself (facts:FILE) when it is not the facts' own
    target: a facts file is labelled as the file, with where it was recorded."""
    title, tables = contents(facts, target)
    lines = _plain_lines(title, tables, out)
    if lines is not None:
        out.write("".join(line + "\n" for line in lines))
        return
    rich_render(title, tables, out)


def contents(
    facts: Facts | FactsDoc, target: str | None = None
) -> tuple[str, list[KvTable | Grid]]:
    """The title line and the tables, as text (both layouts print these)."""
    doc = facts if isinstance(facts, dict) else cast("FactsDoc", facts.to_dict())
    meta = doc.get("meta", {})
    own = meta.get("target", "host")
    label = f"{target} (recorded on: {own})" if target else own
    title = f"envlock probe: {label}" + ("  (partial)" if meta.get("partial") else "")
    return title, [t for t in _tables(doc) if t is not None]


def _tables(doc: FactsDoc) -> list[KvTable | Grid | None]:
    packages = doc.get("packages", {})
    return [
        _system_table(doc.get("system", {})),
        _driver_table(doc.get("driver", {})),
        _gpu_table(doc.get("driver", {})),
        _cuda_table(doc.get("cuda", {})),
        _torch_table(doc.get("torch", {})),
        _kv(
            "packages",
            sorted(packages.get("distributions", {}).items()),
            packages.get("unavailable"),
        ),
        _extensions_table(doc.get("extensions", {})),
        _env_table(doc.get("env", {})),
    ]


# ------------------------------------------------------------------ layouts
def _printable(text: str) -> bool:
    """One cell wide a character, nothing rich would strip or expand."""
    return all(" " <= c <= "~" for c in text)


def _kv_rows(table: KvTable) -> list[tuple[str, str]]:
    first = [("unavailable", table.unavailable)] if table.unavailable else []
    return first + list(table.rows)


def _kv_lines(table: KvTable) -> list[str]:
    # rich: no box, padding (0, 2) on both sides of each cell, the title flush left
    rows = _kv_rows(table)
    width = max((len(k) for k, _ in rows), default=0)
    return [table.title] + [f"  {k.ljust(width)}    {v}".rstrip(" ") for k, v in rows]


def _grid_lines(grid: Grid) -> list[str]:
    cols = [grid.header, *grid.rows]
    widths = [max(len(row[i]) for row in cols) for i in range(len(grid.header))]

    def rule(left: str, fill: str, mid: str, right: str) -> str:
        return left + mid.join(fill * (w + 2) for w in widths) + right

    def row(cells: tuple[str, ...], bar: str) -> str:
        return bar + bar.join(f" {c.ljust(w)} " for c, w in zip(cells, widths, strict=True)) + bar

    return [
        grid.title,
        rule("┏", "━", "┳", "┓"),
        row(grid.header, "┃"),
        rule("┡", "━", "╇", "┩"),
        *(row(r, "│") for r in grid.rows),
        rule("└", "─", "┴", "┘"),
    ]


def _plain_lines(title: str, tables: list[KvTable | Grid], out: TextIO) -> list[str] | None:
    """The output as lines, where rich would print exactly these; else None."""
    if _rich_only(out) or not _plain_cells(title, tables, out):
        return None
    lines = [title]
    for t in tables:
        lines += _kv_lines(t) if isinstance(t, KvTable) else _grid_lines(t)
    if not all(len(t.title) <= _width(t) for t in tables if _cells(t)):
        return None  # rich wraps a title wider than its table
    width = width_for()
    return lines if all(len(line) <= width for line in lines) else None


def _plain_cells(title: str, tables: list[KvTable | Grid], out: TextIO) -> bool:
    """Every text one cell a character, and the GPU table's box drawable on `out`."""
    grids = any(isinstance(t, Grid) for t in tables)
    if grids and not (getattr(out, "encoding", None) or "utf-8").lower().startswith("utf"):
        return False  # rich draws the box in ASCII there
    texts = [title]
    for t in tables:
        texts += [t.title, *(cell for r in _cells(t) for cell in r)]
    return all(_printable(s) for s in texts)


def _cells(table: KvTable | Grid) -> list[tuple[str, ...]]:
    return list(_kv_rows(table)) if isinstance(table, KvTable) else [table.header, *table.rows]


def _width(table: KvTable | Grid) -> int:
    """The table's width as rich lays it out (cells padded as in _kv_lines/_grid_lines)."""
    if isinstance(table, Grid):
        return len(_grid_lines(table)[1])
    rows = _kv_rows(table)
    return 8 + max(len(k) for k, _ in rows) + max(len(v) for _, v in rows)


def rich_render(title: str, tables: list[KvTable | Grid], out: TextIO) -> None:
    from rich.text import Text

    from envlock.report.text import console_for

    console = console_for(out)
    console.print(Text(title, style="bold"), soft_wrap=True)  # a path is never broken
    for t in tables:
        console.print(_rich_kv(t) if isinstance(t, KvTable) else _rich_grid(t))


def _rich_kv(kv: KvTable) -> Table:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=kv.title, title_justify="left", show_header=False, box=None, padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    if kv.unavailable:
        table.add_row("unavailable", Text(kv.unavailable, style="yellow"))
    for key, value in kv.rows:
        table.add_row(Text(key), Text(value))
    return table


def _rich_grid(grid: Grid) -> Table:
    from rich.table import Table

    table = Table(title=grid.title, title_justify="left")
    for col in grid.header:
        table.add_column(col)
    for row in grid.rows:
        table.add_row(*row)
    return table


# ------------------------------------------------------------------ sections
def _system_table(s: SystemDoc) -> KvTable:
    cont = s.get("container")
    py = s.get("python")
    os_ = s.get("os")
    model, count = s.get("cpu_model"), s.get("cpu_count")
    cgroup = s.get("cgroup_version")
    return _kv(
        "system",
        [
            ("os", os_.get("pretty_name") if os_ else None),
            ("kernel", s.get("kernel")),
            ("arch", s.get("arch")),
            ("glibc", s.get("glibc")),
            ("python", f"{py.get('version')} ({py.get('implementation')})" if py else None),
            ("virtualenv", py.get("virtualenv") if py else None),
            ("cpu", f"{model} x{count}" if model else count),
            ("memory", _gib(s.get("memory_total_bytes"))),
            (
                "container",
                (cont.get("runtime") or "yes")
                if cont and cont.get("detected")
                else "no"
                if cont
                else None,
            ),
            ("cgroup", f"v{cgroup}" if cgroup else None),
            ("/dev/shm", _gib(s.get("shm_total_bytes"))),
        ],
        s.get("unavailable"),
    )


def _driver_table(d: DriverDoc) -> KvTable:
    return _kv(
        "driver",
        [
            ("version", d.get("version")),
            ("source", d.get("source")),
            ("cuda (driver)", d.get("cuda_version")),
            ("kernel module", d.get("kernel_module_version")),
            ("nvml error", d.get("nvml_error")),
            ("device nodes", d.get("device_nodes", [])),
        ],
        d.get("unavailable"),
    )


def _on_off(value: bool | None) -> str:
    return "?" if value is None else ("on" if value else "off")


def _gpu_table(d: DriverDoc) -> Grid | None:
    gpus = d.get("gpus")
    if not gpus:
        return None
    header = ("#", "name", "capability", "memory", "MIG", "ECC", "persistence", "bus id")
    rows = tuple(
        (
            str(g.get("index")),
            g.get("name") or "?",
            g.get("compute_capability") or "?",
            _gib(g.get("memory_total_bytes")) or "?",
            _on_off(g.get("mig_mode")),
            _on_off(g.get("ecc_mode")),
            _on_off(g.get("persistence_mode")),
            g.get("pci_bus_id") or "?",
        )
        for g in gpus
    )
    return Grid("gpus", header, rows)


def _cuda_table(c: CudaLibDoc) -> KvTable:
    tk, rt, lc = c.get("toolkit"), c.get("cudart"), c.get("libcuda")
    libcuda = lc.get("unavailable") if lc else None
    if lc and lc.get("path"):
        libcuda = f"{lc.get('driver_version')} ({lc.get('path')})"
    nvcc = (
        f"{tk.get('nvcc_version')} ({tk.get('nvcc_path')})"
        if tk and tk.get("nvcc_version")
        else None
    )
    runtime = rt.get("runtime_version") if rt else None
    return _kv(
        "cuda",
        [
            ("toolkit nvcc", nvcc),
            ("cudart", f"{runtime} ({rt.get('path')})" if rt and runtime else None),
            ("libcuda", libcuda),
            ("wheels", [f"{w.get('name')}=={w.get('version')}" for w in c.get("wheels", [])]),
            (
                "LD_LIBRARY_PATH",
                [
                    f"{e.get('path')} ({', '.join(e.get('libraries', []))})"
                    for e in c.get("ld_library_path", [])
                ],
            ),
        ],
        c.get("unavailable"),
    )


def _torch_table(t: TorchDoc) -> KvTable:
    installed = t.get("installed", False)
    rows: list[tuple[str, Value]] = [
        ("version", t.get("version") if installed else "not installed"),
        ("cuda", t.get("cuda") or ("none (CPU build)" if installed and not t.get("hip") else None)),
        ("hip", t.get("hip")),
        ("location", t.get("location")),
    ]
    live = t.get("live")
    if live is not None:
        rows += _live_rows(live)
    return _kv("torch", rows, t.get("unavailable"))


def _live_rows(live: TorchLiveDoc) -> list[tuple[str, Value]]:
    return [
        ("live probe", live.get("unavailable")),
        ("cudnn", live.get("cudnn_version")),
        ("nccl", live.get("nccl_version")),
        ("arch flags", live.get("arch_flags", [])),
        ("cuda available", live.get("cuda_available")),
        ("why not", live.get("cuda_unavailable_reason")),
        (
            "devices",
            [
                f"{x.get('index')}:{x.get('name')} "
                f"sm_{(x.get('compute_capability') or '').replace('.', '')}"
                f" {x.get('sm_count')} SMs"
                for x in live.get("devices", [])
            ],
        ),
        ("loaded libraries", [x.get("path", "") for x in live.get("loaded_libraries", [])]),
        ("c++11 abi", live.get("cxx11_abi")),
    ]


def _extensions_table(ext: ExtensionsDoc) -> KvTable | None:
    items = ext.get("items", [])
    if not (items or ext.get("unavailable")):
        return None
    return _kv(
        "extensions",
        [(e.get("file", ""), _extension_line(e)) for e in items],
        ext.get("unavailable"),
    )


def _env_table(env: EnvDoc) -> KvTable:
    rows: list[tuple[str, Value]] = list(sorted(env.get("variables", {}).items()))
    if env.get("redacted"):
        rows.append(("withheld (secrets)", env.get("redacted", [])))
    return _kv("environment", rows, env.get("unavailable"))


def _extension_line(e: ExtensionDoc) -> str:
    """torchvision 0.29.1: sm_75 ... compute_120, CUDA 13, 0 missing torch symbols."""
    parts = [" ".join([*e.get("sass", []), *e.get("ptx", [])]) or "no GPU code"]
    if e.get("cuda_major") is not None:
        parts.append(f"CUDA {e.get('cuda_major')}")
    if e.get("missing_torch_symbols_total") is not None:
        parts.append(f"{e.get('missing_torch_symbols_total')} missing torch symbols")
    if e.get("partial"):
        parts.append(f"partial: {e.get('partial')}")
    return f"{e.get('distribution')} {e.get('version') or ''}: " + ", ".join(parts)
