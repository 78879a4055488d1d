"""The Docker Engine API, as envlock uses it: two clients behind one small interface.

`LocalEngine` speaks the Engine API over the local unix socket with the
standard library alone (HTTP/1.1 over an AF_UNIX socket, in a few lines: even
http.client, with the email package under it, costs ~14 ms). It is the one `envlock
probe --image` uses in the common case (DOCKER_HOST unset or unix://): it
needs no `import docker` (requests, urllib3, charset_normalizer: about 80 ms,
more than a third of a bare `docker run`), so the probe container starts
while the rest of envlock is still loading. `SdkEngine` is the `docker` SDK
(`docker.from_env`): remote daemons (tcp://, TLS, ssh://), and what the local
client hands over to it: pulls (registry credentials from ~/.docker/config.json)
and `exec` in running containers.

Both raise the same errors: EngineNotFound (404), EngineError (any other API
error, with the daemon's message), EngineUnreachable (no daemon answers),
EngineTimeout (no answer within the limit). Only this module imports `docker`.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from envlock.errors import ContainerError

# Docker 20.10 (2020): DeviceRequests (--gpus) and everything else envlock sends.
API_VERSION = "1.41"
DEFAULT_HOST = "unix:///var/run/docker.sock"


class EngineError(Exception):
    """The daemon refused a request; `message` is its own explanation."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class EngineNotFound(EngineError):
    """No such image or container (HTTP 404)."""


class EngineUnreachable(EngineError):
    """No daemon answers at the configured address."""


class EngineTimeout(EngineError):
    """The daemon did not answer within the limit."""


class Engine(Protocol):
    """What envlock asks of a Docker daemon. Every method may raise EngineError."""

    host: str

    def inspect_image(self, reference: str) -> dict[str, Any]: ...
    def inspect_container(self, name: str) -> dict[str, Any]: ...
    def pull(self, reference: str, on_event: Callable[[dict[str, Any]], None]) -> None: ...
    def create(self, config: dict[str, Any], name: str) -> str: ...
    def start(self, cid: str) -> None: ...
    def wait(self, cid: str, timeout: float) -> int: ...
    def logs(self, cid: str, *, stdout: bool, stderr: bool) -> bytes: ...
    def remove(self, cid: str) -> None: ...
    def exec_run(self, cid: str, argv: list[str]) -> tuple[int, bytes, bytes]: ...
    def close(self) -> None: ...


def docker_host() -> str:
    return os.environ.get("DOCKER_HOST") or DEFAULT_HOST


def connect(timeout: float = 60.0) -> Engine:
    """The client for DOCKER_HOST: LocalEngine for a unix socket, the SDK otherwise.

    ENVLOCK_DOCKER_CLIENT=sdk forces the SDK (a way out should a daemon
    disagree with the local client)."""
    host = docker_host()
    if host.startswith("unix://") and os.environ.get("ENVLOCK_DOCKER_CLIENT") != "sdk":
        return LocalEngine(host, timeout=timeout)
    return SdkEngine(host, timeout=timeout)


# ---------------------------------------------------------------- local socket
class _Disconnected(Exception):
    """A kept-alive connection the daemon had closed: the request may be retried."""


# What a daemon may send: a status or header line, the number of headers, a whole body.
# A daemon that exceeds them (or drips bytes past the request's deadline) is not trusted.
MAX_LINE = 64 * 1024
MAX_HEADERS = 200
MAX_BODY = 256 * 1024 * 1024
MAX_LOGS = 32 * 1024 * 1024  # a probe prints ~100 KiB of facts; an image may print anything


