"""explain CODE|MESSAGE: what an exit code or an error message means, and the doctor
checks that confirm its cause on the machine the facts describe."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from envlock.collect import Source

if TYPE_CHECKING:
    from envlock.explain import Explanation
    from envlock.facts import Facts
    from envlock.findings import ExplainDetails, Finding, Report


@dataclass(frozen=True, kw_only=True, slots=True)
class _Confirmed:
    """What the facts say about the explanations' causes."""

    findings: list[Finding] = field(default_factory=list)
    evidence: dict[str, str] = field(default_factory=dict)
    gpu_note: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class _Observed:
    """What the evidence reads of the facts (the checks read the whole Facts)."""

    cgroup_limit: int | None = None
    memory_total: int | None = None
    cgroup_version: int | None = None
    gpus: bool = False  # an NVIDIA GPU is visible (NVML or PCI)
    driver_unavailable: str | None = None
    alloc_conf: str | None = None  # PYTORCH_CUDA_ALLOC_CONF

    @classmethod
    def of(cls, facts: Facts) -> _Observed:
        s, d = facts.system, facts.driver
        return cls(
            cgroup_limit=s.cgroup_memory_limit_bytes,
            memory_total=s.memory_total_bytes,
            cgroup_version=s.cgroup_version,
            gpus=bool(d.gpus or d.pci_gpus),
            driver_unavailable=d.unavailable,
            alloc_conf=facts.env.variables.get("PYTORCH_CUDA_ALLOC_CONF"),
        )

    @classmethod
    def probed(cls, data: Mapping[str, object]) -> _Observed:
        """From this host's probe, as it printed them (the Facts model is not loaded for
        what a few values answer: `explain 137` stays well under 0.3 s)."""
        system, driver, env = (_table(data.get(k)) for k in ("system", "driver", "env"))
        variables = _table(env.get("variables"))
        return cls(
            cgroup_limit=_integer(system.get("cgroup_memory_limit_bytes")),
            memory_total=_integer(system.get("memory_total_bytes")),
            cgroup_version=_integer(system.get("cgroup_version")),
            gpus=bool(driver.get("gpus") or driver.get("pci_gpus")),
            driver_unavailable=_text(driver.get("unavailable")),
            alloc_conf=_text(variables.get("PYTORCH_CUDA_ALLOC_CONF")),
        )


def _table(value: object) -> Mapping[str, object]:
    return value if isinstance(value, dict) else {}


