"""YAML plan files (compose, Kubernetes manifests, conda environment files) read as PyYAML's
node graph, bounded: the safe loader composes nodes and constructs nothing but scalars, so a
tag names no code, and the walk, not the loader, expands anchors: every mapping pair and
sequence item a reader visits (merge keys and aliases included, each time they are reached)
counts against one budget, so an alias bomb ends as one PlanError line instead of
exponential work. Each value keeps its lines for the `Span` a finding names."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from envlock.plan.model import PlanError, Span

if TYPE_CHECKING:
    from yaml.nodes import Node

MAX_YAML_BYTES = 4 << 20  # a compose file or a manifest bundle is kilobytes
MAX_DOCUMENTS = 1000  # a multi-document manifest (`---`)
MAX_VISITS = 200_000  # mapping pairs and sequence items reached, aliases counted each time
MAX_SPAN_LINES = 200  # the text a span keeps of a long block
MAX_MERGE_DEPTH = 64  # `<<` merges of merges (compose's x- templates nest a few)

Scalar = str | int | float | bool | None
_MERGE = "tag:yaml.org,2002:merge"
_YAML_INT = re.compile(r"[-+]?(?:0|[1-9][0-9_]*)")


@dataclass
class Tree:
    """One YAML file's nodes, its lines and the walk's budget."""

    source: str
    lines: list[str]
    documents: list[Node]
    visits: int = 0
    _merging: int = 0  # how deep mapping() is in merge sources now
    _mappings: dict[int, dict[str, tuple[Node, Node]]] = field(default_factory=dict)

    # ------------------------------------------------------------------ walking
    def _spend(self, n: int) -> None:
        self.visits += n
        if self.visits > MAX_VISITS:
            raise PlanError(
                f"{self.source}: YAML expands past {MAX_VISITS} nodes (anchors and aliases "
                "reused too often): not read"
            )

    def mapping(self, node: Node | None) -> dict[str, tuple[Node, Node]]:
        """A mapping's string keys -> (key node, value node), `<<` merges applied (the
        mapping's own keys win, then the merged ones in order); {} for anything else."""
        from yaml.nodes import MappingNode

        if not isinstance(node, MappingNode):
            return {}
        cached = self._mappings.get(id(node))
        if cached is not None:
            self._spend(len(cached))
            return cached
        self._mappings[id(node)] = {}  # a merge cycle reads as empty
        own: dict[str, tuple[Node, Node]] = {}
        merged: dict[str, tuple[Node, Node]] = {}
        self._spend(len(node.value))
        for key, value in node.value:
            if key.tag == _MERGE:
                for name, pair in self._merged(value).items():
                    merged.setdefault(name, pair)
                continue
            text = scalar(key)
            if text is not None and not isinstance(text, bool):
                own.setdefault(str(text), (key, value))
        result = {**merged, **own}
        self._mappings[id(node)] = result
        return result

    def _merged(self, value: Node) -> dict[str, tuple[Node, Node]]:
        """What a `<<` key merges: one mapping or a sequence of them, earlier ones first."""
        from yaml.nodes import SequenceNode

        if self._merging >= MAX_MERGE_DEPTH:
            raise PlanError(f"{self.source}: YAML merge keys nested over {MAX_MERGE_DEPTH} deep")
        self._merging += 1
        try:
            out: dict[str, tuple[Node, Node]] = {}
            sources = self.sequence(value) if isinstance(value, SequenceNode) else [value]
            for source in sources:
                for name, pair in self.mapping(source).items():
                    out.setdefault(name, pair)
            return out
        finally:
            self._merging -= 1

    def sequence(self, node: Node | None) -> list[Node]:
        """A sequence's items; [] for anything else."""
        from yaml.nodes import SequenceNode

        if not isinstance(node, SequenceNode):
            return []
        self._spend(len(node.value))
        return list(node.value)

    def get(self, node: Node | None, *path: str) -> Node | None:
        """The value at a path of mapping keys, or None where one is missing."""
        for key in path:
            pair = self.mapping(node).get(key)
            if pair is None:
                return None
            node = pair[1]
        return node

    def key(self, node: Node | None, name: str) -> Node | None:
        """The key node of `name` in a mapping (for a span from the key's line)."""
        pair = self.mapping(node).get(name)
        return pair[0] if pair else None

    def text(self, node: Node | None, *path: str) -> str | None:
        """A scalar at a path as text (numbers as written), None when absent or not scalar."""
        value = self.get(node, *path) if path else node
        return scalar_text(value)

    # ------------------------------------------------------------------ spans
    def span(self, node: Node, key: Node | None = None) -> Span:
        """Where a value is written: from its key's line (when given) to the value's end."""
        start = (key or node).start_mark.line
        end_mark = node.end_mark
        end = min(end_mark.line, len(self.lines) - 1)
        # a block node ends where the next token starts: lines (or the part of the last one)
        # before that point holding nothing but blanks and comments are not part of it
        while end > start and _blank(
            self.lines[end][: end_mark.column] if end == end_mark.line else self.lines[end]
        ):
            end -= 1
        end = max(start, end)
        shown = self.lines[start : min(end + 1, start + MAX_SPAN_LINES)]
        return Span(file=self.source, line=start + 1, end_line=end + 1, text="\n".join(shown))


