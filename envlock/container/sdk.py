"""The Engine API's transport through the `docker` SDK: remote daemons (tcp://, TLS,
ssh://, as `docker.from_env` reads DOCKER_HOST and its TLS settings), and pulls
(registry credentials from ~/.docker/config.json and its credential helpers).

The only module that imports `docker`. The SDK provides the connection; the
bounds are envlock's (envlock.container.transport): the SDK's timeout is per
socket read, so a daemon dripping one byte at a time would hold it forever, and
its answers are read whole. Here every call runs in a worker thread that the
caller waits for at most the request's time limit, answers are read as a stream
within `max_body`, and the daemon's HTTP errors (an endless line, too many
headers, a bad length) end as the same errors the unix transport raises.
"""

from __future__ import annotations

import json
import os
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from envlock import DISTRIBUTION
from envlock.container.transport import (
    API_VERSION,
    MAX_BODY,
    MAX_LINE,
    Attached,
    Body,
    EngineError,
    EngineNotFound,
    EngineUnreachable,
    Object,
    OnEvent,
    check_length,
    timeout_error,
    too_large,
)

T = TypeVar("T")


class SdkTransport:
    """The `docker` SDK's session to DOCKER_HOST (`host`), every call bounded."""

    # The SDK's hijacked sockets are read outside envlock's bounds (its timeout is per
    # read): a remote daemon's container gets its probe in the command line.
    hijacks = False

    def __init__(self, host: str, *, timeout: float = 60.0) -> None:
        self.host = host
        self.timeout = timeout
        self.version = API_VERSION
        self.api: Any = _bounded(lambda: _client(host, timeout, API_VERSION), timeout)
        # The API version the daemon speaks (what the SDK's version="auto" asks): one
        # request, and the reason an unreachable daemon fails here rather than later.
        status, data = self.request("GET", "/version", timeout=timeout, versioned=False)
        version = _json_field(data, "ApiVersion") if status == 200 else None
        if not isinstance(version, str) or not re.fullmatch(r"[0-9]{1,3}\.[0-9]{1,3}", version):
            raise EngineUnreachable(
                f"the Docker daemon's /version answer names no API version (HTTP {status})"
            )
        if version != self.version:  # the SDK's own calls (pull) speak it too
            self.api.close()
            self.api = _bounded(lambda: _client(host, timeout, version), timeout)
            self.version = version

    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        body: Body | None = None,
        timeout: float,
        max_body: int = MAX_BODY,
        versioned: bool = True,
    ) -> tuple[int, bytes]:
        prefix = f"/v{self.version}" if versioned else ""
        url = f"{self.api.base_url}{prefix}{path}"

        def call() -> tuple[int, bytes]:
            with _sdk_errors(timeout):
                resp = self.api.request(
                    method,
                    url,
                    params=query,
                    data=json.dumps(body) if body is not None else None,
                    headers={"Content-Type": "application/json"} if body is not None else None,
                    timeout=timeout,
                    stream=True,
                )
                try:
                    return resp.status_code, _read_body(resp, max_body)
                finally:
                    resp.close()

        return _bounded(call, timeout)

    def attach(
        self, path: str, *, query: dict[str, str], timeout: float, max_body: int
    ) -> tuple[int, bytes, Attached | None]:
        return 0, b"", None  # hijacks is False

    def pull(self, reference: str, on_event: OnEvent, *, idle_timeout: float) -> None:
        from docker.utils import parse_repository_tag

        repo, tag = parse_repository_tag(reference)

        def chunks() -> Iterator[bytes]:
            with _sdk_errors(idle_timeout):
                yield from self.api.pull(repo, tag=tag or "latest", stream=True, decode=False)

        # Events are JSON objects, one a line. A pull as a whole has no time limit (a big
        # image takes minutes); each event has one, however the daemon chunks its bytes.
        # (A single chunk is read whole by the SDK.)
        pending, last = b"", time.monotonic()
        for chunk in _streamed(chunks, idle_timeout):
            if isinstance(chunk, str):  # an answer that is not chunked comes back as text
                chunk = chunk.encode("utf-8", "surrogateescape")
            *lines, pending = (pending + chunk).split(b"\n")
            if len(pending) > MAX_LINE:
                raise EngineUnreachable(f"the daemon sent a line longer than {MAX_LINE} bytes")
            if lines:
                last = time.monotonic()
            elif time.monotonic() - last > idle_timeout:
                raise timeout_error(idle_timeout)
            for event in filter(None, map(_event, lines)):
                on_event(event)
        if last_event := _event(pending):
            on_event(last_event)

    def close(self) -> None:
        self.api.close()


# Only pulls and daemons not on a local socket need the SDK (requests, urllib3, ...: six
# distributions a training environment need not carry); the local socket needs none.
NO_SDK = (
    "pulling an image or reaching a daemon not on a local socket needs the docker SDK: "
    f"pip install '{DISTRIBUTION}[docker]' (or `docker pull` the image first)"
)


