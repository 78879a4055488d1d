"""explain CODE|MESSAGE: what an exit code or an error message means, and the doctor
checks that confirm its cause on the machine the facts describe."""

from __future__ import annotations

import re
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


def explain(
    text: str, source: Source | None, *, checks: bool, strict: bool, cache: bool = False
) -> Report:
    """The explanations of `text` (an exit code or an error message), with the checks that
    confirm them run on the facts of `source` when `checks` (torch's live facts from the
    live-facts cache with `cache`)."""
    from envlock.explain import explain_exit_code, explain_message, oom_evidence
    from envlock.findings import Report

    text = text.strip()
    # ASCII digits and a sane length: "²" passes isdigit() and 5,000 digits crash int()
    code = int(text) if re.fullmatch(r"-?[0-9]{1,9}", text) else None
    explanations = [explain_exit_code(code)] if code is not None else explain_message(text)
    wanted = sorted({c for e in explanations for c in e.checks})
    oom = code in (137, -9)
    cuda_oom = any(e.key == "cuda-oom" for e in explanations)
    gpu_error = any(e.gpu for e in explanations)
    facts: Facts | None = None
    confirmed = _Confirmed()
    if checks and (wanted or oom or cuda_oom or gpu_error):
        facts = _collect(source, wanted=wanted, cache=cache)
        confirmed = _confirm(facts, source, wanted=wanted, oom=oom, gpu_error=gpu_error)
    if cuda_oom:
        conf = facts.env.variables.get("PYTORCH_CUDA_ALLOC_CONF") if facts else None
        confirmed.evidence.update(oom_evidence(text, conf, observed=facts is not None))
    return Report(
        command="explain",
        target=text,
        findings=confirmed.findings,
        strict=strict,
        details=_details(explanations, confirmed, checks=checks, wanted=wanted),
    )


# What the evidence reads when no check is wanted: the memory limits of a kill (system),
# a GPU error's "no GPU here" (driver), a CUDA OOM's allocator setting (env).
EVIDENCE_SECTIONS = ("system", "driver", "env")


def _collect(source: Source | None, *, wanted: list[str], cache: bool) -> Facts:
    """The facts the explanation reads: everything the wanted checks may read, else only
    the evidence's sections, without torch (`explain 137` imports no torch, here or in a
    child, and this host's probe reads only those sections)."""
    from envlock.collect import collect_facts

    source = source or Source()
    if wanted:
        return collect_facts(source, cache=cache)
    if source.facts_file or source.python or source.in_container or source.pasted:
        return collect_facts(source._replace(torch_live=False))
    from envlock.facts import Facts
    from envlock.probe import probe_host

    return Facts.from_dict(
        probe_host(torch_live=False, timeout=source.timeout, sections=EVIDENCE_SECTIONS)
    )


def _confirm(
    facts: Facts, source: Source | None, *, wanted: list[str], oom: bool, gpu_error: bool
) -> _Confirmed:
    """The wanted checks' findings, the memory evidence of a kill, and a note when a GPU
    error is explained on a machine without a GPU."""
    from envlock.explain import memory_evidence

    findings: list[Finding] = []
    if wanted:
        from envlock.checks import run_checks

        findings = [f for f in run_checks(facts) if f.check_id in wanted]
    evidence: dict[str, str] = {}
    if oom:
        evidence = memory_evidence(
            facts.system.cgroup_memory_limit_bytes,
            facts.system.memory_total_bytes,
            facts.system.cgroup_version,
            kernel_log=_kernel_log(source),
        )
    gpu_note = None
    if gpu_error and not (facts.driver.gpus or facts.driver.pci_gpus):
        # a GPU runtime error explained on a machine that has none: nothing here
        # can confirm or rule out its cause
        gpu_note = (
            "no NVIDIA GPU is visible here "
            f"({facts.driver.unavailable or 'none found'}): the cause cannot be "
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
