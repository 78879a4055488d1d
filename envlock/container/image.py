"""A probe in a new container of an image: inspect (or pull) the image, create and start
the container, read its output back, and remove it whatever happens (Ctrl-C and
SIGTERM included).

Containers envlock creates run with no network, no capabilities, bounded memory
and processes, a read-only root and a time limit, and carry the LABEL below, so
that one left by a SIGKILLed envlock can be found (`docker ps -a --filter
label=org.envlock.probe`). An image without python3, or whose python3 cannot run
the probe, gets the shell fallback (partial facts); a GPU request the daemon
cannot serve is retried without GPUs and reported.

Start-up matters here (`probe --image` is held to 1.2x a bare `docker run`): a plain
`probe --image IMAGE --json` starts before the CLI's parser loads (usecases/imageprobe.py);
no `docker`, no Facts model (the document is handed through: envlock.container.document;
envlock.container.parse only for a caller of Facts), each loaded, and the probe's package
built, while the daemon starts the container. On the local socket a probe makes the
requests `docker run -i` makes: inspect, create, attach (the probe's package to its
stdin, written from then on while the daemon starts the container, with the host's
bytecode for a python3 of its magic number, read in the container while its python3
imports the modules the probe needs: payload.PRELOAD; the output read as it comes),
start, wait, and removes the container itself (AutoRemove, the daemon's removal, was measured ~15 ms faster but
hung in "removing" behind a socket proxy when a flooding container was killed). Over
the SDK (remote daemons) the package travels in the command line, a logs call reads it.
"""

from __future__ import annotations

import _thread
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple, NoReturn, TypedDict, TypeVar

from envlock.container.createbody import probe_config
from envlock.container.engine import (
    GRACE_S,
    Engine,
    EngineError,
    EngineNotFound,
    EngineTimeout,
    EngineUnreachable,
    demux,
    member,
    open_engine,
    strings_of,
    text_of,
)
from envlock.container.options import GpuRequest, parse_gpus, parse_size
from envlock.container.pull import inspect_or_pull
from envlock.container.signals import KILLED, interruptible, uninterrupted
from envlock.errors import ContainerError, last_line
from envlock.payload import PackageLater, python_command, stdin_argv

if TYPE_CHECKING:
    from envlock.container.document import Document
    from envlock.container.transport import Attached, Object
    from envlock.facts import Facts

T = TypeVar("T")

LABEL = "org.envlock.probe"
DOCKER_DEFAULT_SHM_BYTES = 64 * 1024 * 1024
GPU_DRIVER_ERROR = "could not select device driver"


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
    options = _Options(gpus, pull, shm_size, torch_live, timeout)
    return _probing(reference, options, lambda run, output: run.facts(output))


def probe_image_document(
    reference: str,
    *,
    gpus: str | None = None,
    pull: bool = True,
    shm_size: str | None = None,
    torch_live: bool = True,
    timeout: float = 60.0,
) -> Document:
    """probe_image(...).to_dict(), without the Facts model where the probe's document can
    be handed through (envlock.container.document)."""
    options = _Options(gpus, pull, shm_size, torch_live, timeout, load_model=False)
    return _probing(reference, options, lambda run, output: run.document(output))


class _Options(NamedTuple):
    gpus: str | None
    pull: bool
    shm_size: str | None
    torch_live: bool
    timeout: float
    load_model: bool = True  # the Facts model loads while the daemon starts the container


def _probing(reference: str, options: _Options, finish: Callable[[_ImageRun, _Output], T]) -> T:
    request = parse_gpus(options.gpus) if options.gpus else None
    shm_bytes = parse_size(options.shm_size) if options.shm_size else None
    engine = open_engine(options.timeout)
    try:
        image = inspect_or_pull(engine, reference, pull=options.pull)
        run = _ImageRun(engine, reference, image, shm_bytes=shm_bytes, options=options)
        with interruptible():
            try:
                return finish(run, run.probe(request))
            finally:
                with uninterrupted():
                    run.remove_all()
    finally:
        engine.close()


