"""A bug report in Markdown: what collect_env gives and what it lacks (the cuDNN and NCCL
torch loaded, its arch flags, container and /dev/shm, the driver from NVML), the doctor's
findings, in collapsible sections, for pasting into an issue.

It formats an (already anonymized) report document, `{"facts": ..., "doctor": ...}`;
every value is escaped for Markdown and HTML, so a value cannot open a tag or a table cell.
"""

from __future__ import annotations

import html
import re
from typing import Any, TextIO

from envlock.report.safe import plain

# Distributions worth listing in a bug report (collect_env's selection, widened)
RELEVANT = re.compile(
    r"^(torch|numpy|triton|nvidia-|cuda-|cupy|jax|flash-attn|flash_attn|xformers|vllm|sglang"
    r"|transformers|accelerate|deepspeed|bitsandbytes|apex|onnx|tensorrt|mmcv|detectron2"
    r"|lightning|pytorch-lightning|sympy|networkx|jinja2|filelock|fsspec|typing-extensions)"
)
MAX_PACKAGES = 40
MAX_FINDINGS = 20


def cell(value: Any) -> str:
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


def _get(d: Any, *path: str) -> Any:
    for p in path:
        if not isinstance(d, dict):
            return None
        d = d.get(p)
    return d


def _gpus(facts: dict[str, Any]) -> str:
    gpus = _get(facts, "driver", "gpus") or []
    if not gpus:
        devices = _get(facts, "torch", "live", "devices") or []
        gpus = devices
    if not gpus:
        why = _get(facts, "driver", "unavailable")
        return f"none observed ({why})" if why else "none"
    counts: dict[str, int] = {}
    for g in gpus:
        label = str(g.get("name") or "unknown model")
        if g.get("compute_capability"):
            label += f" (sm_{str(g['compute_capability']).replace('.', '')})"
        counts[label] = counts.get(label, 0) + 1
    return ", ".join(f"{n}x {label}" for label, n in counts.items())


def _compilers(facts: dict[str, Any]) -> str | None:
    compilers = _get(facts, "toolchain", "compilers") or {}
    return ", ".join(f"{n} {v}" for n, v in compilers.items() if v) or None


def _summary_rows(facts: dict[str, Any]) -> list[tuple[str, Any]]:
    t = facts.get("torch") or {}
    live = t.get("live") or {}
    d = facts.get("driver") or {}
    s = facts.get("system") or {}
    os_ = s.get("os") or {}
    py = s.get("python") or {}
    c = s.get("container") or {}
    toolkit = _get(facts, "cuda", "toolkit") or {}
    torch_line = (
        f"{t.get('version')} ({t.get('build') or '?'}, CUDA {t.get('cuda') or 'none'})"
        if t.get("version")
        else (t.get("unavailable") or "not installed")
    )
    shm = s.get("shm_total_bytes")
    return [
        ("torch", torch_line),
        ("CUDA available", live.get("cuda_available")),
        ("cuDNN loaded by torch", live.get("cudnn_version") or live.get("unavailable")),
        ("NCCL loaded by torch", live.get("nccl_version")),
        ("arch flags", live.get("arch_flags")),
        ("XNNPACK", live.get("xnnpack")),
        ("GPUs", _gpus(facts)),
        (
            "driver",
            " ".join(
                x
                for x in (
                    d.get("version"),
                    f"(CUDA {d['cuda_version']})" if d.get("cuda_version") else None,
                    f"from {d['source']}" if d.get("source") else None,
                )
                if x
            )
            or d.get("unavailable"),
        ),
        ("nvcc", toolkit.get("nvcc_version")),
        ("OS", " ".join(x for x in (os_.get("pretty_name"), s.get("arch")) if x)),
        ("kernel / glibc", " / ".join(str(x) for x in (s.get("kernel"), s.get("glibc")) if x)),
        ("Python", " ".join(str(x) for x in (py.get("version"), py.get("implementation")) if x)),
        (
            "container",
            (c.get("runtime") or "yes") if c.get("detected") else ("no" if c else None),
        ),
        ("/dev/shm", f"{shm / 2**30:.1f} GiB" if isinstance(shm, int) else None),
        ("compilers", _compilers(facts)),
        (
            "CPU ISA / NUMA nodes",
            " / ".join(
                str(x)
                for x in (
                    " ".join(_get(facts, "toolchain", "cpu_isa") or []) or None,
                    _get(facts, "toolchain", "numa_nodes"),
                )
                if x
            ),
        ),
        (
            "pip / uv / conda",
            " / ".join(
                str(x)
                for x in (
                    _get(facts, "toolchain", "pip"),
                    _get(facts, "toolchain", "uv"),
                    "conda env" if _get(facts, "toolchain", "conda_prefix") else None,
                )
                if x
            ),
        ),
        (
            "CPU",
            " ".join(
                str(x)
                for x in (
                    s.get("cpu_model"),
                    f"({s['cpu_count']} CPUs)" if s.get("cpu_count") else None,
                )
                if x
            ),
        ),
    ]


