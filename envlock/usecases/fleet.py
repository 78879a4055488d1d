"""fleet report DIR: per-node facts files compared like the ranks of one job."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envlock.findings import Report
    from envlock.lock.model import Lock
    from envlock.report.progress import Progress


def fleet_report(
    directory: str,
    lock: str | os.PathLike[str] | Lock | None,
    *,
    scope: str,
    ignore: Iterable[str],
    strict: bool,
    nodes: str | Sequence[str] | None,
    progress: Progress | None = None,
) -> Report:
    """The nodes' files compared with each other (and with `lock`); `nodes`, the nodes
    expected, held as ranges and never expanded."""
    from envlock import fleet
    from envlock.catalog import DETERMINISM, DOCTOR, FLEET, VERIFY, validate_ignore
    from envlock.findings import FleetDetails, Report
    from envlock.lock.io import read_lock
    from envlock.report.progress import SILENT

    skip = validate_ignore(ignore, FLEET, VERIFY, DETERMINISM, DOCTOR)  # the doctor per kind
    locked = read_lock(lock) if isinstance(lock, (str, os.PathLike)) else lock
    expected = fleet.Hostlist.parse(nodes) if nodes is not None else None
    hosts, findings = fleet.report_dir(
        directory, locked, scope=scope, expected=expected, progress=progress or SILENT
    )
    return Report(
        command="fleet report",
        target=f"{len(hosts)} nodes",
        findings=[f for f in findings if f.check_id not in skip],
        strict=strict,
        details=FleetDetails(
            nodes=tuple(hosts),
            expected_nodes=len(expected) if expected is not None else None,
            ignored=tuple(sorted(skip)),
            lock=os.fspath(lock) if isinstance(lock, (str, os.PathLike)) else None,
        ),
    )
