"""The probe's package (~0.5 MB of sources and bytecode read from envlock's files) is built
in a thread while the daemon creates the container (payload.stdin_package_later): the
create request does not wait for it, and the package written is the one built."""

from __future__ import annotations

import threading

import pytest

from envlock import payload
from envlock.container import engine as engine_module
from envlock.container.image import probe_image_document
from tests.container.conftest import PY_IMAGE

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("images")]


def test_the_container_is_created_while_the_package_is_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    created = threading.Event()
    built: list[bytes] = []
    create, package = engine_module.Engine.create, payload.stdin_package

    def creating(self: engine_module.Engine, config: object, name: str) -> str:
        created.set()
        return create(self, config, name)  # type: ignore[arg-type]

    def building(*, with_pynvml: bool) -> bytes:
        # before the fix the package was built before the create request: never set
        assert created.wait(60), "the package was built before the container was created"
        built.append(package(with_pynvml=with_pynvml))
        return built[-1]

    monkeypatch.setattr(engine_module.Engine, "create", creating)
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
    later = payload.stdin_package_later(with_pynvml=False)
    with pytest.raises(OSError, match="vanished"):
        later()


def test_the_package_built_later_is_the_package() -> None:
    later = payload.stdin_package_later(with_pynvml=False)
    assert later() == payload.stdin_package(with_pynvml=False) == later()
