"""The probe run: the stdlib-only probe inside an image or a running container.

The probe package travels inside the container's command (a compressed blob
that a few lines of bootstrap unpack to a temporary directory), so it works
with remote daemons and needs no bind mount and no put_archive, which costs
the daemon a rootfs mount (~60 ms, a third of a bare `docker run`). It runs
there and its Facts JSON is read back; what Docker itself knows about the
image (id, digests, tags, user, env, /dev/shm, GPU request) becomes
`Facts.image` (envlock.container.parse). Containers envlock creates run with no
network, no capabilities, a time limit, and are removed whatever happens
(Ctrl-C and SIGTERM included).

Start-up matters here (`envlock probe --image` is held to 1.5x a bare
`docker run`): this module imports neither `docker` nor the Facts model. It
talks to the daemon through envlock.container.engine (the standard library's
HTTP over the local socket), and imports what turns outputs into Facts
(envlock.container.parse) only once the probe container is running, so that
work overlaps the container's own.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from envlock.container.engine import (
    Engine,
    EngineError,
    EngineNotFound,
    EngineTimeout,
    EngineUnreachable,
    connect,
    docker_host,
)
from envlock.errors import ContainerError, UsageError, last_line
from envlock.payload import python_command

if TYPE_CHECKING:
    from envlock.facts import Facts

LABEL = "org.envlock.probe"
PROBE_MEMORY = 4 * 1024 * 1024 * 1024
# A test run sets ENVLOCK_TEST_RUN to its own id: its probe containers carry it, so
# the run counts and removes exactly the containers it created, on a shared daemon.
TEST_RUN_ENV = "ENVLOCK_TEST_RUN"
TEST_RUN_LABEL = "org.envlock.test-run"
DOCKER_DEFAULT_SHM_BYTES = 64 * 1024 * 1024
GPU_DRIVER_ERROR = "could not select device driver"
# Seconds the daemon gets on top of the probe's own limit before we kill it.
_GRACE_S = 15.0


# --------------------------------------------------------------------- options
class ContainerTarget(NamedTuple):
    """What to probe: a new container of `image`, or the running `container`.

    `gpus` and `shm_size` take `docker run`'s syntax (--gpus all, 0,1,
    device=GPU-...; --shm-size 2g) and apply to `image` only. A NamedTuple is
    as immutable and typed as a frozen dataclass, without importing
    `dataclasses` (and `inspect` under it: ~5 ms) before the probe container starts.
    """

    image: str | None = None
    container: str | None = None
    gpus: str | None = None
    shm_size: str | None = None
    pull: bool = True
    torch_live: bool = True
    timeout: float = 60.0


class GpuRequest:
    """`docker run --gpus` semantics: a count (-1 = all) or explicit device ids.

    A plain class: `dataclasses` would add ~4 ms before the probe container starts."""

    __slots__ = ("count", "device_ids", "text")

    def __init__(
        self, *, text: str, count: int | None = None, device_ids: tuple[str, ...] = ()
    ) -> None:
        self.text, self.count, self.device_ids = text, count, device_ids

    def __repr__(self) -> str:
        return (
            f"GpuRequest(text={self.text!r}, count={self.count!r}, device_ids={self.device_ids!r})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GpuRequest):
            return NotImplemented
        return (self.text, self.count, self.device_ids) == (
            other.text,
            other.count,
            other.device_ids,
        )

    __hash__ = None  # type: ignore[assignment]


def parse_gpus(text: str) -> GpuRequest:
    """Parse `all`, `2`, `count=2`, `0,1`, `device=0,1` (quotes as docker allows)."""
    value = text.strip().strip("'\"").strip()
    if value in ("all", "count=all"):
        return GpuRequest(text=value, count=-1)
    if value.startswith("count="):
        value = value[len("count=") :]
        if not value.isdigit():
            raise UsageError(f"--gpus {text!r}: count must be a number or 'all'")
    if value.isdigit():
        if int(value) < 1:
            raise UsageError(f"--gpus {text!r}: the count must be at least 1")
        return GpuRequest(text=value, count=int(value))
    if value.startswith("device="):
        value = value[len("device=") :].strip("'\"")
    ids = tuple(v.strip() for v in value.split(","))
    if not ids or any(not re.fullmatch(r"[0-9]+|(GPU|MIG)-[0-9A-Za-z-/]+", i) for i in ids):
        raise UsageError(
            f"--gpus {text!r}: expected all, a count, or device ids like 0,1 or device=0,1"
        )
    return GpuRequest(text=f"device={','.join(ids)}", device_ids=ids)


_SIZE_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: str) -> int:
    """Docker's size syntax (binary units, like --shm-size): 64m, 2g, 1048576."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([bkmgt]?)b?\s*", text.lower())
    if not m or float(m.group(1)) <= 0:
        raise UsageError(f"--shm-size {text!r}: expected a size like 2g, 512m or 1073741824")
    return int(float(m.group(1)) * _SIZE_UNITS[m.group(2)])


