"""The attach stream's stdin written ahead (container/unix.py send_ahead, as `docker run
-i` writes it before the start): all of it reaches the daemon's side, then stdin's end,
whatever its size and however slowly the other side reads; exchange() then only reads;
close() stops a writer the other side never reads from. A socket pair stands in for the
daemon's hijacked connection (the real daemon: test_package_overlap.py)."""

from __future__ import annotations

import _socket
import socket
import threading
import time

import pytest

from envlock.container import unix


def _attached() -> tuple[unix._Attached, socket.socket]:
    ours, theirs = socket.socketpair()
    conn = unix._UnixHTTP("/nonexistent")
    conn.sock = _socket.socket(fileno=ours.detach())
    conn.sock.settimeout(5)  # as a hijack leaves it
    return unix._Attached(conn), theirs


def _read_to_end(sock: socket.socket, timeout: float = 10) -> bytes:
    sock.settimeout(timeout)
    chunks = []
    while data := sock.recv(65536):
        chunks.append(data)
        time.sleep(0.001)  # a slow reader: the writer meets a full socket
    return b"".join(chunks)


@pytest.mark.parametrize("size", [0, 1, 3 << 20])
def test_stdin_sent_ahead_arrives_whole_then_ends(size: int) -> None:
    attached, daemon = _attached()
    payload = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    attached.send_ahead(lambda: payload, timeout=30)
    got = _read_to_end(daemon)  # stdin's end: an empty stdin is closed too
    assert got == payload
    daemon.sendall(b"output")
    daemon.shutdown(socket.SHUT_WR)
    assert attached.exchange(b"ignored: sent ahead", timeout=10) == b"output"
    attached.close()
    daemon.close()


@pytest.mark.parametrize("round_", range(10))
def test_close_stops_a_writer_nobody_reads(round_: int) -> None:
    """A shut-down unix socket whose buffer is full never selects as writable: the writer
    turns every 0.5 s, and close() used to wait for the lock that writer took again at
    each turn (for ever when it always won: 1 round in ~4 here)."""
    attached, daemon = _attached()
    attached.send_ahead(lambda: b"y" * (8 << 20), timeout=60)  # more than any buffer
    time.sleep(0.2)
    done = threading.Event()
    threading.Thread(target=lambda: (attached.close(), done.set()), daemon=True).start()
    assert done.wait(5), "close() waited for a writer blocked on a full socket"
    daemon.close()


def test_a_package_that_fails_leaves_the_error_to_the_caller() -> None:
    attached, daemon = _attached()

    def broken() -> bytes:
        raise OSError("a probe file vanished")

    attached.send_ahead(broken, timeout=30)  # nothing raised here, nothing written
    daemon.settimeout(0.3)
    with pytest.raises(socket.timeout):
        daemon.recv(1)
    attached.close()
    assert daemon.recv(1) == b""  # the close ends the stream
    daemon.close()