def _blank(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def scalar(node: Node | None) -> Scalar:
    """A scalar node's value by its resolved YAML 1.1 tag (int, float, bool, null, else
    the text); None for a collection or an absent node. Nothing else is constructed."""
    from yaml.nodes import ScalarNode

    if not isinstance(node, ScalarNode):
        return None
    value, tag = node.value, node.tag
    if tag.endswith(":null"):
        return None
    if tag.endswith(":bool"):
        return value.lower() in ("yes", "true", "on", "y")
    if tag.endswith(":int"):
        return _int(value)
    if tag.endswith(":float"):
        try:
            return float(value.replace("_", ""))
        except ValueError:
            return str(value)
    return str(value)


def _int(value: str) -> int | str:
    # decimal only, and short: a YAML 1.1 octal, hex or sexagesimal int stays its text
    if len(value) <= 30 and _YAML_INT.fullmatch(value):
        return int(value.replace("_", ""))
    return value


def scalar_text(node: Node | None) -> str | None:
    """A scalar as written (`1`, `all`, `8gb`), None for null, a collection or nothing."""
    from yaml.nodes import ScalarNode

    if not isinstance(node, ScalarNode) or node.tag.endswith(":null"):
        return None
    return str(node.value)


def load(text: str, source: str) -> Tree:
    """Every document of a YAML file as nodes (bounded; PlanError: not YAML)."""
    import yaml

    if len(text) > MAX_YAML_BYTES:
        raise PlanError(f"{source}: over {MAX_YAML_BYTES >> 20} MiB of YAML: not read")
    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    documents: list[Node] = []
    loader = None
    try:
        loader = loader_class(text)
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                documents.append(node)
            if len(documents) > MAX_DOCUMENTS:
                raise PlanError(f"{source}: more than {MAX_DOCUMENTS} YAML documents: not read")
    except yaml.YAMLError as e:
        raise PlanError(f"{source}: not valid YAML: {_first_line(e)}") from None
    except UnicodeError:  # libyaml takes UTF-8: a lone surrogate (undecodable bytes) is none
        raise PlanError(f"{source}: not valid YAML: not UTF-8 text") from None
    except RecursionError:
        raise PlanError(f"{source}: YAML nested too deeply: not read") from None
    finally:
        if loader is not None:
            loader.dispose()
    return Tree(source=source, lines=text.splitlines(), documents=documents)


def _first_line(error: Exception) -> str:
    lines = [ln.strip() for ln in str(error).splitlines() if ln.strip()]
    return " ".join(lines[:3])[:300] if lines else type(error).__name__
