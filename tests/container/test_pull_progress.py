"""An image pull shows its progress (issue 22 item 5): one plain line per layer and state
change where stderr is no terminal, rich's display with the layers' bytes on one. The
engine is a fake at the Docker boundary that answers with a pull's events."""

from __future__ import annotations

import contextlib
import io

import pytest

from envlock.container.engine import Engine
from envlock.container.pull import _pull
from envlock.errors import ContainerError

EVENTS: list[dict[str, object]] = [
    {"status": "Pulling from library/debian", "id": "bookworm"},
    {"status": "Pulling fs layer", "id": "aaa"},
    {"status": "Pulling fs layer", "id": "bbb"},
    *(
        {"status": "Downloading", "id": layer, "progressDetail": {"current": n, "total": 1000}}
        for n in range(0, 1001, 50)
        for layer in ("aaa", "bbb")
    ),
    {"status": "Download complete", "id": "aaa"},
    {"status": "Pull complete", "id": "aaa"},
    {"status": "Pull complete", "id": "bbb"},
    {"status": "Status: Downloaded newer image for debian:bookworm"},
]


class FakeEngine:
    def __init__(self, events: list[dict[str, object]]) -> None:
        self.events = events

    def pull(self, reference: str, on_event: object) -> None:
        for event in self.events:
            on_event(event)  # type: ignore[operator]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _pulled(stream: io.StringIO, events: list[dict[str, object]] = EVENTS) -> str:
    engine: Engine = FakeEngine(events)  # type: ignore[assignment]
    with contextlib.redirect_stderr(stream):  # what the command's stderr is
        _pull(engine, "debian:bookworm")
    return stream.getvalue()


def test_a_pipe_gets_a_line_per_layer_and_state() -> None:
    text = _pulled(io.StringIO())
    lines = text.splitlines()
    assert lines[0] == "envlock: pulling debian:bookworm"
    assert "envlock:   aaa: Pulling fs layer" in lines
    assert "envlock:   aaa: Pull complete" in lines
    assert lines.count("envlock:   aaa: Downloading") == 1  # a state once, not per event
    # the bytes: every tenth of them at most, not one line per event (42 of them)
    counts = [ln for ln in lines if ": bytes downloaded: " in ln]
    assert counts[-1] == "envlock: pulling debian:bookworm: bytes downloaded: 2000/2000"
    assert len(counts) <= 12
    assert "\r" not in text and "\x1b" not in text


def test_a_terminal_gets_rich_progress() -> None:
    text = _pulled(Terminal())
    assert "\x1b[" in text
    assert "envlock: \u2714 pulling debian:bookworm: bytes downloaded (2000/2000)" in text


def test_a_failed_pull_is_an_error_line() -> None:
    with pytest.raises(ContainerError, match="cannot pull debian:bookworm: denied"):
        _pulled(io.StringIO(), [*EVENTS[:3], {"error": "denied"}])
