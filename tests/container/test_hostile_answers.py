"""Valid JSON of the wrong shape from a daemon (issue 20 item 8: the Engine API's answers
typed as objects whose values are checked where they are read): one line, exit 3, never
a KeyError or AttributeError traceback (exit 4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import clean_env, run_envlock
from tests.container.test_engine_hostile import _answer, _serve


@pytest.mark.parametrize(
    ("args", "body"),
    [
        (["--image", "python:3.11"], b"{}"),  # an image without an Id
        (["--image", "python:3.11"], b'{"Id": ["sha256:abc"]}'),
        (["--container", "job"], b'{"State": {"Running": true}}'),  # no Id, no Image
        (["--container", "job"], b'{"State": {"Running": true}, "Id": 7, "Image": "x"}'),
        (["--container", "job"], b'{"State": "running"}'),  # State not an object
    ],
)
def test_an_answer_of_the_wrong_shape_is_exit_3_one_line(
    tmp_path: Path, args: list[str], body: bytes
) -> None:
    for host in _serve(tmp_path / "d.sock", _answer(body)):
        proc = run_envlock(
            ["probe", *args, "--json", "--probe-timeout", "5"],
            env=clean_env(DOCKER_HOST=host),
            timeout=60,
        )
        assert proc.returncode == 3, (proc.returncode, proc.stderr)
        assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr
