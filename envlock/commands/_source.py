"""The options that say where a command's Facts come from, and the Source they make.

Shared by probe, doctor, lock, verify, matrix and explain so the options mean
the same everywhere; collecting the facts is envlock.collect's job.
"""

from __future__ import annotations

import argparse

from envlock.api import PROBE_TIMEOUT_S, Source


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
    r = parser.add_argument_group("a pasted bug report (FILE, or - for stdin)")
    r.add_argument(
        "--collect-env",
        metavar="FILE",
        help="read the output of `python -m torch.utils.collect_env` (vLLM's too)",
    )
    r.add_argument(
        "--nvidia-smi",
        metavar="FILE",
        help="read the output of `nvidia-smi` or `nvidia-smi -q`",
    )
    r.add_argument("--pip-freeze", metavar="FILE", help="read the output of `pip freeze`")
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


def source_of(args: argparse.Namespace) -> Source:
    """The typed Source the options name (a UsageError when they name two)."""
    source = Source(
        facts_file=args.facts,
        python=args.python,
        image=args.image,
        container=args.container,
        gpus=args.gpus,
        shm_size=args.shm_size,
        pull=not args.no_pull,
        torch_live=not args.no_torch_live,
        timeout=args.probe_timeout,
        collect_env=getattr(args, "collect_env", None),
        nvidia_smi=getattr(args, "nvidia_smi", None),
        pip_freeze=getattr(args, "pip_freeze", None),
    )
    return source.checked()
