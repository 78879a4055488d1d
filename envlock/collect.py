"""Fact collection: where a command's Facts come from, and everything that runs a process.

This host (the stdlib probe, torch in a child process, optionally the live-
facts cache), another interpreter (`--python`: the probe run by it), an
image or a running container (envlock.container), or a facts file. Running
the determinism suite for fresh digests is collection too: it happens here,
so that verify stays a pure function of (Lock, Facts, rules).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, NamedTuple, cast

from envlock.errors import DeterminismError, FactsError, ProbeError, UsageError, last_line

if TYPE_CHECKING:
    from envlock.facts import Facts
    from envlock.lock import Lock
    from envlock.probe.shapes import FactsDoc

PROBE_TIMEOUT_S = 60.0


class Source(NamedTuple):
    """Where the facts come from; the default is this machine. (A NamedTuple, not a
    dataclass: `envlock probe --image` starts its container before `dataclasses` loads.)"""

    facts_file: str | None = None  # facts captured with `envlock probe --json`
    python: str | None = None  # another interpreter's environment
    image: str | None = None  # a new container of this image, held against this host
    container: str | None = None  # a running container (docker exec)
    gpus: str | None = None  # for image: as docker run --gpus
    shm_size: str | None = None  # for image: as docker run --shm-size
    pull: bool = True  # for image: pull when absent
    torch_live: bool = True  # run the torch child (cuDNN, NCCL, arch flags)
    timeout: float = PROBE_TIMEOUT_S
    # pasted text (a bug report): FILE, or "-" for stdin; read by envlock.pasted
    collect_env: str | None = None  # `python -m torch.utils.collect_env` output
    nvidia_smi: str | None = None  # `nvidia-smi` or `nvidia-smi -q` output
    pip_freeze: str | None = None  # `pip freeze` output

    def checked(self) -> Source:
        """This source, or a UsageError when it names more than one target."""
        given = [n for n in ("facts_file", "python", "image", "container") if getattr(self, n)]
        if len(given) > 1:
            raise UsageError("give at most one of --facts, --python, --image, --container")
        if given and self.pasted:
            raise UsageError(
                "--collect-env/--nvidia-smi/--pip-freeze read a pasted report: "
                "give them without --facts, --python, --image or --container"
            )
        stdin = [n for n in ("collect_env", "nvidia_smi", "pip_freeze") if getattr(self, n) == "-"]
        if len(stdin) > 1:
            raise UsageError(
                "only one of --collect-env, --nvidia-smi, --pip-freeze can read stdin (-)"
            )
        return self

    @property
    def pasted(self) -> bool:
        """The facts come from pasted text (collect_env, nvidia-smi, pip freeze)."""
        return bool(self.collect_env or self.nvidia_smi or self.pip_freeze)

    @property
    def in_container(self) -> bool:
        return bool(self.image or self.container)

    @property
    def target(self) -> str | None:
        """How reports name a facts file (the other targets name themselves in meta)."""
        if self.pasted:
            return " + ".join(
                f"{label}:{path}"
                for label, path in (
                    ("collect-env", self.collect_env),
                    ("nvidia-smi", self.nvidia_smi),
                    ("pip-freeze", self.pip_freeze),
                )
                if path
            )
        return f"facts:{self.facts_file}" if self.facts_file else None


def collect_facts(source: Source | None = None, *, cache: bool = False) -> Facts:
    """The Facts `source` names. `cache`: torch's live facts of this interpreter (or of
    `--python`'s) may come from the live-facts cache."""
    source = (source or Source()).checked()
    if source.in_container:
        # only then: keeps verify's start-up lean (the container starts before the rest loads)
        from envlock.container.run import probe_target

        return probe_target(source)  # a Source is a ContainerTarget
    if source.pasted:
        return read_pasted(source)
    if source.facts_file:
        from envlock.facts import read_facts_file

        return read_facts_file(source.facts_file)
    if cache and source.torch_live:  # this interpreter or --python's
        return _with_cached_live(source)
    if source.python:
        return probe_interpreter(
            source.python, torch_live=source.torch_live, timeout=source.timeout
        )
    return probe_this_host(torch_live=source.torch_live, timeout=source.timeout, cache=cache)


