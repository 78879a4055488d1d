"""The tests' labelling proxy (tests/container/labelproxy.py) against a fake daemon socket:
it must end the daemon's side of a connection whose client went away.

Why: behind the proxy, `envlock probe --image` of an image that floods its output
(test_container_docker's flood test) left the daemon's removal of the killed container
hanging past envlock's 75 s limit in 4 of 6 runs in the shared working tree. The probe's
package goes to the container's stdin over the attach stream; that container never reads
it, so the proxy's forward thread stayed blocked sending it to the daemon after envlock
had closed the stream at its 32 MiB cap. The proxy's other thread ended (the client was
gone) and nothing closed the daemon's side: the daemon's stdout copy to that attach
stream, unread, blocked, and Docker finishes a killed container (and so removes it) only
once its output is copied. The docker CLI or envlock on the daemon's own socket close
that stream; a proxy must too. Whether it stuck depended on how much of the package the
socket buffers took before the container stalled, hence the flakiness.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import tempfile
import threading
from collections.abc import Iterator

import pytest

from tests.container.labelproxy import LabellingProxy

ATTACH = (
    b"POST /v1.41/containers/c0ffee/attach?stream=1&stdin=1&stdout=1 HTTP/1.1\r\n"
    b"Host: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
)
# A hang guard, never a measure: the fake daemon's side ends at once with the fix, never
# without it.
HANG_GUARD_S = 30.0


class FloodingDaemon:
    """One connection: reads the request head, then never reads again (a container that
    does not read its stdin) and writes output until the connection breaks."""

    def __init__(self, path: str) -> None:
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(path)
        self.server.listen(1)
        self.broken = threading.Event()
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        conn, _ = self.server.accept()
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                head += conn.recv(4096)
            conn.sendall(b"HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
            conn.settimeout(0.2)
            chunk = b"a" * 65536
            while not self.stop.is_set():
                try:
                    conn.send(chunk)
                except TimeoutError:  # the reader is slow, or gone and its side still open
                    continue
                except OSError:  # the proxy closed this side
                    self.broken.set()
                    return

    def close(self) -> None:
        self.stop.set()
        self.server.close()


@pytest.fixture
def proxied() -> Iterator[tuple[FloodingDaemon, LabellingProxy]]:
    where = tempfile.mkdtemp(prefix="envlock-test-proxy-")
    daemon = FloodingDaemon(os.path.join(where, "daemon.sock"))
    proxy = LabellingProxy(daemon.server.getsockname(), os.path.join(where, "proxy.sock"), {})
    try:
        yield daemon, proxy
    finally:
        proxy.close()
        daemon.close()
        for name in ("daemon.sock", "proxy.sock"):
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(where, name))
        os.rmdir(where)


def test_a_client_gone_mid_stream_ends_the_daemons_side(
    proxied: tuple[FloodingDaemon, LabellingProxy],
) -> None:
    daemon, proxy = proxied
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.connect(proxy.path)
    client.sendall(ATTACH)
    # stdin the daemon never reads: more than the sockets between here and it hold, as
    # envlock's probe package was for the flooding image
    client.setblocking(False)
    stdin, got = memoryview(b"p" * (8 << 20)), 0
    while stdin and got < (4 << 20):
        readable, writable, _ = select.select([client], [client], [], HANG_GUARD_S)
        assert readable or writable, "neither output nor room for stdin"
        if writable:
            with contextlib.suppress(BlockingIOError):
                stdin = stdin[client.send(stdin[:65536]) :]
        if readable:
            got += len(client.recv(65536))
    assert stdin, "the fake daemon took all of stdin: the proxy was never blocked on it"
    client.close()  # as envlock does at its output cap
    assert daemon.broken.wait(HANG_GUARD_S), "the proxy kept the daemon's side open"


def test_a_client_that_ends_its_stdin_still_gets_the_output(
    proxied: tuple[FloodingDaemon, LabellingProxy],
) -> None:
    """Ending stdin (a half close, as docker attach does) is passed on, not taken for the
    client going away: the output keeps coming."""
    _, proxy = proxied
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.connect(proxy.path)
        client.sendall(ATTACH)
        client.shutdown(socket.SHUT_WR)
        client.settimeout(HANG_GUARD_S)
        got = 0
        while got < (1 << 20):
            data = client.recv(65536)
            assert data, "the proxy ended the output when stdin ended"
            got += len(data)
