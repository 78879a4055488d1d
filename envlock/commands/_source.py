"""Where a command's Facts come from: this host, another interpreter, or a facts file.

Shared by probe, doctor, lock and verify so the options mean the same everywhere.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envlock.errors import ProbeError, UsageError

if TYPE_CHECKING:
    from envlock.facts import Facts

PROBE_TIMEOUT_S = 60.0


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("where the facts come from (default: probe this machine)")
    g.add_argument(
        "--facts",
        metavar="FILE",
        help="use facts captured elsewhere with `envlock probe --json > FILE`",
    )
    g.add_argument(
        "--python",
        metavar="PY",
        help="probe the environment of another interpreter (e.g. .venv/bin/python)",
    )
    g.add_argument(
        "--no-torch-live",
        action="store_true",
        help="skip the child process that imports torch (no cuDNN/NCCL/arch flags; faster)",
    )
    g.add_argument(
        "--probe-timeout",
        type=float,
        default=PROBE_TIMEOUT_S,
        metavar="S",
        help=f"time limit for the whole probe, seconds (default {PROBE_TIMEOUT_S:g})",
    )
    c = parser.add_argument_group("containers (Docker; DOCKER_HOST is honoured)")
    c.add_argument(
        "--image",
        metavar="IMAGE",
        help="probe inside a new container of IMAGE, held against this host",
    )
    c.add_argument(
        "--container",
        metavar="NAME",
        help="probe inside the running container NAME (through docker exec)",
    )
    c.add_argument(
        "--gpus",
        metavar="GPUS",
        help="GPUs for the --image container, as docker run --gpus: all, 2, 0,1, device=0,1",
    )
    c.add_argument(
        "--no-pull",
        action="store_true",
        help="fail (exit 3) instead of pulling an --image that is not present",
    )
    c.add_argument(
        "--shm-size",
        metavar="SIZE",
        help="/dev/shm of the --image container, as docker run --shm-size (default: Docker's 64m)",
    )


def collect_facts(args: argparse.Namespace, *, cache: bool = False) -> Facts:
    """The Facts the options ask for. `cache`: torch's live facts may come from
    the live-facts cache (verify, run, preflight; only for this interpreter)."""
    sources = [n for n in ("facts", "python", "image", "container") if getattr(args, n, None)]
    if len(sources) > 1:
        raise UsageError("give at most one of --facts, --python, --image, --container")
    if getattr(args, "image", None) or getattr(args, "container", None):
        # only then: keeps verify's start-up lean
        from envlock.container.run import ContainerTarget, probe_target

        return probe_target(
            ContainerTarget(
                image=args.image,
                container=args.container,
                gpus=args.gpus,
                shm_size=args.shm_size,
                pull=not args.no_pull,
                torch_live=not args.no_torch_live,
                timeout=args.probe_timeout,
            )
        )
    if args.facts:
        from envlock.facts import read_facts_file

        return read_facts_file(args.facts)
    torch_live = not args.no_torch_live
    if args.python:
        return probe_interpreter(args.python, torch_live=torch_live, timeout=args.probe_timeout)
    if cache and torch_live:
        from envlock.livecache import probe_with_cache

        return probe_with_cache(timeout=args.probe_timeout)[0]
    from envlock.api import probe

    return probe(torch_live=torch_live, timeout=args.probe_timeout)


def probe_interpreter(python: str, *, torch_live: bool, timeout: float) -> Facts:
    """Run the stdlib-only probe under another interpreter and read its Facts JSON."""
    if not (os.path.isfile(python) and os.access(python, os.X_OK)):
        raise ProbeError(f"--python {python}: not an executable file")
    root = str(Path(__file__).resolve().parent.parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    cmd = [python, "-m", "envlock.probe", "--timeout", str(timeout)]
    if not torch_live:
        cmd.append("--no-torch-live")
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, env=env, timeout=timeout + 10, check=False
        )
    except subprocess.TimeoutExpired:
        raise ProbeError(f"probe under {python} did not finish within {timeout + 10:g} s") from None
    except OSError as exc:
        raise ProbeError(f"cannot run {python}: {exc.strerror}") from None
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise ProbeError(f"probe under {python} failed (exit {proc.returncode}): {last}")
    try:
        from envlock.facts import Facts

        return Facts.from_dict(json.loads(proc.stdout))
    except json.JSONDecodeError:
        raise ProbeError(f"probe under {python} printed no facts JSON") from None


def collect_host_facts(args: argparse.Namespace) -> Facts | None:
    """This host's facts when the target is an image or container (its driver and GPUs
    are the host's), else None. Host torch is irrelevant there: no torch child."""
    if not (getattr(args, "image", None) or getattr(args, "container", None)):
        return None
    from envlock.api import probe

    return probe(torch_live=False, timeout=args.probe_timeout)


def collect_facts_and_host(
    args: argparse.Namespace, *, cache: bool = False, host: bool = True
) -> tuple[Facts, Facts | None]:
    """collect_facts() and, for an image or container target, collect_host_facts(),
    the host probe running while the container starts (both mostly wait)."""
    if not host or not (getattr(args, "image", None) or getattr(args, "container", None)):
        return collect_facts(args, cache=cache), None
    import threading

    box: dict[str, Any] = {}

    def probe_this_host() -> None:
        try:
            box["facts"] = collect_host_facts(args)
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=probe_this_host, name="envlock-host-probe", daemon=True)
    worker.start()
    facts = collect_facts(args, cache=cache)
    worker.join()
    if "error" in box:
        raise box["error"]
    return facts, box.get("facts")
