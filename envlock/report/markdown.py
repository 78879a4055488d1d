"""A bug report in Markdown: what collect_env gives and what it lacks (the cuDNN and NCCL
torch loaded, its arch flags, container and /dev/shm, the driver from NVML), the doctor's
findings, in collapsible sections, for pasting into an issue.

It formats an (already anonymized) report document, `{"facts": ..., "doctor": ...}`;
every value is escaped for Markdown and HTML, so a value cannot open a tag or a table cell.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any, TextIO, TypeAlias

from envlock.report.safe import plain

# Distributions worth listing in a bug report (collect_env's selection, widened)
RELEVANT = re.compile(
    r"^(torch|numpy|triton|nvidia-|cuda-|cupy|jax|flash-attn|flash_attn|xformers|vllm|sglang"
    r"|transformers|accelerate|deepspeed|bitsandbytes|apex|onnx|tensorrt|mmcv|detectron2"
    r"|lightning|pytorch-lightning|sympy|networkx|jinja2|filelock|fsspec|typing-extensions)"
)
MAX_PACKAGES = 40
MAX_FINDINGS = 20
# A JSON document read leniently (`_get`): a key missing or of another type reads as None.
Doc: TypeAlias = Mapping[str, object]
Rows: TypeAlias = list[tuple[str, object]]


def cell(value: object) -> str:
    """A value as inline Markdown: HTML-escaped, pipes and backticks neutralised, one line."""
    if value is None or value == "" or value == []:
        return "—"
    text = plain(
        value if not isinstance(value, list) else ", ".join(map(str, value)), newlines=False
    )
    text = html.escape(text, quote=False)
    return re.sub(r"([\\`*_\[\]|#])", r"\\\1", text)


def code_block(lines: list[str]) -> list[str]:
    body = [plain(line, newlines=False) for line in lines]
    # a fence longer than any run of backticks inside: a value cannot close it
    longest = max((len(run) for line in body for run in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}text", *body, fence]


def details(summary: str, body: list[str]) -> list[str]:
    return [
        "<details>",
        f"<summary>{html.escape(summary)}</summary>",
        "",
        *body,
        "",
        "</details>",
        "",
    ]


def _get(doc: object, *path: str) -> Any:
    """The value at `path` in a JSON document, None where a step is missing or not an
    object: every read of the document goes through here."""
    for p in path:
        if not isinstance(doc, dict):
            return None
        doc = doc.get(p)
    return doc


def _gpus(facts: Doc) -> str:
    gpus = _get(facts, "driver", "gpus") or _get(facts, "torch", "live", "devices") or []
    if not gpus:
        why = _get(facts, "driver", "unavailable")
        return f"none observed ({why})" if why else "none"
    counts: dict[str, int] = {}
    for g in gpus:
        label = str(_get(g, "name") or "unknown model")
        if _get(g, "compute_capability"):
            label += f" (sm_{str(g['compute_capability']).replace('.', '')})"
        counts[label] = counts.get(label, 0) + 1
    return ", ".join(f"{n}x {label}" for label, n in counts.items())


def _compilers(facts: Doc) -> str | None:
    compilers = _get(facts, "toolchain", "compilers") or {}
    return ", ".join(f"{n} {v}" for n, v in compilers.items() if v) or None


def _join(sep: str, *parts: object) -> str:
    return sep.join(str(x) for x in parts if x)


def _torch_rows(facts: Doc) -> Rows:
    def live(key: str) -> Any:
        return _get(facts, "torch", "live", key)

    version = _get(facts, "torch", "version")
    build, cuda = _get(facts, "torch", "build"), _get(facts, "torch", "cuda")
    torch_line = (
        f"{version} ({build or '?'}, CUDA {cuda or 'none'})"
        if version
        else (_get(facts, "torch", "unavailable") or "not installed")
    )
    return [
        ("torch", torch_line),
        ("CUDA available", live("cuda_available")),
        ("cuDNN loaded by torch", live("cudnn_version") or live("unavailable")),
        ("NCCL loaded by torch", live("nccl_version")),
        ("arch flags", live("arch_flags")),
        ("XNNPACK", live("xnnpack")),
    ]


def _driver_line(facts: Doc) -> object:
    def driver(key: str) -> Any:
        return _get(facts, "driver", key)

    cuda = f"(CUDA {driver('cuda_version')})" if driver("cuda_version") else None
    source = f"from {driver('source')}" if driver("source") else None
    return _join(" ", driver("version"), cuda, source) or driver("unavailable")


def _system_rows(facts: Doc) -> Rows:
    def system(*path: str) -> Any:
        return _get(facts, "system", *path)

    container = system("container") or {}
    shm = system("shm_total_bytes")
    return [
        ("OS", _join(" ", system("os", "pretty_name"), system("arch"))),
        ("kernel / glibc", _join(" / ", system("kernel"), system("glibc"))),
        ("Python", _join(" ", system("python", "version"), system("python", "implementation"))),
        (
            "container",
            (_get(container, "runtime") or "yes")
            if _get(container, "detected")
            else ("no" if container else None),
        ),
        ("/dev/shm", f"{shm / 2**30:.1f} GiB" if isinstance(shm, int) else None),
    ]


def _toolchain_rows(facts: Doc) -> Rows:
    def tool(key: str) -> Any:
        return _get(facts, "toolchain", key)

    count = _get(facts, "system", "cpu_count")
    return [
        ("compilers", _compilers(facts)),
        ("CPU ISA / NUMA nodes", _join(" / ", " ".join(tool("cpu_isa") or []), tool("numa_nodes"))),
        (
            "pip / uv / conda",
            _join(" / ", tool("pip"), tool("uv"), "conda env" if tool("conda_prefix") else None),
        ),
        (
            "CPU",
            _join(" ", _get(facts, "system", "cpu_model"), f"({count} CPUs)" if count else None),
        ),
    ]


def _summary_rows(facts: Doc) -> Rows:
    return [
        *_torch_rows(facts),
        ("GPUs", _gpus(facts)),
        ("driver", _driver_line(facts)),
        ("nvcc", _get(facts, "cuda", "toolkit", "nvcc_version")),
        *_system_rows(facts),
        *_toolchain_rows(facts),
    ]


def render_markdown(doc: Doc, out: TextIO) -> None:
    out.write("\n".join(markdown_lines(doc)).rstrip() + "\n")


def markdown_lines(doc: Doc) -> list[str]:
    """`doc`: {"facts": the facts document, "doctor": the doctor's report document with its
    not_checked, "top": the top finding's, "anonymized": bool}."""
    facts = _get(doc, "facts") or {}
    lines = _head(doc)
    lines += ["| | |", "|---|---|"]
    lines += [f"| {name} | {cell(value)} |" for name, value in _summary_rows(facts)]
    lines.append("")
    lines += _findings_section(_get(doc, "doctor") or {})
    for section in (_libraries, _packages, _environment, _conda, _notes):
        lines += section(facts)
    lines.append(
        "<sub>`envlock report --format json` gives the same as data; "
        "`envlock doctor --facts FILE` re-checks it.</sub>"
    )
    return lines


def _head(doc: Doc) -> list[str]:
    def count(severity: str) -> Any:
        return _get(doc, "doctor", "summary", severity) or 0

    verdict = "FAIL" if _get(doc, "doctor", "verdict") == "fail" else "PASS"
    lines = [
        "### Environment (`envlock report`)",
        "",
        f"**{verdict}**: {count('error')} error(s), {count('warning')} warning(s), "
        f"{count('info')} info, from {cell(_get(doc, 'doctor', 'target'))}"
        + (" (anonymized)" if doc.get("anonymized") else ""),
        "",
    ]
    top = doc.get("top")
    if top:
        lines += [f"**Top finding** `{cell(_get(top, 'id'))}`: {cell(_get(top, 'message'))}", ""]
    return lines


def _findings_section(rep: Doc) -> list[str]:
    """The doctor's findings, then what it could not check."""
    findings = [f for f in _get(rep, "findings") or [] if isinstance(f, dict)]
    body: list[str] = []
    for f in findings[:MAX_FINDINGS]:
        body.append(
            f"- **{cell(f.get('severity'))}** `{cell(f.get('id'))}`: {cell(f.get('message'))}"
        )
        if f.get("fix"):
            body.append(f"  - fix: {cell(f['fix'])}")
    if len(findings) > MAX_FINDINGS:
        body.append(f"- … {len(findings) - MAX_FINDINGS} more (`envlock doctor`)")
    lines = details(f"Findings ({len(findings)})", body or ["none"])
    not_checked = _get(rep, "not_checked") or []
    if not_checked:
        lines += details(
            f"Not checked ({len(not_checked)})", [f"- {cell(x)}" for x in not_checked[:30]]
        )
    return lines


def _libraries(facts: Doc) -> list[str]:
    libs = [
        f"wheel {_get(w, 'name')}=={_get(w, 'version')}"
        for w in _get(facts, "cuda", "wheels") or []
    ]
    libs += [
        f"loaded {_get(lib, 'name')}: {_get(lib, 'path')}"
        for lib in _get(facts, "torch", "live", "loaded_libraries") or []
    ]
    for name in ("cudart", "libcuda"):
        path = _get(facts, "cuda", name, "path")
        if path:
            libs.append(f"{name}: {path}")
    return details(f"CUDA libraries ({len(libs)})", code_block(libs[:40])) if libs else []


def _packages(facts: Doc) -> list[str]:
    dists = _get(facts, "packages", "distributions") or {}
    relevant = [f"{n}=={v}" for n, v in sorted(dists.items()) if RELEVANT.match(n)]
    if not relevant:
        return []
    shown = relevant[:MAX_PACKAGES]
    extra = len(dists) - len(shown)
    return details(
        f"Packages ({len(shown)} of {len(dists)})",
        code_block(shown) + ([f"{extra} other distribution(s) not shown"] if extra else []),
    )


def _environment(facts: Doc) -> list[str]:
    variables = _get(facts, "env", "variables") or {}
    redacted = _get(facts, "env", "redacted") or []
    if not (variables or redacted):
        return []
    body = [f"{k}={v}" for k, v in sorted(variables.items())]
    body += [f"{k}=<withheld>" for k in redacted]
    return details(f"Environment variables ({len(body)})", code_block(body[:40]))


def _conda(facts: Doc) -> list[str]:
    conda = _get(facts, "toolchain", "conda_packages") or {}
    if not conda:
        return []
    shown = [f"{n} {v}" for n, v in sorted(conda.items()) if RELEVANT.match(n) or n == "pytorch"]
    return details(
        f"conda packages ({len(shown)} of {len(conda)})",
        code_block(shown[:MAX_PACKAGES]) if shown else ["none relevant"],
    )


def _notes(facts: Doc) -> list[str]:
    notes = _get(facts, "meta", "notes") or []
    return details("Notes", [f"- {cell(n)}" for n in notes[:20]]) if notes else []
