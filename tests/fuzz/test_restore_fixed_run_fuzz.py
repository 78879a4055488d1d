"""Property-based fuzzing of restore's fixed working directory (DIR/.envlock-restore-build,
install/marker.py FIXED_RUN): its name carries no pid, so its marker's own pid says whose
it is. Any marker file there: read only when it is one restore writes (a pid a process can
have); removed by the next run only then and when that process is gone; otherwise never
touched, and the next run works beside it, in a directory named for its own pid."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import example, given

from envlock.install import marker
from envlock.install.marker import FIXED_RUN, MARKER
from envlock.install.swap import Swap, sweep
from envlock.install.venvdir import target
from tests.fuzz.test_restore_fuzz import RESTORE, VALID_MARKER, markers
from tests.fuzz.test_restore_fuzz import _valid as _marker_valid

pytestmark = pytest.mark.fuzz


def _valid(data: bytes) -> bool:
    """The oracle: what restore writes, whatever (positive) pid it names."""
    return _marker_valid(data, lambda pid: pid > 0)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:
        return True
    return True


@RESTORE
@given(markers())
@example(json.dumps(VALID_MARKER).encode())
@example(json.dumps({**VALID_MARKER, "pid": 0}).encode())
@example(json.dumps({**VALID_MARKER, "pid": os.getpid()}).encode())
def test_the_fixed_directory_is_removed_only_when_its_marker_is_restores_and_dead(
    data: bytes,
) -> None:
    top = Path(tempfile.mkdtemp(prefix="restore-fixed-fuzz-"))
    try:
        d = top / "v"
        run = d / FIXED_RUN
        run.mkdir(parents=True)
        (run / MARKER).write_bytes(data)
        (run / "data").write_text("someone's")
        mark = marker.read_marker(str(run))
        valid = _valid(data)
        assert (mark is not None) == valid
        doc = json.loads(data) if valid else None
        assert mark is None or (doc is not None and mark.pid == doc["pid"])
        sweep(str(d), [].append)
        gone = valid and doc is not None and not _exists(doc["pid"])
        assert run.exists() != gone
        if not gone:
            assert (run / "data").read_text() == "someone's"
        s = Swap.begin(target(str(d), force=True), [].append)
        mine = run if gone else d / f".envlock-restore-{os.getpid()}"
        assert s.target.run == str(mine) and mine.is_dir()
        s.roll_back()
        assert not mine.exists() or not gone
        if not gone:
            assert (run / "data").read_text() == "someone's"
    finally:
        shutil.rmtree(top)
