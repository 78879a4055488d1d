"""`envlock probe` as tables for people: one table a source, unavailable sources say why."""

from __future__ import annotations

from typing import Any, TextIO

from rich.table import Table
from rich.text import Text

from envlock.facts import (
    CudaLibFacts,
    DriverFacts,
    EnvFacts,
    ExtensionFacts,
    ExtensionsFacts,
    Facts,
    SystemFacts,
    TorchFacts,
    TorchLiveFacts,
)
from envlock.report.safe import plain
from envlock.report.text import console_for

_GIB = 1024**3


def _gib(n: int | None) -> str | None:
    return None if n is None else f"{n / _GIB:.1f} GiB"


def _kv_table(title: str, rows: list[tuple[str, Any]], unavailable: str | None = None) -> Table:
    table = Table(title=title, title_justify="left", show_header=False, box=None, padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    if unavailable:
        table.add_row("unavailable", Text(plain(unavailable), style="yellow"))
    for key, value in rows:
        if value is None or value == [] or value == "":
            continue
        if isinstance(value, bool):
            value = "yes" if value else "no"
        elif isinstance(value, list):
            value = " ".join(map(str, value))
        table.add_row(Text(plain(key)), Text(plain(value)))
    return table


def render_facts(facts: Facts, out: TextIO, *, target: str | None = None) -> None:
    """`target`: how the source names itself (facts:FILE) when it is not the facts' own
    target: a facts file is labelled as the file, with where it was recorded."""
    console = console_for(out)
    label = f"{target} (recorded on: {facts.meta.target})" if target else facts.meta.target
    console.print(
        Text(
            f"envlock probe: {label}" + ("  (partial)" if facts.meta.partial else ""),
            style="bold",
        ),
        soft_wrap=True,  # a path is never broken across lines
    )
    for table in (
        _system_table(facts.system),
        _driver_table(facts.driver),
        _gpu_table(facts.driver),
        _cuda_table(facts.cuda),
        _torch_table(facts.torch),
        _kv_table(
            "packages", sorted(facts.packages.distributions.items()), facts.packages.unavailable
        ),
        _extensions_table(facts.extensions),
        _env_table(facts.env),
    ):
        if table is not None:
            console.print(table)


def _system_table(s: SystemFacts) -> Table:
    cont = s.container
    py = s.python
    return _kv_table(
        "system",
        [
            ("os", s.os.pretty_name if s.os else None),
            ("kernel", s.kernel),
            ("arch", s.arch),
            ("glibc", s.glibc),
            ("python", f"{py.version} ({py.implementation})" if py else None),
            ("virtualenv", py.virtualenv if py else None),
            ("cpu", f"{s.cpu_model} x{s.cpu_count}" if s.cpu_model else s.cpu_count),
            ("memory", _gib(s.memory_total_bytes)),
            (
                "container",
                (cont.runtime or "yes") if cont and cont.detected else "no" if cont else None,
            ),
            ("cgroup", f"v{s.cgroup_version}" if s.cgroup_version else None),
            ("/dev/shm", _gib(s.shm_total_bytes)),
        ],
        s.unavailable,
    )


def _driver_table(d: DriverFacts) -> Table:
    return _kv_table(
        "driver",
        [
            ("version", d.version),
            ("source", d.source),
            ("cuda (driver)", d.cuda_version),
            ("kernel module", d.kernel_module_version),
            ("nvml error", d.nvml_error),
            ("device nodes", d.device_nodes),
        ],
        d.unavailable,
    )


def _on_off(value: bool | None) -> str:
    return "?" if value is None else ("on" if value else "off")


def _gpu_table(d: DriverFacts) -> Table | None:
    if not d.gpus:
        return None
    gt = Table(title="gpus", title_justify="left")
    for col in ("#", "name", "capability", "memory", "MIG", "ECC", "persistence", "bus id"):
        gt.add_column(col)
    for g in d.gpus:
        gt.add_row(
            str(g.index),
            g.name or "?",
            g.compute_capability or "?",
            _gib(g.memory_total_bytes) or "?",
            *(_on_off(v) for v in (g.mig_mode, g.ecc_mode, g.persistence_mode)),
            g.pci_bus_id or "?",
        )
    return gt


def _cuda_table(c: CudaLibFacts) -> Table:
    tk, rt, lc = c.toolkit, c.cudart, c.libcuda
    libcuda = lc.unavailable if lc else None
    if lc and lc.path:
        libcuda = f"{lc.driver_version} ({lc.path})"
    return _kv_table(
        "cuda",
        [
            (
                "toolkit nvcc",
                f"{tk.nvcc_version} ({tk.nvcc_path})" if tk and tk.nvcc_version else None,
            ),
            ("cudart", f"{rt.runtime_version} ({rt.path})" if rt and rt.runtime_version else None),
            ("libcuda", libcuda),
            ("wheels", [f"{w.name}=={w.version}" for w in c.wheels]),
            (
                "LD_LIBRARY_PATH",
                [f"{e.path} ({', '.join(e.libraries)})" for e in c.ld_library_path],
            ),
        ],
        c.unavailable,
    )


def _torch_table(t: TorchFacts) -> Table:
    rows: list[tuple[str, Any]] = [
        ("version", t.version if t.installed else "not installed"),
        ("cuda", t.cuda or ("none (CPU build)" if t.installed and not t.hip else None)),
        ("hip", t.hip),
        ("location", t.location),
    ]
    if t.live is not None:
        rows += _live_rows(t.live)
    return _kv_table("torch", rows, t.unavailable)


def _live_rows(live: TorchLiveFacts) -> list[tuple[str, Any]]:
    return [
        ("live probe", live.unavailable),
        ("cudnn", live.cudnn_version),
        ("nccl", live.nccl_version),
        ("arch flags", live.arch_flags),
        ("cuda available", live.cuda_available),
        ("why not", live.cuda_unavailable_reason),
        (
            "devices",
            [
                f"{x.index}:{x.name} sm_{(x.compute_capability or '').replace('.', '')}"
                f" {x.sm_count} SMs"
                for x in live.devices
            ],
        ),
        ("loaded libraries", [x.path for x in live.loaded_libraries]),
        ("c++11 abi", live.cxx11_abi),
    ]


def _extensions_table(ext: ExtensionsFacts) -> Table | None:
    if not (ext.items or ext.unavailable):
        return None
    return _kv_table(
        "extensions", [(e.file, _extension_line(e)) for e in ext.items], ext.unavailable
    )


def _env_table(env: EnvFacts) -> Table:
    rows: list[tuple[str, Any]] = sorted(env.variables.items())
    if env.redacted:
        rows.append(("withheld (secrets)", env.redacted))
    return _kv_table("environment", rows, env.unavailable)


def _extension_line(e: ExtensionFacts) -> str:
    """torchvision 0.29.1: sm_75 ... compute_120, CUDA 13, 0 missing torch symbols."""
    parts = [" ".join([*e.sass, *e.ptx]) or "no GPU code"]
    if e.cuda_major is not None:
        parts.append(f"CUDA {e.cuda_major}")
    if e.missing_torch_symbols_total is not None:
        parts.append(f"{e.missing_torch_symbols_total} missing torch symbols")
    if e.partial:
        parts.append(f"partial: {e.partial}")
    return f"{e.distribution} {e.version or ''}: " + ", ".join(parts)