def _integer(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def explain(
    text: str, source: Source | None, *, checks: bool, strict: bool, cache: bool = False
) -> Report:
    """The explanations of `text` (an exit code or an error message), with the checks that
    confirm them run on the facts of `source` when `checks` (torch's live facts from the
    live-facts cache with `cache`)."""
    from envlock.explain import explain_exit_code, explain_message
    from envlock.findings import Report

    text = text.strip()
    # ASCII digits and a sane length: "²" passes isdigit() and 5,000 digits crash int()
    code = int(text) if re.fullmatch(r"-?[0-9]{1,9}", text) else None
    explanations = [explain_exit_code(code)] if code is not None else explain_message(text)
    wanted = sorted({c for e in explanations for c in e.checks})
    # a DataLoader worker's SIGKILL is the same kill: the same memory evidence
    oom = code in (137, -9) or any(e.key == "dataloader-worker-killed" for e in explanations)
    cuda_oom = any(e.key == "cuda-oom" for e in explanations)
    gpu_error = any(e.gpu for e in explanations)
    observed: _Observed | None = None
    confirmed = _Confirmed()
    if checks and (wanted or oom or cuda_oom or gpu_error):
        sections = _evidence_sections(oom=oom, gpu_error=gpu_error, cuda_oom=cuda_oom)
        observed, findings = _observe(source, wanted=wanted, sections=sections, cache=cache)
        confirmed = _confirm(observed, findings, source, oom=oom, gpu_error=gpu_error)
    confirmed.evidence.update(_message_evidence(text, explanations, observed))
    return Report(
        command="explain",
        target=text,
        findings=confirmed.findings,
        strict=strict,
        details=_details(explanations, confirmed, checks=checks, wanted=wanted),
    )


def _message_evidence(
    text: str, explanations: list[Explanation], observed: _Observed | None
) -> dict[str, str]:
    """What the message itself says: a CUDA OOM's sizes (with the allocator setting
    observed), a capability warning's GPU and arch list."""
    from envlock.explain import oom_evidence

    keys = {e.key for e in explanations}
    out: dict[str, str] = {}
    if "cuda-oom" in keys:
        conf = observed.alloc_conf if observed else None
        out.update(oom_evidence(text, conf, observed=observed is not None))
    if "no-kernel-image" in keys:
        out.update(arch_evidence(text))
    return out


def _evidence_sections(*, oom: bool, gpu_error: bool, cuda_oom: bool) -> tuple[str, ...]:
    """The sections the evidence reads: a kill's memory limits, a GPU error's "no GPU
    here", a CUDA OOM's allocator setting."""
    needed = (("system", oom), ("driver", gpu_error), ("env", cuda_oom))
    return tuple(name for name, wanted in needed if wanted)


def _observe(
    source: Source | None, *, wanted: list[str], sections: tuple[str, ...], cache: bool
) -> tuple[_Observed, list[Finding]]:
    """What the evidence reads, and the wanted checks' findings. Without wanted checks no
    torch is probed (`explain 137` imports no torch, here or in a child), and this host's
    probe reads only the evidence's `sections`."""
    from envlock.collect import collect_facts

    source = source or Source()
    elsewhere = source.facts_file or source.python or source.in_container or source.pasted
    if not wanted and not elsewhere:
        from envlock.probe import probe_host

        data = probe_host(torch_live=False, timeout=source.timeout, sections=sections)
        return _Observed.probed(data), []
    if not wanted:
        return _Observed.of(collect_facts(source._replace(torch_live=False))), []
    from envlock.checks import run_checks

    facts = collect_facts(source, cache=cache)
    return _Observed.of(facts), [f for f in run_checks(facts) if f.check_id in wanted]


def _confirm(
    observed: _Observed,
    findings: list[Finding],
    source: Source | None,
    *,
    oom: bool,
    gpu_error: bool,
) -> _Confirmed:
    """The wanted checks' findings, the memory evidence of a kill, and a note when a GPU
    error is explained on a machine without a GPU."""
    from envlock.explain import memory_evidence

    evidence: dict[str, str] = {}
    if oom:
        evidence = memory_evidence(
            observed.cgroup_limit,
            observed.memory_total,
            observed.cgroup_version,
            kernel_log=_kernel_log(source),
        )
    gpu_note = None
    if gpu_error and not observed.gpus:
        # a GPU runtime error explained on a machine that has none: nothing here
        # can confirm or rule out its cause
        gpu_note = (
            "no NVIDIA GPU is visible here "
            f"({observed.driver_unavailable or 'none found'}): the cause cannot be "
            "confirmed on this machine; run `envlock explain` where the error happened"
        )
    return _Confirmed(findings=findings, evidence=evidence, gpu_note=gpu_note)


def _kernel_log(source: Source | None) -> str:
    """This machine's kernel log, only when the facts are this machine's (the host, another
    interpreter, or a container, which runs on this kernel): never beside a facts file or
    a pasted report from elsewhere."""
    source = source or Source()
    if source.facts_file or source.pasted:
        return f"not read: the facts come from {source.target}, not this machine"
    from envlock.probe.kernellog import last_oom_line

    return last_oom_line()


def _details(
    explanations: list[Explanation], confirmed: _Confirmed, *, checks: bool, wanted: list[str]
) -> ExplainDetails:
    from envlock.findings import ExplainDetails, ExplanationItem

    return ExplainDetails(
        explanations=tuple(
            ExplanationItem(
                key=e.key,
                title=e.title,
                cause=e.cause,
                fix=e.fix,
                checks=e.checks,
                source=e.source,
            )
            for e in explanations
        ),
        evidence=confirmed.evidence,
        checked=checks,
        wanted=tuple(wanted),
        gpu_note=confirmed.gpu_note,
    )


# torch's warning as pasted: one line, or a few (a warning wrapped by a terminal)
_LINE_CHARS = 8192
_LINES = 200


def arch_evidence(text: str) -> dict[str, str]:
    """What torch's "NAME with CUDA capability sm_XY is not compatible ... supports sm_..."
    says, read as a pasted report's line is (pasted/torch_warnings.py): the GPU, torch's
    kernels and whether any serves it, and the newest official build that has them."""
    from envlock.matrix import load_matrix
    from envlock.matrix.versions import Version, parse_arch_flags
    from envlock.pasted.draft import Draft
    from envlock.pasted.torch_warnings import torch_warnings

    draft = Draft()
    for line in text.splitlines()[:_LINES]:
        torch_warnings(line[:_LINE_CHARS], draft)
    if not draft.warned_capabilities:
        return {}
    name, capability = next(iter(draft.warned_capabilities.items()))
    out = {"GPU (in the message)": f"{name}, compute capability {capability}"}
    cc = Version.parse(capability)
    flags = draft.live.get("arch_flags") or []
    targets = parse_arch_flags(flags)
    if targets:
        runs = load_matrix().coverage(cc, targets).runs
        verdict = "one of them serves it" if runs else f"none for compute capability {capability}"
        out["torch's kernels (in the message)"] = f"{' '.join(map(str, targets))}: {verdict}"
    out["a build with its kernels"] = _build_for(capability)
    return out


def _build_for(capability: str) -> str:
    """The newest official build with kernels for `capability` (the driver unknown)."""
    from envlock.usecases.matrix import matrix_advice

    advice = matrix_advice(
        None, gpu=None, capability=capability, driver=None, os_name="linux", python_version=None
    )
    best = advice.best
    if best is None:
        return "no official torch build has kernels for it (`envlock matrix` says why)"
    needs = (
        f" (driver >= {best.runs_with_driver_at_least})" if best.runs_with_driver_at_least else ""
    )
    return f"torch {best.torch} {best.variant}{needs}: {best.pip}"
