"""Progress of long work (restore, lock --hashes, image pulls, determinism, fleet report),
always on stderr: stdout carries the report, so `--format json | jq` keeps working.

On a terminal: rich progress (a spinner or bar per phase, as pip and uv show; rich is
imported only then). Elsewhere (CI logs, pipes): one plain line per step, no spinner, no
carriage return, no escape sequence. The use cases call a `Progress`; `SILENT` (the
API's default) prints nothing, so Python callers see nothing unless they ask.
"""

from __future__ import annotations

import os
import sys
from contextvars import ContextVar

from envlock.report.safe import plain

# typing (~3 ms) is not imported at run time: a repeat restore loads this module while uv
# runs, and on a busy machine what envlock burns then is uv's wall time too
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Protocol, TextIO

    from rich.progress import Progress as RichBar
    from rich.progress import TaskID
else:
    Protocol = object  # Progress below is a plain class at run time (never isinstance'd)

TAIL = 20  # a failed child's last lines shown (the error and the URL it names are there)
# `envlock -q`: no progress for the command running in this context (a context variable,
# not a global: in-process callers run one command after another)
_QUIET: ContextVar[bool] = ContextVar("envlock_quiet", default=False)


class Progress(Protocol):
    def step(self, text: str) -> None:
        """A phase begins (the previous one ends): 'building the venv (uv venv)'."""

    def count(self, text: str, done: int, total: int) -> None:
        """`done` of `total` in the current phase: 'projects asked of the index', 3, 40."""

    def output(self, line: str) -> None:
        """A line a child printed (the installer's own progress)."""

    def failed(self, who: str, tail: Sequence[str]) -> None:
        """A child failed: its last lines, shown before envlock's one-line error."""

    def close(self) -> None:
        """The work ended: stop any live display."""


class Silent:
    """Nothing at all: the API's default."""

    def step(self, text: str) -> None:
        pass

    def count(self, text: str, done: int, total: int) -> None:
        pass

    def output(self, line: str) -> None:
        pass

    def failed(self, who: str, tail: Sequence[str]) -> None:
        pass

    def close(self) -> None:
        pass


SILENT: Progress = Silent()


class Lines:
    """Not a terminal: one line per step, prefixed with the command ('envlock restore: ...').
    A count prints at its first item, at each tenth of the total and at its last, so
    10,000 fleet files are a dozen lines, not 10,000."""

    def __init__(self, stream: TextIO, prefix: str) -> None:
        self._stream, self._prefix = stream, prefix
        self._shown: tuple[str, int] | None = None  # the last count printed: text, tenth
        self._streamed = 0
        self._closed = False

    def _line(self, text: str) -> None:
        if self._closed:  # a worker thread late after the command ended: its error is last
            return
        self._stream.write(f"{self._prefix}: {plain(text, newlines=False)}\n")
        self._stream.flush()

    def step(self, text: str) -> None:
        self._shown = None
        self._line(text)

    def count(self, text: str, done: int, total: int) -> None:
        tenth = done * 10 // total if total > 0 else 10
        if self._shown is not None and self._shown == (text, tenth) and done != total:
            return
        self._shown = (text, tenth)
        self._line(f"{text}: {done}/{total}")

    def output(self, line: str) -> None:
        self._streamed += 1
        self._line(f"  {line}")

    def failed(self, who: str, tail: Sequence[str]) -> None:
        if self._streamed:  # every line is in the log already, the last ones just above
            return
        for line in tail[-TAIL:]:
            self._line(f"{who}: {line}")

    def close(self) -> None:
        self._closed = True


class Live:
    """A terminal: rich's progress display, one spinner or bar per phase; a child's latest
    line beside it; phases that ended stay on screen with a check mark. rich is imported,
    and the display started, at the first step: a command with no long work shows none."""

    def __init__(self, stream: TextIO, prefix: str) -> None:
        self._stream, self._prefix = stream, prefix
        self._bar: RichBar | None = None
        self._task: TaskID | None = None
        self._text, self._done = "", ""

    def _started(self) -> RichBar:
        if self._bar is None:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )
            from rich.progress import Progress as RichBar

            console = Console(file=self._stream, highlight=False, soft_wrap=False)
            self._bar = RichBar(
                SpinnerColumn(),
                TextColumn("{task.description}", markup=False),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.fields[last]}", markup=False, style="dim"),
                console=console,
                transient=True,
                # stdout is the report's, whatever happens: never routed to the terminal's
                # display; stderr lines (restore's "$ command") print above the bar
                redirect_stdout=False,
            )
            self._bar.start()
        return self._bar

    def _end_task(self, *, ok: bool) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.remove_task(self._task)
            if ok:  # a phase that ended stays on screen
                line = f"{self._prefix}: \u2714 {self._text}{self._done}"
                self._bar.console.print(line, markup=False, soft_wrap=True)
        self._task = None

    def step(self, text: str) -> None:
        self._end_task(ok=True)
        self._text, self._done = plain(text, newlines=False), ""
        self._task = self._started().add_task(self._text, total=None, last="")

    def count(self, text: str, done: int, total: int) -> None:
        if self._task is None:
            self.step(text)
        assert self._bar is not None and self._task is not None
        self._text, self._done = plain(text, newlines=False), f" ({done}/{total})"
        self._bar.update(
            self._task, description=plain(text, newlines=False), completed=done, total=total
        )

    def output(self, line: str) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, last=plain(line, newlines=False)[:80])

    def failed(self, who: str, tail: Sequence[str]) -> None:
        self._end_task(ok=False)
        bar = self._started()
        bar.stop()
        for line in tail[-TAIL:]:
            bar.console.print(f"{who}: {plain(line, newlines=False)}", markup=False, soft_wrap=True)

    def close(self) -> None:
        self._end_task(ok=True)
        if self._bar is not None:
            self._bar.stop()


def quiet_until_done() -> Callable[[], None]:
    """Progress off (`envlock -q`) until the returned function is called."""
    token = _QUIET.set(True)
    return lambda: _QUIET.reset(token)


def on_stderr(prefix: str, *, quiet: bool = False, stream: TextIO | None = None) -> Progress:
    """The progress a command shows: rich on a terminal, lines elsewhere, none when quiet
    (asked here or by `envlock -q`)."""
    out = stream if stream is not None else sys.stderr
    if quiet or _QUIET.get():
        return SILENT
    if _is_terminal(out):
        return Live(out, prefix)
    return Lines(out, prefix)


def _is_terminal(stream: TextIO) -> bool:
    """rich only where a person watches: a TTY that is not TERM=dumb."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        return False
    return tty and os.environ.get("TERM", "") != "dumb"
