"""A fake package index on 127.0.0.1 that answers with raw bytes a test chooses: a PEP 691
page, or an answer as broken as a hostile or failing server makes it (a bad status line,
bad chunking, endless headers, one byte a second). Used by the index tests and the index
fuzz test; it never contacts anything itself."""

from __future__ import annotations

import contextlib
import hashlib
import json
import socketserver
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

JSON_API = "application/vnd.pypi.simple.v1+json"


@dataclass(frozen=True)
class Seen:
    """One request the fake index received."""

    path: str
    headers: dict[str, str]  # lower-case names


Answer = Callable[[Seen], Iterable[bytes]]


def http(
    body: bytes,
    *,
    status: str = "200 OK",
    content_type: str = JSON_API,
    headers: Iterable[tuple[str, str]] = (),
) -> bytes:
    """A complete HTTP/1.1 answer with a Content-Length."""
    head = [f"HTTP/1.1 {status}", f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
    head += [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode("utf-8", "surrogatepass") + body


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def wheel_entry(name: str, version: str, **overrides: Any) -> dict[str, Any]:
    """A PEP 691 file entry of a pure-Python wheel (fits every platform)."""
    fname = f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
    entry: dict[str, Any] = {"filename": fname, "url": f"../../files/{fname}"}
    entry["hashes"] = {"sha256": sha(fname)}
    entry.update(overrides)
    return entry


def page(name: str, files: list[dict[str, Any]]) -> bytes:
    return json.dumps({"meta": {"api-version": "1.1"}, "name": name, "files": files}).encode()


def project_of(seen: Seen) -> str:
    """The project a request asks for: /simple/<name>/ -> name."""
    parts = [p for p in seen.path.split("?")[0].split("/") if p]
    return parts[-1] if parts else ""


@dataclass
class FakeIndex:
    """A threaded server on an ephemeral loopback port; `answer` is what each request gets
    (a test sets it; an iterable of byte chunks, sent as they come, so a generator can
    drip). Every request is recorded in `seen`."""

    versions: dict[str, str] = field(default_factory=dict)
    answer: Answer | None = None
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.stopping = threading.Event()
        owner = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                lines: list[bytes] = []
                while True:
                    line = self.rfile.readline(65537)
                    if line in (b"", b"\r\n", b"\n"):
                        break
                    lines.append(line)
                if not lines:
                    return
                path = lines[0].split(b" ")[1].decode("latin-1") if b" " in lines[0] else ""
                headers = {}
                for raw in lines[1:]:
                    k, _, v = raw.decode("latin-1").partition(":")
                    headers[k.strip().lower()] = v.strip()
                seen = Seen(path, headers)
                owner.seen.append(seen)
                try:
                    for chunk in (owner.answer or owner.good)(seen):
                        if owner.stopping.is_set():
                            return
                        self.wfile.write(chunk)
                        self.wfile.flush()
                except OSError:  # the client went away: what a client may do
                    return

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/simple"

    def good(self, seen: Seen) -> Iterator[bytes]:
        """A correct PEP 691 page: one wheel of each project's version in `versions`."""
        name = project_of(seen)
        if name not in self.versions:
            yield http(b"not found", status="404 Not Found", content_type="text/plain")
            return
        yield http(page(name, [wheel_entry(name, self.versions[name])]))

    def drip(self, prefix: bytes = b"") -> Answer:
        """An answer that sends `prefix`, then one byte a second for as long as the
        client listens."""

        def answer(seen: Seen) -> Iterator[bytes]:
            yield prefix
            while not self.stopping.wait(1.0):
                yield b" "

        return answer

    def close(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()


@contextlib.contextmanager
def torch_wheel_index(monkeypatch: Any, wheels: list[str]) -> Iterator[FakeIndex]:
    """A fake download.pytorch.org whose torch page lists `wheels` (file names), named by
    ENVLOCK_TORCH_INDEX, with every proxy variable unset; closed on exit."""
    fake = FakeIndex()
    files = [
        {"filename": w, "url": f"../../files/{w}", "hashes": {"sha256": sha(w)}} for w in wheels
    ]

    def answer(seen: Seen) -> Iterator[bytes]:
        yield http(page("torch", files))

    fake.answer = answer
    monkeypatch.setenv("ENVLOCK_TORCH_INDEX", fake.url.removesuffix("/simple") + "/whl/")
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    try:
        yield fake
    finally:
        fake.close()