class _UnixHTTP:
    """One HTTP/1.1 connection over a unix socket: requests in turn, responses read
    whole (Content-Length, chunked, or until close), the connection kept alive.
    Every request has one overall deadline, and every buffer a bound."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.sock: socket.socket | None = None
        self.buf = b""
        self.deadline = 0.0
        self.max_body = MAX_BODY

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buf = None, b""

    def request(
        self,
        method: str,
        target: str,
        body: bytes | None,
        timeout: float,
        max_body: int = MAX_BODY,
    ) -> tuple[int, bytes]:
        self.deadline = time.monotonic() + timeout
        self.max_body = max_body
        fresh = self.sock is None
        if self.sock is None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            try:
                sock.connect(self.path)
            except BaseException:
                sock.close()
                raise
            self.sock = sock
        self.sock.settimeout(timeout)
        head = f"{method} {target} HTTP/1.1\r\nHost: docker\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        elif method in ("POST", "PUT"):
            head += "Content-Length: 0\r\n"
        try:
            self.sock.sendall(head.encode("ascii") + b"\r\n" + (body or b""))
            status_line = self._line()
        except (BrokenPipeError, ConnectionResetError, _Disconnected):
            if fresh:
                raise ConnectionResetError("the daemon closed the connection") from None
            raise _Disconnected() from None
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise OSError(f"not an HTTP response from the daemon: {status_line[:60]!r}")
        try:
            return self._response(method, int(parts[1]))
        except _Disconnected:
            raise ConnectionResetError("the daemon closed the connection mid-response") from None

    def _response(self, method: str, status: int) -> tuple[int, bytes]:
        headers: dict[str, str] = {}
        while line := self._line():
            if len(headers) >= MAX_HEADERS:
                raise OSError(f"the daemon sent more than {MAX_HEADERS} header lines")
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            data = b""
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            chunks, total = [], 0
            while size := _length(self._line().split(b";", 1)[0].strip() or b"0", 16):
                total += size
                if total > self.max_body:
                    raise OSError(_too_large(self.max_body))
                chunks.append(self._exactly(size))
                self._line()  # the CRLF after each chunk
            while self._line():  # trailers, then the empty line
                pass
            data = b"".join(chunks)
        elif "content-length" in headers:
            data = self._exactly(_length(headers["content-length"].encode("latin-1"), 10))
            if len(data) > self.max_body:
                raise OSError(_too_large(self.max_body))
        else:  # delimited by the daemon closing the connection
            data = self.buf + self._until_close()
            self.close()
            return status, data
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, data

    def _recv(self) -> bytes:
        assert self.sock is not None
        left = self.deadline - time.monotonic()
        if left <= 0:  # a daemon that drips bytes does not extend the request's time
            raise TimeoutError()
        self.sock.settimeout(left)
        data = self.sock.recv(65536)
        if not data:
            raise _Disconnected()
        return data

    def _line(self) -> bytes:
        while (end := self.buf.find(b"\r\n")) < 0:
            if len(self.buf) > MAX_LINE:
                raise OSError(f"the daemon sent a line longer than {MAX_LINE} bytes")
            self.buf += self._recv()
        line, self.buf = self.buf[:end], self.buf[end + 2 :]
        return line

    def _exactly(self, n: int) -> bytes:
        while len(self.buf) < n:
            self.buf += self._recv()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def _until_close(self) -> bytes:
        chunks, total = [], len(self.buf)
        try:
            while data := self._recv():
                total += len(data)
                if total > self.max_body:
                    raise OSError(_too_large(self.max_body))
                chunks.append(data)
        except _Disconnected:
            pass
        self.buf = b""
        return b"".join(chunks)


class LocalEngine:
    """The Engine API over a unix socket, standard library only; one kept-alive connection."""

    def __init__(self, host: str = DEFAULT_HOST, *, timeout: float = 60.0) -> None:
        self.host = host
        self.path = host[len("unix://") :]
        self.timeout = timeout
        self._conn: _UnixHTTP | None = None
        self._sdk: SdkEngine | None = None

    # transport ------------------------------------------------------------
    def _request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        timeout: float | None = None,
        max_body: int = MAX_BODY,
    ) -> bytes:
        target = f"/v{API_VERSION}{path}"
        if query:
            target += "?" + "&".join(f"{_quote(k)}={_quote(v)}" for k, v in query.items())
        payload = json.dumps(body).encode() if body is not None else None
        limit = self.timeout if timeout is None else timeout
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = _UnixHTTP(self.path)
            try:
                status, data = self._conn.request(method, target, payload, limit, max_body)
                break
            except _Disconnected:
                # A kept-alive connection the daemon closed meanwhile: one fresh try.
                self._drop()
                if attempt == 2:
                    raise EngineUnreachable("the Docker daemon closed the connection") from None
            except TimeoutError:
                self._drop()
                raise EngineTimeout(
                    f"no answer from the Docker daemon within {limit:g} s"
                ) from None
            except FileNotFoundError:
                self._drop()
                raise EngineUnreachable("no daemon socket at that path") from None
            except ConnectionRefusedError:
                self._drop()
                raise EngineUnreachable("connection refused") from None
            except PermissionError:
                self._drop()
                raise EngineUnreachable("permission denied on the daemon socket") from None
            except (OSError, ValueError) as exc:
                self._drop()
                raise EngineUnreachable(str(exc) or type(exc).__name__) from None
            except BaseException:
                # Ctrl-C mid-request: the connection is mid-response; cleanup needs a new one.
                self._drop()
                raise
        if status >= 400:
            raise _api_error(status, data)
        return data

    def _json(self, method: str, path: str, **kw: Any) -> Any:
        data = self._request(method, path, **kw)
        try:
            return json.loads(data or b"null")
        except (ValueError, RecursionError):
            raise EngineError(
                f"the Docker daemon answered {method} {path} with something that is not JSON"
            ) from None

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _delegate(self) -> SdkEngine:
        if self._sdk is None:
            self._sdk = SdkEngine(self.host, timeout=self.timeout)
        return self._sdk

    # the API --------------------------------------------------------------
    def inspect_image(self, reference: str) -> dict[str, Any]:
        data: dict[str, Any] = self._json("GET", f"/images/{_quote(reference)}/json")
        return data

    def inspect_container(self, name: str) -> dict[str, Any]:
        data: dict[str, Any] = self._json("GET", f"/containers/{_quote(name)}/json")
        return data

    def pull(self, reference: str, on_event: Callable[[dict[str, Any]], None]) -> None:
        self._delegate().pull(reference, on_event)  # the SDK knows registry credentials

    def create(self, config: dict[str, Any], name: str) -> str:
        created = self._json("POST", "/containers/create", query={"name": name}, body=config)
        if not isinstance(created, dict) or not isinstance(created.get("Id"), str):
            raise EngineError("the Docker daemon created a container but sent no id")
        return str(created["Id"])

    def start(self, cid: str) -> None:
        self._request("POST", f"/containers/{cid}/start")

    def wait(self, cid: str, timeout: float) -> int:
        result = self._json("POST", f"/containers/{cid}/wait", timeout=timeout)
        code = result.get("StatusCode") if isinstance(result, dict) else None
        if not isinstance(code, int) or isinstance(code, bool):
            raise EngineError(f"the Docker daemon's wait answer has no exit status: {result!r:.80}")
        return code

    def logs(self, cid: str, *, stdout: bool, stderr: bool) -> bytes:
        raw = self._request(
            "GET",
            f"/containers/{cid}/logs",
            query={"stdout": str(int(stdout)), "stderr": str(int(stderr))},
            max_body=MAX_LOGS,
        )
        return b"".join(payload for _stream, payload in demux(raw))

    def remove(self, cid: str) -> None:
        self._request("DELETE", f"/containers/{cid}", query={"force": "1"})

    def exec_run(self, cid: str, argv: list[str]) -> tuple[int, bytes, bytes]:
        return self._delegate().exec_run(cid, argv)  # exec streams over a hijacked connection

    def close(self) -> None:
        self._drop()
        if self._sdk is not None:
            self._sdk.close()


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


_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/:@")


def _too_large(limit: int) -> str:
    return f"the daemon's answer is larger than {limit // (1024 * 1024)} MiB (envlock's limit)"


def _length(text: bytes, base: int) -> int:
    """A Content-Length or chunk size: digits only, never negative, within MAX_BODY."""
    digits = b"0123456789abcdefABCDEF" if base == 16 else b"0123456789"
    if not text or len(text) > 16 or any(c not in digits for c in text):
        raise OSError(f"the daemon sent a bad length {text[:20]!r}")
    n = int(text, base)
    if n > MAX_BODY:
        raise OSError("the daemon's answer is larger than envlock accepts")
    return n


def _quote(part: str) -> str:
    """Percent-encoding for a path segment or query value (urllib.parse.quote, safe="/:@")."""
    return "".join(c if c in _SAFE else "".join(f"%{b:02X}" for b in c.encode()) for c in part)


def _api_error(status: int, data: bytes) -> EngineError:
    try:
        message = str(json.loads(data).get("message") or "")
    except (ValueError, AttributeError):
        message = data.decode("utf-8", "replace").strip()
    message = message or f"HTTP {status}"
    cls = EngineNotFound if status == 404 else EngineError
    return cls(message, status)


# ------------------------------------------------------------------------ SDK
class SdkEngine:
    """The `docker` SDK's low-level client, errors mapped to EngineError."""

    def __init__(self, host: str, *, timeout: float = 60.0) -> None:
        self.host = host
        self.timeout = timeout
        with _sdk_errors():
            import docker

            # version="auto" asks the daemon which API it speaks: one request, and
            # the reason an unreachable daemon fails here rather than later.
            try:
                self.client = docker.from_env(version="auto", timeout=int(max(timeout, 1)))
            except (ValueError, TypeError) as exc:  # a malformed DOCKER_HOST (tcp://[::1, ...)
                from envlock.probe.envvars import mask_url_credentials

                raise EngineUnreachable(
                    f"DOCKER_HOST {mask_url_credentials(host)!r} is not a usable address: "
                    f"{_sdk_reason(exc)}"
                ) from None
        self.api: Any = self.client.api

    def inspect_image(self, reference: str) -> dict[str, Any]:
        with _sdk_errors():
            data: dict[str, Any] = self.api.inspect_image(reference)
        return data

    def inspect_container(self, name: str) -> dict[str, Any]:
        with _sdk_errors():
            data: dict[str, Any] = self.api.inspect_container(name)
        return data

    def pull(self, reference: str, on_event: Callable[[dict[str, Any]], None]) -> None:
        from docker.utils import parse_repository_tag

        repo, tag = parse_repository_tag(reference)
        with _sdk_errors():
            for event in self.api.pull(repo, tag=tag or "latest", stream=True, decode=True):
                on_event(event)

    def create(self, config: dict[str, Any], name: str) -> str:
        with _sdk_errors():
            created = self.api.create_container_from_config(config, name=name)
        return str(created["Id"])

    def start(self, cid: str) -> None:
        with _sdk_errors():
            self.api.start(cid)

    def wait(self, cid: str, timeout: float) -> int:
        with _sdk_errors(timeout):
            result = self.api.wait(cid, timeout=int(max(timeout, 1)))
        return int(result.get("StatusCode", -1))

    def logs(self, cid: str, *, stdout: bool, stderr: bool) -> bytes:
        with _sdk_errors():
            data: bytes = self.api.logs(cid, stdout=stdout, stderr=stderr)
        return data

    def remove(self, cid: str) -> None:
        with _sdk_errors():
            self.api.remove_container(cid, force=True)

    def exec_run(self, cid: str, argv: list[str]) -> tuple[int, bytes, bytes]:
        with _sdk_errors(self.timeout):
            ex = self.api.exec_create(cid, argv)
            out, err = self.api.exec_start(ex["Id"], demux=True)
            code = self.api.exec_inspect(ex["Id"]).get("ExitCode")
        return (int(code) if code is not None else -1), out or b"", err or b""

    def close(self) -> None:
        self.client.close()


