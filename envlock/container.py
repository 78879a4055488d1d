"""Docker: run the stdlib-only probe inside an image or a running container.

The probe package travels inside the container's command (a compressed blob
that a few lines of bootstrap unpack to a temporary directory), so it works
with remote daemons and needs no bind mount and no put_archive, which costs
the daemon a rootfs mount (~60 ms, a third of a bare `docker run`). It runs
there and its Facts JSON is read back; what Docker itself
knows about the image (id, digests, tags, user, env, /dev/shm, GPU request)
becomes `Facts.image`. Containers envlock creates run with no network, no
capabilities, a time limit, and are removed whatever happens (Ctrl-C and
SIGTERM included). The only module that imports `docker`.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime
import importlib.util
import json
import re
import secrets
import signal
import sys
import threading
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from envlock import __version__
from envlock.errors import ContainerError, FactsError, UsageError
from envlock.facts import (
    ContainerFacts,
    CudaLibFacts,
    DriverFacts,
    EnvFacts,
    Facts,
    GpuFacts,
    ImageFacts,
    MetaFacts,
    OsFacts,
    PackagesFacts,
    SystemFacts,
    TorchFacts,
    WheelFacts,
)

LABEL = "org.envlock.probe"
DOCKER_DEFAULT_SHM_BYTES = 64 * 1024 * 1024
GPU_DRIVER_ERROR = "could not select device driver"
# Seconds the daemon gets on top of the probe's own limit before we kill it.
_GRACE_S = 15.0


# --------------------------------------------------------------------- options
@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class GpuRequest:
    """`docker run --gpus` semantics: a count (-1 = all) or explicit device ids."""

    text: str
    count: int | None = None
    device_ids: tuple[str, ...] = ()


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
def connect(timeout: float = 60.0) -> Any:
    """A docker client from the environment (DOCKER_HOST, DOCKER_TLS_VERIFY, ...)."""
    import docker

    try:
        # version="auto" asks the daemon which API it speaks: one request, and
        # the reason an unreachable daemon fails here rather than later.
        return docker.from_env(version="auto", timeout=int(max(timeout, 1)))
    except docker.errors.DockerException as exc:
        raise ContainerError(
            f"cannot reach the Docker daemon at {_docker_host()}: {_reason(exc)}"
        ) from None


def _reason(exc: BaseException) -> str:
    """The last, most specific line of a docker/requests error chain."""
    explanation = getattr(exc, "explanation", None)
    text = str(explanation) if explanation else str(exc)
    text = text.replace("Error while fetching server API version: ", "")
    for pattern, short in (
        (r"FileNotFoundError\(2, 'No such file or directory'\)", "no daemon socket at that path"),
        (r"ConnectionRefusedError|Connection refused", "connection refused"),
        (r"PermissionError|Permission denied", "permission denied on the daemon socket"),
    ):
        if re.search(pattern, text):
            return short
    return text.strip().splitlines()[-1] if text.strip() else type(exc).__name__


def _docker_host() -> str:
    import os

    return os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")


# ------------------------------------------------------------ probe payload
# Runs under the image's python3 (3.8+ syntax only): unpack the probe files
# into a private temp dir, run `python -m envlock.probe` from there (the torch
# child is a file it starts by path), and remove the dir whatever happens.
BOOTSTRAP = """\
import base64, json, os, runpy, shutil, sys, tempfile, zlib
end = sys.argv.index("--")
files = json.loads(zlib.decompress(base64.b64decode("".join(sys.argv[1:end]))).decode())
d = tempfile.mkdtemp(prefix="envlock-probe-")
try:
    for name, text in files.items():
        path = os.path.join(d, name)
        if not os.path.isdir(os.path.dirname(path)):
            os.makedirs(os.path.dirname(path))
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    sys.path.insert(0, d)
    sys.argv = ["envlock.probe"] + sys.argv[end + 1:]
    runpy.run_module("envlock.probe", run_name="__main__", alter_sys=True)
finally:
    shutil.rmtree(d, ignore_errors=True)