# ---------------------------------------------------------------------- client
def _connect(timeout: float) -> Engine:
    try:
        return connect(timeout)
    except EngineError as exc:
        raise _unreachable(exc) from None


def _unreachable(exc: EngineError) -> ContainerError:
    from envlock.probe.envvars import mask_url_credentials

    where = mask_url_credentials(docker_host())
    return ContainerError(
        f"cannot reach the Docker daemon at {where}: {mask_url_credentials(exc.message)}"
    )


def shell_command() -> list[str]:
    from envlock.container.parse import SHELL_PROBE

    return ["sh", "-c", SHELL_PROBE]


# ------------------------------------------------------------ signal safety
@contextlib.contextmanager
def _interruptible() -> Iterator[None]:
    """Turn SIGTERM/SIGHUP into KeyboardInterrupt so `finally` removes the container."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum: int, _frame: object) -> None:
        from envlock.errors import Signalled

        raise Signalled(signum)

    old = {s: signal.signal(s, _raise) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


@contextlib.contextmanager
def _uninterrupted() -> Iterator[None]:
    """Cleanup must finish: a second Ctrl-C must not leave the container behind."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    sigs = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    old = {s: signal.signal(s, signal.SIG_IGN) for s in sigs}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


# ------------------------------------------------------------------- images
def probe_image(
    reference: str,
    *,
    gpus: str | None = None,
    pull: bool = True,
    shm_size: str | None = None,
    torch_live: bool = True,
    timeout: float = 60.0,
) -> Facts:
    """Probe inside a new container of `reference`; the container is always removed."""
    request = parse_gpus(gpus) if gpus else None
    shm_bytes = parse_size(shm_size) if shm_size else None
    engine = _connect(timeout + _GRACE_S)
    try:
        image = _inspect_or_pull(engine, reference, pull=pull)
        run = _ImageRun(engine, reference, image, shm_bytes=shm_bytes, timeout=timeout)
        with _interruptible():
            try:
                return run.probe(request, torch_live=torch_live)
            finally:
                with _uninterrupted():
                    run.remove_all()
    finally:
        engine.close()


def _inspect_or_pull(engine: Engine, reference: str, *, pull: bool) -> dict[str, Any]:
    try:
        return engine.inspect_image(reference)
    except EngineNotFound:
        pass
    except EngineUnreachable as exc:
        raise _unreachable(exc) from None
    except EngineError as exc:
        raise ContainerError(f"cannot inspect image {reference}: {exc.message}") from None
    if not pull:
        raise ContainerError(f"image {reference} is not present locally and --no-pull was given")
    _pull(engine, reference)
    try:
        return engine.inspect_image(reference)
    except EngineError as exc:
        raise ContainerError(
            f"image {reference} is missing after the pull: {exc.message}"
        ) from None


