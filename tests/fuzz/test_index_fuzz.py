"""The package-index client of `lock --hashes` fuzzed through a real socket: a fake PEP 691
index on 127.0.0.1 (one server for the file, its answer set per example) answers with
mutated real pages, random JSON, hostile file entries, broken HTTP framing and redirects
anywhere; and the `--hashes-from` pylock reader gets mutated real pylock files. Each
example ends in files the lock reader reads back or in one RestoreError line, within the
2 s deadline."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
import tomli_w
from hypothesis import example, given, settings
from hypothesis import strategies as st

from envlock.errors import RestoreError
from envlock.install.index import with_hashes
from envlock.install.pylock import files_from_pylock
from envlock.lock import Lock, dumps_lock, loads_lock
from tests.fuzz.test_fuzz import EXAMPLES, FUZZ, mutated, nasty_text, trees
from tests.install.fakeindex import FakeIndex, http, sha, wheel_entry

pytestmark = pytest.mark.fuzz

# each example is a real HTTP exchange: a tenth of the suite's count
# a wall-clock deadline too, since these examples wait on a socket (CPU does not show a
# client that outstays its own timeout): generous, so that only a hang trips it
INDEX_FUZZ = settings(FUZZ, deadline=10_000, max_examples=max(50, EXAMPLES // 10))
TIMEOUT_S = 1.5  # the client's deadline: a hang past it fails INDEX_FUZZ's wall deadline

LOCK = loads_lock(
    '[envlock]\nlock-version = "1.1"\nscope = "software"\n'
    '[system]\npython = "3.11"\narch = "x86_64"\nglibc = "2.36"\n'
    '[packages]\nsix = "1.17.0"\n'
)
REAL_PAGE: dict[str, Any] = {
    "meta": {"api-version": "1.1"},
    "name": "six",
    "files": [
        wheel_entry("six", "1.16.0"),
        {**wheel_entry("six", "1.17.0"), "filename": "six-1.17.0-py2.py3-none-any.whl"},
        {
            "filename": "six-1.17.0.tar.gz",
            "url": "https://files.example.org/packages/six-1.17.0.tar.gz#sha256=00",
            "hashes": {"sha256": sha("six-1.17.0.tar.gz")},
            "requires-python": ">=2.7",
            "yanked": False,
        },
        {**wheel_entry("six", "1.17.0"), "yanked": "broken"},
    ],
}
HOSTILE_STRINGS = [
    "file:///etc/passwd",
    "javascript:alert(1)",
    "https://user:pw@evil.example/six-1.17.0-py3-none-any.whl",
    "//evil.example/six-1.17.0-py3-none-any.whl",
    "http://[::1/x",
    "http://h:99999/x",
    "../" * 50 + "x.whl",
    "six-1.17.0-py3-none-any.whl\n--index-url http://evil",
    "six-1.17.0\u2028.tar.gz",
    "SIX-1.17.0-PY3-NONE-ANY.WHL",
    "six-1.17.0-py3-none-any.whl",
    "six-1.17.0.tar.gz",
    sha("x").upper(),
    sha("x")[:63],
    "\u0661" * 64,
    "",
]
hostile = st.one_of(st.sampled_from(HOSTILE_STRINGS), nasty_text)


@pytest.fixture(scope="module")
def index() -> Iterator[FakeIndex]:
    with pytest.MonkeyPatch.context() as mp:  # loopback only, whatever the CI proxy
        for name in ("http_proxy", "https_proxy", "all_proxy"):
            mp.delenv(name, raising=False)
            mp.delenv(name.upper(), raising=False)
        mp.setenv("NO_PROXY", "127.0.0.1,localhost")
        fake = FakeIndex()
        yield fake
        fake.close()


def _hash_with(index: FakeIndex, answer: bytes) -> None:
    """with_hashes against `answer`: files the reader reads back, or one RestoreError line."""
    index.answer = lambda seen: [answer]
    try:
        lock = with_hashes(LOCK, index=index.url, timeout=TIMEOUT_S)
    except RestoreError as exc:
        assert len(str(exc).splitlines()) == 1, str(exc)
        return
    _reads_back(lock)


def _reads_back(lock: Lock) -> None:
    again = loads_lock(dumps_lock(lock))
    assert again.files == lock.files
    for files in lock.files.values():
        for f in files:
            assert f.url.startswith(("http://", "https://")) and "@" not in f.url.split("/")[2]


@st.composite
def hostile_pages(draw: st.DrawFn) -> Any:
    """The real page with fields mutated, or with hostile file entries, or random JSON."""
    how = draw(st.sampled_from(["mutate", "entries", "random"]))
    if how == "mutate":
        return draw(mutated(REAL_PAGE))
    if how == "random":
        return draw(trees)
    keys = st.sampled_from(["filename", "url", "hashes", "yanked"])
    entries = []
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        entry: dict[str, Any] = dict(REAL_PAGE["files"][1])
        for key in draw(st.lists(keys, max_size=3)):
            value: Any = draw(st.one_of(hostile, trees))
            entry[key] = {"sha256": value} if key == "hashes" and draw(st.booleans()) else value
        entries.append(entry)
    return {**REAL_PAGE, "files": entries}


@INDEX_FUZZ
@given(hostile_pages())
@example({**REAL_PAGE, "files": [{**REAL_PAGE["files"][1], "url": "file:///etc/passwd"}]})
def test_hostile_pages(index: FakeIndex, page: Any) -> None:
    try:
        body = json.dumps(page).encode()
    except ValueError:  # NaN keys and the like: not JSON a server could send
        return
    _hash_with(index, http(body))


@st.composite
def broken_http(draw: st.DrawFn) -> bytes:
    """Answers whose HTTP framing is broken: status lines, header counts and lengths,
    chunked encoding, content types, deep nesting, redirects anywhere."""
    body = draw(
        st.one_of(
            st.just(json.dumps(REAL_PAGE).encode()),
            st.integers(min_value=0, max_value=150_000).map(lambda n: b"[" * n + b"]" * n),
            st.integers(min_value=0, max_value=150_000).map(lambda n: b'{"files":' * n),
            st.binary(max_size=200),
        )
    )
    status = draw(
        st.one_of(
            st.sampled_from(["200 OK", "404 Not Found", "500 Oops", "301 Moved", "302 Found"]),
            st.text(max_size=20).map(lambda t: t.replace("\r", "").replace("\n", "")),
        )
    )
    headers = [("X-Pad", "x")] * draw(st.sampled_from([0, 1, 99, 101]))
    if status.startswith(("301", "302")):
        headers.append(("Location", draw(st.one_of(hostile, st.just("/simple/six/")))))
    kind = draw(st.sampled_from(["application/vnd.pypi.simple.v1+json", "text/html", ""]))
    raw = http(body, status=status, content_type=kind, headers=headers)
    framing = draw(st.sampled_from(["as is", "cut", "chunked", "bad chunk", "long header"]))
    if framing == "cut":
        raw = raw[: draw(st.integers(min_value=0, max_value=len(raw)))]
    elif framing in ("chunked", "bad chunk"):
        head, _, rest = raw.partition(b"\r\n\r\n")
        size = b"zz" if framing == "bad chunk" else f"{len(rest) + 7:x}".encode()
        head = head.replace(b"Content-Length", b"Transfer-Encoding: chunked\r\nX-Was")
        raw = head + b"\r\n\r\n" + size + b"\r\n" + rest
    elif framing == "long header":
        raw = raw.replace(b"\r\n", b"\r\nX-Long: " + b"a" * 70_000 + b"\r\n", 1)
    return raw


@INDEX_FUZZ
@given(broken_http())
@example(b"HTTP/1.1 200 OK\r\n" + b"X-H: 1\r\n" * 101 + b"\r\n")
@example(http(b"", status="302 Found", headers=[("Location", "http://[::1/x")]))  # leaked
def test_broken_http(index: FakeIndex, raw: bytes) -> None:
    _hash_with(index, raw)


REAL_PYLOCK: dict[str, Any] = {
    "lock-version": "1.0",
    "created-by": "a resolver",
    "packages": [
        {
            "name": "six",
            "version": "1.17.0",
            "wheels": [
                {
                    "name": "six-1.17.0-py2.py3-none-any.whl",
                    "url": "https://files.example.org/six-1.17.0-py2.py3-none-any.whl",
                    "hashes": {"sha256": sha("six")},
                }
            ],
            "sdist": {
                "name": "six-1.17.0.tar.gz",
                "url": "https://files.example.org/six-1.17.0.tar.gz",
                "hashes": {"sha256": sha("six-sdist")},
            },
        }
    ],
}


@st.composite
def hostile_pylocks(draw: st.DrawFn) -> str:
    """A resolver's pylock with fields mutated, hostile strings in its file entries, or
    nested without end (tomllib recurses once per level)."""
    how = draw(st.sampled_from(["mutate", "strings", "deep"]))
    if how == "deep":
        n = draw(st.integers(min_value=1, max_value=100_000))
        opener = draw(st.sampled_from(["[", "{a = "]))
        return "lock-version = " + opener * n
    doc = draw(mutated(REAL_PYLOCK)) if how == "mutate" else json.loads(json.dumps(REAL_PYLOCK))
    if how == "strings":
        wheel = doc["packages"][0]["wheels"][0]
        wheel[draw(st.sampled_from(["name", "url"]))] = draw(hostile)
        wheel["hashes"] = {"sha256": draw(hostile)}
    try:
        return tomli_w.dumps(doc)
    except (TypeError, ValueError):  # not representable in TOML
        return "lock-version = 1"


@settings(FUZZ, deadline=None, max_examples=max(50, EXAMPLES // 5))
@given(hostile_pylocks())
def test_hostile_pylocks(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    path = os.path.join(tmp_path_factory.getbasetemp(), "pylock.fuzz.toml")
    with open(path, "w", encoding="utf-8", errors="surrogatepass") as f:
        f.write(text)
    try:
        files = files_from_pylock(path, LOCK)
    except RestoreError as exc:
        assert len(str(exc).splitlines()) == 1, str(exc)
        return
    _reads_back(dataclasses.replace(LOCK, files=files))
