"""What one `envlock probe --image` asks of a local daemon, counted by a recording proxy:
the requests `docker run` makes (create, attach, start, wait) and the image's inspect
and the container's removal, no logs call, and the probe's package on the container's
stdin rather than in its command line (which the daemon stores and passes on)."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Iterator

import pytest

from tests.conftest import clean_env, run_envlock
from tests.container.conftest import PY_IMAGE, envlock_socket
from tests.container.labelproxy import LabellingProxy

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("images")]


@pytest.fixture
def recorder() -> Iterator[LabellingProxy]:
    """A proxy in front of the session's (which labels this run's containers) that only
    records; a short path: a unix socket's is at most 107 bytes."""
    where = tempfile.mkdtemp(prefix="envlock-rec-")
    proxy = LabellingProxy(envlock_socket(), f"{where}/d.sock", {})
    try:
        yield proxy
    finally:
        proxy.close()
        shutil.rmtree(where, ignore_errors=True)


def _shape(request_line: bytes) -> str:
    """`POST /v1.41/containers/<id>/start?x=1 HTTP/1.1` -> `POST /containers/ID/start`."""
    method, target = request_line.decode().split(" ")[:2]
    path = re.sub(r"^/v[0-9.]+", "", target.split("?")[0])
    return f"{method} {re.sub(r'/containers/[0-9a-f]{64}', '/containers/ID', path)}"


def test_a_probe_is_six_requests_with_its_package_on_stdin(recorder: LabellingProxy) -> None:
    proc = run_envlock(
        ["probe", "--image", PY_IMAGE, "--json"],
        env=clean_env(DOCKER_HOST=f"unix://{recorder.path}"),
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["image"]["probe_mode"] == "python"
    assert [_shape(line) for line, _body in recorder.seen] == [
        f"GET /images/{PY_IMAGE}/json",
        "POST /containers/create",
        "POST /containers/ID/attach",
        "POST /containers/ID/start",
        "POST /containers/ID/wait",
        "DELETE /containers/ID",
    ]
    create = json.loads(recorder.seen[1][1])
    assert create["OpenStdin"] and create["StdinOnce"] and create["AttachStdin"]
    assert len(json.dumps(create["Cmd"])) < 8192  # the ~70 KiB package is not in it
    assert create["HostConfig"]["NetworkMode"] == "none"
    # and no network sandbox of the daemon's: the runtime's own empty network namespace
    # (~150 ms less of the container's start on this CI's daemon); loopback only, as before
    assert create["NetworkDisabled"] is True
    interfaces = json.loads(proc.stdout)["network"]["interfaces"]
    assert [i["name"] for i in interfaces] == ["lo"], interfaces


def test_a_daemon_that_refuses_attach_gets_the_package_in_the_command_line() -> None:
    """A Docker-compatible daemon without attach (an API subset): the refused container
    is removed and the probe runs again with its package in the command line, read by a
    logs call, as over a remote daemon; the same facts, one clear run, no error."""
    where = tempfile.mkdtemp(prefix="envlock-rec-")
    proxy = LabellingProxy(envlock_socket(), f"{where}/d.sock", {}, refuse=re.compile(rb"/attach"))
    try:
        proc = run_envlock(
            ["probe", "--image", PY_IMAGE, "--json"],
            env=clean_env(DOCKER_HOST=f"unix://{proxy.path}"),
        )
    finally:
        proxy.close()
        shutil.rmtree(where, ignore_errors=True)
    assert proc.returncode == 0, proc.stderr
    facts = json.loads(proc.stdout)
    assert facts["image"]["probe_mode"] == "python"
    assert facts["system"]["python"]["executable"] == "/usr/bin/python3"
    assert facts["system"]["os"]["id"] == "debian"
    shapes = [_shape(line) for line, _body in proxy.seen]
    assert shapes == [
        f"GET /images/{PY_IMAGE}/json",
        "POST /containers/create",
        "POST /containers/ID/attach",
        "DELETE /containers/ID",
        "POST /containers/create",
        "POST /containers/ID/start",
        "POST /containers/ID/wait",
        "GET /containers/ID/logs",
        "DELETE /containers/ID",
    ]
    refused, retried = proxy.seen[3][0], proxy.seen[8][0]
    assert refused != retried  # both containers envlock created were removed
    assert len(json.dumps(json.loads(proxy.seen[4][1])["Cmd"])) > 8192  # the package in argv