def _pull(engine: Engine, reference: str) -> None:
    """Pull with progress on stderr (one line per layer and state change)."""
    print(f"envlock: pulling {reference}", file=sys.stderr)
    seen: dict[str, str] = {}

    def on_event(event: dict[str, Any]) -> None:
        if "error" in event:
            raise ContainerError(f"cannot pull {reference}: {event['error']}")
        layer, status = event.get("id", ""), event.get("status", "")
        if status and seen.get(layer) != status:
            seen[layer] = status
            print(f"  {layer + ': ' if layer else ''}{status}", file=sys.stderr)

    try:
        engine.pull(reference, on_event)
    except EngineError as exc:
        raise ContainerError(f"cannot pull {reference}: {exc.message}") from None


class _ImageRun:
    """One probe of one image: creates containers, remembers them, removes them."""

    def __init__(
        self,
        engine: Engine,
        reference: str,
        image: dict[str, Any],
        *,
        shm_bytes: int | None,
        timeout: float,
    ) -> None:
        self.engine = engine
        self.reference = reference
        self.image = image
        self.shm_bytes = shm_bytes
        self.timeout = timeout
        self.created: list[str] = []

    def probe(self, request: GpuRequest | None, *, torch_live: bool) -> Facts:
        target = f"image:{self.reference}"
        python_cmd = python_command(
            target, torch_live=torch_live, timeout=self.timeout, with_pynvml=request is not None
        )
        gpu_error: str | None = None
        notes: list[str] = []
        mode = "python"
        try:
            cid = self._start(python_cmd, request)
        except _GpuUnavailable as exc:
            gpu_error = exc.message
            request_text = request.text if request else ""
            notes.append(
                f"GPUs requested ({request_text}) but the daemon could not provide "
                f"them: {gpu_error}; probed without GPUs"
            )
            try:
                cid = self._start(python_cmd, None)
            except _NoPython:
                mode, cid = "shell", self._start(shell_command(), None)
        except _NoPython:
            mode, cid = "shell", self._start(shell_command(), request)
        # The container runs: load what turns its output into Facts meanwhile.
        from envlock.container import parse

        status, out, err = self._wait(cid)
        why = "no python3 in the image"
        if mode == "python" and status != 0 and status not in _KILLED:
            # An interpreter too old for the probe or a broken python3: the shell
            # fallback still observes the OS, libraries and packages.
            why = (
                "python3 is there but cannot run the probe "
                f"({last_line(err) or f'exit status {status}'})"
            )
            mode = "shell"
            cid = self._start(shell_command(), None if gpu_error else request)
            status, out, err = self._wait(cid)
        self._check_status(status, err)
        if mode == "python":
            facts = parse.facts_from_json(out, f"image {self.reference}")
        else:
            facts = parse.facts_from_shell(out, target=target, why=why)
        image = parse.image_facts(
            self.reference,
            self.image,
            kind="image",
            shm_size_bytes=self.shm_bytes or DOCKER_DEFAULT_SHM_BYTES,
            gpus_requested=request.text if request else None,
            gpu_request_error=gpu_error,
            probe_mode=mode,
        )
        withheld = parse.split_env((self.image.get("Config") or {}).get("Env") or [])[1]
        return parse.with_image(facts, image, notes, withheld)

    def _start(self, command: list[str], request: GpuRequest | None) -> str:
        host_config: dict[str, Any] = {
            "NetworkMode": "none",
            "CapDrop": ["ALL"],
            "SecurityOpt": ["no-new-privileges"],
            # Bounded: importing a CUDA torch build takes ~1 GiB; the probe writes nothing
            # but Python's own temp files.
            "Memory": PROBE_MEMORY,
            "MemorySwap": PROBE_MEMORY,
            "PidsLimit": 256,
            "ReadonlyRootfs": True,
            "Tmpfs": {"/tmp": "rw,nosuid,nodev,size=64m"},
        }
        if self.shm_bytes:
            host_config["ShmSize"] = self.shm_bytes
        if request is not None:
            host_config["DeviceRequests"] = [_device_request(request)]
        config = {
            "Image": self.image["Id"],
            "Cmd": command,
            "Entrypoint": [],
            "Labels": _labels(),
            "HostConfig": host_config,
        }
        try:
            cid = self.engine.create(config, name=f"envlock-probe-{os.urandom(4).hex()}")
            self.created.append(cid)
            self.engine.start(cid)
        except EngineUnreachable as exc:
            raise ContainerError(f"Docker daemon failed during the probe: {exc.message}") from None
        except EngineError as exc:
            if GPU_DRIVER_ERROR in exc.message:
                raise _GpuUnavailable(exc.message) from None
            if "executable file not found" in exc.message and command[0] == "python3":
                raise _NoPython(exc.message) from None
            raise ContainerError(
                f"cannot start a container of {self.reference}: {exc.message}"
            ) from None
        return cid

    def _wait(self, cid: str) -> tuple[int, str, str]:
        limit = self.timeout + _GRACE_S
        try:
            status = self.engine.wait(cid, timeout=limit)
            out = self.engine.logs(cid, stdout=True, stderr=False).decode("utf-8", "replace")
            err = ""
            if status != 0:
                err = self.engine.logs(cid, stdout=False, stderr=True).decode("utf-8", "replace")
        except EngineTimeout:
            raise ContainerError(
                f"the probe in {self.reference} did not finish within "
                f"{limit:g} s (container stopped and removed)"
            ) from None
        except EngineNotFound:
            raise ContainerError(
                f"the probe container of {self.reference} disappeared mid-probe "
                "(removed from outside)"
            ) from None
        except EngineError as exc:
            raise ContainerError(f"Docker daemon failed during the probe: {exc.message}") from None
        return status, out, err

    def _check_status(self, status: int, err: str) -> None:

        if status in _KILLED:
            raise ContainerError(
                f"the probe container of {self.reference} was killed mid-probe "
                f"(exit {status}: {_KILLED[status]})"
            )
        if status != 0:
            raise ContainerError(
                f"the probe in {self.reference} failed (exit {status}): "
                f"{last_line(err) or 'no output'}"
            )

    def remove_all(self) -> None:
        for cid in self.created:
            try:
                self.engine.remove(cid)
            except EngineNotFound:
                pass
            except EngineError as exc:
                print(
                    f"envlock: warning: could not remove container {cid[:12]}: {exc.message}",
                    file=sys.stderr,
                )
        self.created.clear()


