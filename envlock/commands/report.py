"""envlock report: a paste-ready bug report (Markdown, or JSON that doctor --facts reads)."""

from __future__ import annotations

import argparse
import io
import json
import sys

from envlock.commands._report_options import add_output_argument, write_output
from envlock.commands._source import add_source_arguments, source_of

HELP = "write a paste-ready, anonymized bug report of this environment (Markdown or JSON)"
DESCRIPTION = """\
  envlock report -o report.md
  envlock report --collect-env pasted.txt
  envlock report --format json > facts.json && envlock doctor --facts facts.json

The facts collect_env gives and what it lacks (the cuDNN and NCCL torch
loaded, its arch flags, container and /dev/shm, the driver from NVML), the
doctor's findings and the checks that had no facts, in collapsible <details>
sections. Hostnames, usernames, home directories, GPU UUIDs and secrets are
replaced unless --no-anonymize. --format json writes the same as a facts
document (with the findings under "envlock_report") that `envlock doctor
--facts` re-checks. Exit 0 when the report is written, 3 when the facts
cannot be read.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("markdown", "json"), default="markdown")
    parser.add_argument(
        "--no-anonymize",
        action="store_true",
        help="keep hostnames, usernames, home paths and GPU UUIDs (secrets are never printed)",
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="probe torch again (a child that imports it) instead of its cached live facts",
    )
    add_output_argument(parser)
    add_source_arguments(parser)


def run(args: argparse.Namespace) -> None:
    from envlock.api import make_bug_report

    report = make_bug_report(
        source_of(args), anonymize=not args.no_anonymize, cache=not args.no_cache
    )
    out = sys.stdout if args.output == "-" else io.StringIO()
    if args.format == "json":
        json.dump(report.document, out, indent=2)
        out.write("\n")
    else:
        from envlock.report.markdown import render_markdown

        render_markdown(report.markdown_doc(), out)
    if isinstance(out, io.StringIO):
        write_output(args.output, out.getvalue(), args.format)
