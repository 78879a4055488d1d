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
    EngineNotFound,
    EngineTimeout,
    EngineUnreachable,
    LocalEngine,
    SdkEngine,
    connect,
    demux,
)
from envlock.facts import Facts
from tests.conftest import clean_env, run_envlock
from tests.container.conftest import PY_IMAGE, docker, envlock_socket

SOCKET = "/var/run/docker.sock"


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
    local = connect(10)
    assert isinstance(local, LocalEngine)
    monkeypatch.setenv("DOCKER_HOST", remote_host)
    remote = connect(10)
    assert isinstance(remote, SdkEngine)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{SOCKET}")
    monkeypatch.setenv("ENVLOCK_DOCKER_CLIENT", "sdk")
    forced = connect(10)
    assert isinstance(forced, SdkEngine)
    for e in (local, remote, forced):
        e.close()


@pytest.mark.docker
def test_both_clients_see_the_same_image_and_the_same_errors(
    images: None, remote_host: str
) -> None:
    local, sdk = LocalEngine(f"unix://{SOCKET}", timeout=30), SdkEngine(remote_host, timeout=30)
    try:
        expected = json.loads(docker("image", "inspect", PY_IMAGE))[0]["Id"]
        assert local.inspect_image(PY_IMAGE)["Id"] == sdk.inspect_image(PY_IMAGE)["Id"] == expected
        for e in (local, sdk):
            with pytest.raises(EngineNotFound):
                e.inspect_image("envlock-test/never-built:0")
            with pytest.raises(EngineNotFound):
                e.inspect_container("envlock-no-such-container")
    finally:
        local.close()
        sdk.close()


@pytest.mark.docker
@pytest.mark.parametrize("client", ["local", "sdk"])
def test_a_container_lifecycle_through_each_client(
    images: None, remote_host: str, client: str
) -> None:
    """create, start, wait, logs (stdout and stderr apart), remove: what a probe does."""
    e = (
        LocalEngine(f"unix://{SOCKET}", timeout=60)
        if client == "local"
        else SdkEngine(remote_host, timeout=60)
    )
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
    check = LocalEngine(f"unix://{SOCKET}")
    with pytest.raises(EngineNotFound):
        check.inspect_container(cid)
    check.close()


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
            LocalEngine(f"unix://{path}", timeout=0.5).inspect_image(PY_IMAGE)
        assert time.monotonic() - started < 5
    finally:
        server.close()


def test_no_socket_and_a_refusing_socket_are_unreachable(tmp_path: Path) -> None:
    with pytest.raises(EngineUnreachable, match="no daemon socket"):
        LocalEngine(f"unix://{tmp_path}/absent.sock").inspect_image(PY_IMAGE)
    path = tmp_path / "closed.sock"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.close()  # the file stays, nothing listens
    with pytest.raises(EngineUnreachable, match="connection refused"):
        LocalEngine(f"unix://{path}").inspect_image(PY_IMAGE)


def test_demux_splits_a_recorded_log_stream() -> None:
    # Bytes as dockerd 20.10 sent them for `echo out-line; echo err-line >&2` (no TTY).
    raw = b"\x01\x00\x00\x00\x00\x00\x00\x09out-line\n\x02\x00\x00\x00\x00\x00\x00\x09err-line\n"
    assert list(demux(raw)) == [(1, b"out-line\n"), (2, b"err-line\n")]
    assert list(demux(b"tty output\n")) == [(1, b"tty output\n")]
    assert list(demux(b"")) == [(1, b"")]
