"""Per-node facts files (`envlock fleet report DIR`, written by `envlock probe --json` on
each node: srun, Kubernetes jobs without torchrun), compared like the ranks of one job.

Streamed: each file is read, summarised and dropped, so memory holds one summary per kind
of node, not 10,000 Facts. Files are decoded by msgspec (`facts.fast_facts`; the
reference, `Facts.from_dict`, reads only what msgspec refuses, and says what is wrong).
Files equal but for their per-node values (`PER_NODE`: host name, timestamps, timings,
GPU UUIDs) share one summary: each file is first read as a *node view*, its per-node
values typed and everything else kept as raw JSON, and the view without the per-node
values names the kind of node. msgspec is imported on first use (host side only).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import stat
import types
import typing
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

from envlock.errors import EnvlockError, FactsError, first_line
from envlock.facts import (
    FACTS_VERSION,
    MAX_GPUS,
    Facts,
    fast_facts,
    load_json,
    plain_json,
    read_facts_file,
)
from envlock.findings import Finding, Severity
from envlock.fleet import split
from envlock.fleet.compare import (
    FleetError,
    FleetTable,
    SectionFlattener,
    compare_table,
    missing_nodes,
    summarize,
)
from envlock.fleet.doctor import NodeDoctor, doctor_findings
from envlock.fleet.split import Part
from envlock.hostlist import Hostlist
from envlock.lock import Lock, flatten
from envlock.report.progress import SILENT, Progress

# Where Facts holds the values that differ between identical nodes ("[]": each item of a
# list, each value of a table). None of them reaches a summary (the lock holds no host
# names, timestamps, timings or GPU UUIDs), so two files equal but for these summarise alike.
PER_NODE = (
    "meta.collected_at",
    "meta.durations_ms",
    "system.hostname",
    "driver.gpus[].uuid",
    "torch.live.import_seconds",
    "determinism.seconds",
    "determinism.classes[].seconds",
)


# node views are skipped after this many files in a row share no summary, but for one in SAMPLE
UNSHARED, SAMPLE = 64, 16


def report_dir(
    directory: str,
    lock: Lock | None,
    *,
    scope: str,
    expected: Hostlist | None = None,
    progress: Progress = SILENT,
) -> tuple[list[str], list[Finding]]:
    """Per-node facts files (from `envlock probe --json`) compared like ranks: the nodes
    read (in file order) and the findings. A node file that cannot be read is reported
    (EL-FLEET-NODE-UNREADABLE) and the others compared; `expected` (from --nodes) names
    nodes that must have sent a file (EL-FLEET-NODE-MISSING). Each file read is counted
    to `progress`."""
    names = _facts_names(directory)
    with _Directory(directory) as files:
        part = _read_all(files, names, lock, scope, progress)
    if not part.read:
        raise FleetError(f"{directory}: none of the {len(names)} facts files could be read")
    # a node is named by its hostname; files that share one are told apart by file name
    counts = Counter(host for host, _ in part.read)
    hosts = [host if counts[host] == 1 else f"{host} ({name})" for host, name in part.read]
    if len(counts) < len(part.read):
        for kind in part.table.kinds:
            kind.members = [(rank, hosts[rank]) for rank, _ in kind.members]
    reference = flatten(lock, scope=scope) if lock is not None else None
    out = [*part.unreadable, *compare_table(part.table, reference)]
    members = {i: [hosts[r] for r, _ in k.members] for i, k in enumerate(part.table.kinds)}
    out += doctor_findings(part.doctor, members)
    if expected is not None:
        missing = missing_nodes(expected, counts)
        if missing is not None:
            out.insert(0, missing)
    return hosts, out


def _read_all(
    files: _Directory, names: list[str], lock: Lock | None, scope: str, progress: Progress
) -> Part:
    """Every file summarised, over two processes where a large fleet pays for it
    (`split.py`: the same Part either way)."""
    here = _Reader(files, lock, scope)
    if not split.worth_it(len(names)):
        return here.read(names, progress)
    # the first file here and uncounted (a terminal's progress display starts a thread): the
    # child inherits what it loaded (the doctor's modules, the decoders), not loading it again
    here.read(names[:1])
    cut = (len(names) + 1) // 2
    known = here.summarizer.doctor
    child = split.Child(lambda: _Reader(files, lock, scope, known).read(names[cut:]))
    try:
        part = here.read(names[1:cut], progress, before=1, total=len(names))
        later = child.result()
    except BaseException:
        child.stop()
        raise
    if later is None:  # the child failed: its half is read here
        later = _Reader(files, lock, scope, known).read(names[cut:])
    part.merge(later)
    progress.count(f"reading the facts files in {files.directory}", len(names), len(names))
    return part


class _Reader:
    """Files summarised in order into one Part, ranks from 0."""

    def __init__(
        self, files: _Directory, lock: Lock | None, scope: str, known: NodeDoctor | None = None
    ) -> None:
        self.files = files
        self.summarizer = NodeSummarizer(lock, scope, known)
        self.part = Part(table=self.summarizer.table, doctor=self.summarizer.doctor.by_kind)

    def read(
        self, names: list[str], progress: Progress = SILENT, before: int = 0, total: int = 0
    ) -> Part:
        """`names` added; each counted to `progress` after the `before` counted already, of
        `total` (default: `names`)."""
        directory, part = self.files.directory, self.part
        for done, name in enumerate(names, before + 1):
            progress.count(f"reading the facts files in {directory}", done, total or len(names))
            try:
                host = self.summarizer.add_file(self.files, name, len(part.read))
            except EnvlockError as exc:
                part.unreadable.append(_unreadable(Path(directory, name), exc))
                continue
            part.read.append((host, name))
        return part


def _facts_files(directory: str) -> list[Path]:
    """DIR's *.json files, sorted by name."""
    return [Path(directory, n) for n in _facts_names(directory)]


