"""The Docker Engine API, as envlock uses it: the calls a probe makes, over either transport.

`Engine` makes the calls (inspect, create, attach, start, wait, logs, remove, exec, pull)
and checks every answer here, once, whichever transport carried it: the
standard-library one on the local socket (envlock.container.unix, what `envlock
probe --image` uses in the common case: DOCKER_HOST unset or unix://) or the
`docker` SDK's (envlock.container.sdk: remote daemons; ENVLOCK_DOCKER_CLIENT=sdk
forces it). Both are bounded the same way (envlock.container.transport).

Every call raises EngineNotFound (404), EngineError (any other API error, with the
daemon's message, or an answer that is not what the API promises),
EngineUnreachable (no daemon answers) or EngineTimeout (no answer in time).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from envlock.container.transport import (
    MAX_BODY,
    MAX_LOGS,
    EngineError,
    EngineNotFound,
    EngineTimeout,
    EngineUnreachable,
    Transport,
    quote,
)

if TYPE_CHECKING:
    from envlock.container.transport import Attached, Body, Object, OnEvent
from envlock.errors import ContainerError

__all__ = [
    "GRACE_S",
    "Engine",
    "EngineError",
    "EngineNotFound",
    "EngineTimeout",
    "EngineUnreachable",
    "connect",
    "demux",
    "docker_host",
    "open_engine",
    "unreachable",
]

DEFAULT_HOST = "unix:///var/run/docker.sock"


def docker_host() -> str:
    return os.environ.get("DOCKER_HOST") or DEFAULT_HOST


def connect(timeout: float = 60.0) -> Engine:
    """The Engine for DOCKER_HOST: the unix transport for a socket, the SDK's otherwise.

    ENVLOCK_DOCKER_CLIENT=sdk forces the SDK (a way out should a daemon
    disagree with the local client)."""
    host = docker_host()
    if host.startswith("unix://") and os.environ.get("ENVLOCK_DOCKER_CLIENT") != "sdk":
        from envlock.container.unix import UnixTransport

        return Engine(UnixTransport(host, timeout=timeout), timeout=timeout)
    from envlock.container.sdk import SdkTransport

    return Engine(SdkTransport(host, timeout=timeout), timeout=timeout)


class Engine:
    """The Engine API calls envlock makes, over `transport`; `timeout` is every request's
    limit but a container's wait (its own) and a pull's (per progress event)."""

    def __init__(self, transport: Transport, *, timeout: float = 60.0) -> None:
        self.transport = transport
        self.timeout = timeout

    @property
    def host(self) -> str:
        return self.transport.host

    @property
    def hijacks(self) -> bool:
        """Whether attach() gives a container's stdin (the local socket's transport)."""
        return self.transport.hijacks

    def inspect_image(self, reference: str) -> Object:
        return self._object("GET", f"/images/{quote(reference)}/json")

    def inspect_container(self, name: str) -> Object:
        return self._object("GET", f"/containers/{quote(name)}/json")

    def pull(self, reference: str, on_event: OnEvent) -> None:
        self.transport.pull(reference, on_event, idle_timeout=self.timeout)

    def create(self, config: Body, name: str) -> str:
        created = self._object("POST", "/containers/create", query={"name": name}, body=config)
        return _id_of(created, "container")

    def start(self, cid: str) -> None:
        self._request("POST", f"/containers/{quote(cid)}/start")

    def wait(self, cid: str, timeout: float) -> int:
        result = self._object("POST", f"/containers/{quote(cid)}/wait", timeout=timeout)
        return _exit_status(result, "StatusCode", "wait")

    def attach(self, cid: str) -> Attached | None:
        """The stdin and output of the created container `cid`, attached before it starts
        (as `docker run` attaches), the output bounded as logs; None over a transport that
        cannot hijack (the SDK's)."""
        status, data, stream = self.transport.attach(
            f"/containers/{quote(cid)}/attach",
            query={"stream": "1", "stdin": "1", "stdout": "1", "stderr": "1"},
            timeout=self.timeout,
            max_body=MAX_LOGS,
        )
        if stream is not None or status == 0:
            return stream
        if status >= 400:
            raise _api_error(status, data)
        raise EngineError(f"the Docker daemon did not attach to the container (HTTP {status})")

    def logs(self, cid: str, *, stdout: bool, stderr: bool) -> bytes:
        raw = self._request(
            "GET",
            f"/containers/{quote(cid)}/logs",
            query={"stdout": str(int(stdout)), "stderr": str(int(stderr))},
            max_body=MAX_LOGS,
        )
        return b"".join(payload for _stream, payload in demux(raw))

    def remove(self, cid: str) -> None:
        self._request("DELETE", f"/containers/{quote(cid)}", query={"force": "1"})

    def exec_run(self, cid: str, argv: list[str]) -> tuple[int, bytes, bytes]:
        """(exit status, stdout, stderr) of `argv` run in the running container `cid`."""
        created = self._object(
            "POST",
            f"/containers/{quote(cid)}/exec",
            body={"AttachStdout": True, "AttachStderr": True, "Cmd": argv},
        )
        eid = quote(_id_of(created, "exec"))
        # Without an Upgrade header the daemon answers 200 and streams the output (framed,
        # no TTY) until the command ends, then closes: a plain request, bounded as logs.
        raw = self._request(
            "POST", f"/exec/{eid}/start", body={"Detach": False, "Tty": False}, max_body=MAX_LOGS
        )
        streams: dict[int, list[bytes]] = {1: [], 2: []}
        for stream, payload in demux(raw):
            streams.setdefault(stream, []).append(payload)
        return self._exec_status(eid), b"".join(streams[1]), b"".join(streams[2])

    def _exec_status(self, eid: str) -> int:
        # The stream can end a moment before the daemon records the exit status.
        deadline = time.monotonic() + self.timeout
        while True:
            info = self._object("GET", f"/exec/{eid}/json")
            if not info.get("Running") or time.monotonic() > deadline:
                return _exit_status(info, "ExitCode", "exec inspect")
            time.sleep(0.02)

    def close(self) -> None:
        self.transport.close()

    # ------------------------------------------------------------------ answers
    def _request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        body: Body | None = None,
        timeout: float | None = None,
        max_body: int = MAX_BODY,
    ) -> bytes:
        status, data = self.transport.request(
            method,
            path,
            query=query,
            body=body,
            timeout=self.timeout if timeout is None else timeout,
            max_body=max_body,
        )
        if status >= 400:
            raise _api_error(status, data)
        return data

    def _object(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        body: Body | None = None,
        timeout: float | None = None,
    ) -> Object:
        data = self._request(method, path, query=query, body=body, timeout=timeout)
        try:
            answer = json.loads(data or b"null")
        except (ValueError, RecursionError):
            raise EngineError(
                f"the Docker daemon answered {method} {path} with something that is not JSON"
            ) from None
        if not isinstance(answer, dict):
            raise EngineError(
                f"the Docker daemon answered {method} {path} with {type(answer).__name__} JSON, "
                "not an object"
            )
        return answer


