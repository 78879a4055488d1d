"""A fleet's long tails, folded for people: fields that most nodes lack (a package, a
variable, an extension on one node each), which the comparison marks (`evidence["tail"]`:
the section; `evidence["absent"]`: how many ranks lack the field). Each section's tail is
one line per "present on N nodes each", naming the first fields and the nodes holding
them; `--format json` keeps one finding per field.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from envlock.findings import Finding, Severity

# a line names this many fields of a tail; the JSON report has every one
SHOWN = 10
# what a section's fields are called in a sentence; others are "<section> fields"
_NOUNS = {
    "packages": "packages",
    "tools": "tools",
    "sources": "package sources",
    "env": "environment variables",
    "extensions": "extensions",
    "determinism": "determinism digests",
}


@dataclass(frozen=True, slots=True)
class LongTail:
    """The fields of one section held by the same number of ranks each."""

    section: str
    present: int  # ranks holding each field
    fields: tuple[str, ...]  # in finding order
    hosts: frozenset[str]  # the nodes holding any of them
    severity: Severity

    def line(self) -> str:
        """'312 packages present on 1 node each (312 nodes gpu-node-[...]): a, b,
        ... and 302 more (--format json lists all)'."""
        from envlock.hostlist import compress_hostlist

        count, each = len(self.fields), self.present
        names = ", ".join(_short(self.section, f) for f in self.fields[:SHOWN])
        more = f" ... and {count - SHOWN} more" if count > SHOWN else ""
        nodes = f"{len(self.hosts)} node{'s' * (len(self.hosts) != 1)}"
        return (
            f"{count} {_NOUNS.get(self.section, f'{self.section} fields')} present on {each} node{'s' * (each != 1)} each "
            f"({nodes} {compress_hostlist(self.hosts)}): {names}{more} "
            "(--format json lists all)"
        )


def many_values(f: Finding) -> str | None:
    """A field the nodes hold more than SHOWN values of (another numpy on every node), for
    its line: '10000 distinct values over 10000 nodes: 2.0.0 on 1 node gpu-node-000; ...
    ... and 9990 more (--format json lists all)', the largest groups first, each with its
    hostlist; None for a field of a few values (each is named) or one whose values do not
    read back (its line is printed in full)."""
    import ast

    from envlock.hostlist import compress_hostlist

    values, hosts = f.evidence.get("values"), f.evidence.get("hosts")
    if f.check_id != "EL-FLEET-DIVERGENT" or "tail" in f.evidence:
        return None
    if not isinstance(values, dict) or not isinstance(hosts, dict) or len(hosts) <= SHOWN:
        return None
    groups = []
    for key in list(hosts)[:SHOWN]:  # the comparison's order: the most nodes first
        try:  # the value's repr (str, int, float, bool, None, a list of them)
            value = ast.literal_eval(key)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return None
        held = [str(h) for h in hosts[key]]
        count = f"{len(held)} node{'s' * (len(held) != 1)}"
        groups.append(
            f"{'(none)' if value is None else value} on {count} {compress_hostlist(held)}"
        )
    nodes = len({h for group in hosts.values() if isinstance(group, list) for h in group})
    return (
        f"{len(hosts)} distinct values over {nodes} nodes: {'; '.join(groups)}"
        f" ... and {len(hosts) - SHOWN} more (--format json lists all)"
    )


def _short(section: str, name: str) -> str:
    return name[len(section) + 1 :] if name.startswith(f"{section}.") else name


def _tail_of(f: Finding) -> tuple[str, int, frozenset[str]] | None:
    """(section, ranks holding the field, their hosts) of a long-tail finding."""
    tail, values, hosts = (f.evidence.get(k) for k in ("tail", "values", "hosts"))
    if f.check_id != "EL-FLEET-DIVERGENT" or not isinstance(tail, str):
        return None
    if not isinstance(values, dict) or not isinstance(hosts, dict):
        return None
    present = sum(len(v) for v in values.values() if isinstance(v, list))
    held = frozenset(h for v in hosts.values() if isinstance(v, list) for h in v)
    return tail, present, frozenset(str(h) for h in held)


def long_tails(findings: Iterable[Finding]) -> tuple[list[Finding], list[LongTail]]:
    """The findings outside long tails (a rank's drift on a field of a tail is folded
    with it), and the tails, in the order their first finding came."""
    groups: dict[tuple[str, int], tuple[list[str], set[str], list[Severity]]] = {}
    rest: list[Finding] = []
    for f in findings:
        tail = _tail_of(f)
        if tail is None:
            rest.append(f)
            continue
        section, present, hosts = tail
        names, held, severity = groups.setdefault((section, present), ([], set(), []))
        names.append(f.field or "")
        held |= hosts
        severity.append(f.severity)
    folded = {name for names, _, _ in groups.values() for name in names}
    tails = [
        LongTail(section, present, tuple(names), frozenset(held), max(severity))
        for (section, present), (names, held, severity) in groups.items()
    ]
    return [f for f in rest if f.field not in folded], tails
