"""envlock.container.engine: the standard-library client on the local socket and the SDK client
agree, against the real Docker engine. The SDK is reached the way a remote daemon is:
DOCKER_HOST=tcp://127.0.0.1:PORT, through a loopback proxy to the engine's socket."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from envlock.container.engine import (
    Engine,
    EngineNotFound,
    EngineTimeout,
    EngineUnreachable,
    connect,
    demux,
)
from envlock.container.sdk import SdkTransport
from envlock.container.unix import UnixTransport
from envlock.facts import Facts
from tests.conftest import clean_env, run_envlock
from tests.container.conftest import PY_IMAGE, RUN_LABELS, docker, envlock_socket

SOCKET = "/var/run/docker.sock"


def local(host: str, timeout: float = 60.0) -> Engine:
    """The Engine over the standard-library transport (the local socket's client)."""
    return Engine(UnixTransport(host, timeout=timeout), timeout=timeout)


def sdk(host: str, timeout: float = 60.0) -> Engine:
    """The Engine over the SDK's transport (remote daemons' client)."""
    return Engine(SdkTransport(host, timeout=timeout), timeout=timeout)


@contextlib.contextmanager
def tcp_proxy_to(path: str) -> Iterator[str]:
    """tcp://127.0.0.1:PORT forwarding every connection to the unix socket `path`."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    stop = threading.Event()
    opened: list[socket.socket] = []

    def pump(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                client, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX)
            opened.extend((client, upstream))
            upstream.connect(path)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=pump, args=(a, b), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{port}"
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()
        for s in opened:
            s.close()


@pytest.fixture
def remote_host(engine: None) -> Iterator[str]:
    # through the session's labelling proxy: the containers made this way are this run's
    with tcp_proxy_to(envlock_socket()) as host:
        yield host


@pytest.mark.docker
def test_connect_picks_the_local_client_for_a_socket_and_the_sdk_otherwise(
    remote_host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    local_ = connect(10)
    assert isinstance(local_.transport, UnixTransport)
    monkeypatch.setenv("DOCKER_HOST", remote_host)
    remote = connect(10)
    assert isinstance(remote.transport, SdkTransport)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{SOCKET}")
    monkeypatch.setenv("ENVLOCK_DOCKER_CLIENT", "sdk")
    forced = connect(10)
    assert isinstance(forced.transport, SdkTransport)
    for e in (local_, remote, forced):
        e.close()


@pytest.mark.docker
def test_both_clients_see_the_same_image_and_the_same_errors(
    images: None, remote_host: str
) -> None:
    by_socket, by_sdk = local(f"unix://{SOCKET}", 30), sdk(remote_host, 30)
    try:
        expected = json.loads(docker("image", "inspect", PY_IMAGE))[0]["Id"]
        assert (
            by_socket.inspect_image(PY_IMAGE)["Id"]
            == by_sdk.inspect_image(PY_IMAGE)["Id"]
            == expected
        )
        for e in (by_socket, by_sdk):
            with pytest.raises(EngineNotFound):
                e.inspect_image("envlock-test/never-built:0")
            with pytest.raises(EngineNotFound):
                e.inspect_container("envlock-no-such-container")
    finally:
        by_socket.close()
        by_sdk.close()


@pytest.mark.docker
@pytest.mark.parametrize("client", ["local", "sdk"])
def test_a_container_lifecycle_through_each_client(
    images: None, remote_host: str, client: str
) -> None:
    """create, start, wait, logs (stdout and stderr apart), remove: what a probe does."""
    e = local(f"unix://{SOCKET}") if client == "local" else sdk(remote_host)
    image = e.inspect_image(PY_IMAGE)["Id"]
    config = {
        "Image": image,
        "Cmd": ["sh", "-c", "echo out-line; echo err-line >&2; exit 7"],
        "Entrypoint": [],
        "Labels": {"org.envlock.probe": "1"},
        "HostConfig": {"NetworkMode": "none", "CapDrop": ["ALL"]},
    }
    cid = e.create(config, name=f"envlock-engine-test-{client}-{os.getpid()}")
    try:
        e.start(cid)
        assert e.wait(cid, timeout=60) == 7
        assert e.logs(cid, stdout=True, stderr=False) == b"out-line\n"
        assert e.logs(cid, stdout=False, stderr=True) == b"err-line\n"
    finally:
        e.remove(cid)
        e.close()
    check = local(f"unix://{SOCKET}")
    with pytest.raises(EngineNotFound):
        check.inspect_container(cid)
    check.close()


@pytest.mark.docker
@pytest.mark.parametrize("client", ["local", "sdk"])
def test_exec_in_a_running_container_through_each_client(
    images: None, remote_host: str, client: str
) -> None:
    """exec: create, start (the output streamed, stdout and stderr apart), exit status."""
    name = f"envlock-engine-exec-{client}-{os.getpid()}"
    docker("run", *RUN_LABELS, "-d", "--network", "none", "--name", name, PY_IMAGE, "sleep", "300")
    e = local(f"unix://{SOCKET}") if client == "local" else sdk(remote_host)
    try:
        argv = ["sh", "-c", "echo out-line; echo err-line >&2; exit 3"]
        assert e.exec_run(name, argv) == (3, b"out-line\n", b"err-line\n")
        assert e.exec_run(name, ["true"]) == (0, b"", b"")
        assert e.exec_run(name, ["no-such-command"])[0] in (126, 127)
    finally:
        e.close()
        docker("rm", "-f", name, check=False)


@pytest.mark.docker
def test_probe_through_a_remote_daemon_gives_the_facts_of_the_local_socket(
    images: None, remote_host: str
) -> None:
    args = ["probe", "--image", PY_IMAGE, "--no-torch-live", "--json"]
    local = run_envlock(args)
    remote = run_envlock(args, env=clean_env(DOCKER_HOST=remote_host))
    assert local.returncode == 0, local.stderr
    assert remote.returncode == 0, remote.stderr
    a, b = Facts.from_json(local.stdout), Facts.from_json(remote.stdout)
    assert a.image is not None and b.image is not None
    assert a.image == b.image
    assert a.system.os == b.system.os and a.system.python == b.system.python
    assert a.packages == b.packages and a.env == b.env


def test_a_daemon_that_never_answers_is_a_timeout_not_a_hang(tmp_path: Path) -> None:
    path = str(tmp_path / "hung.sock")
    server = socket.socket(socket.AF_UNIX)
    server.bind(path)
    server.listen(1)  # accepts (the kernel queues the connection) and never replies
    try:
        started = time.monotonic()
        with pytest.raises(EngineTimeout, match=r"within 0\.5 s"):
            local(f"unix://{path}", 0.5).inspect_image(PY_IMAGE)
        assert time.monotonic() - started < 5
    finally:
        server.close()


def test_no_socket_and_a_refusing_socket_are_unreachable(tmp_path: Path) -> None:
    with pytest.raises(EngineUnreachable, match="no daemon socket"):
        local(f"unix://{tmp_path}/absent.sock").inspect_image(PY_IMAGE)
    path = tmp_path / "closed.sock"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.close()  # the file stays, nothing listens
    with pytest.raises(EngineUnreachable, match="connection refused"):
        local(f"unix://{path}").inspect_image(PY_IMAGE)


def test_demux_splits_a_recorded_log_stream() -> None:
    # Bytes as dockerd 20.10 sent them for `echo out-line; echo err-line >&2` (no TTY).
    raw = b"\x01\x00\x00\x00\x00\x00\x00\x09out-line\n\x02\x00\x00\x00\x00\x00\x00\x09err-line\n"
    assert list(demux(raw)) == [(1, b"out-line\n"), (2, b"err-line\n")]
    assert list(demux(b"tty output\n")) == [(1, b"tty output\n")]
    assert list(demux(b"")) == [(1, b"")]


@pytest.mark.docker
def test_attach_writes_stdin_while_it_reads_the_output(images: None) -> None:
    """What `probe --image` does on the local socket: attached before the start, the
    container's stdin gets 1 MiB (more than the socket and pipe buffers hold) while its
    output, stdout and stderr apart, is read until it exits; no logs call."""
    e = local(f"unix://{envlock_socket()}")
    assert e.hijacks
    config = {
        "Image": e.inspect_image(PY_IMAGE)["Id"],
        # prints before it reads: a client that wrote all of stdin first would wait forever
        "Cmd": ["sh", "-c", "head -c 300000 /dev/zero; wc -c; echo err-line >&2; exit 5"],
        "Entrypoint": [],
        "Labels": {"org.envlock.probe": "1"},
        "HostConfig": {"NetworkMode": "none", "CapDrop": ["ALL"]},
        "OpenStdin": True,
        "StdinOnce": True,
        "AttachStdin": True,
        "AttachStdout": True,
        "AttachStderr": True,
    }
    cid = e.create(config, name=f"envlock-engine-attach-{os.getpid()}")
    try:
        attached = e.attach(cid)
        assert attached is not None
        e.start(cid)
        try:
            raw = attached.exchange(b"x" * (1 << 20), timeout=60)
        finally:
            attached.close()
        assert e.wait(cid, timeout=60) == 5
    finally:
        e.remove(cid)
        e.close()
    streams: dict[int, bytes] = {1: b"", 2: b""}
    for stream, payload in demux(raw):
        streams[stream] += payload
    assert streams[1] == b"\0" * 300000 + b"1048576\n"
    assert streams[2] == b"err-line\n"


def test_the_sdk_client_does_not_hijack() -> None:
    """Remote daemons (the SDK's transport) get the probe in the command line: its
    hijacked sockets are not held to envlock's bounds."""
    assert SdkTransport.hijacks is False and UnixTransport.hijacks is True
