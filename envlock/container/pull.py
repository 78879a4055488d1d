"""An image for a probe: inspected on the daemon, or pulled first (with progress on
stderr) where it is absent and pulls are allowed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from envlock.container.engine import (
    EngineError,
    EngineNotFound,
    EngineUnreachable,
    text_of,
    unreachable,
)
from envlock.errors import ContainerError

if TYPE_CHECKING:
    from envlock.container.engine import Engine
    from envlock.container.transport import Object


def inspect_or_pull(engine: Engine, reference: str, *, pull: bool) -> Object:
    try:
        return engine.inspect_image(reference)
    except EngineNotFound:
        pass
    except EngineUnreachable as exc:
        raise unreachable(exc) from None
    except EngineError as exc:
        raise ContainerError(f"cannot inspect image {reference}: {exc.message}") from None
    if not pull:
        raise ContainerError(f"image {reference} is not present locally and --no-pull was given")
    _pull(engine, reference)
    try:
        return engine.inspect_image(reference)
    except EngineError as exc:
        raise ContainerError(
            f"image {reference} is missing after the pull: {exc.message}"
        ) from None


def _pull(engine: Engine, reference: str) -> None:
    """Pull with progress on stderr: rich on a terminal (the layers' bytes), elsewhere one
    line per layer and state change."""
    from envlock.report.progress import on_stderr

    progress = on_stderr("envlock")
    progress.step(f"pulling {reference}")
    seen: dict[str, str] = {}
    sizes: dict[str, tuple[int, int]] = {}  # layer: bytes downloaded, of

    def on_event(event: Object) -> None:
        if "error" in event:
            raise ContainerError(f"cannot pull {reference}: {event['error']}")
        layer, status = text_of(event, "id") or "", text_of(event, "status") or ""
        if status and seen.get(layer) != status:
            seen[layer] = status
            progress.output(f"{layer + ': ' if layer else ''}{status}")
        detail = event.get("progressDetail")
        if layer and status == "Downloading" and isinstance(detail, dict):
            done, total = detail.get("current"), detail.get("total")
            if isinstance(done, int) and isinstance(total, int) and 0 <= done <= total:
                sizes[layer] = (done, total)
                got, of = (sum(x) for x in zip(*sizes.values(), strict=True))
                progress.count(f"pulling {reference}: bytes downloaded", got, of)

    try:
        engine.pull(reference, on_event)
    except EngineError as exc:
        raise ContainerError(f"cannot pull {reference}: {exc.message}") from None
    finally:
        progress.close()
