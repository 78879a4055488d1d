"""`lock --hashes` against a hostile or broken package index, for real: a fake PEP 691 index
on 127.0.0.1 (tests/install/fakeindex.py) answers with the bytes each test chooses.

Whatever the index does (drip one byte a second, break HTTP, nest JSON 200,000 deep,
hand out hashes and URLs of any shape, redirect elsewhere, ask for credentials), the
command ends within its deadline in one line and exit 3, or writes a lock that envlock
itself reads back; a password in the index URL is sent as an Authorization header and
never printed or written."""

from __future__ import annotations

import base64
import json
import subprocess
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from envlock.cli import main
from envlock.errors import RestoreError
from envlock.lock import read_lock
from tests.conftest import clean_env, load_fixture_json, run_envlock
from tests.install.fakeindex import FakeIndex, Seen, http, page, sha, wheel_entry

VERSIONS = {"six": "1.17.0", "idna": "3.10", "torch": "2.13.0"}
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


@pytest.fixture
def index() -> Iterator[FakeIndex]:
    fake = FakeIndex(versions=dict(VERSIONS))
    yield fake
    fake.close()


@pytest.fixture
def facts(tmp_path: Path) -> Path:
    """The CPU venv's facts with an untagged torch: every package comes from the index
    pip is configured with (the fake), none from download.pytorch.org."""
    data = load_fixture_json("facts.cpu-venv-nodriver.json")
    data["torch"]["version"] = VERSIONS["torch"]
    data["packages"]["distributions"] = dict(VERSIONS)
    path = tmp_path / "facts.json"
    path.write_text(json.dumps(data))
    return path


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("ENVLOCK_INDEX_TIMEOUT", "20")


@dataclass
class LockRun:
    """envlock lock --hashes of the facts in this process (fast), writing `out`."""

    facts: Path
    out: Path
    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]

    def __call__(self, index_url: str, *extra: str) -> tuple[int, str]:
        """(exit code, stderr) of a run against the index at `index_url`."""
        self.monkeypatch.setenv("PIP_INDEX_URL", index_url)
        args = ["lock", "--facts", str(self.facts), "--hashes", "-o", str(self.out), *extra]
        code = main(args)
        return code, self.capsys.readouterr().err

    def refused(self, index_url: str, *extra: str) -> str:
        """The one line of a run that ends in exit 3 and writes nothing."""
        return _one_line_exit_3(*self(index_url, *extra), self.out)


