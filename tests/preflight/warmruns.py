"""What the warm path's tests of verify (test_warmverify.py) and doctor (test_warmdoctor.py)
share: `Runs` (warmverify.run() as `envlock COMMAND` calls it, counting the full CLI's runs and
the probes), `warm` (run until the stored output answers), the inputs both commands key their
stored output on (`CHANGES`: each changed in a test's directory) and the two checks made of
each command: a changed input, and each option, runs the full CLI again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest

from envlock import cli, livecache, reportcache
from envlock.probe import _dists
from envlock.usecases import warmverify
from tests.preflight.test_livecache_keys import _mig

# a change of one input, made in the test's directory; None: NVML's MIG mode (read fresh)
Change = Callable[[Path, pytest.MonkeyPatch], None] | None


class Runs:
    """warmverify.run() as `envlock COMMAND` would call it (verify; doctor in
    test_warmdoctor.py), counting the full CLI's runs and the probes taken."""

    def __init__(
        self,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
        command: str = "verify",
    ):
        self.command = command
        self.capsys = capsys
        self.full = 0
        self.probes = 0
        real = livecache._host_static

        def counted(*args: Any, **kw: Any) -> Any:
            self.probes += 1
            return real(*args, **kw)

        monkeypatch.setattr(livecache, "_host_static", counted)

    def __call__(self, *argv: str) -> tuple[int | None, str, str]:
        _fresh_process()

        def full(args: list[str]) -> int:
            self.full += 1
            return cli.main(args)

        code = warmverify.run([self.command, *argv], full)
        out, err = self.capsys.readouterr()
        return code, out, err

    def alone(self, *argv: str) -> tuple[int, str, str]:
        """The full CLI's own run of the command, without the warm path."""
        _fresh_process()
        code = cli.main([self.command, *argv])
        out, err = self.capsys.readouterr()
        return code, out, err


def _fresh_process() -> None:
    _dists._cache.clear()  # a per-process memo: each envlock command is a new process
    livecache._AHEAD.clear()


def warm(runs: Runs, *argv: str) -> tuple[int | None, str, str]:
    """Run until the stored output answers (the first run's live facts say "probed", the
    second's "from cache": another document); that answer."""
    runs(*argv)
    runs(*argv)
    before = runs.full
    answer = runs(*argv)
    assert runs.full == before, "the third run was not answered from the stored output"
    return answer


def _env_var(where: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVLOCK_TEST_SOMETHING", "1")


def _code(where: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code = where / "code"
    code.mkdir()
    (code / "checks.py").write_text("")
    monkeypatch.setattr(reportcache, "_code_dirs", lambda: [str(code)])


def elsewhere(where: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Another working directory, made and changed to."""
    other = where / "elsewhere"
    other.mkdir()
    monkeypatch.chdir(other)
    return other


# the inputs both commands' stored output is keyed on
CHANGES: dict[str, Change] = {
    "MIG mode (NVML, read fresh)": None,
    "an environment variable": _env_var,
    "envlock's own files": _code,
}


def assert_a_change_runs_the_full_cli(
    runs: Runs,
    recording: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    change: Change,
    where: Path,
    *argv: str,
) -> None:
    """A warm run of `argv` in `where`, the change made, and the next run the full CLI's."""
    monkeypatch.chdir(where)
    warm(runs, *argv)
    if change is None:
        _mig(recording)
    else:
        change(where, monkeypatch)
    before = runs.full
    runs(*argv)
    assert runs.full == before + 1


def assert_each_option_runs_the_full_cli(
    runs: Runs, argv: Sequence[str], options: Iterable[Sequence[str]]
) -> None:
    """After a warm run of `argv`, each of the options added runs the full CLI again."""
    warm(runs, *argv)
    for option in options:
        before = runs.full
        runs(*argv, *option)
        assert runs.full == before + 1, option
