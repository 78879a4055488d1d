"""`envlock probe --image IMAGE --json`, run before the CLI loads.

`probe --image` is held to 1.2x a bare `docker run` (issue 23), and the parser, the API
and their imports cost ~25-40 ms before the first request to the daemon. So the entry
points (cli.entry, `python -m envlock`) hand a plain image probe here first: argv is
`probe` with `--json` and `--image IMAGE`, and otherwise only `--no-torch-live`,
`--no-pull`, `--no-cache`, `--gpus G`, `--shm-size S` and `--probe-timeout S`, each
once, spelled out (`--opt VALUE` or `--opt=VALUE`), no value empty or starting with "-",
and the timeout a float. The probe is the full CLI's own call (collect.collect_document
of the same Source), its output the same JSON, and what ends it early goes through the
CLI's `guarded` (the same line and exit code for a daemon that is not there, an image
that is not, a bad --gpus). Anything else (an abbreviated option, another option, a
text table, `-q`) is None: the full CLI parses it, usage errors included.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing is not needed before the first request
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from envlock.collect import Source

_FLAGS = ("--json", "--no-torch-live", "--no-pull", "--no-cache")
_VALUED = ("--image", "--gpus", "--shm-size", "--probe-timeout")
PROBE_TIMEOUT_S = 60.0  # collect.PROBE_TIMEOUT_S, --probe-timeout's default (a test holds it)


def plain_image_probe(argv: Sequence[str]) -> dict[str, str] | None:
    """{option: value ("" for a flag)} of a plain `probe --image IMAGE --json`, else None."""
    if not argv or argv[0] != "probe":
        return None
    given = _options(list(argv[1:]))
    if given is None or "--json" not in given or "--image" not in given:
        return None
    if "--probe-timeout" in given and _float(given["--probe-timeout"]) is None:
        return None
    return given


def _options(rest: list[str]) -> dict[str, str] | None:
    """{option: value} of `rest`, each a known option given once, or None."""
    given: dict[str, str] = {}
    while rest:
        name, eq, value = rest.pop(0).partition("=")
        if name in _FLAGS and not eq:
            value = ""
        elif name in _VALUED:
            if not eq:
                value = rest.pop(0) if rest else ""
            if not value or value.startswith("-"):
                return None
        else:
            return None
        if name in given:
            return None
        given[name] = value
    return given


def run(argv: Sequence[str], guarded: Callable[[Callable[[], None]], int]) -> int | None:
    """The exit code of a plain image probe run as the CLI runs it (`guarded`: cli.guarded),
    or None when argv is anything else."""
    given = plain_image_probe(argv)
    if given is None:
        return None
    return guarded(lambda: _probe(given))


def _probe(given: dict[str, str]) -> None:
    import json

    from envlock.collect import collect_document

    document = collect_document(_source(given))  # commands/probe.py's call for --image
    sys.stdout.write(json.dumps(document, indent=2) + "\n")


def _source(given: dict[str, str]) -> Source:
    from envlock.collect import Source

    text = given.get("--probe-timeout")
    timeout = PROBE_TIMEOUT_S if text is None else _float(text)
    assert timeout is not None  # plain_image_probe: a float
    return Source(
        image=given["--image"],
        gpus=given.get("--gpus"),
        shm_size=given.get("--shm-size"),
        pull="--no-pull" not in given,
        torch_live="--no-torch-live" not in given,
        timeout=timeout,
    ).checked()


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None