class _ImageRun:
    """One probe of one image: creates containers, remembers them, removes them."""

    def __init__(
        self,
        engine: Engine,
        reference: str,
        image: Object,
        *,
        shm_bytes: int | None,
        options: _Options,
    ) -> None:
        self.engine = engine
        self.reference = reference
        self.image = image
        image_id = text_of(image, "Id")
        if not image_id:
            raise ContainerError(f"the Docker daemon's answer for image {reference} has no id")
        self.image_id = image_id
        self.shm_bytes = shm_bytes
        self.timeout = options.timeout
        self.torch_live = options.torch_live
        self.load_model = options.load_model
        self.created: list[str] = []
        self.removing: threading.Thread | None = None
        self.attach_refused = False  # the daemon answered attach with an error: argv from now on

    def probe(self, request: GpuRequest | None) -> _Output:
        """Runs the probe (the shell fallback where python3 cannot), checks how it ended,
        and starts the removal."""
        target = f"image:{self.reference}"
        python_cmd = self._python(
            target, torch_live=self.torch_live, with_pynvml=request is not None
        )
        gpu_error: str | None = None
        notes: list[str] = []
        mode = "python"
        try:
            running = self._start(python_cmd, request)
        except _GpuUnavailable as exc:
            gpu_error = exc.message
            request_text = request.text if request else ""
            notes.append(
                f"GPUs requested ({request_text}) but the daemon could not provide "
                f"them: {gpu_error}; probed without GPUs"
            )
            try:
                running = self._start(python_cmd, None)
            except _NoPython:
                mode, running = "shell", self._start(_shell_command(), None)
        except _NoPython:
            mode, running = "shell", self._start(_shell_command(), request)
        status, out, err = self._wait(running)
        why = "no python3 in the image"
        if mode == "python" and status != 0 and status not in KILLED:
            # An interpreter too old for the probe or a broken python3: the shell
            # fallback still observes the OS, libraries and packages.
            why = (
                "python3 is there but cannot run the probe "
                f"({last_line(err) or f'exit status {status}'})"
            )
            mode = "shell"
            running = self._start(_shell_command(), None if gpu_error else request)
            status, out, err = self._wait(running)
        self._check_status(status, err)
        self._remove_meanwhile()  # the daemon removes it while its output becomes Facts
        return _Output(mode, out, why, request.text if request else None, gpu_error, notes)

    def facts(self, output: _Output) -> Facts:
        from envlock.container import parse  # loaded while the first container started

        target = f"image:{self.reference}"
        if output.mode == "python":
            facts = parse.facts_from_json(output.out, f"image {self.reference}")
        else:
            facts = parse.facts_from_shell(output.out, target=target, why=output.why)
        image = parse.image_facts(self.reference, self.image, **self._image_options(output))
        withheld = parse.split_env(strings_of(member(self.image, "Config"), "Env"))[1]
        return parse.with_image(facts, image, output.notes, withheld)

    def document(self, output: _Output) -> Document:
        """facts(output).to_dict(), handed through without the Facts model where it can."""
        if output.mode == "python":
            from envlock.container.document import image_document, image_fields, split_env

            image = image_fields(self.reference, self.image, **self._image_options(output))
            withheld = split_env(strings_of(member(self.image, "Config"), "Env"))[1]
            doc = image_document(output.out, image, output.notes, withheld)
            if doc is not None:
                return doc
        return self.facts(output).to_dict()

    def _image_options(self, output: _Output) -> _ImageOptions:
        return {
            "kind": "image",
            "shm_size_bytes": self.shm_bytes or DOCKER_DEFAULT_SHM_BYTES,
            "gpus_requested": output.request_text,
            "gpu_request_error": output.gpu_error,
            "probe_mode": output.mode,
        }

    def _python(self, target: str, *, torch_live: bool, with_pynvml: bool) -> _Command:
        """The probe's command: on a local daemon its package goes to the container's stdin
        (a small command line: the daemon stores and passes on less), else in its argv."""

        def in_argv() -> _Command:
            return _Command(
                python_command(
                    target, torch_live=torch_live, timeout=self.timeout, with_pynvml=with_pynvml
                )
            )

        if self.engine.hijacks and not self.attach_refused:
            # the package is built while the daemon starts the container (_start_once)
            argv = stdin_argv(target, torch_live=torch_live, timeout=self.timeout)
            return _Command(argv, PackageLater(with_pynvml=with_pynvml), in_argv)
        return in_argv()

    def _start(self, command: _Command, request: GpuRequest | None) -> _Running:
        if self.attach_refused and command.in_argv is not None:
            command = command.in_argv()
        try:
            return self._start_once(command, request)
        except _AttachRefused as refused:
            # A Docker-compatible daemon that will not attach (an API subset): the probe's
            # package rides in its command line, as a remote daemon's does, in a new
            # container; the refused one is envlock's own and is removed now.
            self.attach_refused = True
            self.created.remove(refused.cid)
            try:
                self.engine.remove(refused.cid)
            except EngineError:
                self.created.append(refused.cid)  # remove_all tries again
            assert command.in_argv is not None
            return self._start_once(command.in_argv(), request)

    def _start_once(self, command: _Command, request: GpuRequest | None) -> _Running:
        config = probe_config(
            self.image_id,
            command.argv,
            attach=command.stdin is not None,
            shm_bytes=self.shm_bytes,
            request=request,
            labels={LABEL: "1"},
        )
        attached: Attached | None = None
        try:
            cid = self.engine.create(config, name=f"envlock-probe-{os.urandom(4).hex()}")
            self.created.append(cid)
            if command.stdin is not None:  # before the start, as `docker run -i` attaches
                attached = self._attach(cid, command)
            # The daemon takes ~0.3 s to start it: the probe's package is built and what
            # turns the output into Facts loads meanwhile (this thread waits on the socket,
            # the GIL free; before, they held it from the create's and attach's answers).
            if command.stdin is not None:
                command.stdin.start()
                if attached is not None:  # written while the daemon starts the container
                    attached.send_ahead(command.stdin, self.timeout + GRACE_S)
            loaded = _preload(model=self.load_model) if len(self.created) == 1 else None
            try:
                self.engine.start(cid)
            finally:
                if loaded is not None:
                    loaded()
        except BaseException as exc:
            if attached is not None:
                attached.close()
            if isinstance(exc, EngineError):
                self._start_failed(exc, command)
            raise
        return _Running(cid, attached, command.stdin)

    def _attach(self, cid: str, command: _Command) -> Attached | None:
        try:
            return self.engine.attach(cid)
        except (EngineUnreachable, EngineTimeout):
            raise
        except EngineError:
            if command.in_argv is None:
                raise
            raise _AttachRefused(cid) from None

    def _start_failed(self, exc: EngineError, command: _Command) -> NoReturn:
        if isinstance(exc, EngineUnreachable):
            raise ContainerError(f"Docker daemon failed during the probe: {exc.message}") from None
        if GPU_DRIVER_ERROR in exc.message:
            raise _GpuUnavailable(exc.message) from None
        if "executable file not found" in exc.message and command.argv[0] == "python3":
            raise _NoPython(exc.message) from None
        raise ContainerError(
            f"cannot start a container of {self.reference}: {exc.message}"
        ) from None

    def _wait(self, running: _Running) -> tuple[int, str, str]:
        limit = self.timeout + GRACE_S
        try:
            if running.attached is not None:
                return self._exchange(running, running.attached, limit)
            status = self.engine.wait(running.cid, timeout=limit)
            out = self.engine.logs(running.cid, stdout=True, stderr=False)
            err = b""
            if status != 0:
                err = self.engine.logs(running.cid, stdout=False, stderr=True)
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
        return status, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")

    def _exchange(
        self, running: _Running, attached: Attached, limit: float
    ) -> tuple[int, str, str]:
        """The probe's package to its stdin, its output read as it comes (no logs call)."""
        started = time.monotonic()
        try:
            raw = attached.exchange(running.stdin() if running.stdin else b"", limit)
        finally:
            attached.close()
        status = self.engine.wait(
            running.cid, timeout=max(limit - (time.monotonic() - started), 1.0)
        )
        streams: dict[int, list[bytes]] = {1: [], 2: []}
        for stream, payload in demux(raw):
            streams.setdefault(stream, []).append(payload)
        out, err = (b"".join(streams[n]).decode("utf-8", "replace") for n in (1, 2))
        return status, out, err

    def _check_status(self, status: int, err: str) -> None:
        if status in KILLED:
            raise ContainerError(
                f"the probe container of {self.reference} was killed mid-probe "
                f"(exit {status}: {KILLED[status]})"
            )
        if status != 0:
            raise ContainerError(
                f"the probe in {self.reference} failed (exit {status}): "
                f"{last_line(err) or 'no output'}"
            )

    def _remove_meanwhile(self) -> None:
        """The removal in a thread (it waits on the socket, the GIL free); the
        remove_all() that always follows waits for it."""
        self.removing = threading.Thread(
            target=self._remove_created, name="envlock-remove", daemon=True
        )
        self.removing.start()

    def remove_all(self) -> None:
        if self.removing is not None:
            self.removing.join()  # the engine's one connection serves one request at a time
            self.removing = None
        self._remove_created()

    def _remove_created(self) -> None:
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