"""
# Linux refuses a single argument over 128 KiB (MAX_ARG_STRLEN).
_CHUNK = 96 * 1024


def probe_files(*, with_pynvml: bool) -> dict[str, str]:
    """The stdlib-only probe package as {relative path: source}."""
    root = Path(__file__).resolve().parent
    # A one-line package __init__ instead of envlock/__init__.py: the real
    # one is the public API and may import modules that are not stdlib-only.
    files = {"envlock/__init__.py": f"__version__ = {__version__!r}\n"}
    for path in sorted((root / "probe").rglob("*.py")):
        if "__pycache__" not in path.parts:
            files[path.relative_to(root.parent).as_posix()] = path.read_text(encoding="utf-8")
    if with_pynvml:
        spec = importlib.util.find_spec("pynvml")
        if spec is not None and spec.origin and spec.origin.endswith(".py"):
            files["pynvml.py"] = Path(spec.origin).read_text(encoding="utf-8")
    return files


def python_command(
    target: str, *, torch_live: bool, timeout: float, with_pynvml: bool
) -> list[str]:
    """argv that runs the probe under the image's python3 with no file copied in."""
    blob = base64.b64encode(
        zlib.compress(json.dumps(probe_files(with_pynvml=with_pynvml)).encode(), 6)
    ).decode("ascii")
    chunks = [blob[i : i + _CHUNK] for i in range(0, len(blob), _CHUNK)]
    cmd = [
        "python3",
        "-c",
        BOOTSTRAP,
        *chunks,
        "--",
        "--target",
        target,
        "--timeout",
        f"{timeout:g}",
    ]
    if not torch_live:
        cmd.append("--no-torch-live")
    return cmd


def shell_command() -> list[str]:
    return ["sh", "-c", SHELL_PROBE]


