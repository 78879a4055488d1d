"""A labelling proxy: a unix socket in front of the Docker daemon that adds labels to
every container created through it, and passes everything else on unchanged.

The container tests point envlock at it (DOCKER_HOST), so each probe container the
CLI under test creates carries the test run's label, and the run counts and removes
exactly its own containers on a shared daemon, with nothing in envlock that knows
about test runs. Requests are read one by one (a create request's JSON body gets the
labels, its Content-Length is fixed); after a request that hijacks the connection
(an Upgrade, or a chunked body) bytes pass through untouched. Answers always pass
through untouched.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import threading

_CREATE = re.compile(rb"(/v[0-9.]+)?/containers/create(\?.*)?")
_MAX_HEAD = 1 << 20


def _pump(src: socket.socket, dst: socket.socket) -> None:
    """Bytes from src to dst until src ends, whose end is passed on (dst's write side shut:
    an attach client ending its stdin), or until either side fails: then both sockets are
    shut both ways, which also ends the other direction's thread, blocked on either. A
    client gone mid-stream must not leave the daemon's side open and unread: Docker
    finishes a killed container only once its output is copied to every attach stream,
    so its removal hung (test_labelproxy.py says how)."""
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        for end in (src, dst):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
        return
    with contextlib.suppress(OSError):
        dst.shutdown(socket.SHUT_WR)


class LabellingProxy:
    """Listens on `path`, forwards to the daemon socket `upstream`."""

    def __init__(
        self,
        upstream: str,
        path: str,
        labels: dict[str, str],
        *,
        refuse: re.Pattern[bytes] | None = None,
    ) -> None:
        self.upstream, self.path, self.labels = upstream, path, labels
        # requests whose request line matches are answered 404 here, never passed on (a
        # Docker-compatible daemon without that endpoint)
        self.refuse = refuse
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(path)
        self._server.listen(64)
        self._open: list[socket.socket] = []
        # (request line, body) of every request, in order: what a test counts
        self.seen: list[tuple[bytes, bytes]] = []
        self._closed = threading.Event()
        threading.Thread(target=self._accept, name="label-proxy", daemon=True).start()

    def close(self) -> None:
        self._closed.set()
        self._server.close()
        for s in list(self._open):
            with contextlib.suppress(OSError):
                s.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._connection, args=(client,), daemon=True).start()

    def _connection(self, client: socket.socket) -> None:
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._open += [client, upstream]
        try:
            upstream.connect(self.upstream)
            back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
            back.start()
            with contextlib.suppress(OSError):
                self._requests(client, upstream)
            with contextlib.suppress(OSError):
                upstream.shutdown(socket.SHUT_WR)
            back.join()
        except OSError:
            pass
        finally:
            for s in (client, upstream):
                s.close()
                with contextlib.suppress(ValueError):
                    self._open.remove(s)

    def _requests(self, client: socket.socket, upstream: socket.socket) -> None:
        buf = b""
        while True:
            while b"\r\n\r\n" not in buf:
                data = client.recv(65536)
                if not data:
                    return
                buf += data
                if len(buf) > _MAX_HEAD:  # not HTTP as we know it: pass it on as is
                    upstream.sendall(buf)
                    _pump(client, upstream)
                    return
            head, _, buf = buf.partition(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            fields = {
                name.strip().lower(): value.strip()
                for name, _, value in (line.partition(b":") for line in lines[1:])
            }
            if self.refuse is not None and self.refuse.search(lines[0]):
                self.seen.append((lines[0], b""))
                answer = b'{"message":"page not found"}'
                client.sendall(
                    b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(answer), answer)
                )
                continue
            if b"upgrade" in fields or b"chunked" in fields.get(b"transfer-encoding", b""):
                self.seen.append((lines[0], b""))
                upstream.sendall(head + b"\r\n\r\n" + buf)
                _pump(client, upstream)
                return
            size = int(fields.get(b"content-length", b"0"))
            while len(buf) < size:
                data = client.recv(65536)
                if not data:
                    return
                buf += data
            body, buf = buf[:size], buf[size:]
            self.seen.append((lines[0], body))
            method, target = [*lines[0].split(b" "), b"", b""][:2]
            if method == b"POST" and _CREATE.fullmatch(target) and body:
                body = self._labelled(body)
                lines = [
                    b"Content-Length: %d" % len(body)
                    if line.lower().startswith(b"content-length:")
                    else line
                    for line in lines
                ]
            upstream.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + body)

    def _labelled(self, body: bytes) -> bytes:
        config = json.loads(body)
        config["Labels"] = {**(config.get("Labels") or {}), **self.labels}
        return json.dumps(config).encode()
