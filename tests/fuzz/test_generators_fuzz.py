"""export's generators fuzzed (issue 19, item 2): random locks whose names, versions,
index and file URLs, hashes and environment hold hostile text (line breaks of every
kind, backslashes, quotes, `#`, `$(...)`, pip options, Dockerfile instructions) are
read, and every lock the reader accepts is exported as requirements, pylock and a
Dockerfile and parsed back by the real consumers (tests/lock/consumers.py): pip sees
exactly the pins and index lines, packaging exactly the packages and files, BuildKit
exactly the instructions, each value intact. A lock the reader refuses is one LockError
line. And build_lock over hostile facts always writes a lock that reads back.

Each example runs in well under the 2 s of CPU per example (cpubound.py); a quadratic path fails here.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import tomli_w
from hypothesis import event, example, given, settings
from hypothesis import strategies as st
from packaging.utils import canonicalize_name
from packaging.version import Version

from envlock.errors import LockError, RestoreError, UsageError
from envlock.facts import Facts
from envlock.lock import build_lock, dumps_lock, loads_lock
from envlock.lock.export import dockerfile_text, plan_install, pylock_document, requirements_text
from tests.fuzz.test_fuzz import EXAMPLES, FUZZ
from tests.lock.consumers import docker_instructions, pip_lines, pylock
from tests.lock.facts_fixtures import rich_facts
from tests.lock.test_generators_property import (
    BASE,
    FRAGMENTS,
    check_dockerfile,
    expected_pip,
)

pytestmark = pytest.mark.fuzz


@pytest.fixture(scope="module", autouse=True)
def _consumers_loaded() -> None:
    """Load pip's parser (its session scans the installed distributions), BuildKit's and
    packaging's once, outside the examples' 2 s of CPU."""
    pip_lines("six==1.17.0\n")
    docker_instructions("FROM scratch\n")
    pylock('lock-version = "1.0"\ncreated-by = "x"\npackages = []\n')


# each example writes and parses three files: a third of the suite's count
GENERATORS = settings(FUZZ, deadline=None, max_examples=max(50, EXAMPLES // 6))
SHA = "0123456789abcdef" * 4

ALPHABET = "aZ09._-+!=:/@#$'\"\\ \t\n\r\x0b\x0c\x85\u2028\u2029\x00\x1c`(){}[];&|<>*?~%"
hostile = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(alphabet=ALPHABET, max_size=6)), max_size=4
).map("".join)


def _spoiled(value: str) -> st.SearchStrategy[str]:
    """Hostile text alone, or before, inside or after `value`."""
    return st.one_of(
        hostile,
        st.tuples(hostile, st.integers(0, len(value))).map(
            lambda t: value[: t[1]] + t[0] + value[t[1] :]
        ),
    )


def _around(valid: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A valid value (most often) or a spoiled one."""
    return valid.flatmap(lambda v: st.one_of(st.just(v), st.just(v), _spoiled(v)))


names = st.sampled_from(["six", "idna", "torch", "nvidia-nccl-cu12", "a.b_c"])
versions = st.sampled_from(["1.17.0", "3.10", "2.6.0+cu126", "1!2.0.post1.dev3", "0"])
urls = st.sampled_from(
    ["https://download.pytorch.org/whl/cu126", "https://mirror.example/a?b=1&c='d'#e"]
)
env_keys = st.sampled_from(["NCCL_DEBUG", "CUBLAS_WORKSPACE_CONFIG", "OMP_NUM_THREADS"])
env_values = st.sampled_from(["WARN", ":4096:8", "a $(b) `c` 'd' \"e\" # f \\", "${HOME}"])


def _slots(doc: Any) -> list[tuple[Any, Any, bool]]:
    """Every string in a document, as (container, key or index, whether it is the key)."""
    out: list[tuple[Any, Any, bool]] = []
    stack = [doc]
    while stack:
        item = stack.pop()
        pairs = item.items() if isinstance(item, dict) else enumerate(item)
        for k, v in list(pairs):
            if isinstance(item, dict) and k not in ("envlock", "lock-version"):
                out.append((item, k, True))
            if isinstance(v, str):
                out.append((item, k, False))
            elif isinstance(v, (dict, list)):
                stack.append(v)
    return out