def _facts_names(directory: str) -> list[str]:
    """The names of DIR's *.json files, sorted (as strings: no Path per file)."""
    if not Path(directory).is_dir():
        raise FleetError(f"{directory}: not a directory of facts files")
    with os.scandir(directory) as entries:
        names = sorted(e.name for e in entries if e.name.endswith(".json"))
    if not names:
        raise FleetError(
            f"{directory}: no *.json facts files (write them with `envlock probe --json`)"
        )
    return names


class _Directory:
    """DIR opened once, its files read by name relative to it: 10,000 files are not
    10,000 walks of DIR's path, nor a Path each. A file the quick read does not take as
    it is (not a regular file, too big, an error) is read by `_read`, which raises the
    line a single file gets."""

    _FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)  # a FIFO never waits

    def __init__(self, directory: str) -> None:
        from envlock.safeio import limit_bytes

        self.directory, self.limit = directory, limit_bytes()
        self.fd: int | None = None

    def __enter__(self) -> _Directory:
        try:
            flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
            self.fd = os.open(self.directory, flags)
        except OSError:
            self.fd = None  # each file read by its path
        return self

    def __exit__(self, *_: object) -> None:
        if self.fd is not None:
            os.close(self.fd)

    def read(self, name: str) -> bytes:
        """The bytes of DIR/name, bounded as `safeio.read_bounded` bounds them."""
        raw = self._quick(name) if self.fd is not None else None
        return raw if raw is not None else _read(Path(self.directory, name))

    def _quick(self, name: str) -> bytes | None:
        """A regular file within the limit, read; None for anything else."""
        try:
            fd = os.open(name, self._FLAGS, dir_fd=self.fd)
        except OSError:
            return None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_size > self.limit:
                return None
            chunks, total = [], 0
            while chunk := os.read(fd, min(1 << 20, self.limit + 1 - total)):
                chunks.append(chunk)
                total += len(chunk)
                if total > self.limit:  # grew while being read
                    return None
            return b"".join(chunks)
        except OSError:
            return None
        finally:
            os.close(fd)