def _with_cached_live(source: Source) -> Facts:
    """This interpreter's facts, or --python's, torch's live facts from the cache."""
    from envlock.livecache import probe_with_cache

    python = source.python
    if python is None:
        return probe_with_cache(timeout=source.timeout)[0]

    def static() -> Facts:
        return probe_interpreter(python, torch_live=False, timeout=source.timeout)

    return probe_with_cache(timeout=source.timeout, python=python, static=static)[0]


def read_pasted(source: Source) -> Facts:
    """Partial Facts from the pasted texts `source` names (files, or "-" for stdin)."""
    from envlock.pasted import facts_from_texts

    texts: dict[str, str] = {}
    names: dict[str, str] = {}
    for key, option in (
        ("collect_env", "--collect-env"),
        ("nvidia_smi", "--nvidia-smi"),
        ("pip_freeze", "--pip-freeze"),
    ):
        path = getattr(source, key)
        if path:
            names[key] = "stdin" if path == "-" else path
            texts[key] = _read_paste(path, option)
    return facts_from_texts(**texts, names=names)


def _read_paste(path: str, option: str) -> str:
    """A pasted text, bounded (a FIFO or a 50 MB file is refused as one line, exit 3)."""
    import sys

    from envlock.errors import FactsError
    from envlock.pasted import MAX_PASTE_BYTES, text_of
    from envlock.safeio import UnreadableFile, read_bounded

    what = f"{option} {'stdin' if path == '-' else path}"
    if path == "-":
        data = sys.stdin.buffer.read(MAX_PASTE_BYTES + 1)
    else:
        try:
            data = read_bounded(path, limit=MAX_PASTE_BYTES)
        except UnreadableFile as exc:
            if "larger than" in str(exc):
                raise FactsError(
                    f"{what} is larger than {MAX_PASTE_BYTES // 2**20} MiB: not a pasted report"
                ) from None
            raise FactsError(f"{what}: {exc}") from None
    return text_of(data, what)


def local_target() -> str:
    """How a report names the machine envlock runs on, exactly as the probe names it in
    facts.meta.target: `host`, or `this docker container` inside one (determinism, which
    runs no probe, says the same as doctor)."""
    from envlock.probe import _local_target
    from envlock.probe.system import collect as system_facts

    return _local_target(system_facts())


def collect_document(source: Source | None = None, *, cache: bool = False) -> FactsDoc:
    """The facts `source` names as their JSON document: this host's probe as it gives it,
    no Facts model built; any other source (or torch's live facts from the cache, which
    the model checks) through collect_facts."""
    source = (source or Source()).checked()
    if source.image:  # handed through without the Facts model where it can be
        from envlock.container.run import probe_target_document

        return cast("FactsDoc", probe_target_document(source))
    other = source.in_container or source.pasted or source.facts_file or source.python
    if other or (cache and source.torch_live):
        return cast("FactsDoc", collect_facts(source, cache=cache).to_dict())
    return host_document(torch_live=source.torch_live, timeout=source.timeout, cache=cache)


def probe_this_host(
    *, torch_live: bool = True, timeout: float = PROBE_TIMEOUT_S, cache: bool = False
) -> Facts:
    """Facts of this interpreter's machine and environment (torch probed in a child process).
    `cache`: what files decide in the probe's child processes may come from the cache
    (probe/statcache.py)."""
    from envlock.facts import Facts

    return Facts.from_dict(host_document(torch_live=torch_live, timeout=timeout, cache=cache))


def host_document(*, torch_live: bool, timeout: float, cache: bool) -> FactsDoc:
    """probe_this_host's facts as the probe's document."""
    from envlock.livecache import cache_dir, load_extension_cache, store_extension_cache
    from envlock.probe import probe_host

    ext_cache = load_extension_cache()
    data = probe_host(
        torch_live=torch_live,
        timeout=timeout,
        extension_cache=ext_cache,
        file_cache_dir=str(cache_dir()) if cache else None,
    )
    store_extension_cache(ext_cache)
    return cast("FactsDoc", data)


