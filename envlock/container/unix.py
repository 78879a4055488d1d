"""The Engine API's transport on the local unix socket, with the standard library alone.

HTTP/1.1 over an AF_UNIX socket in a few lines: even http.client, with the email
package under it, costs ~14 ms, and `import docker` (requests, urllib3,
charset_normalizer) about 80 ms, more than a third of a bare `docker run`. So
`envlock probe --image` starts its container while the rest of envlock is still
loading. One kept-alive connection; every request has one overall deadline and
every buffer a bound (envlock.container.transport). Pulls go to the SDK, which
knows the registry credentials in ~/.docker/config.json.
"""

from __future__ import annotations

import _socket  # socket's Python layer (its enums, selectors) costs ~3 ms of every probe
import _thread
import contextlib
import json
import select
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from envlock.container.transport import (
    API_VERSION,
    MAX_BODY,
    MAX_HEADERS,
    MAX_LINE,
    Attached,
    Body,
    EngineUnreachable,
    OnEvent,
    check_length,
    quote,
    timeout_error,
    too_large,
)

if TYPE_CHECKING:
    from envlock.container.sdk import SdkTransport

DEFAULT_HOST = "unix:///var/run/docker.sock"


class _Disconnected(Exception):
    """A kept-alive connection the daemon had closed: the request may be retried."""


class _UnixHTTP:
    """One HTTP/1.1 connection over a unix socket: requests in turn, responses read
    whole (Content-Length, chunked, or until close), the connection kept alive.
    Every request has one overall deadline, and every buffer a bound."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.sock: _socket.socket | None = None
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
        head = f"{method} {target} HTTP/1.1\r\nHost: docker\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        elif method in ("POST", "PUT"):
            head += "Content-Length: 0\r\n"
        status = self._send(head.encode("ascii") + b"\r\n" + (body or b""), timeout, max_body)
        try:
            return self._response(method, status)
        except _Disconnected:
            raise ConnectionResetError("the daemon closed the connection mid-response") from None

    def hijack(self, target: str, timeout: float, max_body: int) -> tuple[int, bytes]:
        """POST `target` with the upgrade the docker CLI asks for. On 101 (or 200, from a
        daemon that hijacks without saying so) the connection is the raw stream from then
        on (see _Attached); any other status is an answer read as `request` reads it."""
        head = (
            f"POST {target} HTTP/1.1\r\nHost: docker\r\nContent-Length: 0\r\n"
            "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
        )
        status = self._send(head.encode("ascii"), timeout, max_body)
        try:
            if status not in (101, 200):
                return self._response("POST", status)
            for _ in range(MAX_HEADERS + 1):
                if not self._line():
                    return status, b""
            raise OSError(f"the daemon sent more than {MAX_HEADERS} header lines")
        except _Disconnected:
            raise ConnectionResetError("the daemon closed the connection mid-response") from None

    def _send(self, request: bytes, timeout: float, max_body: int) -> int:
        """Sends `request` (on the kept-alive connection, or a new one) and reads the
        answer's status line: its status."""
        self.deadline = time.monotonic() + timeout
        self.max_body = max_body
        fresh = self.sock is None
        if self.sock is None:
            sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
            sock.settimeout(timeout)
            try:
                sock.connect(self.path)
            except BaseException:
                sock.close()
                raise
            self.sock = sock
        self.sock.settimeout(timeout)
        try:
            self.sock.sendall(request)
            status_line = self._line()
        except (BrokenPipeError, ConnectionResetError, _Disconnected):
            if fresh:
                raise ConnectionResetError("the daemon closed the connection") from None
            raise _Disconnected() from None
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise OSError(f"not an HTTP response from the daemon: {status_line[:60]!r}")
        return int(parts[1])

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
            data = self._chunks()
        elif "content-length" in headers:
            size = check_length(headers["content-length"].encode("latin-1"), 10)
            if size > self.max_body:
                raise OSError(too_large(self.max_body))
            data = self._exactly(size)
        else:  # delimited by the daemon closing the connection (a hijacked exec, too)
            data = self.buf + self._until_close()
            self.close()
            return status, data
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, data

    def _chunks(self) -> bytes:
        chunks, total = [], 0
        while size := check_length(self._line().split(b";", 1)[0].strip() or b"0", 16):
            total += size
            if total > self.max_body:
                raise OSError(too_large(self.max_body))
            chunks.append(self._exactly(size))
            self._line()  # the CRLF after each chunk
        while self._line():  # trailers, then the empty line
            pass
        return b"".join(chunks)

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
                    raise OSError(too_large(self.max_body))
                chunks.append(data)
        except _Disconnected:
            pass
        self.buf = b""
        return b"".join(chunks)