def _unreadable(path: Path, exc: EnvlockError) -> Finding:
    return Finding(
        check_id="EL-FLEET-NODE-UNREADABLE",
        severity=Severity.ERROR,
        message=f"{path.name}: {first_line(exc)}",
        fix="rewrite it with `envlock probe --json` on that node",
        evidence={"file": str(path)},
    )


class NodeSummarizer:
    """Facts files -> the fleet's table, rank by rank; files of one kind of node share one
    summary (`node_view`): 10,000 files of a few kinds are 10,000 node views and a few
    decodes, verifies and summaries. Only the table keeps what a summary says (as a delta
    from the first kind's)."""

    def __init__(self, lock: Lock | None, scope: str, known: NodeDoctor | None = None) -> None:
        self.lock, self.scope = lock, scope
        self.table = FleetTable()
        self.flatten = SectionFlattener(scope)  # sections equal to the last node's reused
        self.seen: dict[bytes, int] = {}  # node-view kind -> the table's kind
        self.unshared = 0  # files in a row that shared no summary
        # the doctor's errors per kind (issue 21 item 11); `known`: another doctor's runs
        self.doctor = NodeDoctor(known)

    def add_file(self, files: _Directory, name: str, rank: int) -> str:
        """Add DIR/name as `rank`; the node's host name (else the file's stem)."""
        raw = files.read(name)
        view = self._view(raw)
        if view is not None and view.kind in self.seen:
            self.unshared = 0
            host = view.host or Path(name).stem
            self.table.join(self.seen[view.kind], rank, host)
            return host
        self.unshared += 1
        facts = _decode(os.path.join(files.directory, name), raw)
        host = facts.system.hostname or Path(name).stem
        from envlock.verify import verify

        findings = verify(self.lock, facts, scope=self.scope) if self.lock is not None else []
        summary = summarize(rank, host, facts, findings, self.scope, flattener=self.flatten)
        kind = self.table.add(rank, host, summary.fields, summary.findings)
        self.doctor.add(kind, facts)
        if view is not None:
            self.seen[view.kind] = kind
        return host

    def _view(self, raw: bytes) -> NodeView | None:
        """The file's node view, while views pay: in a fleet whose nodes all differ (another
        version of a package on each) a view per file shares nothing and costs a fifth of
        the time. After UNSHARED files in a row with no summary shared, one file in SAMPLE
        gets its view, until one shares again; the others are decoded in full, as a file
        with no view is (the summary is the same either way)."""
        if self.unshared >= UNSHARED and self.unshared % SAMPLE:
            return None
        return node_view(raw)


def _read(path: str | Path) -> bytes:
    from envlock.safeio import UnreadableFile, read_bounded

    try:
        return read_bounded(path)
    except UnreadableFile:
        read_facts_file(str(path))  # raises with the message a single file gets
        raise  # pragma: no cover - read_facts_file raised


def _decode(path: str | Path, raw: bytes) -> Facts:
    """The file's Facts: msgspec, else the reference, whose error a bad file gets."""
    facts = fast_facts(raw)
    if facts is not None:
        return facts
    try:
        doc = load_json(raw)  # integers bounded: one such file is that node's finding
    except FactsError:
        read_facts_file(str(path))  # raises with the message a single file gets
        raise  # pragma: no cover - read_facts_file raised
    try:
        return Facts.from_dict(doc)
    except FactsError as exc:
        raise FactsError(f"{path}: {exc}") from None


# ------------------------------------------------------------------ node views
@dataclass(frozen=True, slots=True)
class NodeView:
    """What the node view of one file says: its host name, and its kind (a digest of the
    file without its per-node values)."""

    host: str | None
    kind: bytes