@pytest.fixture
def run_lock(
    facts: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> LockRun:
    return LockRun(facts, tmp_path / "l.toml", monkeypatch, capsys)


def _one_line_exit_3(code: int, err: str, out: Path) -> str:
    assert code == 3, err
    # the index's answers before the bad one are counted (progress, issue 22 item 5); what
    # went wrong is one line
    err = "".join(ln for ln in err.splitlines(True) if not ln.startswith("envlock lock: "))
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert not out.exists()
    return err


def _six_answer(index: FakeIndex, entry: dict[str, object]) -> Callable[[Seen], list[bytes]]:
    """The index's good answers, but six's page lists one wheel with `entry`'s fields."""

    def answer(seen: Seen) -> list[bytes]:
        if "/six/" not in seen.path:
            return list(index.good(seen))
        return [http(page("six", [wheel_entry("six", "1.17.0", **entry)]))]

    return answer


def test_a_good_index_gives_files_that_read_back(index: FakeIndex, run_lock: LockRun) -> None:
    code, err = run_lock(index.url)
    assert code == 0, err
    lock = read_lock(run_lock.out)
    assert sorted(lock.files) == ["idna", "six", "torch"]
    six = lock.files["six"][0]
    assert six.url == f"http://127.0.0.1:{index.port}/files/six-1.17.0-py3-none-any.whl"
    assert six.sha256 == sha("six-1.17.0-py3-none-any.whl")
    assert {s.headers["accept"] for s in index.seen} == {"application/vnd.pypi.simple.v1+json"}


# ------------------------------------------------------------------ one deadline
@pytest.mark.parametrize(
    "prefix",
    [
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 99999\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-Slow: ",  # a header that never ends
        b"",  # not even a status line
    ],
    ids=["body", "header", "status-line"],
)
def test_a_dripping_index_ends_the_command_at_its_deadline(
    index: FakeIndex, facts: Path, tmp_path: Path, prefix: bytes
) -> None:
    # one byte a second never trips a per-read timeout; three workers wait on it at once
    index.answer = index.drip(prefix)
    out = tmp_path / "l.toml"
    env = clean_env(PIP_INDEX_URL=index.url, ENVLOCK_INDEX_TIMEOUT="2", NO_PROXY="127.0.0.1")
    for name in PROXY_VARS:
        env.pop(name, None)
    args = ["lock", "--facts", str(facts), "--hashes", "-o", str(out)]
    try:
        # generous: the deadline is 2 s; before the fix this ran until killed
        proc = run_envlock(args, env=env, timeout=40)
    except subprocess.TimeoutExpired:
        pytest.fail("lock --hashes ran on past its deadline against a dripping index")
    err = _one_line_exit_3(proc.returncode, proc.stderr, out)
    assert "2 s" in err and "ENVLOCK_INDEX_TIMEOUT" in err, err


def test_the_deadline_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from envlock.install.index import DEADLINE_S, deadline_s

    for raw, want in [("2", 2.0), ("0.5", 0.5), ("", DEADLINE_S), ("x", DEADLINE_S)]:
        monkeypatch.setenv("ENVLOCK_INDEX_TIMEOUT", raw)
        assert deadline_s() == want
    for raw in ["0", "-1", "nan", "inf", "1e9"]:
        monkeypatch.setenv("ENVLOCK_INDEX_TIMEOUT", raw)
        assert deadline_s() == DEADLINE_S, raw


# ------------------------------------------------------------ broken HTTP, deep JSON
def _chunked(*chunks: bytes) -> bytes:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
    return head + b"\r\n" + b"".join(chunks)


BROKEN = {
    "bad status line": b"HTTP/1.1 two-hundred OK\r\n\r\n",
    "not HTTP at all": b"SSH-2.0-OpenSSH_9.2\r\n\r\n",
    "truncated chunk": _chunked(b'ffff\r\n{"files": []'),
    "bad chunk size": _chunked(b"zz\r\n{}\r\n0\r\n\r\n"),
    "over 100 headers": b"HTTP/1.1 200 OK\r\n" + b"X-H: 1\r\n" * 101 + b"\r\n{}",
    "header line over 64 KiB": b"HTTP/1.1 200 OK\r\nX-H: " + b"a" * 70000 + b"\r\n\r\n",
    "body shorter than its length": http(b"{}")[:-1].replace(b"Length: 2", b"Length: 9"),
    "200,000-deep array": http(b"[" * 200_000),
    "200,000-deep object": http(b'{"files":' * 200_000),
    "deep inside a file entry": http(b'{"files": [{"hashes": ' + b"[" * 100_000 + b"]}"),
    "closed without an answer": b"",
}


@pytest.mark.parametrize("raw", list(BROKEN.values()), ids=list(BROKEN))
def test_a_broken_answer_is_one_line_and_exit_3(
    index: FakeIndex, run_lock: LockRun, raw: bytes
) -> None:
    index.answer = lambda seen: [raw]
    err = run_lock.refused(index.url)
    assert f"index http://127.0.0.1:{index.port}/simple" in err, err


def test_deep_json_is_refused_by_a_depth_limit_not_by_recursion() -> None:
    from envlock.install.fetch import MAX_DEPTH, json_deeper_than

    assert not json_deeper_than(b'{"a": [1, {"b": "[[[[[[[[[[[[[[[[[[[["}]}', 3)
    assert json_deeper_than(b"[" * (MAX_DEPTH + 1), MAX_DEPTH)
    assert json_deeper_than(b"[1, " * 40 + b"]" * 40, MAX_DEPTH)
    assert not json_deeper_than(b'["\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["]', 2)
    assert not json_deeper_than(b"[[]]" * 1000, 2)


# --------------------------------------------------- nothing written the reader refuses
GOOD_SHA = sha("six-1.17.0-py3-none-any.whl")
REFUSED_ENTRIES = {
    "sha256 not hex": {"hashes": {"sha256": "XYZ"}},
    "sha256 63 digits": {"hashes": {"sha256": GOOD_SHA[:63]}},
    "sha256 with a newline": {"hashes": {"sha256": GOOD_SHA + "\n"}},
    "sha256 non-ASCII digits": {"hashes": {"sha256": "\u0661" * 64}},
    "sha256 a number": {"hashes": {"sha256": 12345}},
    "file url": {"url": "file:///etc/passwd"},
    "javascript url": {"url": "javascript:alert(1)//six-1.17.0-py3-none-any.whl"},
    "data url": {"url": "data:text/plain,six-1.17.0-py3-none-any.whl"},
    "ftp url": {"url": "ftp://127.0.0.1/six-1.17.0-py3-none-any.whl"},
    "url with a newline": {"url": "/files/six-1.17.0-py3-none-any.whl\n--index-url x"},
    "url with a space": {"url": "/files/six 1.17.0.whl"},
    "url without a host": {"url": "https:///six-1.17.0-py3-none-any.whl"},
    "url with a bad port": {"url": "http://127.0.0.1:99999/six-1.17.0-py3-none-any.whl"},
}


@pytest.mark.parametrize("entry", list(REFUSED_ENTRIES.values()), ids=list(REFUSED_ENTRIES))
def test_a_file_the_reader_would_refuse_is_never_written(
    index: FakeIndex, run_lock: LockRun, entry: dict[str, object]
) -> None:
    index.answer = _six_answer(index, entry)
    err = run_lock.refused(index.url)
    assert "six" in err, err


FIXED_ENTRIES = {
    "sha256 upper-case": ({"hashes": {"sha256": GOOD_SHA.upper()}}, None),
    "credentials in the url": (
        {"url": "http://bob:hunter2@127.0.0.1/six-1.17.0-py3-none-any.whl"},
        "http://127.0.0.1/six-1.17.0-py3-none-any.whl",
    ),
    "another host (a CDN, as PyPI's files.pythonhosted.org)": (
        {"url": "https://files.example.org/a/six-1.17.0-py3-none-any.whl#sha256=x"},
        "https://files.example.org/a/six-1.17.0-py3-none-any.whl",
    ),
    "non-ASCII path": (
        {"url": "/files/\u00e9/six-1.17.0-py3-none-any.whl"},
        "http://127.0.0.1:{port}/files/%C3%A9/six-1.17.0-py3-none-any.whl",
    ),
}


@pytest.mark.parametrize("case", list(FIXED_ENTRIES.values()), ids=list(FIXED_ENTRIES))
def test_a_file_is_written_as_the_reader_reads_it(
    index: FakeIndex, run_lock: LockRun, case: tuple[dict[str, object], str | None]
) -> None:
    entry, url = case

    index.answer = _six_answer(index, entry)
    code, err = run_lock(index.url)
    assert code == 0, err
    (six,) = read_lock(run_lock.out).files["six"]
    assert six.sha256 == GOOD_SHA
    if url is not None:
        assert six.url == url.format(port=index.port)
    assert "hunter2" not in run_lock.out.read_text()


def test_a_plain_http_file_from_an_https_index_is_refused() -> None:
    from envlock.install.files import file_url

    base = "https://pypi.example/simple/six/"
    assert file_url(base, "../../f/six.whl") == "https://pypi.example/f/six.whl"
    assert file_url(base, "https://cdn.example/six.whl") == "https://cdn.example/six.whl"
    with pytest.raises(RestoreError, match="plain http"):
        file_url(base, "http://cdn.example/six.whl")
    assert file_url("http://i.example/s/", "https://i.example/six.whl").startswith("https:")


# ------------------------------------------------------------------------ redirects
def test_a_redirect_to_another_host_is_refused(index: FakeIndex, run_lock: LockRun) -> None:
    # the same server under another name: had it been followed, the fake would see it
    def answer(seen: Seen) -> list[bytes]:
        if seen.headers.get("host", "").startswith("localhost"):
            return list(index.good(seen))
        where = f"http://localhost:{index.port}{seen.path}"
        return [http(b"", status="302 Found", headers=[("Location", where)])]

    index.answer = answer
    err = run_lock.refused(index.url)
    assert "redirect" in err and "localhost" in err, err
    assert not [s for s in index.seen if s.headers["host"].startswith("localhost")]


def test_a_redirect_within_the_index_host_is_followed(index: FakeIndex, run_lock: LockRun) -> None:
    def answer(seen: Seen) -> list[bytes]:
        if seen.path.startswith("/moved/"):
            return list(index.good(seen))
        where = seen.path.replace("/simple/", "/moved/")
        return [http(b"", status="301 Moved Permanently", headers=[("Location", where)])]

    index.answer = answer
    code, err = run_lock(index.url)
    assert code == 0, err
    # relative file URLs resolve against the page the files were listed on
    assert read_lock(run_lock.out).files["six"][0].url.startswith(f"http://127.0.0.1:{index.port}/")


def test_the_redirect_rule() -> None:
    from envlock.install.indexurl import same_origin_or_upgrade as ok

    assert ok("http://a.example/s/x/", "http://a.example/t/x/")
    assert ok("http://a.example/s/x/", "https://a.example/s/x/")  # an upgrade
    assert ok("https://A.example:443/s/", "https://a.example/t/")
    assert not ok("https://a.example/s/", "http://a.example/s/")  # a downgrade
    assert not ok("http://a.example/s/", "http://b.example/s/")
    assert not ok("http://a.example/s/", "http://a.example:8080/s/")
    assert not ok("http://a.example/s/", "file:///etc/passwd")


# ---------------------------------------------------------------------- credentials
USER, PASSWORD = "alice", "s3cr:t@/x"


def _credentialed(index: FakeIndex) -> str:
    quoted = urllib.parse.quote(PASSWORD, safe="")
    return index.url.replace("http://", f"http://{USER}:{quoted}@")


def test_a_credentialed_index_gets_an_authorization_header(
    index: FakeIndex, run_lock: LockRun
) -> None:
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()

    def answer(seen: Seen) -> list[bytes]:
        if seen.headers.get("authorization") != f"Basic {token}":
            return [http(b"who?", status="401 Unauthorized", content_type="text/plain")]
        return list(index.good(seen))

    index.answer = answer
    code, err = run_lock(_credentialed(index))
    assert code == 0, err
    assert sorted(read_lock(run_lock.out).files) == ["idna", "six", "torch"]
    assert {s.headers["host"] for s in index.seen} == {f"127.0.0.1:{index.port}"}
    text = run_lock.out.read_text()
    assert USER not in text and "s3cr" not in text


@pytest.mark.parametrize("failure", ["401", "500", "broken", "closed port"])
def test_the_password_is_never_printed(index: FakeIndex, run_lock: LockRun, failure: str) -> None:
    answers = {
        "401": http(b"", status="401 Unauthorized"),
        "500": http(b"", status="500 Oops"),
        "broken": b"HTTP/1.1 20x OK\r\n\r\n",
    }
    index.answer = lambda seen: [answers.get(failure, b"")]
    url = _credentialed(index)
    if failure == "closed port":
        index.close()
    err = run_lock.refused(url)
    assert "s3cr" not in err and "%3A" not in err, err
    assert f"http://{USER}:****@127.0.0.1:{index.port}/simple" in err, err


def test_a_token_as_the_user_name_is_masked_too() -> None:
    from envlock.install.indexurl import Index

    index = Index.parse("https://ghp_abc123@pkgs.example/simple/", where="PIP_INDEX_URL")
    assert index.url == "https://pkgs.example/simple/"
    assert index.shown == "https://****@pkgs.example/simple/"
    assert "ghp_abc123" not in repr(index)
    with pytest.raises(RestoreError, match="http") as exc:
        Index.parse("file:///home/me/secret:pw@x", where="PIP_INDEX_URL")
    assert "pw" not in str(exc.value)


# ------------------------------------------------------------------ --hashes-from
PYLOCK = """\
lock-version = "1.0"
created-by = "a resolver"

[[packages]]
name = "six"
version = "1.17.0"

[[packages.wheels]]
name = "six-1.17.0-py3-none-any.whl"
url = "{url}"
hashes = {{sha256 = "{sha}"}}
"""


def _pylock_case(
    tmp_path: Path, index: FakeIndex, *, url: str = "", sha256: str = GOOD_SHA, text: str = ""
) -> Path:
    path = tmp_path / "pylock.toml"
    url = url or "https://files.example.org/six-1.17.0-py3-none-any.whl"
    path.write_text(text or PYLOCK.format(url=url, sha=sha256))
    return path


def test_hashes_from_a_pylock_read_back(
    index: FakeIndex, tmp_path: Path, run_lock: LockRun
) -> None:
    pylock = _pylock_case(tmp_path, index, sha256=GOOD_SHA.upper())
    code, err = run_lock(index.url, "--hashes-from", str(pylock))
    assert code == 0, err
    assert read_lock(run_lock.out).files["six"][0].sha256 == GOOD_SHA
    assert "/six/" not in " ".join(s.path for s in index.seen)  # the pylock had it


PYLOCK_REFUSED = {
    "200,000-deep array": {"text": "lock-version = " + "[" * 200_000},
    "200,000-deep inline table": {"text": "x = " + "{a = " * 200_000},
    "40-deep [tool] table": {
        "text": PYLOCK.format(url="https://f.example/six.whl", sha=GOOD_SHA)
        + "\n[tool.x]\ny = "
        + "[" * 40
        + "]" * 40
        + "\n"
    },
    "sha256 not hex": {"sha256": "not-a-hash"},
    "file url": {"url": "file:///etc/passwd"},
    "javascript url": {"url": "javascript:alert(1)"},
    "url with control characters": {"url": "https://x.example/six\\u0085.whl"},
}


@pytest.mark.parametrize("case", list(PYLOCK_REFUSED.values()), ids=list(PYLOCK_REFUSED))
def test_a_bad_pylock_is_one_line_and_exit_3(
    index: FakeIndex, tmp_path: Path, run_lock: LockRun, case: dict[str, str]
) -> None:
    pylock = _pylock_case(tmp_path, index, **case)
    err = run_lock.refused(index.url, "--hashes-from", str(pylock))
    assert str(pylock) in err, err