class _Attached:
    """A container's attach stream (envlock.container.transport.Attached) on its own
    hijacked connection: stdin written while the output is read, so a container that
    prints before it reads cannot leave both sides waiting, all within one deadline and
    the attach's `max_body`. send_ahead() writes stdin from a thread before the container
    starts, as `docker run -i` does: the daemon holds it for the process, whose first
    read then need not wait for the bytes to come through after the start (~10 ms)."""

    def __init__(self, conn: _UnixHTTP) -> None:
        self.conn = conn
        self._ahead: _Ahead | None = None

    def send_ahead(self, stdin: Callable[[], bytes], timeout: float) -> None:
        if self._ahead is None and self.conn.sock is not None:
            self._ahead = _Ahead(self.conn.sock, stdin, timeout)

    def exchange(self, stdin: bytes, timeout: float) -> bytes:
        try:
            return self._exchange(stdin, timeout)
        except BaseException as exc:
            self.close()
            _raise_engine_error(exc, timeout)
            raise

    def _exchange(self, stdin: bytes, timeout: float) -> bytes:
        conn, sock = self.conn, self.conn.sock
        assert sock is not None  # a hijacked connection, open until close()
        deadline = time.monotonic() + timeout
        pending = memoryview(b"" if self._ahead is not None else stdin)
        if not pending and self._ahead is None:
            _write_some(sock, pending)  # only closes stdin
        chunks, total = [conn.buf], len(conn.buf)
        conn.buf = b""
        sock.setblocking(False)
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:  # a daemon that drips bytes does not extend the limit
                    raise TimeoutError()
                readable, writable, _ = select.select([sock], [sock] if pending else [], [], left)
                if writable:
                    pending = _write_some(sock, pending)
                data = _read_some(sock) if readable else None
                if data == b"":
                    return b"".join(chunks)
                if data:
                    total += len(data)
                    if total > conn.max_body:
                        raise OSError(too_large(conn.max_body))
                    chunks.append(data)
        finally:
            sock.setblocking(True)

    def close(self) -> None:
        if self._ahead is not None:
            self._ahead.stop()  # before the socket closes: its number is not the thread's
        self.conn.close()


class _Ahead:
    """stdin() written to `sock` by a thread of its own (stdin() may wait for the probe's
    package to be built), its end closing the container's stdin; it stops at the first
    failure (an error building the package is raised again where the caller asks for
    it: image.py), at `timeout`, or at stop()."""

    def __init__(self, sock: _socket.socket, stdin: Callable[[], bytes], timeout: float) -> None:
        self.sock = sock
        self.stdin = stdin
        self.deadline = time.monotonic() + timeout
        self.stopped = False  # stop() says so, seen at the writer's next turn
        self.ended = _thread.allocate_lock()  # held while the thread runs
        self.ended.acquire()
        # not threading's start(), which waits for the thread to run (the caller's start
        # request then waited up to the 5 ms switch interval for the GIL)
        _thread.start_new_thread(self._run, ())

    def _run(self) -> None:
        try:
            self._write()
        finally:
            self.ended.release()

    def _write(self) -> None:
        try:
            pending = memoryview(self.stdin())
        except BaseException:  # the caller's own stdin() raises it again
            return
        while True:  # an empty stdin is closed too
            left = self.deadline - time.monotonic()
            if self.stopped or left <= 0:
                return
            try:
                _, writable, _ = select.select([], [self.sock], [], min(left, 0.5))
                if writable:
                    pending = _write_some(self.sock, pending)
                    if not pending:  # all written and stdin closed, or the reader gone
                        return
            except (OSError, ValueError):  # the connection failed: exchange() says so
                return

    def stop(self) -> None:
        """The thread ended before the socket may close: a send woken by the shutdown, a
        select at its next turn (a shut-down unix socket whose buffer is full never
        selects as writable; stop() used to wait for the lock the writer took again at
        every turn, for ever when it always won it)."""
        self.stopped = True
        with contextlib.suppress(OSError):
            self.sock.shutdown(_socket.SHUT_RDWR)
        with self.ended:  # the thread ended
            pass