class _sdk_errors:
    """docker/requests exceptions -> EngineError and its kinds."""

    def __init__(self, timeout: float | None = None) -> None:
        self.timeout = timeout

    def __enter__(self) -> None:
        return None

    def __exit__(self, typ: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is None or not isinstance(exc, Exception) or isinstance(exc, EngineError):
            return
        import docker
        import requests

        if isinstance(exc, requests.exceptions.ReadTimeout):
            limit = f" within {self.timeout:g} s" if self.timeout else ""
            raise EngineTimeout(f"no answer from the Docker daemon{limit}") from None
        if isinstance(exc, docker.errors.NotFound):
            raise EngineNotFound(_sdk_reason(exc), 404) from None
        if isinstance(exc, docker.errors.APIError):
            raise EngineError(_sdk_reason(exc), exc.status_code) from None
        if isinstance(exc, (docker.errors.DockerException, requests.exceptions.RequestException)):
            raise EngineUnreachable(_sdk_reason(exc)) from None


def _sdk_reason(exc: BaseException) -> str:
    """The last, most specific line of a docker/requests error chain."""
    import re

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
    return last_line(text, type(exc).__name__)


# ------------------------------------------------------------------ for a probe
# Seconds the daemon gets on top of the probe's own limit before we give up on it.
GRACE_S = 15.0


def open_engine(probe_timeout: float) -> Engine:
    """The client for DOCKER_HOST, its requests limited to the probe's time and GRACE_S;
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
