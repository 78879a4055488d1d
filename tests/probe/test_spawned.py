"""probe/_util.Spawned: a command started now and read later says what run_command says
of it (the container probe's `ldconfig -p`, started before the sections load)."""

from __future__ import annotations

import sys

from envlock.probe._util import Spawned, run_command


def test_its_output_status_and_failures_are_run_commands() -> None:
    big = [sys.executable, "-c", "import sys; sys.stdout.write('x' * 300000); sys.exit(4)"]
    for argv in (big, ["/sbin/ldconfig", "-p"], ["/nonexistent/tool"]):
        started = Spawned(argv)
        rc, out, _ = started.result(30)
        assert (rc, out) == run_command(argv, 30)[:2], argv


def test_a_command_past_its_time_is_killed() -> None:
    started = Spawned([sys.executable, "-c", "import time; time.sleep(60)"])
    assert started.result(0.3) == (None, "", "timed out after 0.3 s")
    assert started.pid is not None