# ------------------------------------------------------------ signal safety
@contextlib.contextmanager
def _interruptible() -> Iterator[None]:
    """Turn SIGTERM/SIGHUP into KeyboardInterrupt so `finally` removes the container."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

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
    client = connect(timeout + _GRACE_S)
    try:
        image = _inspect_or_pull(client, reference, pull=pull)
        run = _ImageRun(client, reference, image, shm_bytes=shm_bytes, timeout=timeout)
        with _interruptible():
            try:
                return run.probe(request, torch_live=torch_live)
            finally:
                with _uninterrupted():
                    run.remove_all()
    finally:
        client.close()


def _inspect_or_pull(client: Any, reference: str, *, pull: bool) -> dict[str, Any]:
    import docker

    try:
        image: dict[str, Any] = client.api.inspect_image(reference)
        return image
    except docker.errors.ImageNotFound:
        pass
    except docker.errors.APIError as exc:
        raise ContainerError(f"cannot inspect image {reference}: {_reason(exc)}") from None
    except docker.errors.DockerException as exc:
        raise ContainerError(f"cannot reach the Docker daemon: {_reason(exc)}") from None
    if not pull:
        raise ContainerError(f"image {reference} is not present locally and --no-pull was given")
    _pull(client, reference)
    try:
        pulled: dict[str, Any] = client.api.inspect_image(reference)
        return pulled
    except docker.errors.DockerException as exc:
        raise ContainerError(
            f"image {reference} is missing after the pull: {_reason(exc)}"
        ) from None


def _pull(client: Any, reference: str) -> None:
    """Pull with progress on stderr (one line per layer and state change)."""
    import docker
    from docker.utils import parse_repository_tag

    repo, tag = parse_repository_tag(reference)
    print(f"envlock: pulling {reference}", file=sys.stderr)
    seen: dict[str, str] = {}
    try:
        for event in client.api.pull(repo, tag=tag or "latest", stream=True, decode=True):
            if "error" in event:
                raise ContainerError(f"cannot pull {reference}: {event['error']}")
            layer, status = event.get("id", ""), event.get("status", "")
            if status and seen.get(layer) != status:
                seen[layer] = status
                print(f"  {layer + ': ' if layer else ''}{status}", file=sys.stderr)
    except docker.errors.DockerException as exc:
        raise ContainerError(f"cannot pull {reference}: {_reason(exc)}") from None


class _ImageRun:
    """One probe of one image: creates containers, remembers them, removes them."""

    def __init__(
        self,
        client: Any,
        reference: str,
        image: dict[str, Any],
        *,
        shm_bytes: int | None,
        timeout: float,
    ) -> None:
        self.api = client.api
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
        status, out, err = self._wait(cid)
        why = "no python3 in the image"
        if mode == "python" and status != 0 and status not in _KILLED:
            # An interpreter too old for the probe or a broken python3: the shell
            # fallback still observes the OS, libraries and packages.
            why = f"the python3 probe failed ({_last_line(err) or f'exit status {status}'})"
            mode = "shell"
            cid = self._start(shell_command(), None if gpu_error else request)
            status, out, err = self._wait(cid)
        self._check_status(status, err)
        if mode == "python":
            facts = _facts_from_json(out, f"image {self.reference}")
        else:
            facts = facts_from_shell(out, target=target, why=why)
        image = image_facts(
            self.reference,
            self.image,
            kind="image",
            shm_size_bytes=self.shm_bytes or DOCKER_DEFAULT_SHM_BYTES,
            gpus_requested=request.text if request else None,
            gpu_request_error=gpu_error,
            probe_mode=mode,
        )
        withheld = split_env((self.image.get("Config") or {}).get("Env") or [])[1]
        return _with_image(facts, image, notes, withheld)

    def _start(self, command: list[str], request: GpuRequest | None) -> str:
        import docker
        from docker.types import DeviceRequest

        device_requests = None
        if request is not None:
            if request.device_ids:
                device = DeviceRequest(device_ids=list(request.device_ids), capabilities=[["gpu"]])
            else:
                device = DeviceRequest(count=request.count or -1, capabilities=[["gpu"]])
            device_requests = [device]
        host_config = self.api.create_host_config(
            network_mode="none",
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            shm_size=self.shm_bytes,
            device_requests=device_requests,
        )
        try:
            created = self.api.create_container(
                self.image["Id"],
                command=command,
                entrypoint=[],
                host_config=host_config,
                labels={LABEL: "1"},
                name=f"envlock-probe-{secrets.token_hex(4)}",
            )
            cid: str = created["Id"]
            self.created.append(cid)
            self.api.start(cid)
        except docker.errors.APIError as exc:
            text = _reason(exc)
            if GPU_DRIVER_ERROR in text:
                raise _GpuUnavailable(text) from None
            if "executable file not found" in text and command[0] == "python3":
                raise _NoPython(text) from None
            raise ContainerError(f"cannot start a container of {self.reference}: {text}") from None
        except docker.errors.DockerException as exc:
            raise ContainerError(f"Docker daemon failed during the probe: {_reason(exc)}") from None
        return cid

    def _wait(self, cid: str) -> tuple[int, str, str]:
        import docker
        import requests

        try:
            result = self.api.wait(cid, timeout=self.timeout + _GRACE_S)
            out = self.api.logs(cid, stdout=True, stderr=False).decode("utf-8", "replace")
            err = ""
            if result.get("StatusCode", 0) != 0:
                err = self.api.logs(cid, stdout=False, stderr=True).decode("utf-8", "replace")
        except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
            raise ContainerError(
                f"the probe in {self.reference} did not finish within "
                f"{self.timeout + _GRACE_S:g} s (container stopped and removed)"
            ) from None
        except docker.errors.NotFound:
            raise ContainerError(
                f"the probe container of {self.reference} disappeared mid-probe "
                "(removed from outside)"
            ) from None
        except docker.errors.DockerException as exc:
            raise ContainerError(f"Docker daemon failed during the probe: {_reason(exc)}") from None
        return int(result.get("StatusCode", -1)), out, err

    def _check_status(self, status: int, err: str) -> None:
        if status in _KILLED:
            raise ContainerError(
                f"the probe container of {self.reference} was killed mid-probe "
                f"(exit {status}: {_KILLED[status]})"
            )
        if status != 0:
            raise ContainerError(
                f"the probe in {self.reference} failed (exit {status}): "
                f"{_last_line(err) or 'no output'}"
            )

    def remove_all(self) -> None:
        import docker

        for cid in self.created:
            try:
                self.api.remove_container(cid, force=True)
            except docker.errors.NotFound:
                pass
            except docker.errors.DockerException as exc:
                print(
                    f"envlock: warning: could not remove container {cid[:12]}: {_reason(exc)}",
                    file=sys.stderr,
                )
        self.created.clear()


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
    import docker

    client = connect(timeout + _GRACE_S)
    api = client.api
    try:
        try:
            info: dict[str, Any] = api.inspect_container(name)
        except docker.errors.NotFound:
            raise ContainerError(f"no container named {name}") from None
        except docker.errors.DockerException as exc:
            raise ContainerError(f"cannot inspect container {name}: {_reason(exc)}") from None
        state = info.get("State") or {}
        if not state.get("Running"):
            raise ContainerError(
                f"container {name} is not running (status {state.get('Status', 'unknown')}); "
                "probe its image with --image instead"
            )
        try:
            image: dict[str, Any] = api.inspect_image(info["Image"])
        except docker.errors.DockerException:
            image = {"Id": info["Image"]}
        with _interruptible():
            facts, mode = _exec_probe(api, info["Id"], name, torch_live=torch_live, timeout=timeout)
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
        img = image_facts(
            name,
            image_view,
            kind="container",
            shm_size_bytes=host.get("ShmSize"),
            gpus_requested=_describe_device_requests(host.get("DeviceRequests")),
            gpu_request_error=None,
            probe_mode=mode,
        )
        return _with_image(facts, img, [], split_env(config.get("Env") or [])[1])
    finally:
        client.close()


def _exec_probe(
    api: Any, cid: str, name: str, *, torch_live: bool, timeout: float
) -> tuple[Facts, str]:
    import docker
    import requests

    target = f"container:{name}"

    def _run(argv: list[str]) -> tuple[int, str, str]:
        try:
            ex = api.exec_create(cid, argv)
            out, err = api.exec_start(ex["Id"], demux=True)
            code = api.exec_inspect(ex["Id"]).get("ExitCode")
        except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
            raise ContainerError(
                f"the probe in container {name} did not finish within {timeout + _GRACE_S:g} s"
            ) from None
        except docker.errors.DockerException as exc:
            raise ContainerError(f"cannot exec in container {name}: {_reason(exc)}") from None
        return (
            int(code) if code is not None else -1,
            (out or b"").decode("utf-8", "replace"),
            (err or b"").decode("utf-8", "replace"),
        )

    code, out, err = _run(
        python_command(target, torch_live=torch_live, timeout=timeout, with_pynvml=True)
    )
    if code in _KILLED:
        raise ContainerError(
            f"the probe in container {name} was killed (exit {code}: {_KILLED[code]})"
        )
    if code == 0:
        return _facts_from_json(out, f"container {name}"), "python"
    if code in (126, 127) or "executable file not found" in out + err:
        why = "no python3 in the container"
    else:
        why = f"the python3 probe failed ({_last_line(err) or f'exit {code}'})"
    code, out, err = _run(shell_command())
    if code != 0:
        raise ContainerError(
            f"the shell probe in container {name} failed (exit {code}): "
            f"{_last_line(err + out) or 'no output'}"
        )
    return facts_from_shell(out, target=target, why=why), "shell"


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


# --------------------------------------------------------------- image facts
def image_facts(
    reference: str,
    image: dict[str, Any],
    *,
    kind: str,
    shm_size_bytes: int | None,
    gpus_requested: str | None,
    gpu_request_error: str | None,
    probe_mode: str,
) -> ImageFacts:
    """ImageFacts from `docker image inspect` output (or a container's view of it)."""
    config = image.get("Config") or {}
    env, _withheld = split_env(config.get("Env") or [])
    return ImageFacts(
        reference=reference,
        kind=kind,
        id=image.get("Id"),
        # The digest of the repository that was asked for first: the lock records [0].
        repo_digests=sorted(
            image.get("RepoDigests") or [],
            key=lambda d: (repository_of(d) != repository_of(reference), d),
        ),
        tags=sorted(image.get("RepoTags") or []),
        user=config.get("User") or None,
        env=env,
        shm_size_bytes=shm_size_bytes,
        gpus_requested=gpus_requested,
        gpu_request_error=gpu_request_error,
        probe_mode=probe_mode,
    )


def repository_of(reference: str) -> str:
    """The repository of an image reference, normalized the way Docker does.

    'pytorch/pytorch:2.7' -> 'pytorch/pytorch'; 'python' -> 'python' (docker.io/library/
    dropped); 'localhost:5000/a/b@sha256:..' -> 'localhost:5000/a/b' (a ':' before the
    last '/' is a registry port, not a tag).
    """
    name = reference.split("@", 1)[0]
    head, sep, last = name.rpartition("/")
    name = head + sep + last.split(":", 1)[0]
    for prefix in ("docker.io/", "index.docker.io/", "registry-1.docker.io/"):
        name = name.removeprefix(prefix)
    return name.removeprefix("library/")


def digest_of(reference: str, repo_digests: list[str]) -> str | None:
    """The repo digest (repo@sha256:...) of the reference's own repository, if any."""
    repo = repository_of(reference)
    return next((d for d in repo_digests if repository_of(d) == repo), None)


def split_env(pairs: list[str]) -> tuple[dict[str, str], list[str]]:
    """Image Config.Env as a dict with secrets withheld: (kept, names withheld).

    The probe's env rules (envlock.probe.envvars): a secret-looking name is
    dropped, credentials inside URLs are masked. Unlike the probe's env
    section there is no allow-list: an image's env is all its author set.
    """
    from envlock.probe.envvars import is_secret_name, mask_url_credentials

    kept: dict[str, str] = {}
    withheld: list[str] = []
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            continue
        if is_secret_name(name):
            withheld.append(name)
        else:
            kept[name] = mask_url_credentials(value)
    return kept, sorted(withheld)


def _with_image(facts: Facts, image: ImageFacts, notes: list[str], withheld: list[str]) -> Facts:
    if withheld:
        notes = [*notes, f"image env: values of {', '.join(withheld)} withheld (secrets)"]
    meta = facts.meta
    if notes:
        meta = dataclasses.replace(meta, notes=[*meta.notes, *notes])
    return facts.replace(image=image, meta=meta)


def _facts_from_json(text: str, where: str) -> Facts:
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        first = _last_line(text[:200]) or "nothing"
        raise ContainerError(
            f"the probe in {where} did not print Facts JSON (got: {first[:80]!r})"
        ) from None
    try:
        return Facts.from_dict(data)
    except FactsError as exc:
        raise ContainerError(f"the probe in {where} printed invalid facts: {exc}") from None


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else ""


# ------------------------------------------------------- merge with the host
def merge_host_facts(image_facts: Facts, host_facts: Facts) -> Facts:
    """The image's facts, with driver and GPU facts taken from the host.

    A container uses the host's kernel driver and GPUs (the NVIDIA runtime
    mounts the host's libcuda/libnvidia-ml in), so those are the host's to
    report; everything else (OS, python, torch, CUDA libraries, packages, env)
    is the image's. An image's own libcuda (a cuda-compat package) is kept.
    """
    cuda = image_facts.cuda
    image_libcuda = cuda.libcuda
    if image_libcuda is None or image_libcuda.path is None or not image_libcuda.compat:
        cuda = dataclasses.replace(cuda, libcuda=host_facts.cuda.libcuda)
    notes = [
        *image_facts.meta.notes,
        "driver and GPU facts are the host's (a container runs on the host's driver)",
    ]
    return image_facts.replace(
        driver=host_facts.driver,
        cuda=cuda,
        meta=dataclasses.replace(image_facts.meta, notes=notes),
    )


# ------------------------------------------------------------- shell fallback
# For images without python3: plain POSIX sh (busybox works), sections on
# stdout that facts_from_shell() turns into partial Facts on the host.
SHELL_PROBE = r"""#!/bin/sh
# envlock shell probe: partial facts for images without python3.
section() { printf '\n@@envlock %s\n' "$1"; }
section os-release
cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null
section uname
uname -r 2>/dev/null; uname -m 2>/dev/null
section glibc
getconf GNU_LIBC_VERSION 2>/dev/null
section shm
grep ' /dev/shm ' /proc/mounts 2>/dev/null
section meminfo
grep '^MemTotal:' /proc/meminfo 2>/dev/null
section cpus
grep -c '^processor' /proc/cpuinfo 2>/dev/null
section ldconfig
if command -v ldconfig >/dev/null 2>&1; then ldconfig -p 2>/dev/null
elif [ -x /sbin/ldconfig ]; then /sbin/ldconfig -p 2>/dev/null; fi
section dist-info
for d in /usr/lib/python3*/site-packages /usr/lib/python3*/dist-packages \
         /usr/lib/python3/dist-packages /usr/local/lib/python3*/site-packages \
         /usr/local/lib/python3*/dist-packages /opt/conda/lib/python3*/site-packages \
         /opt/*/lib/python3*/site-packages; do
    [ -d "$d" ] || continue
    for e in "$d"/*.dist-info "$d"/*.egg-info; do [ -e "$e" ] && echo "$e"; done
done
section nvidia-smi
if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=index,name,pci.bus_id,memory.total,driver_version,compute_cap \
        --format=csv,noheader,nounits 2>&1
fi
section driver
cat /sys/module/nvidia/version 2>/dev/null
section devices
for n in /dev/nvidia*; do [ -e "$n" ] && echo "$n"; done
section env
env 2>/dev/null
section end
"""


def _sections(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("@@envlock "):
            current = out.setdefault(line[len("@@envlock ") :].strip(), [])
        elif current is not None and line.strip():
            current.append(line.rstrip("\n"))
    return out


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


_DIST_DIR = re.compile(r"(?P<name>[^-]+)-(?P<version>[^-]+?)(?:-py[\w.]+)?\.(dist|egg)-info")


def _dist_entries(lines: list[str]) -> dict[str, str]:
    dists: dict[str, str] = {}
    for line in lines:
        base = line.rsplit("/", 1)[-1]
        m = _DIST_DIR.fullmatch(base)
        if m:
            dists[_normalize(m.group("name"))] = m.group("version")
    return dists


def _cuda_of_build(build: str | None) -> str | None:
    m = re.fullmatch(r"cu(\d+)(\d)", build or "")
    return f"{m.group(1)}.{m.group(2)}" if m else None


def facts_from_shell(text: str, *, target: str, why: str) -> Facts:
    """Partial Facts from the shell probe's sections (meta.partial, with a note why)."""
    s = _sections(text)
    if "end" not in s and "os-release" not in s:
        raise ContainerError(f"the shell probe for {target} printed no facts")
    osr: dict[str, str] = {}
    for line in s.get("os-release", []):
        k, sep, v = line.partition("=")
        if sep:
            osr[k.strip()] = v.strip().strip('"')
    uname = s.get("uname", [])
    glibc = next(iter(s.get("glibc", [])), "")
    shm = None
    for line in s.get("shm", []):
        m = re.search(r"size=(\d+)k", line)
        if m:
            shm = int(m.group(1)) * 1024
    mem = None
    for line in s.get("meminfo", []):
        m = re.search(r"(\d+)\s*kB", line)
        if m:
            mem = int(m.group(1)) * 1024
    cpus = next((int(v) for v in s.get("cpus", []) if v.strip().isdigit()), None)
    system = SystemFacts(
        os=OsFacts(
            id=osr.get("ID"), version_id=osr.get("VERSION_ID"), pretty_name=osr.get("PRETTY_NAME")
        )
        if osr
        else None,
        kernel=uname[0] if uname else None,
        arch=uname[1] if len(uname) > 1 else None,
        glibc=glibc.split()[-1] if glibc.startswith("glibc") else None,
        cpu_count=cpus,
        memory_total_bytes=mem,
        shm_total_bytes=shm,
        # envlock started this container itself: no need to infer it
        container=ContainerFacts(
            detected=True, runtime="docker", evidence=[f"probed by envlock in {target}"]
        ),
    )
    ldconfig = sorted(
        {
            ln.strip().split(" ", 1)[0]
            for ln in s.get("ldconfig", [])[1:]
            if ln.startswith(("\t", " ")) and ln.strip().startswith("lib")
        }
    )
    from envlock.probe.envvars import is_allowed
    from envlock.probe.packages import is_interesting

    dists = {k: v for k, v in _dist_entries(s.get("dist-info", [])).items() if is_interesting(k)}
    wheels = [
        WheelFacts(name=n, version=v, cuda_major=_wheel_cuda_major(n))
        for n, v in sorted(dists.items())
        if n.startswith("nvidia-")
    ]
    cuda = CudaLibFacts(
        unavailable="no python3: only ldconfig and installed wheels were observed",
        wheels=wheels,
        ldconfig_libraries=[ln for ln in ldconfig if _cuda_lib(ln)],
    )
    torch = TorchFacts(installed=False)
    if "torch" in dists:
        version = dists["torch"]
        build = version.split("+", 1)[1] if "+" in version else None
        torch = TorchFacts(
            installed=True,
            version=version,
            build=build,
            cuda=_cuda_of_build(build),
            live=None,
            unavailable="no python3 in the image: version from dist-info only",
        )
    driver = _driver_from_shell(s)
    variables, withheld = split_env(s.get("env", []))
    env = EnvFacts(
        variables={k: v for k, v in variables.items() if is_allowed(k)}, redacted=withheld
    )
    meta = MetaFacts(
        envlock_version=__version__,
        collected_at=datetime.datetime.now(datetime.timezone.utc)
        .replace(microsecond=0)
        .isoformat()
        .replace("+00:00", "Z"),
        target=target,
        partial=True,
        notes=[
            f"{why}: shell fallback probe, partial facts (no NVML, no torch import, "
            "no CUDA library loading)"
        ],
    )
    return Facts(
        meta=meta,
        system=system,
        driver=driver,
        cuda=cuda,
        torch=torch,
        packages=PackagesFacts(distributions=dists),
        env=env,
    )


def _wheel_cuda_major(name: str) -> int | None:
    m = re.search(r"-cu(\d+)$", name)
    return int(m.group(1)) if m else None


def _cuda_lib(name: str) -> bool:
    return name.startswith(
        (
            "libcuda",
            "libcudart",
            "libcudnn",
            "libnccl",
            "libcublas",
            "libnvidia-ml",
            "libnvrtc",
            "libnvJitLink",
            "libcusparse",
            "libcufft",
            "libcurand",
            "libcusolver",
        )
    )


def _driver_from_shell(s: dict[str, list[str]]) -> DriverFacts:
    nodes = [n for n in s.get("devices", []) if n.startswith("/dev/nvidia")]
    gpus: list[GpuFacts] = []
    version = None
    for row in s.get("nvidia-smi", []):
        cols = [c.strip() for c in row.split(",")]
        if len(cols) < 6 or not cols[0].isdigit():
            continue
        mib = int(cols[3]) if cols[3].isdigit() else None
        gpus.append(
            GpuFacts(
                index=int(cols[0]),
                name=cols[1],
                pci_bus_id=cols[2],
                memory_total_bytes=mib * (1 << 20) if mib is not None else None,
                compute_capability=cols[5] or None,
            )
        )
        version = cols[4] or version
    module = next(iter(s.get("driver", [])), None)
    if gpus:
        return DriverFacts(
            source="nvidia-smi",
            version=version,
            kernel_module_version=module,
            gpus=gpus,
            device_nodes=nodes,
        )
    if module:
        return DriverFacts(
            source="sysfs", version=module, kernel_module_version=module, device_nodes=nodes
        )
    return DriverFacts(
        unavailable="no python3 and no nvidia-smi in the image: driver and GPUs "
        "not observable from inside",
        device_nodes=nodes,
    )


def container_probe(args: Any) -> Callable[[], Facts] | None:
    """The container probe `args` ask for (--image / --container), or None."""
    image = getattr(args, "image", None)
    container = getattr(args, "container", None)
    if image and container:
        raise UsageError("give at most one of --image, --container")
    torch_live = not getattr(args, "no_torch_live", False)
    timeout = float(getattr(args, "probe_timeout", 60.0))
    if image:
        return lambda: probe_image(
            image,
            gpus=getattr(args, "gpus", None),
            pull=not getattr(args, "no_pull", False),
            shm_size=getattr(args, "shm_size", None),
            torch_live=torch_live,
            timeout=timeout,
        )
    if container:
        for opt in ("gpus", "shm_size"):
            if getattr(args, opt, None):
                flag = "--" + opt.replace("_", "-")
                raise UsageError(
                    f"{flag} applies to --image only (a running container has its own)"
                )
        return lambda: probe_container(container, torch_live=torch_live, timeout=timeout)
    return None
