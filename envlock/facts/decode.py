"""Facts from a file's bytes: msgspec's typed decoder where it reads exactly as the
reference (`Facts.from_dict` over `load_json`) does, the reference otherwise."""

from __future__ import annotations

import dataclasses
import functools
import sys
import typing
from typing import TYPE_CHECKING

from envlock.errors import FactsError
from envlock.facts.load import MAX_INT_DIGITS, load_json
from envlock.facts.model import FACTS_VERSION, MAX_GPUS, Facts

if TYPE_CHECKING:
    import msgspec

# ----------------------------------------------------------- the fast decoder
# `Facts.from_dict` is the reference (every error names its dotted path) but costs ~2-4 ms
# for an 11 KB probe; msgspec's typed decoder reads the same dataclasses in ~50-75 us. A
# fleet report reads thousands of files, so it decodes with msgspec and goes to the
# reference only for a document msgspec refuses or might read differently: the reference
# then reads it or raises its exact error. Host side only (the probe stays stdlib, and
# preflight never needs it): msgspec is imported on first use.
_RUN = MAX_INT_DIGITS + 1  # digits of the shortest integer load_json refuses
_STRIDE = 25  # a run of _RUN digits covers _RUN // _STRIDE consecutive bytes of raw[::_STRIDE]
_ZERO = bytes.maketrans(b"0123456789", b"0" * 10)


def _long_digit_run(raw: bytes) -> bool:
    """Whether `raw` holds _RUN digits in a row (in a number or a string): msgspec reads an
    integer of up to 4,300 digits, and skips unknown keys unread, where load_json refuses
    more than MAX_INT_DIGITS. Sampled first: a real file has no such run."""
    if b"0" * (_RUN // _STRIDE) not in raw[::_STRIDE].translate(_ZERO):
        return False
    return b"0" * _RUN in raw.translate(_ZERO)


def plain_json(raw: bytes) -> bool:
    """True when what load_json refuses beyond JSON's grammar cannot be in `raw`: it is
    UTF-8 (msgspec does not check the strings it skips) and holds no integer of more than
    MAX_INT_DIGITS digits. Nesting needs no check: msgspec refuses depth past Python's
    recursion limit, as json does (RecursionError, caught)."""
    if not raw.isascii():
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            return False
    return not _long_digit_run(raw)


@functools.cache
def _decoder() -> msgspec.json.Decoder[msgspec.Struct]:
    """msgspec's decoder for a facts document: Facts' fields, types and defaults (msgspec
    reads the nested dataclasses as declared, unknown keys skipped as from_dict skips them),
    with facts_version required, as from_dict requires it."""
    import msgspec

    hints = typing.get_type_hints(Facts)
    fields: list[tuple[str, object] | tuple[str, object, object]] = []
    for f in dataclasses.fields(Facts):
        if f.name == "facts_version":
            fields.append((f.name, int))
        elif f.default is not dataclasses.MISSING:
            fields.append((f.name, hints[f.name], f.default))
        elif f.default_factory is not dataclasses.MISSING:
            factory = msgspec.field(default_factory=f.default_factory)
            fields.append((f.name, hints[f.name], factory))
        else:
            fields.append((f.name, hints[f.name]))
    return msgspec.json.Decoder(msgspec.defstruct("FactsDocument", fields, kw_only=True))


def fast_facts(raw: bytes) -> Facts | None:
    """Facts from a facts file's bytes by msgspec, or None where the reference must read
    them: not plain JSON (`plain_json`), refused by msgspec (its grammar is as strict as
    json's, it refuses NaN, lone surrogates and a BOM, which json reads), another
    facts_version, more GPUs than MAX_GPUS."""
    import msgspec

    if not plain_json(raw):
        return None
    try:
        doc = _decoder().decode(raw)
    except (msgspec.MsgspecError, RecursionError):
        return None
    facts = Facts(**msgspec.structs.asdict(doc))
    gpus = max(len(facts.driver.gpus or ()), len(facts.driver.pci_gpus))
    return facts if facts.facts_version == FACTS_VERSION and gpus <= MAX_GPUS else None


# One file in a fresh process (`--facts FILE`, `--python`): importing msgspec and building
# its decoder cost 35-100 ms (measured on a loaded 2-core machine), the reference ~1-3 ms
# for an 11 KB probe and ~1 ms per KB of extensions; break-even is near 64 KB. Past
# FAST_FROM_BYTES, or once msgspec is loaded (a fleet report, a caller reading many
# files), msgspec is the faster.
FAST_FROM_BYTES = 128 * 1024


def fast_if_cheaper(raw: bytes) -> Facts | None:
    """`fast_facts(raw)` where msgspec pays for itself here (a big document, or msgspec
    already loaded), else None: the caller's reference reads it."""
    if len(raw) < FAST_FROM_BYTES and "msgspec" not in sys.modules:
        return None
    return fast_facts(raw)


def decode_facts(raw: bytes) -> Facts:
    """A facts file's bytes as Facts: `fast_facts`, else the reference,
    `Facts.from_dict(load_json(raw))`, which reads the document or raises its FactsError."""
    facts = fast_facts(raw)
    return facts if facts is not None else Facts.from_dict(load_json(raw))


def read_facts_file(path: str) -> Facts:
    """Read a facts JSON file written by `envlock probe --json` (a regular file, bounded):
    `fast_if_cheaper` (msgspec where it reads as the reference does and pays for itself),
    else `Facts.from_json`, whose errors name the file."""
    from envlock.safeio import UnreadableFile, read_bounded

    try:
        raw = read_bounded(path)
        text = raw.decode("utf-8")  # not UTF-8: this line, whatever the decoders say
    except UnreadableFile as exc:
        if str(exc) == "not found":
            raise FactsError(f"facts file not found: {path}") from None
        raise FactsError(f"facts file {path} {exc}") from None
    except UnicodeDecodeError:
        raise FactsError(f"cannot read facts file {path}: not UTF-8 text") from None
    facts = fast_if_cheaper(raw)
    if facts is not None:
        return facts
    try:
        return Facts.from_json(text)
    except FactsError as exc:
        raise FactsError(f"{path}: {exc}") from None