def _write_some(sock: _socket.socket, pending: memoryview) -> memoryview:
    """Writes what the socket takes of `pending` (its end closes stdin); what is left.
    A container that stopped reading (it exited) gets nothing more."""
    try:
        sent = sock.send(pending[:65536]) if pending else 0
    except BlockingIOError:
        return pending
    except (BrokenPipeError, ConnectionResetError):
        return memoryview(b"")
    pending = pending[sent:]
    if not pending:  # all written (or nothing to write): the container's stdin ends
        with contextlib.suppress(OSError):  # the daemon closed already: the read side says so
            sock.shutdown(_socket.SHUT_WR)
    return pending


def _read_some(sock: _socket.socket) -> bytes | None:
    """What the socket has (b"" at its end), or None when it has nothing yet."""
    try:
        return sock.recv(65536)
    except BlockingIOError:
        return None
    except ConnectionResetError:
        return b""


# Why a request failed, for the ways a socket fails (checked in this order).
_UNREACHABLE: tuple[tuple[type[BaseException], str], ...] = (
    (FileNotFoundError, "no daemon socket at that path"),
    (ConnectionRefusedError, "connection refused"),
    (PermissionError, "permission denied on the daemon socket"),
)


def _raise_engine_error(exc: BaseException, timeout: float) -> None:
    """The EngineError for the ways a request on the socket fails; returns for others
    (Ctrl-C, a bug), which the caller raises as they are."""
    if isinstance(exc, TimeoutError):
        raise timeout_error(timeout) from None
    for kind, why in _UNREACHABLE:
        if isinstance(exc, kind):
            raise EngineUnreachable(why) from None
    if isinstance(exc, (OSError, ValueError)):
        raise EngineUnreachable(str(exc) or type(exc).__name__) from None


class UnixTransport:
    """The Engine API over a unix socket, standard library only; one kept-alive connection
    (and one of its own for each attach)."""

    hijacks = True

    def __init__(self, host: str = DEFAULT_HOST, *, timeout: float = 60.0) -> None:
        self.host = host
        self.path = host[len("unix://") :]
        self.timeout = timeout
        self._conn: _UnixHTTP | None = None
        self._sdk: SdkTransport | None = None

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
        target = f"/v{API_VERSION}{path}"
        if query:
            target += "?" + "&".join(f"{quote(k)}={quote(v)}" for k, v in query.items())
        payload = json.dumps(body).encode() if body is not None else None
        try:
            return self._send(method, target, payload, timeout, max_body)
        except BaseException as exc:
            # Whatever happened mid-request (Ctrl-C too), the connection is mid-response:
            # the next request (the cleanup's) needs a new one.
            self._drop()
            _raise_engine_error(exc, timeout)
            raise

    def attach(
        self, path: str, *, query: dict[str, str], timeout: float, max_body: int
    ) -> tuple[int, bytes, Attached | None]:
        target = f"/v{API_VERSION}{path}?" + "&".join(
            f"{quote(k)}={quote(v)}" for k, v in query.items()
        )
        conn = _UnixHTTP(self.path)  # hijacked: never the kept-alive connection
        try:
            status, body = conn.hijack(target, timeout, max_body)
        except BaseException as exc:
            conn.close()
            _raise_engine_error(exc, timeout)
            raise
        if status in (101, 200):
            return status, b"", _Attached(conn)
        conn.close()
        return status, body, None

    def _send(
        self, method: str, target: str, payload: bytes | None, timeout: float, max_body: int
    ) -> tuple[int, bytes]:
        if self._conn is not None:
            try:
                return self._conn.request(method, target, payload, timeout, max_body)
            except _Disconnected:
                # A kept-alive connection the daemon closed meanwhile: one fresh try.
                self._drop()
        self._conn = _UnixHTTP(self.path)
        try:
            return self._conn.request(method, target, payload, timeout, max_body)
        except _Disconnected:
            raise EngineUnreachable("the Docker daemon closed the connection") from None

    def pull(self, reference: str, on_event: OnEvent, *, idle_timeout: float) -> None:
        # the SDK knows registry credentials (~/.docker/config.json, credential helpers)
        if self._sdk is None:
            from envlock.container.sdk import SdkTransport

            self._sdk = SdkTransport(self.host, timeout=self.timeout)
        self._sdk.pull(reference, on_event, idle_timeout=idle_timeout)

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def close(self) -> None:
        self._drop()
        if self._sdk is not None:
            self._sdk.close()
