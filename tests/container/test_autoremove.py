"""A probe container runs with AutoRemove (as `docker run --rm`): the daemon removes it
when it exits, and envlock waits for that removal instead of asking for it. Where
envlock's own removal (Ctrl-C, a failure) meets the daemon's, it still leaves only
once the container is gone. The engine is faked (the Docker boundary)."""

from __future__ import annotations

from envlock.container.engine import EngineError
from envlock.container.image import _ImageRun, _Options
from tests.container.conftest import load_data_json

INSPECT = load_data_json("docker-image-inspect.python-bookworm.json")


class _Busy:
    """A daemon already removing the container when envlock asks (HTTP 409)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def remove(self, cid: str) -> None:
        self.calls.append(("remove", cid))
        raise EngineError(f"removal of container {cid} is already in progress", 409)

    def wait(self, cid: str, timeout: float, condition: str | None = None) -> int:
        self.calls.append(("wait", cid, str(condition)))
        return 0


def test_a_removal_the_daemon_has_begun_is_waited_for(capsys: object) -> None:
    engine = _Busy()
    options = _Options(gpus=None, pull=True, shm_size=None, torch_live=False, timeout=5.0)
    run = _ImageRun(engine, "python:3.11", INSPECT, shm_bytes=None, options=options)  # type: ignore[arg-type]
    run.created.append("c1")
    run.remove_all()
    assert engine.calls == [("remove", "c1"), ("wait", "c1", "removed")]
    assert run.created == []
    assert "warning" not in capsys.readouterr().err  # type: ignore[attr-defined]
