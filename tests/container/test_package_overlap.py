"""The probe's package (~0.5 MB of sources and bytecode read from envlock's files) is built
in a thread while the daemon starts the container (payload.PackageLater, started by
container/image.py just before the start request, whose answer takes ~0.3 s): not before
the create request, and not beside the create's and attach's answers, when this thread
needs the GIL. The package written is the one built, once."""

from __future__ import annotations

import threading

import pytest

from envlock import payload
from envlock.container import engine as engine_module
from envlock.container import unix
from envlock.container.image import probe_image_document
from envlock.container.transport import Attached
from tests.container.conftest import PY_IMAGE

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("images")]


def test_the_package_is_built_while_the_container_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    attached = threading.Event()
    built: list[bytes] = []
    attach, package = engine_module.Engine.attach, payload.stdin_package

    def attaching(self: engine_module.Engine, cid: str) -> Attached | None:
        stream = attach(self, cid)
        attached.set()  # the start request follows at once
        return stream

    def building(*, with_pynvml: bool) -> bytes:
        # started once the container is created and attached, not before the create
        assert attached.is_set(), "the package was built before the container's start"
        built.append(package(with_pynvml=with_pynvml))
        return built[-1]

    monkeypatch.setattr(engine_module.Engine, "attach", attaching)
    monkeypatch.setattr(payload, "stdin_package", building)
    doc = probe_image_document(PY_IMAGE, torch_live=False)
    assert doc["image"]["probe_mode"] == "python"  # type: ignore[index]
    assert len(built) == 1


def test_a_package_that_cannot_be_built_fails_in_the_callers_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*, with_pynvml: bool) -> bytes:
        raise OSError("a probe file vanished")

    monkeypatch.setattr(payload, "stdin_package", broken)
    later = payload.PackageLater(with_pynvml=False)
    later.start()
    with pytest.raises(OSError, match="vanished"):
        later()


def test_the_package_built_later_is_the_package() -> None:
    later = payload.PackageLater(with_pynvml=False)
    assert later() == payload.stdin_package(with_pynvml=False) == later()  # built once


def test_the_package_reaches_the_daemon_before_the_start_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As `docker run -i` does: the daemon holds stdin for the process, whose first read
    then waits for nothing (it used to be written once the start was answered, and the
    probe's python3 waited ~10 ms for it). Each start here waits until stdin bytes were
    sent on the attach stream (10 s at most: never, before)."""
    sent = threading.Event()
    write_some, start = unix._write_some, engine_module.Engine.start
    starts: list[bool] = []

    def writing(sock: object, pending: memoryview) -> memoryview:
        if len(pending):
            sent.set()
        return write_some(sock, pending)  # type: ignore[arg-type]

    def starting(self: engine_module.Engine, cid: str) -> None:
        starts.append(sent.wait(10))
        start(self, cid)

    monkeypatch.setattr(unix, "_write_some", writing)
    monkeypatch.setattr(engine_module.Engine, "start", starting)
    doc = probe_image_document(PY_IMAGE, torch_live=False)
    assert doc["image"]["probe_mode"] == "python"  # type: ignore[index]
    assert starts == [True], "the probe's package was not on its way before the start"
