"""A probe in a running container, through `docker exec`: the probe payload runs under
the container's python3 (or the shell fallback without one), nothing is written into
the container, and what the container runs with (its user, env, /dev/shm, GPU
request) joins the image's facts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from envlock.container.document import split_env
from envlock.container.engine import (
    GRACE_S,
    Engine,
    EngineError,
    EngineNotFound,
    EngineTimeout,
    member,
    open_engine,
    strings_of,
    text_of,
)
from envlock.container.signals import KILLED, interruptible
from envlock.errors import ContainerError, last_line
from envlock.payload import python_command

if TYPE_CHECKING:
    from envlock.facts import Facts


def probe_container(name: str, *, torch_live: bool = True, timeout: float = 60.0) -> Facts:
    """Probe inside a running container through `docker exec` (nothing is left in it)."""
    from envlock.container import parse

    engine = open_engine(timeout)
    try:
        try:
            info = engine.inspect_container(name)
        except EngineNotFound:
            raise ContainerError(f"no container named {name}") from None
        except EngineError as exc:
            raise ContainerError(f"cannot inspect container {name}: {exc.message}") from None
        state = member(info, "State")
        if not state.get("Running"):
            raise ContainerError(
                f"container {name} is not running (status {state.get('Status', 'unknown')}); "
                "probe its image with --image instead"
            )
        cid, image_id = text_of(info, "Id"), text_of(info, "Image")
        if not cid or not image_id:
            raise ContainerError(f"the Docker daemon's answer for container {name} has no id")
        try:
            image = engine.inspect_image(image_id)
        except EngineError:
            image = {"Id": image_id}
        with interruptible():
            facts, mode = _exec_probe(engine, cid, name, torch_live=torch_live, timeout=timeout)
        config, host = member(info, "Config"), member(info, "HostConfig")
        # What this container runs with: its own user and env (image's + run-time).
        image_view = {
            **image,
            "Config": {
                **member(image, "Config"),
                "User": config.get("User"),
                "Env": config.get("Env"),
            },
        }
        shm = host.get("ShmSize")
        img = parse.image_facts(
            name,
            image_view,
            kind="container",
            shm_size_bytes=shm if isinstance(shm, int) and not isinstance(shm, bool) else None,
            gpus_requested=_describe_device_requests(host.get("DeviceRequests")),
            gpu_request_error=None,
            probe_mode=mode,
        )
        return parse.with_image(facts, img, [], split_env(strings_of(config, "Env"))[1])
    finally:
        engine.close()


def _exec_probe(
    engine: Engine, cid: str, name: str, *, torch_live: bool, timeout: float
) -> tuple[Facts, str]:
    from envlock.container import parse

    target = f"container:{name}"

    def _run(argv: list[str]) -> tuple[int, str, str]:
        try:
            code, out, err = engine.exec_run(cid, argv)
        except EngineTimeout:
            raise ContainerError(
                f"the probe in container {name} did not finish within {timeout + GRACE_S:g} s"
            ) from None
        except EngineError as exc:
            raise ContainerError(f"cannot exec in container {name}: {exc.message}") from None
        return code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")

    code, out, err = _run(
        python_command(target, torch_live=torch_live, timeout=timeout, with_pynvml=True)
    )
    if code in KILLED:
        raise ContainerError(
            f"the probe in container {name} was killed (exit {code}: {KILLED[code]})"
        )
    if code == 0:
        return parse.facts_from_json(out, f"container {name}"), "python"
    if code in (126, 127) or "executable file not found" in out + err:
        why = "no python3 in the container"
    else:
        why = f"python3 is there but cannot run the probe ({last_line(err) or f'exit {code}'})"
    code, out, err = _run(parse.shell_command())
    if code != 0:
        raise ContainerError(
            f"the shell probe in container {name} failed (exit {code}): "
            f"{last_line(err + out) or 'no output'}"
        )
    return parse.facts_from_shell(out, target=target, why=why), "shell"


def _describe_device_requests(requests_: object) -> str | None:
    """HostConfig.DeviceRequests back in `--gpus` syntax (None: no GPUs requested)."""
    if not isinstance(requests_, list):
        return None
    for req in requests_:
        if not isinstance(req, dict):
            continue
        groups = req.get("Capabilities")
        caps = [
            c
            for group in (groups if isinstance(groups, list) else [])
            if isinstance(group, list)
            for c in group
        ]
        if "gpu" not in caps:
            continue
        ids = strings_of(req, "DeviceIDs")
        if ids:
            return "device=" + ",".join(ids)
        count = req.get("Count")
        return "all" if count == -1 else str(count)
    return None
