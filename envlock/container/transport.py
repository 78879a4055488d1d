"""The bounded interface to a Docker daemon: what a transport promises, its errors, its limits.

Two transports implement it: `UnixTransport` (envlock.container.unix: HTTP/1.1 on
the local socket with the standard library alone, the fast path) and
`SdkTransport` (envlock.container.sdk: the `docker` SDK's session, for remote
daemons: tcp://, TLS, ssh://). `envlock.container.engine.Engine` makes the Engine
API calls over either, and checks every answer once, there. A daemon is not
trusted: every request ends within its time limit and reads a bounded answer, or
raises one of the errors below; one fake-daemon suite holds both transports to it
(tests/container/test_engine_hostile.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

# Docker 20.10 (2020): DeviceRequests (--gpus) and everything else envlock sends.
API_VERSION = "1.41"

# What a daemon may send: a status or header line, the number of headers, a whole body.
MAX_LINE = 64 * 1024
MAX_HEADERS = 200
MAX_BODY = 256 * 1024 * 1024
MAX_LOGS = 32 * 1024 * 1024  # a probe prints ~100 KiB of facts; an image may print anything


# The Engine API speaks JSON: envlock sends a Body (a TypedDict of image.py's or a small
# literal) and reads Objects, whose values are checked where they are read (engine.py).
Body = Mapping[str, object]
Object = dict[str, object]
OnEvent = Callable[[Object], None]  # one progress event of a pull


class EngineError(Exception):
    """The daemon refused a request; `message` is its own explanation."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class EngineNotFound(EngineError):
    """No such image or container (HTTP 404)."""


class EngineUnreachable(EngineError):
    """No daemon answers at the configured address, or not as HTTP within the limits."""


class EngineTimeout(EngineError):
    """The daemon did not answer within the limit."""


class Attached(Protocol):
    """A container's attached stdin and output on a hijacked connection of its own."""

    def send_ahead(self, stdin: Callable[[], bytes], timeout: float) -> None:
        """Starts writing stdin() to the container, then closing its stdin, before it
        starts (as `docker run -i` does), within `timeout` seconds; exchange() then only
        reads. Whatever stops the writing (stdin() raising, the connection failing) ends
        it quietly: the caller's own stdin() and exchange() say why."""
        ...

    def exchange(self, stdin: bytes, timeout: float) -> bytes:
        """Writes `stdin` to the container (unless send_ahead() writes it), then closes its
        stdin, while reading its output until the daemon ends the stream (the container
        exited): at most the attach's `max_body` bytes, within `timeout` seconds. A
        container that stops reading its stdin (it exited) gets no more of it: its status
        and output say why."""
        ...

    def close(self) -> None: ...


class Transport(Protocol):
    """One way to a daemon, bounded: a request ends within `timeout` seconds of its start
    (however slowly the daemon drips its answer) and reads at most `max_body` bytes of
    answer (lines and headers within MAX_LINE and MAX_HEADERS), else it raises
    EngineTimeout or EngineUnreachable. A pull waits at most `idle_timeout` seconds for
    each event (a pull may rightly take longer than any fixed limit)."""

    host: str
    hijacks: bool  # whether attach() can hijack a connection (the container's stdin)

    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        body: Body | None = None,
        timeout: float,
        max_body: int = MAX_BODY,
    ) -> tuple[int, bytes]:
        """(HTTP status, body) of `method path` (path without the /vX.Y prefix)."""
        ...

    def attach(
        self, path: str, *, query: dict[str, str], timeout: float, max_body: int
    ) -> tuple[int, bytes, Attached | None]:
        """`POST path` hijacked: (101 or 200, b"", the stream), or (an error status, its
        body, None). One that cannot hijack (`hijacks` False) answers (0, b"", None)."""
        ...

    def pull(self, reference: str, on_event: OnEvent, *, idle_timeout: float) -> None: ...

    def close(self) -> None: ...


def timeout_error(limit: float) -> EngineTimeout:
    return EngineTimeout(f"no answer from the Docker daemon within {limit:g} s")


def too_large(limit: int) -> str:
    return f"the daemon's answer is larger than {limit // (1024 * 1024)} MiB (envlock's limit)"


def check_length(text: bytes, base: int) -> int:
    """A Content-Length or chunk size: digits only, never negative, within MAX_BODY."""
    digits = b"0123456789abcdefABCDEF" if base == 16 else b"0123456789"
    if not text or len(text) > 16 or any(c not in digits for c in text):
        raise OSError(f"the daemon sent a bad length {text[:20]!r}")
    n = int(text, base)
    if n > MAX_BODY:
        raise OSError("the daemon's answer is larger than envlock accepts")
    return n


_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/:@")


def quote(part: str) -> str:
    """Percent-encoding for a path segment or query value (urllib.parse.quote, safe="/:@")."""
    return "".join(c if c in _SAFE else "".join(f"%{b:02X}" for b in c.encode()) for c in part)
