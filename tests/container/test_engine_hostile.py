"""A daemon is not trusted: every malformed, endless or slow answer of a fake daemon (a
unix socket served by a thread here) ends in an EngineError within the request's time
limit and with bounded memory, through either client (the standard-library one and the
SDK's, which remote daemons use); through the CLI, in exit 3 with one line."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from envlock.container.engine import Engine, EngineError, EngineNotFound, demux
from envlock.container.sdk import SdkTransport
from envlock.container.unix import UnixTransport
from tests.conftest import clean_env, run_envlock

Behaviour = Callable[[socket.socket], None]


# What a daemon says to the SDK's version negotiation before the request under test.
def _version(api: str) -> bytes:
    return json.dumps({"ApiVersion": api, "Version": "20.10.24", "MinAPIVersion": "1.12"}).encode()


# Both clients: the standard-library transport (the local socket's) and the SDK's (remote
# daemons'; it reaches this fake through a unix socket as it would a tcp:// one).
CLIENTS = {"local": UnixTransport, "sdk": SdkTransport}


def client(kind: str, host: str) -> Engine:
    """The Engine over the transport `kind`, talking to the daemon at `host`."""
    return Engine(CLIENTS[kind](host, timeout=2.0), timeout=2.0)


def _read_request(conn: socket.socket) -> bytes:
    """The request line, headers and body (Content-Length) of one request."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            while len(body) < int(value.strip()):
                body += conn.recv(65536)
    return head


def _serve(
    path: Path, behave: Behaviour, *, api: str = "1.41", seen: list[bytes] | None = None
) -> Iterator[str]:
    """A fake daemon at `path`: /version answered (speaking `api`), every other request
    (its request line appended to `seen`) answered by `behave`."""
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
                head = _read_request(conn)
                request_line = head.split(b"\r\n", 1)[0]
                if b" /version " in request_line:
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        b"Connection: close\r\nContent-Length: %d\r\n\r\n%s"
                        % (len(_version(api)), _version(api))
                    )
                else:
                    if seen is not None:
                        seen.append(request_line)
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


