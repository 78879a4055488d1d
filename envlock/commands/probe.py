"""envlock probe: what is on this machine, as a table or as Facts JSON."""

from __future__ import annotations

import argparse
import json
import sys

from envlock.commands._source import add_source_arguments, source_of

HELP = "show what is on this machine (driver, GPUs, CUDA, cuDNN, NCCL, torch, packages)"
DESCRIPTION = """\
Probe this machine (or an interpreter, image, container or facts file) and
print the Facts: a table for people, or JSON (--json) for machines. The JSON
is the contract every other command accepts with --facts FILE, so a facts
file captured on a GPU machine can be diagnosed, locked or verified anywhere.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the Facts as JSON")
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="run every probe again (torch's child, ldconfig, nvcc, the compilers, the "
        "CUDA libraries' loading) instead of what the cache holds for unchanged files",
    )
    add_source_arguments(parser)


def run(args: argparse.Namespace) -> None:
    from envlock import api

    source = source_of(args)
    # The probe mostly waits (its subprocesses, files, a container): what renders its
    # facts loads meanwhile, on the other core. Not for --image: there the thread would
    # hold the GIL while the container is being created; envlock.container.image loads
    # the Facts model once the daemon is starting the container.
    renderer = None
    if not source.image:
        renderer = _Preload("envlock.facts" if args.json else "envlock.report.facts_table")
    try:
        # An image's document is the model's own (to_dict()), handed through without it;
        # this host's is the probe's, which only the tables read as it is.
        if args.json and not source.image:
            facts = api.collect_facts(source, cache=not args.no_cache)
        else:
            document = api.collect_document(source, cache=not args.no_cache)
    finally:
        if renderer is not None:
            renderer.join()
    if args.json:
        if source.image:  # Facts.to_json() writes its to_dict() so
            sys.stdout.write(json.dumps(document, indent=2) + "\n")
        else:
            sys.stdout.write(facts.to_json() + "\n")
        return
    from envlock.report.facts_table import render_facts

    render_facts(document, sys.stdout, target=source.target)


class _Preload:
    """Imports a module in a thread; join() waits for it. An import error is left to the
    import that needs the module (it raises there, as without the preload)."""

    def __init__(self, module: str) -> None:
        import threading

        self._thread = threading.Thread(
            target=self._load, args=(module,), name="envlock-preload", daemon=True
        )
        self._thread.start()

    @staticmethod
    def _load(module: str) -> None:
        import importlib

        try:
            importlib.import_module(module)
        except Exception:  # raised again, where it is imported for use
            return

    def join(self) -> None:
        self._thread.join()