def _labels() -> dict[str, str]:
    labels = {LABEL: "1"}
    run_id = os.environ.get(TEST_RUN_ENV)
    if run_id:
        labels[TEST_RUN_LABEL] = run_id
    return labels


def _device_request(request: GpuRequest) -> dict[str, Any]:
    """HostConfig.DeviceRequests entry for `--gpus` (what the docker CLI sends)."""
    device: dict[str, Any] = {"Driver": "", "Capabilities": [["gpu"]], "Options": {}}
    if request.device_ids:
        device.update(Count=0, DeviceIDs=list(request.device_ids))
    else:
        device.update(Count=request.count or -1, DeviceIDs=None)
    return device


_KILLED = {
    137: "SIGKILL: docker kill, docker stop timeout, or out of memory",
    143: "SIGTERM: docker stop",
    130: "SIGINT",
}


class _GpuUnavailable(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _NoPython(Exception):
    pass


# ---------------------------------------------------------- running containers
def probe_container(name: str, *, torch_live: bool = True, timeout: float = 60.0) -> Facts:
    """Probe inside a running container through `docker exec` (nothing is left in it)."""
    from envlock.container import parse

    engine = _connect(timeout + _GRACE_S)
    try:
        try:
            info = engine.inspect_container(name)
        except EngineNotFound:
            raise ContainerError(f"no container named {name}") from None
        except EngineError as exc:
            raise ContainerError(f"cannot inspect container {name}: {exc.message}") from None
        state = info.get("State") or {}
        if not state.get("Running"):
            raise ContainerError(
                f"container {name} is not running (status {state.get('Status', 'unknown')}); "
                "probe its image with --image instead"
            )
        try:
            image = engine.inspect_image(info["Image"])
        except EngineError:
            image = {"Id": info["Image"]}
        with _interruptible():
            facts, mode = _exec_probe(
                engine, info["Id"], name, torch_live=torch_live, timeout=timeout
            )
        config = info.get("Config") or {}
        host = info.get("HostConfig") or {}
        # What this container runs with: its own user and env (image's + run-time).
        image_view = {
            **image,
            "Config": {
                **(image.get("Config") or {}),
                "User": config.get("User"),
                "Env": config.get("Env"),
            },
        }
        img = parse.image_facts(
            name,
            image_view,
            kind="container",
            shm_size_bytes=host.get("ShmSize"),
            gpus_requested=_describe_device_requests(host.get("DeviceRequests")),
            gpu_request_error=None,
            probe_mode=mode,
        )
        return parse.with_image(facts, img, [], parse.split_env(config.get("Env") or [])[1])
    finally:
        engine.close()


def _exec_probe(
    engine: Engine, cid: str, name: str, *, torch_live: bool, timeout: float
) -> tuple[Facts, str]:
    from envlock.container import parse

    target = f"container:{name}"

    def _run(argv: list[str]) -> tuple[int, str, str]:
        try:
            code, out, err = engine.exec_run(cid, argv)
        except EngineTimeout:
            raise ContainerError(
                f"the probe in container {name} did not finish within {timeout + _GRACE_S:g} s"
            ) from None
        except EngineError as exc:
            raise ContainerError(f"cannot exec in container {name}: {exc.message}") from None
        return code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")

    code, out, err = _run(
        python_command(target, torch_live=torch_live, timeout=timeout, with_pynvml=True)
    )
    if code in _KILLED:
        raise ContainerError(
            f"the probe in container {name} was killed (exit {code}: {_KILLED[code]})"
        )
    if code == 0:
        return parse.facts_from_json(out, f"container {name}"), "python"
    if code in (126, 127) or "executable file not found" in out + err:
        why = "no python3 in the container"
    else:
        why = f"python3 is there but cannot run the probe ({last_line(err) or f'exit {code}'})"
    code, out, err = _run(shell_command())
    if code != 0:
        raise ContainerError(
            f"the shell probe in container {name} failed (exit {code}): "
            f"{last_line(err + out) or 'no output'}"
        )
    return parse.facts_from_shell(out, target=target, why=why), "shell"


def _describe_device_requests(requests_: Any) -> str | None:
    """HostConfig.DeviceRequests back in `--gpus` syntax (None: no GPUs requested)."""
    if not requests_:
        return None
    for req in requests_:
        caps = [c for group in (req.get("Capabilities") or []) for c in group]
        if "gpu" not in caps:
            continue
        if req.get("DeviceIDs"):
            return "device=" + ",".join(req["DeviceIDs"])
        count = req.get("Count")
        return "all" if count == -1 else str(count)
    return None


def probe_target(target: ContainerTarget) -> Facts:
    """Probe what `target` names (exactly one of image, container)."""
    if target.image and target.container:
        raise UsageError("give at most one of --image, --container")
    if target.image:
        from envlock.imageref import is_image_id, parse_or_none

        # Checked before any request: the name goes into the Engine API's URL path, and
        # `../../x` there reached another endpoint (a 301 and exit 4).
        if not is_image_id(target.image) and parse_or_none(target.image) is None:
            raise UsageError(f"--image {target.image!r} is not a valid image reference")
        return probe_image(
            target.image,
            gpus=target.gpus,
            pull=target.pull,
            shm_size=target.shm_size,
            torch_live=target.torch_live,
            timeout=target.timeout,
        )
    if not target.container:
        raise UsageError("give one of --image, --container")
    for flag, value in (("--gpus", target.gpus), ("--shm-size", target.shm_size)):
        if value:
            raise UsageError(f"{flag} applies to --image only (a running container has its own)")
    if not _CONTAINER_NAME.fullmatch(target.container):
        raise UsageError(f"--container {target.container!r} is not a container name or id")
    return probe_container(target.container, torch_live=target.torch_live, timeout=target.timeout)


# Docker's container names (and ids): [a-zA-Z0-9][a-zA-Z0-9_.-]*, optionally with a leading /.
_CONTAINER_NAME = re.compile(r"/?[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}")