@st.composite
def lock_docs(draw: st.DrawFn) -> dict[str, Any]:
    """A small valid lock document (pins with a file each, an index, variables) with up
    to three of its strings, keys or values, spoiled."""
    packages = draw(st.dictionaries(names, versions, min_size=1, max_size=3))
    doc = {
        "envlock": {"lock-version": "1.1", "scope": "software", "generated-by": "envlock t"},
        "system": {"python": "3.11"},
        "torch": {"variant": "cu126", "index": draw(urls)},
        "packages": packages,
        "files": {
            name: [
                {
                    "name": f"{name.replace('-', '_')}-{version}-py3-none-any.whl",
                    "url": draw(urls) + f"/{name}.whl",
                    "sha256": SHA,
                }
            ]
            for name, version in packages.items()
        },
        "env": draw(st.dictionaries(env_keys, env_values, max_size=3)),
    }
    for _ in range(draw(st.integers(0, 3))):
        parent, key, is_key = draw(st.sampled_from(_slots(doc)))
        bad = draw(_spoiled(key if is_key else parent[key]))
        if is_key:
            if bad not in parent:
                parent[bad] = parent.pop(key)
        else:
            parent[key] = bad
    return doc


@GENERATORS
@given(lock_docs(), _around(st.just("envlock==1.0")), _around(st.just("wheels")))
@example(
    {
        "envlock": {"lock-version": "1.1"},
        "packages": {"six": "1.17.0"},
        "torch": {"index": "https://evil.example/simple\n--trusted-host evil.example"},
        "env": {"NCCL_DEBUG": "WARN\u2028RUN touch /pwned"},
    },
    "envlock",
    "wheels",
)
def test_every_lock_the_reader_accepts_exports_exactly_what_it_holds(
    doc: dict[str, Any], spec: str, wheelhouse: str
) -> None:
    try:
        lock = loads_lock(tomli_w.dumps(doc), where="fuzz.lock.toml")
    except LockError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("fuzz.lock.toml: ")
        event("lock refused on read")
        return
    try:
        plan = plan_install(lock)
    except RestoreError as exc:  # no [packages] left
        assert "\n" not in str(exc)
        return
    event("lock read: exported")
    assert pip_lines(requirements_text(plan, header="from fuzz.lock.toml")) == expected_pip(plan)

    try:  # packaging's own checks (a wheel named for another project) are one line too
        doc_ = pylock_document(lock, plan, created_by="envlock fuzz")
    except (LockError, RestoreError) as exc:
        assert "\n" not in str(exc)
    else:
        read = pylock(tomli_w.dumps(doc_))
        assert [(p.name, p.version) for p in read.packages] == [
            (canonicalize_name(p.name), Version(p.version)) for p in plan.pins
        ]
        for package, pin in zip(read.packages, plan.pins, strict=True):
            stored = [(w.name, w.url, w.hashes["sha256"]) for w in package.wheels or ()]
            if package.sdist is not None:
                sdist = package.sdist
                stored.append((sdist.name, sdist.url, sdist.hashes["sha256"]))
            assert stored == list(pin.files)

    args = {
        "base": BASE,
        "lock_name": "envlock.lock.toml",
        "requirements_name": "requirements.envlock.txt",
        "wheelhouse": wheelhouse,
        "envlock_spec": spec,
    }
    env = dict(sorted(lock.env.items())) or {"NCCL_DEBUG": "WARN"}
    lock = dataclasses.replace(lock, env=env)
    try:
        text = dockerfile_text(lock, plan, **args)
    except UsageError as exc:  # the options: a line break, a leading '-', an odd file name
        assert "\n" not in str(exc)
        assert spec != "envlock==1.0" or wheelhouse != "wheels", exc
        return
    check_dockerfile(text, env, args)


@GENERATORS
@given(
    st.dictionaries(_around(names), _around(versions), max_size=4),
    st.dictionaries(
        _around(st.sampled_from(["NCCL_DEBUG", "TORCH_LOGS", "CUDA_MODULE_LOADING"])),
        _around(env_values),
        max_size=3,
    ),
    hostile,
)
def test_build_lock_over_hostile_facts_writes_a_lock_that_reads_back(
    distributions: dict[str, str], variables: dict[str, str], gpu_name: str
) -> None:
    facts = _rich()
    gpus = facts.driver.gpus or []
    facts = facts.replace(
        packages=dataclasses.replace(facts.packages, distributions=distributions),
        env=dataclasses.replace(facts.env, variables=variables),
        driver=dataclasses.replace(
            facts.driver, gpus=[dataclasses.replace(gpus[0], name=gpu_name), *gpus[1:]]
        ),
    )
    lock = build_lock(facts, created="2026-01-01T00:00:00Z")
    assert loads_lock(dumps_lock(lock)) == lock
    assert all("\n" not in note for note in lock.notes)


def _rich() -> Facts:
    return rich_facts()
