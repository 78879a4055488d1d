"""envlock explain CODE|MESSAGE: what an exit code or error means, checked on this machine."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from envlock.commands._source import add_source_arguments, collect_facts

if TYPE_CHECKING:
    from envlock.explain import Explanation
    from envlock.findings import Finding

HELP = "explain an exit code (137, 139, ...) or a CUDA/torch error message, and check this machine"
DESCRIPTION = """\
  envlock explain 137
  envlock explain "CUDA error: no kernel image is available for execution on the device"

Maps exit codes (126, 127, 128+N signals: 134 abort, 137 kill/OOM, 139
segfault, 143 term) and known error messages to their cause, runs the doctor
checks that confirm it on this machine (or --facts FILE), and prints the fix.
Exit 1 when a confirming check finds an error here, else 0.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "what", metavar="CODE|MESSAGE", nargs="+", help="an exit code, or the error text (quote it)"
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--no-checks", action="store_true", help="only explain; do not probe this machine"
    )
    add_source_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from envlock.explain import explain_exit_code, explain_message, memory_evidence

    text = " ".join(args.what).strip()
    is_code = text.lstrip("-").isdigit()
    explanations = [explain_exit_code(int(text))] if is_code else explain_message(text)
    wanted = sorted({c for e in explanations for c in e.checks})
    findings: list[Finding] = []
    evidence: dict[str, str] = {}
    if not args.no_checks and (wanted or (is_code and int(text) in (137, -9))):
        from envlock.checks import run_checks

        facts = collect_facts(args)
        if wanted:
            findings = [f for f in run_checks(facts) if f.check_id in wanted]
        if is_code and int(text) in (137, -9):
            evidence = memory_evidence(
                facts.system.cgroup_memory_limit_bytes, facts.system.memory_total_bytes
            )
    if args.format == "json":
        json.dump(
            {
                "input": text,
                "explanations": [
                    {
                        "key": e.key,
                        "title": e.title,
                        "cause": e.cause,
                        "fix": e.fix,
                        "checks": list(e.checks),
                    }
                    for e in explanations
                ],
                "evidence": evidence,
                "findings": [f.to_dict() for f in findings],
            },
            sys.stdout,
            indent=2,
        )
        sys.stdout.write("\n")
    else:
        _render_text(text, explanations, findings, evidence, checked=not args.no_checks)
    return 1 if any(f.severity.label == "error" for f in findings) else 0


def _render_text(
    text: str,
    explanations: list[Explanation],
    findings: list[Finding],
    evidence: dict[str, str],
    *,
    checked: bool,
) -> None:
    from rich.text import Text

    from envlock.report.text import _print_finding, console_for

    console = console_for(sys.stdout)
    if not explanations:
        console.print(
            f"envlock does not recognise {text!r}. Run `envlock doctor` for a full check."
        )
        return
    for e in explanations:
        console.print(Text(e.title, style="bold"))
        console.print(f"  cause: {e.cause}")
        console.print(Text(f"  fix:   {e.fix}", style="green"))
    for key, value in evidence.items():
        console.print(Text(f"  {key}: {value}", style="dim"))
    wanted = sorted({c for e in explanations for c in e.checks})
    if not wanted or not checked:
        return
    if findings:
        console.print(Text("\non this machine:", style="bold"))
        for f in findings:
            _print_finding(console, f)
    else:
        console.print(
            f"\non this machine: none of {', '.join(wanted)} fires; the cause is elsewhere "
            "or only visible at run time"
        )
