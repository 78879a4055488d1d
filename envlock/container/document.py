"""An image's facts as the JSON document the Facts model writes, without the model.

`envlock probe --image --json` prints `Facts.to_json()` of the probe's output with the
image's facts added. The model costs ~50 ms to import and ~110 ms of CPU in all (with
msgspec), on a 2-core machine beside the daemon starting the container; the document it
writes is a function of the probe's JSON and the model's shape alone. So the probe's
JSON is walked here over that shape (envlock.container.factshape, generated from the
model): fields in the model's order, defaults where keys are missing, unknown keys
left out, integers of float fields written as floats, every value's type checked as
`Facts.from_dict` checks it. Whatever the walk cannot vouch for (a value of the wrong
type, another facts_version, too many GPUs, JSON the bounded reader refuses) is None
here, and the caller goes the model's way, which reads it or says what is wrong:
the output is byte for byte the model's either way (tests/container/test_document.py,
tests/fuzz/test_container_document_fuzz.py).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TypedDict

from envlock.container.factshape import FACTS_VERSION, MAX_GPUS, MAX_INT_DIGITS, OBJECTS

if TYPE_CHECKING:
    from envlock.container.factshape import Field, Shape

Document = dict[str, object]


class ImageDoc(TypedDict):
    """ImageFacts' fields, as image_document() reads them from the daemon's answer."""

    reference: str
    kind: str
    id: str | None
    repo_digests: list[str]
    tags: list[str]
    user: str | None
    env: dict[str, str]
    shm_size_bytes: int | None
    gpus_requested: str | None
    gpu_request_error: str | None
    probe_mode: str


class _NotCanonical(Exception):
    """The walk cannot vouch for this value: the model must read the document."""


def image_document(
    facts_json: str, image: ImageDoc, notes: list[str], withheld: list[str]
) -> Document | None:
    """The document `parse.with_image(parse.facts_from_json(facts_json), ImageFacts(**image),
    notes, withheld).to_dict()` is, or None where the model must build it."""
    data = _bounded_json(facts_json)
    if not isinstance(data, dict) or data.get("facts_version") != FACTS_VERSION:
        return None
    driver = data.get("driver")
    if isinstance(driver, dict) and any(
        isinstance(driver.get(key), list) and len(driver[key]) > MAX_GPUS
        for key in ("gpus", "pci_gpus")
    ):
        return None
    try:
        doc = _object(OBJECTS["Facts"], data)
        image_doc = _object(OBJECTS["ImageFacts"], dict(image))
    except (_NotCanonical, RecursionError):
        return None
    if withheld:  # as parse.with_image notes them
        notes = [*notes, f"image env: values of {', '.join(withheld)} withheld (secrets)"]
    meta = doc["meta"]
    assert isinstance(meta, dict) and isinstance(meta["notes"], list)  # the walk built them
    meta["notes"] = [*meta["notes"], *notes]
    doc["image"] = image_doc
    return doc


class _HugeInt(Exception):
    pass


def _bounded_int(text: str) -> int:
    # facts.load_json's bound: a longer run is an error the model's reader words
    if len(text) - text.startswith("-") > MAX_INT_DIGITS:
        raise _HugeInt()
    return int(text)


def _bounded_json(text: str) -> object:
    try:
        return json.loads(text, parse_int=_bounded_int)
    except (ValueError, RecursionError, _HugeInt):
        return None


def _object(fields: tuple[Field, ...], value: object) -> Document:
    """A dataclass's fields in the model's order, as typed.Reader.build then typed.dump
    make them."""
    if not isinstance(value, dict):
        raise _NotCanonical()
    out: Document = {}
    for field in fields:
        name, shape = field[0], field[1]
        if name in value:
            out[name] = _value(shape, value[name])
        elif len(field) == 3:
            out[name] = _fresh(field[2])
        else:  # a required field is missing: the model says which
            raise _NotCanonical()
    return out


def _value(shape: Shape, value: object) -> object:
    if isinstance(shape, str):
        if shape.startswith("@"):
            return _object(OBJECTS[shape[1:]], value)
        return _scalar(shape, value)
    kind, inner = shape
    if kind == "?":
        return None if value is None else _value(inner, value)
    if kind == "[]" and isinstance(value, list):
        return [_value(inner, v) for v in value]
    if kind == "{}" and isinstance(value, dict):
        return {k: _value(inner, v) for k, v in value.items()}
    raise _NotCanonical()


def _scalar(shape: str, value: object) -> object:
    """typed._accepts: a bool is never an int or a float, an int is a float (and written
    as one)."""
    if isinstance(value, bool):
        ok = shape == "bool"
    elif isinstance(value, int):
        if shape == "float":
            return float(value)
        ok = shape == "int"
    elif isinstance(value, float):
        ok = shape == "float"
    else:
        ok = shape == "str" and isinstance(value, str)
    if not ok:
        raise _NotCanonical()
    return value


def _fresh(default: object) -> object:
    """A default's own copy (the shapes' defaults are shared constants)."""
    if isinstance(default, dict):
        return {k: _fresh(v) for k, v in default.items()}
    if isinstance(default, list):
        return [_fresh(v) for v in default]
    return default


# ---------------------------------------------------------------- the image's facts
# Beyond the probe's allow-list: what says how an image runs its programs.
_IMAGE_NAMES = ("PATH", "PYTHONUNBUFFERED", "LANG", "LC_ALL")


def image_fields(
    reference: str,
    image: dict[str, Any],
    *,
    kind: str,
    shm_size_bytes: int | None,
    gpus_requested: str | None,
    gpu_request_error: str | None,
    probe_mode: str,
) -> ImageDoc:
    """ImageFacts' fields from `docker image inspect` output (or a container's view of it):
    parse.image_facts builds ImageFacts of them, image_document writes them."""
    config = image.get("Config") or {}
    env, _withheld = split_env(config.get("Env") or [])
    digests = image.get("RepoDigests") or []
    if len(digests) > 1 or any(not isinstance(d, str) for d in digests):
        # one digest needs no order, nor the reference parser (~10 ms to import)
        from envlock.imageref import same_repository

        # The digest of the repository that was asked for first: the lock records [0].
        digests = sorted(digests, key=lambda d: (not same_repository(d, reference), d))
    return {
        "reference": reference,
        "kind": kind,
        "id": image.get("Id"),
        "repo_digests": list(digests),
        "tags": sorted(image.get("RepoTags") or []),
        "user": config.get("User") or None,
        "env": env,
        "shm_size_bytes": shm_size_bytes,
        "gpus_requested": gpus_requested,
        "gpu_request_error": gpu_request_error,
        "probe_mode": probe_mode,
    }


def split_env(pairs: list[str]) -> tuple[dict[str, str], list[str]]:
    """Image Config.Env as a dict with secrets withheld: (kept, names withheld).

    The probe's env rules (envlock.probe.envvars) apply as they do on a host: only
    allow-listed names are kept, a secret-looking name is withheld (named, never its
    value), credentials inside URLs are masked. An image's author can set anything
    (a webhook URL, a database password under an innocent name).
    """
    from envlock.probe.envvars import is_allowed, is_secret_name, mask_url_credentials

    kept: dict[str, str] = {}
    withheld: list[str] = []
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            continue
        if is_secret_name(name):
            withheld.append(name)
        elif is_allowed(name) or name in _IMAGE_NAMES:
            kept[name] = mask_url_credentials(value)
    return kept, sorted(withheld)
