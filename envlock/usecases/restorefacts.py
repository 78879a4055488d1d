"""The facts of what restore installed, for its verify (usecases/restore.py): the new
venv's own sections read from its files (install/venvfacts.py) or probed under its
interpreter, torch's live facts from the cache or a child when the lock holds what they
observe, the machine's sections the host probe's."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envlock.facts import Facts
    from envlock.probe.shapes import FactsDoc


def restored_facts(
    python: str,
    host: Facts | None,
    read: tuple[tuple[str, ...], bool],
    *,
    cache: bool,
    venv: bool,
    doc: FactsDoc | None = None,
) -> Facts:
    """The new venv's facts: its own sections read from its files (a venv restore built:
    install/venvfacts.py; `doc` when read already) or probed under `python`, the rest
    `host`'s. `read`: the sections verify reads and whether torch's live facts are
    among them (usecases/restore._sections)."""
    sections, live = read
    facts = None
    if doc is not None:
        from envlock.facts import Facts

        facts = Facts.from_dict(doc)
    elif venv:
        facts = _from_files(python, sections, live, cache=cache, host=host)
    if facts is None:
        facts = _probed(python, sections, live, cache=cache)
    if host is None:
        return facts
    return facts.replace(
        driver=host.driver,
        toolchain=host.toolchain,
        network=host.network,
        cuda=facts.cuda if "cuda" in sections else host.cuda,
    )


def _from_files(
    python: str, sections: tuple[str, ...], live: bool, *, cache: bool, host: Facts | None
) -> Facts | None:
    """The facts read from the venv's files, torch's live facts from the cache or its
    child when `live`; None when the files cannot tell them (the caller probes)."""
    from envlock.collect import PROBE_TIMEOUT_S
    from envlock.facts import Facts

    doc = venv_document(python, sections, cache=cache)
    if doc is None:
        return None
    torch = doc.get("torch")
    if not live or torch is None or not torch.get("installed"):
        return Facts.from_dict(doc)
    if not cache:
        from envlock.probe.torch_info import LiveProbe

        torch["live"] = LiveProbe(python).result(PROBE_TIMEOUT_S)  # type: ignore[typeddict-item]
        return Facts.from_dict(doc)
    from envlock.livecache import probe_with_cache

    def static() -> Facts:  # the driver too: it is part of the cache's key
        if host is not None:
            return Facts.from_dict(doc).replace(driver=host.driver)
        from envlock.probe import nvml

        return Facts.from_dict({**doc, "driver": nvml.collect(nvml_timeout=10.0)})

    return probe_with_cache(timeout=PROBE_TIMEOUT_S, python=python, static=static)[0]


def venv_document(python: str, sections: tuple[str, ...], *, cache: bool) -> FactsDoc | None:
    """The new venv's facts document read from its files (None: they cannot tell)."""
    from envlock.install.venvfacts import venv_document

    cache_dir = None
    if cache:
        from envlock.livecache import cache_dir as live_cache_dir

        cache_dir = str(live_cache_dir())
    return venv_document(python, sections, cache_dir=cache_dir)


def _probed(python: str, sections: tuple[str, ...], live: bool, *, cache: bool) -> Facts:
    """The facts probed under `python` (the served probe, torch's child when `live`)."""
    from envlock.collect import PROBE_TIMEOUT_S, probe_interpreter

    if live and cache:
        from envlock.livecache import probe_with_cache

        def static() -> Facts:  # the driver too: it is part of the cache's key
            keyed = (*sections, "driver")
            return probe_interpreter(
                python, torch_live=False, timeout=PROBE_TIMEOUT_S, sections=keyed
            )

        return probe_with_cache(timeout=PROBE_TIMEOUT_S, python=python, static=static)[0]
    return probe_interpreter(python, torch_live=live, timeout=PROBE_TIMEOUT_S, sections=sections)