def _client(host: str, timeout: float, version: str) -> Any:
    """The SDK's low-level client for `host` (with the environment's TLS settings),
    speaking API `version` (made without a request)."""
    try:
        import docker
    except ImportError:  # a plain install: the SDK is an extra (issue 22 item 8)
        raise EngineUnreachable(NO_SDK) from None

    try:
        with _sdk_errors(timeout):  # the SDK's own refusals (a bad address) too
            client = docker.from_env(
                version=version,
                timeout=int(max(timeout, 1)),
                environment={**os.environ, "DOCKER_HOST": host},
            )
    except (ValueError, TypeError) as exc:  # a malformed DOCKER_HOST (tcp://[::1, ...)
        from envlock.probe.envvars import mask_url_credentials

        raise EngineUnreachable(
            f"DOCKER_HOST {mask_url_credentials(host)!r} is not a usable address: "
            f"{_sdk_reason(exc)}"
        ) from None
    return client.api


def _read_body(resp: Any, max_body: int) -> bytes:
    """The answer's body, at most `max_body` bytes (its Content-Length checked first)."""
    length = resp.headers.get("Content-Length")
    if length is not None and check_length(length.encode("latin-1"), 10) > max_body:
        raise OSError(too_large(max_body))
    chunks, total = [], 0
    for chunk in resp.iter_content(65536):
        total += len(chunk)
        if total > max_body:
            raise OSError(too_large(max_body))
        chunks.append(chunk)
    return b"".join(chunks)


def _json_field(data: bytes, name: str) -> object:
    try:
        answer = json.loads(data)
    except (ValueError, RecursionError):
        return None
    return answer.get(name) if isinstance(answer, dict) else None


def _event(line: bytes) -> Object | None:
    if not line.strip():
        return None
    try:
        event = json.loads(line)
    except (ValueError, RecursionError):
        raise EngineError("the Docker daemon's pull progress is not JSON") from None
    return event if isinstance(event, dict) else None


# ------------------------------------------------------------------ deadlines
def _bounded(work: Callable[[], T], timeout: float) -> T:
    """work() in a worker thread, waited for at most `timeout` seconds."""
    for item in _streamed(lambda: iter((work(),)), timeout, total=True):
        return item
    raise AssertionError("unreachable: the worker yields one result or raises")


def _streamed(
    produce: Callable[[], Iterator[T]], timeout: float, *, total: bool = False
) -> Iterator[T]:
    """The items of produce(), run in a daemon worker thread, each one waited for at most
    `timeout` seconds (`total`: all of them within `timeout`). On a timeout, Ctrl-C or
    an error the worker is left behind: it ends with its socket's own timeout."""
    box: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()

    def run() -> None:
        try:
            for item in produce():
                box.put(("item", item))
        except BaseException as exc:  # re-raised in the caller's thread
            box.put(("error", exc))
        else:
            box.put(("end", None))

    threading.Thread(target=run, name="envlock-docker-sdk", daemon=True).start()
    deadline = time.monotonic() + timeout
    while True:
        try:
            kind, value = box.get(timeout=max(deadline - time.monotonic(), 0) if total else timeout)
        except queue.Empty:
            raise timeout_error(timeout) from None
        if kind == "end":
            return
        if kind == "error":
            raise value
        yield value


# --------------------------------------------------------------------- errors
class _sdk_errors:
    """docker/requests exceptions (in the worker) -> EngineError and its kinds."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout

    def __enter__(self) -> None:
        return None

    def __exit__(self, typ: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is None or not isinstance(exc, Exception) or isinstance(exc, EngineError):
            return
        import docker
        import requests

        if isinstance(exc, requests.exceptions.ReadTimeout):
            raise timeout_error(self.timeout) from None
        if isinstance(exc, docker.errors.NotFound):
            raise EngineNotFound(_sdk_reason(exc), 404) from None
        if isinstance(exc, docker.errors.APIError):
            raise EngineError(_sdk_reason(exc), exc.status_code) from None
        if isinstance(
            exc, (docker.errors.DockerException, requests.exceptions.RequestException, OSError)
        ):
            raise EngineUnreachable(_sdk_reason(exc)) from None


# What http.client says of an answer over its limits, as the unix transport says it.
_HTTP_LIMITS = (
    (r"got more than (\d+) bytes when reading", r"the daemon sent a line longer than \1 bytes"),
    (r"got more than (\d+) headers", r"the daemon sent more than \1 header lines"),
)


def _sdk_reason(exc: BaseException) -> str:
    """The last, most specific line of a docker/requests error chain."""
    from envlock.errors import last_line

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
    for pattern, template in _HTTP_LIMITS:
        if m := re.search(pattern, text):
            return m.expand(template)
    return last_line(text, type(exc).__name__)