def node_view(raw: bytes) -> NodeView | None:
    """The file's node view, or None when it has none (it is then decoded in full).

    The view is the document decoded by msgspec with the per-node values (`PER_NODE`)
    typed as Facts types them, the objects on the way to them decoded as objects, and
    every other value kept as its raw JSON text. Two files of one kind are the same
    document but for per-node values, the key order of the objects on the way to them and
    unknown keys (which Facts skips): the first file of a kind is decoded and checked in
    full; a later one has the same raw JSON everywhere else, so it is valid Facts once its
    own per-node values, the facts version, the GPU count and what load_json bounds
    (`plain_json`) are."""
    import msgspec

    decoder, encoder, paths = _views()
    if not plain_json(raw):
        return None
    try:
        view = decoder.decode(raw)
    except (msgspec.MsgspecError, RecursionError):
        return None
    driver = view.driver
    gpus = [] if driver is msgspec.UNSET else driver.gpus
    if view.facts_version != FACTS_VERSION or len(gpus or ()) > MAX_GPUS:
        return None
    system = view.system
    host = None if system is msgspec.UNSET else system.hostname
    _drop_per_node(view, paths)
    kind = hashlib.sha256(encoder.encode(view)).digest()
    return NodeView(host if isinstance(host, str) else None, kind)


def _drop_per_node(view: Any, paths: dict[type, tuple[tuple[str, ...], tuple[str, ...]]]) -> None:
    """Unset the per-node values of a view (in place, recursively): they are left out of
    its encoding. `paths`: view type -> (its per-node fields, its fields holding views)."""
    from msgspec import UNSET

    per_node, inner = paths[type(view)]
    for name in per_node:
        setattr(view, name, UNSET)
    for name in inner:
        value = getattr(view, name)
        if isinstance(value, dict):
            items: Any = value.values()
        elif isinstance(value, list):
            items = value
        else:
            items = (value,)  # a view, None or UNSET
        for item in items:
            if type(item) in paths:
                _drop_per_node(item, paths)


_Tree: TypeAlias = "dict[str, _Tree | None]"


@functools.cache
def _views() -> tuple[Any, Any, dict[type, tuple[tuple[str, ...], tuple[str, ...]]]]:
    """(decoder, encoder, paths) of the node view, generated from the Facts dataclasses and
    PER_NODE (only the classes on its paths are looked into): a field added to Facts is in
    the view without a change here."""
    import msgspec

    paths: dict[type, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    tree: _Tree = {}  # PER_NODE as a tree: name -> subtree, None at a value
    for path in PER_NODE:
        *parents, leaf = path.replace("[]", "").split(".")
        node = tree
        for p in parents:
            child = node.setdefault(p, {})
            if child is None:
                raise TypeError(f"PER_NODE names {p} as a value and as a table ({path})")
            node = child
        node[leaf] = None

    def swap(hint: Any, tree: _Tree) -> Any:
        """The type with the dataclass in it replaced by that dataclass's view."""
        if dataclasses.is_dataclass(hint):
            return view(hint, tree)
        args = typing.get_args(hint)
        if typing.get_origin(hint) in (typing.Union, types.UnionType):
            return functools.reduce(lambda a, b: a | b, (swap(a, tree) for a in args))
        return typing.get_origin(hint)[tuple(swap(a, tree) for a in args)] if args else hint

    def view(cls: Any, tree: _Tree) -> Any:
        hints = typing.get_type_hints(cls)
        if tree.keys() - hints.keys():
            raise TypeError(f"PER_NODE names {sorted(tree.keys() - hints.keys())} in {cls}")
        fields: list[Any] = []
        for f in dataclasses.fields(cls):
            kind: Any = msgspec.Raw
            sub = tree.get(f.name, {})
            if f.name in tree:
                kind = hints[f.name] if sub is None else swap(hints[f.name], sub)
            required = f.default is f.default_factory is dataclasses.MISSING
            if cls is Facts and f.name == "facts_version":  # from_dict requires it
                kind, required = int, True
            fields.append(
                (f.name, kind) if required else (f.name, kind | msgspec.UnsetType, msgspec.UNSET)
            )
        struct = msgspec.defstruct(f"{cls.__name__}NodeView", fields, kw_only=True)
        paths[struct] = (
            tuple(k for k, v in tree.items() if v is None),
            tuple(k for k, v in tree.items() if v is not None),
        )
        return struct

    return msgspec.json.Decoder(view(Facts, tree)), msgspec.json.Encoder(), paths
