"""Record a determinism fixture from a real run of the suite (not a test).

    python tests/determinism/record_fixture.py --python PY --name cpu-avx512-torch2.13 \
        [--device cpu] [--seed 0] [--env ATEN_CPU_CAPABILITY=avx2]

writes tests/fixtures/determinism.<name>-recorded.json: the DeterminismFacts
as run_suite returned them, plus how they were recorded. Run it on a GPU
machine (--device cuda) to add recorded GPU contexts.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from envlock.determinism.runner import run_suite  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--python", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--device", default="auto")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--env", action="append", default=[], metavar="K=V")
    p.add_argument("--out", default=str(REPO / "tests" / "fixtures"))
    args = p.parse_args()
    extra = dict(e.split("=", 1) for e in args.env)
    os.environ.update(extra)
    facts = run_suite(device=args.device, seed=args.seed, python=args.python)
    doc = {
        "recorded": {
            "how": "envlock.determinism.run_suite on a real machine (record_fixture.py)",
            "python": args.python,
            "device": args.device,
            "seed": args.seed,
            "env": extra,
            "date": datetime.date.today().isoformat(),
        },
        "determinism": dataclasses.asdict(facts),
    }
    path = Path(args.out) / f"determinism.{args.name}-recorded.json"
    path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