def render_markdown(doc: dict[str, Any], out: TextIO) -> None:
    out.write("\n".join(markdown_lines(doc)).rstrip() + "\n")


def markdown_lines(doc: dict[str, Any]) -> list[str]:
    facts: dict[str, Any] = doc["facts"]
    rep: dict[str, Any] = doc["doctor"]
    summary = rep.get("summary") or {}
    verdict = "FAIL" if rep.get("verdict") == "fail" else "PASS"
    lines = [
        "### Environment (`envlock report`)",
        "",
        f"**{verdict}**: {summary.get('error', 0)} error(s), {summary.get('warning', 0)} "
        f"warning(s), {summary.get('info', 0)} info, from {cell(rep.get('target'))}"
        + (" (anonymized)" if doc.get("anonymized") else ""),
        "",
    ]
    top = doc.get("top")
    if top:
        lines += [f"**Top finding** `{cell(top['id'])}`: {cell(top['message'])}", ""]
    lines += ["| | |", "|---|---|"]
    lines += [f"| {name} | {cell(value)} |" for name, value in _summary_rows(facts)]
    lines.append("")

    findings = [f for f in rep.get("findings") or [] if isinstance(f, dict)]
    body: list[str] = []
    for f in findings[:MAX_FINDINGS]:
        body.append(
            f"- **{cell(f.get('severity'))}** `{cell(f.get('id'))}`: {cell(f.get('message'))}"
        )
        if f.get("fix"):
            body.append(f"  - fix: {cell(f['fix'])}")
    if len(findings) > MAX_FINDINGS:
        body.append(f"- … {len(findings) - MAX_FINDINGS} more (`envlock doctor`)")
    lines += details(f"Findings ({len(findings)})", body or ["none"])

    not_checked = rep.get("not_checked") or []
    if not_checked:
        lines += details(
            f"Not checked ({len(not_checked)})", [f"- {cell(x)}" for x in not_checked[:30]]
        )

    cuda = facts.get("cuda") or {}
    libs: list[str] = []
    for w in cuda.get("wheels") or []:
        libs.append(f"wheel {w.get('name')}=={w.get('version')}")
    for lib in _get(facts, "torch", "live", "loaded_libraries") or []:
        libs.append(f"loaded {lib.get('name')}: {lib.get('path')}")
    for name in ("cudart", "libcuda"):
        entry = cuda.get(name) or {}
        if entry.get("path"):
            libs.append(f"{name}: {entry['path']}")
    if libs:
        lines += details(f"CUDA libraries ({len(libs)})", code_block(libs[:40]))

    dists = (facts.get("packages") or {}).get("distributions") or {}
    relevant = [f"{n}=={v}" for n, v in sorted(dists.items()) if RELEVANT.match(n)]
    if relevant:
        shown = relevant[:MAX_PACKAGES]
        extra = len(dists) - len(shown)
        lines += details(
            f"Packages ({len(shown)} of {len(dists)})",
            code_block(shown) + ([f"{extra} other distribution(s) not shown"] if extra else []),
        )

    env = facts.get("env") or {}
    variables = env.get("variables") or {}
    if variables or env.get("redacted"):
        body = [f"{k}={v}" for k, v in sorted(variables.items())]
        body += [f"{k}=<withheld>" for k in env.get("redacted") or []]
        lines += details(f"Environment variables ({len(body)})", code_block(body[:40]))

    conda = _get(facts, "toolchain", "conda_packages") or {}
    if conda:
        shown = [
            f"{n} {v}" for n, v in sorted(conda.items()) if RELEVANT.match(n) or n == "pytorch"
        ]
        lines += details(
            f"conda packages ({len(shown)} of {len(conda)})",
            code_block(shown[:MAX_PACKAGES]) if shown else ["none relevant"],
        )

    notes = _get(facts, "meta", "notes") or []
    if notes:
        lines += details("Notes", [f"- {cell(n)}" for n in notes[:20]])
    lines.append(
        "<sub>`envlock report --format json` gives the same as data; "
        "`envlock doctor --facts FILE` re-checks it.</sub>"
    )
    return lines
