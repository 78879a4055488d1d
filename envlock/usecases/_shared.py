"""What several use cases say about the facts they were given: how a report names its
target, and what a partial probe could not see."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envlock.collect import Source
    from envlock.facts import Facts


def target_of(source: Source | None, facts: Facts) -> str:
    """How a report names what it looked at: a facts file or pasted text by its path,
    anything else as the probe named it."""
    return (source.target if source else None) or facts.meta.target


def not_checked(facts: Facts) -> list[str]:
    """What a partial probe (a shell fallback, an unobservable torch) could not see, one
    "section: why" each: a pass says nothing about these."""
    if not facts.meta.partial and not facts.torch.unavailable:
        return []
    live = facts.torch.live
    return [
        f"{name}: {why}"
        for name, why in (
            ("torch", facts.torch.unavailable),
            ("torch.live", live.unavailable if live else None),
            ("driver", facts.driver.unavailable),
            ("cuda", facts.cuda.unavailable),
            ("packages", facts.packages.unavailable),
        )
        if why
    ]
