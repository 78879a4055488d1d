"""A plan's base image whose tag states nothing (python:3.11, an NGC tag), probed as
`--image` probes it when the local engine holds it: never pulled, and asked first with a
short limit, so that a host without Docker (or with a daemon that does not answer) costs
a plan check at most a couple of seconds, once, and leaves the image "not stated"."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envlock.facts import Facts

# seconds the presence check gives the daemon (a local socket answers in milliseconds)
PRESENCE_TIMEOUT_S = 2.0


@dataclass(slots=True, kw_only=True)
class BaseProber:
    """One run's probes of base images: each reference once, the engine given up on after
    the first time it does not answer."""

    probed: dict[str, Facts | None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    engine_down: str | None = None  # why the engine is not asked again

    def facts(self, reference: str) -> Facts | None:
        if reference not in self.probed:
            self.probed[reference] = self._probe(reference)
        return self.probed[reference]

    def _probe(self, reference: str) -> Facts | None:
        from envlock.collect import Source, collect_facts
        from envlock.errors import EnvlockError

        why = self.engine_down or self._absent(reference)
        if why is None:
            try:
                facts = collect_facts(Source(image=reference, pull=False))
            except EnvlockError as e:
                why = str(e).replace(" and --no-pull was given", " (never pulled)")
            else:
                self.notes.append(
                    f"base image {reference}: its tag states nothing; its torch is from "
                    "probing it (present locally)"
                )
                return facts
        self.notes.append(f"base image {reference}: its tag states nothing, not probed: {why}")
        return None

    def _absent(self, reference: str) -> str | None:
        """Why `reference` is not probed (not in the local engine, no engine), or None."""
        from envlock.container.engine import EngineNotFound, connect
        from envlock.container.transport import EngineError

        try:
            engine = connect(PRESENCE_TIMEOUT_S)
        except (EngineError, ImportError, OSError) as e:
            self.engine_down = _down(e)
            return self.engine_down
        try:
            engine.inspect_image(reference)
        except EngineNotFound:
            return "not present in the local Docker engine (never pulled)"
        except (EngineError, OSError) as e:
            self.engine_down = _down(e)
            return self.engine_down
        finally:
            engine.close()
        return None


def _down(e: Exception) -> str:
    from envlock.container.engine import docker_host, unreachable
    from envlock.container.transport import EngineError
    from envlock.probe.envvars import mask_url_credentials

    if isinstance(e, EngineError):
        return str(unreachable(e))
    return f"cannot reach the Docker daemon at {mask_url_credentials(docker_host())}: {e}"