def probe_interpreter(
    python: str, *, torch_live: bool, timeout: float, sections: tuple[str, ...] | None = None
) -> Facts:
    """Run the stdlib-only probe under another interpreter and read its Facts JSON
    (only `sections`, when given: the others keep their defaults)."""
    import subprocess

    from envlock.payload import python_command

    if not (os.path.isfile(python) and os.access(python, os.X_OK)):
        raise ProbeError(f"--python {python}: not an executable file")
    # Only the probe package travels (served from memory by the bootstrap, as in a
    # container): nothing of envlock's own install is put on the child's path, so the
    # child sees the target's site-packages and never the caller's. The environment is
    # passed unchanged (the user's PYTHONPATH included: the job would see it too).
    cmd = python_command(
        "host",
        torch_live=torch_live,
        timeout=timeout,
        with_pynvml=sections is None or "driver" in sections,
        python=python,
        sections=sections,
    )
    env = dict(os.environ)
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, env=env, timeout=timeout + 10, check=False
        )
    except subprocess.TimeoutExpired:
        raise ProbeError(f"probe under {python} did not finish within {timeout + 10:g} s") from None
    except OSError as exc:
        raise ProbeError(f"cannot run {python}: {exc.strerror}") from None
    if proc.returncode != 0:
        last = last_line(proc.stderr, "no output")
        raise ProbeError(f"probe under {python} failed (exit {proc.returncode}): {last}")
    from envlock.facts import Facts, fast_if_cheaper, load_json

    facts = fast_if_cheaper(proc.stdout.encode())  # msgspec where it reads alike and pays
    if facts is not None:
        return facts
    try:
        data = load_json(proc.stdout)
    except FactsError as exc:
        raise ProbeError(f"probe under {python} printed no facts JSON ({exc})") from None
    return Facts.from_dict(data)


def collect_host_facts(source: Source) -> Facts | None:
    """This host's facts when the target is an image or container (its driver and GPUs
    are the host's), else None. Host torch is irrelevant there: no torch child."""
    if not source.in_container:
        return None
    return probe_this_host(torch_live=False, timeout=source.timeout)


def collect_facts_and_host(
    source: Source | None = None, *, cache: bool = False, host: bool = True
) -> tuple[Facts, Facts | None]:
    """collect_facts() and, for an image or container target, collect_host_facts(),
    the host probe running while the container starts (both mostly wait)."""
    source = (source or Source()).checked()
    if not host or not source.in_container:
        return collect_facts(source, cache=cache), None
    import threading

    host_facts: list[Facts | None] = []
    error: list[BaseException] = []

    def probe_the_host() -> None:
        try:
            host_facts.append(collect_host_facts(source))
        except BaseException as exc:  # re-raised in the caller's thread
            error.append(exc)

    worker = threading.Thread(target=probe_the_host, name="envlock-host-probe", daemon=True)
    worker.start()
    facts = collect_facts(source, cache=cache)
    worker.join()
    if error:
        raise error[0]
    return facts, host_facts[0] if host_facts else None


def with_fresh_determinism(
    lock: Lock, facts: Facts, *, python: str | None = None
) -> tuple[Facts, str | None]:
    """`facts` with digests recomputed the way the lock's were (its seed and device).

    Returns (facts, None), or (facts unchanged, why) when CUDA digests cannot be
    recomputed on this machine: that is a verify finding, not a failure. A CPU suite
    that cannot run is a DeterminismError (exit 3).
    """
    if lock.determinism is None or facts.determinism is not None:
        return facts, None
    from envlock.determinism.runner import run_suite

    locked = lock.determinism
    try:
        fresh = run_suite(device=locked.device, seed=locked.seed, python=python)
    except DeterminismError as exc:
        if locked.device != "cuda":
            raise
        return facts, str(exc)
    return facts.replace(determinism=fresh), None
