"""File hashes for a lock from the package index's JSON simple API (PEP 691).

The index is the one the user's pip configuration names (PIP_INDEX_URL, else
`pip config list`'s index-url, else https://pypi.org/simple); a tagged torch build
(2.13.0+cpu) comes from its variant's index recorded in the lock. Only the files
that fit the locked platform are kept: wheels whose tags the locked Python, CPU
architecture and glibc accept (or the sdist when there is no wheel).

An index's answers are untrusted input:

- One deadline for every request of a command (ENVLOCK_INDEX_TIMEOUT seconds,
  default 120), shared by the workers: when it passes, every open connection is
  shut, so a server that drips a byte a second ends the command then. Each
  connect and read also has its own limit (30 s).
- Every failure is one RestoreError line (exit 3): HTTP that does not parse, a
  page over 64 MiB or nested deeper than 32 levels (checked before json.loads
  recurses), a timeout, an error status.
- Only http(s) indexes. `https://user:password@host/simple` (what pip accepts)
  is sent as an Authorization header to that host; messages show the URL with
  the password (or a lone user name, often a token) as ****, and no lock holds
  it. ~/.netrc is not read.
- Redirects are followed only to the same scheme, host and port, or from http
  to https on the same host; any other is refused, so credentials and the
  request stay with the index the user named.
- What is written is what the lock reader accepts: sha256 as 64 lowercase hex
  (upper-case is lowered, anything else refused), file names that are plain
  wheel or sdist names, file URLs http(s) with a host, without credentials
  (removed), fragment or whitespace and control characters, other characters
  percent-encoded. A file URL may name another host than the index: PyPI's
  pages point at files.pythonhosted.org, and the sha256 pins the bytes whoever
  serves them; a plain-http file listed by an https index is refused.

Here: which index each project is asked of, and all requests under one deadline. The
index URL is install/indexurl.py's, HTTP install/fetch.py's, what a lock may hold and
which files fit install/files.py's, `--hashes-from` install/pylock.py's.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import threading

from envlock.errors import RestoreError
from envlock.install.fetch import TIMEOUT_S, Budget, fetch_page, opener
from envlock.install.files import platform_tags, select_files
from envlock.install.indexurl import Index
from envlock.lock.closure import DEFAULT_INDEX, INSTALLER_PACKAGES
from envlock.lock.model import SELF_PACKAGES, Lock, LockedFile
from envlock.report.progress import SILENT, Progress

DEADLINE_S = 120.0  # all requests of one command together
_WORKERS = 8
ASKED = "projects asked of the index"  # the count lock --hashes shows


def deadline_s() -> float:
    """The deadline of one command's index requests: ENVLOCK_INDEX_TIMEOUT seconds when it
    is a number in (0, 86400], else DEADLINE_S."""
    try:
        value = float(os.environ.get("ENVLOCK_INDEX_TIMEOUT", "").strip())
    except ValueError:
        return DEADLINE_S
    return value if 0 < value <= 86400 else DEADLINE_S  # nan and inf fail the test


def pip_index_url(python: str | None = None, timeout: float = TIMEOUT_S) -> str:
    """The index pip installs from for this user: PIP_INDEX_URL, pip's configuration, or
    the default."""
    env = os.environ.get("PIP_INDEX_URL")
    if env and env.split():
        return env.split()[0]
    try:
        proc = subprocess.run(
            [python or sys.executable, "-m", "pip", "config", "list"],
            capture_output=True,
            text=True,
            timeout=max(timeout, 0.1),
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return DEFAULT_INDEX
    found: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.rsplit(".", 1)[-1] == "index-url":
            found[key.split(".", 1)[0]] = value.strip().strip("'\"")
    # pip's precedence: the environment, then the install command's section, then global
    for section in (":env:", "install", "global"):
        if found.get(section) and found[section].split():
            return found[section].split()[0]
    return DEFAULT_INDEX


# ------------------------------------------------------- all requests, one deadline
@dataclasses.dataclass(frozen=True, slots=True)
class _Task:
    index: Index
    name: str
    version: str


def _gather(
    tasks: list[_Task], accepted: set[str], budget: Budget, progress: Progress = SILENT
) -> dict[str, tuple[LockedFile, ...]]:
    """Every task's files, fetched by up to _WORKERS daemon threads under `budget`: the
    first failure, or the deadline, ends them all (open connections are shut). Each answer
    is counted to `progress` (N of M projects)."""
    http = opener(budget)
    tasks = list({t.name: t for t in tasks}.values())  # one request per project
    results: dict[str, tuple[LockedFile, ...]] = {}
    errors: list[Exception] = []
    todo = list(reversed(tasks))
    in_flight: dict[str, _Task] = {}
    lock = threading.Lock()
    done = threading.Event()

    def work() -> None:
        while not done.is_set():
            with lock:
                if not todo:
                    return
                task = todo.pop()
                in_flight[task.name] = task
            try:
                page, final = fetch_page(http, budget, task.index, task.name)
                found = select_files(page, final, task.index, task.name, task.version, accepted)
            except Exception as exc:  # the caller raises it
                with lock:
                    errors.append(exc)
                    done.set()
                return
            with lock:
                if done.is_set():  # ended (a failure, the deadline): nothing more is said
                    return
                results[task.name] = found
                del in_flight[task.name]
                progress.count(ASKED, len(results), len(tasks))
                if len(results) == len(tasks):
                    done.set()

    # counted from the first answer: an index that does not answer stays one line (its error)
    # daemon threads: one stuck in a DNS lookup cannot hold the process past the deadline
    for _ in range(min(_WORKERS, len(tasks))):
        threading.Thread(target=work, daemon=True, name="envlock-index").start()
    try:
        finished = done.wait(max(budget.left(), 0))
    finally:
        budget.cut_all()
    if not finished:
        with lock:
            late = sorted(in_flight.values(), key=lambda t: t.name) + todo[::-1] or tasks
        more = f" (and {len(late) - 1} more projects)" if len(late) > 1 else ""
        raise RestoreError(
            f"index {late[0].index.shown}: no complete answer for {late[0].name!r}{more} "
            f"within the {budget.seconds:g} s deadline of all index requests "
            "(ENVLOCK_INDEX_TIMEOUT sets it)"
        )
    if errors:
        raise errors[0]
    return results


def files_for(
    index: Index | str,
    name: str,
    version: str,
    accepted: set[str],
    *,
    timeout: float | None = None,
) -> tuple[LockedFile, ...]:
    """The files of name==version on `index` that fit the locked platform, with sha256."""
    from packaging.utils import canonicalize_name

    idx = index if isinstance(index, Index) else Index.parse(index)
    task = _Task(idx, canonicalize_name(name), version)
    budget = Budget(deadline_s() if timeout is None else timeout)
    return _gather([task], accepted, budget)[task.name]


def _tasks(
    lock: Lock, todo: list[tuple[str, str]], index: str | None, python: str | None, left: float
) -> list[_Task]:
    """Which index each (name, version) is asked of: a tagged torch distribution
    (2.13.0+cpu) and its tagged companions the variant's index the lock names, everything
    else (the default index's untagged 2.14.1 too) `index` or pip's."""
    from packaging.utils import canonicalize_name

    where = "--index" if index else "PIP_INDEX_URL or pip's index-url"
    default = Index.parse(index or pip_index_url(python, left), where=where)
    tag = lock.packages.get("torch", "").partition("+")[2]
    variant = default
    if tag and lock.torch is not None and lock.torch.index:
        variant = Index.parse(lock.torch.index, where="the lock's torch.index")
    return [
        _Task(variant if tag and v.endswith("+" + tag) else default, canonicalize_name(n), v)
        for n, v in todo
    ]


def with_hashes(
    lock: Lock,
    *,
    index: str | None = None,
    python: str | None = None,
    known: dict[str, tuple[LockedFile, ...]] | None = None,
    timeout: float | None = None,
    progress: Progress = SILENT,
) -> Lock:
    """The lock with [files] filled for every package and tool an installer would fetch;
    `known` (from a resolver's lock) first, the index for the rest, all requests within
    `timeout` seconds together (default: deadline_s())."""
    if lock.system is None or not lock.system.python or not lock.system.arch:
        raise RestoreError("the lock holds no Python version and architecture to choose files for")
    if not lock.packages:
        raise RestoreError("the lock holds no [packages]: no files to hash")
    budget = Budget(deadline_s() if timeout is None else timeout)
    accepted = platform_tags(lock.system.python, lock.system.arch, lock.system.glibc)
    wanted = {**lock.packages, **lock.tools}
    known = known or {}
    skip = INSTALLER_PACKAGES | SELF_PACKAGES | set(lock.sources) | set(known)
    todo = sorted((n, v) for n, v in wanted.items() if n not in skip)
    files = {n: f for n, f in known.items() if n in wanted and n not in INSTALLER_PACKAGES}
    if todo:
        tasks = _tasks(lock, todo, index, python, budget.left())
        found = _gather(tasks, accepted, budget, progress)
        files.update((n, found[t.name]) for (n, _), t in zip(todo, tasks, strict=True))
    return dataclasses.replace(lock, files=dict(sorted(files.items())))