def member(answer: Object, key: str) -> Object:
    """answer[key] when it is a JSON object, else {} (absent, null or of another type)."""
    value = answer.get(key)
    return value if isinstance(value, dict) else {}


def text_of(answer: Object, key: str) -> str | None:
    """answer[key] when it is a string, else None."""
    value = answer.get(key)
    return value if isinstance(value, str) else None


def strings_of(answer: Object, key: str) -> list[str]:
    """The strings of the list answer[key] ([] when it is not a list)."""
    value = answer.get(key)
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _id_of(created: Object, what: str) -> str:
    cid = created.get("Id")
    if not isinstance(cid, str) or not cid:
        raise EngineError(f"the Docker daemon sent no id for the new {what}")
    return cid


def _exit_status(answer: Object, field: str, call: str) -> int:
    code = answer.get(field)
    if not isinstance(code, int) or isinstance(code, bool):
        raise EngineError(f"the Docker daemon's {call} answer has no exit status: {answer!r:.80}")
    return code


def _api_error(status: int, data: bytes) -> EngineError:
    try:
        message = str(json.loads(data).get("message") or "")
    except (ValueError, AttributeError, RecursionError):
        message = data.decode("utf-8", "replace").strip()
    message = message or f"HTTP {status}"
    cls = EngineNotFound if status == 404 else EngineError
    return cls(message, status)


def demux(raw: bytes) -> Iterator[tuple[int, bytes]]:
    """Frames of a non-TTY log stream: 8-byte header (stream 1/2, 3 zero bytes,
    big-endian length), then the payload. A TTY container's stream has no frames."""
    if raw[:1] not in (b"\x00", b"\x01", b"\x02") or raw[1:4] != b"\x00\x00\x00":
        yield 1, raw
        return
    pos = 0
    while pos + 8 <= len(raw):
        stream, size = raw[pos], int.from_bytes(raw[pos + 4 : pos + 8], "big")
        yield stream, raw[pos + 8 : pos + 8 + size]
        pos += 8 + size


# ------------------------------------------------------------------ for a probe
# Seconds the daemon gets on top of the probe's own limit before we give up on it.
GRACE_S = 15.0


def open_engine(probe_timeout: float) -> Engine:
    """The Engine for DOCKER_HOST, its requests limited to the probe's time and GRACE_S;
    a ContainerError (one line, the address's password masked) when no daemon answers."""
    try:
        return connect(probe_timeout + GRACE_S)
    except EngineError as exc:
        raise unreachable(exc) from None


def unreachable(exc: EngineError) -> ContainerError:
    from envlock.probe.envvars import mask_url_credentials

    where = mask_url_credentials(docker_host())
    return ContainerError(
        f"cannot reach the Docker daemon at {where}: {mask_url_credentials(exc.message)}"
    )
