"""Fleet: every rank or node is compared with the others, and the ones that differ are named.

One concern a module:

- `compare.py` (pure): a rank's or node's facts as a `RankSummary`, and the findings over
  all of them (drift from the lock, fields where they disagree, nodes that sent nothing);
- `rendezvous.py`: `envlock verify --distributed` under torchrun (summaries exchanged
  through the rendezvous store, `--smoke`'s all-reduce); the only module importing torch;
- `files.py`: `envlock fleet report DIR`, per-node facts files streamed, decoded by
  msgspec, files of one kind of node sharing one summary.
"""

from __future__ import annotations

from envlock.fleet.compare import (
    FleetError,
    RankSummary,
    compare_ranks,
    missing_nodes,
    network_fields,
    summarize,
)
from envlock.fleet.files import report_dir
from envlock.fleet.rendezvous import (
    SMOKE_VARIABLES,
    Rendezvous,
    hostname,
    smoke_findings,
    torchrun_env,
)
from envlock.hostlist import Hostlist, compress_hostlist, parse_hostlist  # fleet owns hostlists

__all__ = [
    "SMOKE_VARIABLES",
    "FleetError",
    "Hostlist",
    "RankSummary",
    "Rendezvous",
    "compare_ranks",
    "compress_hostlist",
    "hostname",
    "missing_nodes",
    "network_fields",
    "parse_hostlist",
    "report_dir",
    "smoke_findings",
    "summarize",
    "torchrun_env",
]
