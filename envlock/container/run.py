"""The container probe's entry: a target's options checked, then a new container of
an image (envlock.container.image) or `docker exec` in a running one
(envlock.container.exec).

What else lives in envlock.container: options.py (the target, `--gpus`,
`--shm-size`), signals.py (removal whatever happens), engine.py (the Docker
Engine API clients), parse.py (outputs -> Facts). The probe itself travels as
envlock.payload, which `--python` uses too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from envlock.container.options import ContainerTarget, check_target

if TYPE_CHECKING:
    from typing import TypedDict

    from envlock.container.document import Document
    from envlock.facts import Facts

    class _ImageOptions(TypedDict):
        """probe_image's and probe_image_document's keywords."""

        gpus: str | None
        pull: bool
        shm_size: str | None
        torch_live: bool
        timeout: float


def probe_target(target: ContainerTarget) -> Facts:
    """Probe what `target` names (exactly one of image, container)."""
    check_target(target)
    if target.image:
        from envlock.container.image import probe_image

        return probe_image(target.image, **_image_options(target))
    from envlock.container.exec import probe_container

    assert target.container  # check_target: one of image, container
    return probe_container(target.container, torch_live=target.torch_live, timeout=target.timeout)


def probe_target_document(target: ContainerTarget) -> Document:
    """probe_target(target).to_dict(); for an image, without the Facts model where the
    probe's document can be handed through (envlock.container.document)."""
    check_target(target)
    if target.image:
        from envlock.container.image import probe_image_document

        return probe_image_document(target.image, **_image_options(target))
    return probe_target(target).to_dict()


def _image_options(target: ContainerTarget) -> _ImageOptions:
    """What an image's probe reads of `target`: the one mapping for both entries, so that
    `probe --image` and `probe --image --json` probe alike."""
    return {
        "gpus": target.gpus,
        "pull": target.pull,
        "shm_size": target.shm_size,
        "torch_live": target.torch_live,
        "timeout": target.timeout,
    }
