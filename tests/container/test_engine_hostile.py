"""A daemon is not trusted: every malformed, endless or slow answer of a fake daemon (a
unix socket served by a thread here) ends in an EngineError within the request's time
limit and with bounded memory; through the CLI, in exit 3 with one line."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from envlock.container.engine import EngineError, LocalEngine
from tests.conftest import clean_env, run_envlock

Behaviour = Callable[[socket.socket], None]


def _serve(path: Path, behave: Behaviour) -> Iterator[str]:
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(4)
    stop = threading.Event()

    def loop() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            conn.settimeout(10)
            try:
                conn.recv(65536)  # the request
                behave(conn)
            except OSError:
                pass
            finally:
                conn.close()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield f"unix://{path}"
    finally:
        stop.set()
        thread.join(5)
        server.close()


def _drip(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    for _ in range(200):  # one header byte every 50 ms, for 10 s: never a whole answer
        conn.sendall(b"X")
        time.sleep(0.05)


def _flood(conn: socket.socket) -> None:
    chunk = b"A" * 65536
    for _ in range(2000):  # 128 MiB without a line end
        conn.sendall(chunk)


def _endless_headers(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    for i in range(100_000):
        conn.sendall(b"X-%d: y\r\n" % i)


def _answer(body: bytes, *, length: bytes | None = None) -> Behaviour:
    def send(conn: socket.socket) -> None:
        n = length if length is not None else str(len(body)).encode()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: " + n + b"\r\n\r\n" + body)

    return send


CASES: dict[str, tuple[Behaviour, str]] = {
    "drips bytes": (_drip, "no answer"),
    "floods without a line end": (_flood, "longer than"),
    "endless headers": (_endless_headers, "header lines"),
    "negative content-length": (_answer(b"{}", length=b"-5"), "bad length"),
    "huge content-length": (_answer(b"{}", length=b"99999999999999"), "larger than"),
    "not json": (_answer(b"<html>hello</html>"), "not JSON"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_hostile_daemon_is_one_error_in_time(tmp_path: Path, case: str) -> None:
    behave, fragment = CASES[case]
    for host in _serve(tmp_path / "d.sock", behave):
        engine = LocalEngine(host, timeout=2.0)
        started = time.monotonic()
        with pytest.raises(EngineError) as err:
            engine.inspect_image("python:3.11")
        assert time.monotonic() - started < 8
        assert fragment in str(err.value), str(err.value)
        engine.close()


@pytest.mark.parametrize(
    ("body", "call"),
    [
        (b"{}", "create"),
        (b'{"Id": 5}', "create"),
        (b'{"Error": null}', "wait"),
        (b'{"StatusCode": "zero"}', "wait"),
        (b"[]", "wait"),
    ],
)
def test_odd_but_valid_json_answers_are_errors(tmp_path: Path, body: bytes, call: str) -> None:
    for host in _serve(tmp_path / "d.sock", _answer(body)):
        engine = LocalEngine(host, timeout=2.0)
        with pytest.raises(EngineError):
            if call == "create":
                engine.create({"Image": "x"}, name="envlock-test-hostile")
            else:
                engine.wait("abc", timeout=2.0)
        engine.close()


def test_through_the_cli_a_hostile_daemon_is_exit_3_one_line(tmp_path: Path) -> None:
    for host in _serve(tmp_path / "d.sock", _answer(b"not json at all")):
        proc = run_envlock(
            ["probe", "--image", "python:3.11", "--json", "--probe-timeout", "5"],
            env=clean_env(DOCKER_HOST=host),
            timeout=60,
        )
        assert proc.returncode == 3, (proc.returncode, proc.stderr)
        assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr


@pytest.mark.parametrize("host", ["tcp://[::1", "tcp://user:secret@[fe80::1:2375", "tcp://"])
def test_a_malformed_docker_host_is_exit_3_without_its_password(host: str) -> None:
    proc = run_envlock(["probe", "--image", "python:3.11"], env=clean_env(DOCKER_HOST=host))
    assert proc.returncode == 3, proc.stderr
    assert "secret" not in proc.stderr and "Traceback" not in proc.stderr