def _preload(*, model: bool) -> Callable[[], None]:
    """What turns the probe's output into its result, imported in a thread (this one
    waits on the daemon, the GIL free): parse, the Facts model (~50 ms) and its decoder,
    or (`model` False) the document walk; the call returned waits for it. An import error
    is left to the import that needs the module. The thread is started as PackageLater's
    is, without waiting for it to run (threading's start() cost up to 5 ms)."""
    loaded = _thread.allocate_lock()
    loaded.acquire()

    def run() -> None:
        try:
            load()
        finally:
            loaded.release()

    def wait() -> None:
        with loaded:
            pass

    def load() -> None:
        try:
            if not model:
                import envlock.container.document  # noqa: F401

                return
            from envlock.container.parse import warm_decoder
        except Exception:  # raised again where it is imported for use
            return
        try:
            warm_decoder()
        except Exception:  # no msgspec: facts_from_json reads with the reference
            return

    _thread.start_new_thread(run, ())
    return wait


def _shell_command() -> _Command:
    # The fallback's script lives with its parser, loaded only when a fallback is needed.
    from envlock.container.parse import shell_command

    return _Command(shell_command())


class _Command(NamedTuple):
    """A container's command, and what gives its stdin (None: stdin closed);
    `in_argv`: the same probe with its package in the command line, for a daemon that
    refuses to attach."""

    argv: list[str]
    stdin: PackageLater | None = None
    in_argv: Callable[[], _Command] | None = None


class _AttachRefused(Exception):
    """The daemon answered the attach of the created container `cid` with an error."""

    def __init__(self, cid: str) -> None:
        super().__init__(cid)
        self.cid = cid


class _Running(NamedTuple):
    """A started container; `attached`: its stdin and output, for `stdin`."""

    cid: str
    attached: Attached | None
    stdin: PackageLater | None


class _Output(NamedTuple):
    """How a probe ended: mode (python, shell), output, why a shell, the GPUs asked for."""

    mode: str
    out: str
    why: str
    request_text: str | None
    gpu_error: str | None
    notes: list[str]


class _ImageOptions(TypedDict):
    """ImageFacts' fields that say how the image was probed."""

    kind: str
    shm_size_bytes: int | None
    gpus_requested: str | None
    gpu_request_error: str | None
    probe_mode: str


class _GpuUnavailable(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _NoPython(Exception):
    pass