def _drip_body(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
    for _ in range(200):  # one body byte every 50 ms, for 10 s: never the whole body
        conn.sendall(b" ")
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


def _endless_chunks(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"%x\r\n%s\r\n" % (65536, b"a" * 65536)
    for _ in range(5000):  # 320 MiB of log, in chunks, never the last one
        conn.sendall(chunk)


CASES: dict[str, tuple[Behaviour, str]] = {
    "drips bytes": (_drip, "no answer"),
    "drips the body": (_drip_body, "no answer"),
    "floods without a line end": (_flood, "longer than"),
    "endless headers": (_endless_headers, "header lines"),
    "negative content-length": (_answer(b"{}", length=b"-5"), "bad length"),
    "huge content-length": (_answer(b"{}", length=b"99999999999999"), "larger than"),
    "not json": (_answer(b"<html>hello</html>"), "not JSON"),
}


@pytest.mark.parametrize("kind", list(CLIENTS))
@pytest.mark.parametrize("case", list(CASES))
def test_a_hostile_daemon_is_one_error_in_time(tmp_path: Path, case: str, kind: str) -> None:
    behave, fragment = CASES[case]
    for host in _serve(tmp_path / "d.sock", behave):
        engine = client(kind, host)
        started = time.monotonic()
        with pytest.raises(EngineError) as err:
            engine.inspect_image("python:3.11")
        assert time.monotonic() - started < 8
        assert fragment in str(err.value), str(err.value)
        engine.close()


@pytest.mark.parametrize("kind", list(CLIENTS))
def test_a_container_log_over_the_limit_is_an_error_not_a_memory_hog(
    tmp_path: Path, kind: str
) -> None:
    for host in _serve(tmp_path / "d.sock", _endless_chunks):
        engine = client(kind, host)
        with pytest.raises(EngineError, match="larger than"):
            engine.logs("abc", stdout=True, stderr=False)
        engine.close()


def _drip_chunks(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    for _ in range(200):  # one byte of progress every 50 ms, for 10 s: never a whole event
        conn.sendall(b"1\r\n{\r\n")
        time.sleep(0.05)


PULLS: dict[str, tuple[Behaviour, str]] = {
    "an endless line": (_endless_chunks, "longer than"),
    "drips an event": (_drip_chunks, "no answer"),
    "not json": (_answer(b"<html>hello</html>\n"), "not JSON"),
}


@pytest.mark.parametrize("kind", list(CLIENTS))
@pytest.mark.parametrize("case", list(PULLS))
def test_a_hostile_pull_stream_is_one_error_in_time(tmp_path: Path, case: str, kind: str) -> None:
    """A pull has no overall limit (big images take minutes), but each event has one, and
    each event is a bounded line of JSON."""
    behave, fragment = PULLS[case]
    for host in _serve(tmp_path / "d.sock", behave):
        engine = client(kind, host)
        events: list[dict[str, object]] = []
        started = time.monotonic()
        with pytest.raises(EngineError) as err:
            engine.pull("python:3.11", events.append)
        assert time.monotonic() - started < 8
        assert fragment in str(err.value), str(err.value)
        engine.close()


@pytest.mark.parametrize("kind", list(CLIENTS))
@pytest.mark.parametrize(
    ("body", "call"),
    [
        (b"{}", "create"),
        (b'{"Id": 5}', "create"),
        (b'{"Error": null}', "wait"),
        (b'{"StatusCode": "zero"}', "wait"),
        (b"[]", "wait"),
        (b"{}", "exec"),
        (b"[]", "exec"),
        (b"[]", "inspect"),
        (b'"an image"', "inspect"),
    ],
)
def test_odd_but_valid_json_answers_are_errors(
    tmp_path: Path, body: bytes, call: str, kind: str
) -> None:
    for host in _serve(tmp_path / "d.sock", _answer(body)):
        engine = client(kind, host)
        with pytest.raises(EngineError):
            if call == "create":
                engine.create({"Image": "x"}, name="envlock-test-hostile")
            elif call == "wait":
                engine.wait("abc", timeout=2.0)
            elif call == "inspect":
                engine.inspect_image("python:3.11")
            else:
                engine.exec_run("abc", ["true"])
        engine.close()


def test_the_sdk_client_speaks_the_daemons_api_version(tmp_path: Path) -> None:
    """What the SDK's version="auto" did: a daemon that speaks 1.44 (one whose minimum
    is above 1.41, as newer engines' is) is asked in 1.44, by envlock's calls and the
    SDK's own (a pull)."""
    seen: list[bytes] = []
    answer = _answer(b'{"Id": "sha256:abc"}\n')
    for host in _serve(tmp_path / "d.sock", answer, api="1.44", seen=seen):
        engine = client("sdk", host)
        assert engine.inspect_image("python:3.11")["Id"] == "sha256:abc"
        engine.pull("python:3.11", lambda event: None)
        engine.close()
    assert [line.split(b" ")[1].split(b"?")[0] for line in seen] == [
        b"/v1.44/images/python:3.11/json",
        b"/v1.44/images/create",
    ]


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


def _attach_then(behave: Behaviour) -> Behaviour:
    def send(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
        behave(conn)

    return send


def _frame(stream: int, payload: bytes) -> bytes:
    return bytes([stream, 0, 0, 0]) + len(payload).to_bytes(4, "big") + payload


def _prints_then_reads(conn: socket.socket) -> None:
    """A container that prints 2 MiB before it reads its stdin, then says how much it read."""
    for _ in range(32):
        conn.sendall(_frame(1, b"o" * 65536))
    got = 0
    while data := conn.recv(65536):
        got += len(data)
    conn.sendall(_frame(2, b"read %d\n" % got))


def test_attach_reads_the_output_while_it_writes_stdin(tmp_path: Path) -> None:
    for host in _serve(tmp_path / "d.sock", _attach_then(_prints_then_reads)):
        engine = client("local", host)
        attached = engine.attach("abc")
        assert attached is not None
        started = time.monotonic()
        raw = attached.exchange(b"i" * (4 << 20), timeout=5.0)
        assert time.monotonic() - started < 5
        attached.close()
        engine.close()
    frames = list(demux(raw))
    assert sum(len(p) for s, p in frames if s == 1) == 32 * 65536
    assert frames[-1] == (2, b"read %d\n" % (4 << 20))


ATTACHES: dict[str, tuple[Behaviour, str]] = {
    "drips the stream": (_attach_then(_drip_body), "no answer"),
    "floods the stream": (_attach_then(_flood), "larger than"),
}


@pytest.mark.parametrize("case", list(ATTACHES))
def test_a_hostile_attach_stream_is_one_error_in_time(tmp_path: Path, case: str) -> None:
    behave, fragment = ATTACHES[case]
    for host in _serve(tmp_path / "d.sock", behave):
        engine = client("local", host)
        attached = engine.attach("abc")
        assert attached is not None
        started = time.monotonic()
        with pytest.raises(EngineError) as err:
            attached.exchange(b"stdin", timeout=2.0)
        assert time.monotonic() - started < 8
        assert fragment in str(err.value), str(err.value)
        attached.close()
        engine.close()


def test_an_attach_the_daemon_refuses_is_its_error(tmp_path: Path) -> None:
    def missing(conn: socket.socket) -> None:
        body = b'{"message": "No such container: abc"}'
        conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))

    for host in _serve(tmp_path / "d.sock", missing):
        engine = client("local", host)
        with pytest.raises(EngineNotFound, match="No such container"):
            engine.attach("abc")
        engine.close()
