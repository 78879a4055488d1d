"""`envlock probe --image IMAGE --json` answered before the CLI loads
(envlock/usecases/imageprobe.py): only plain argv takes that way, and what it prints, on
stdout and stderr, and its exit code are the full CLI's, on success and on every error
path (no daemon, an image that is not there, bad --gpus/--shm-size, an image without
python3)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from envlock.collect import PROBE_TIMEOUT_S
from envlock.usecases import imageprobe
from envlock.usecases.imageprobe import plain_image_probe
from tests.container.conftest import BUSYBOX_IMAGE, PY_IMAGE

REPO = Path(__file__).resolve().parents[2]
IMG = ["--image", PY_IMAGE]
# the full CLI, as `envlock` ran before the fast path: main() parses every argv
FULL = "import sys\nfrom envlock.cli import main\nsys.exit(main(sys.argv[1:]))\n"


@pytest.mark.parametrize(
    "argv",
    [
        ["probe", *IMG, "--json"],
        ["probe", "--json", f"--image={PY_IMAGE}"],
        ["probe", *IMG, "--json", "--no-torch-live", "--no-pull", "--no-cache"],
        ["probe", *IMG, "--json", "--gpus", "all", "--shm-size=1g", "--probe-timeout", "2.5"],
    ],
)
def test_plain_image_probes_take_the_fast_path(argv: list[str]) -> None:
    given = plain_image_probe(argv)
    assert given is not None and given["--image"] == PY_IMAGE


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["probe"],
        ["probe", "--json"],  # this host
        ["probe", *IMG],  # the table: the full CLI renders it
        ["-q", "probe", *IMG, "--json"],
        ["doctor", *IMG, "--json"],
        ["probe", *IMG, "--js"],  # argparse's abbreviations are argparse's
        ["probe", "--imag", PY_IMAGE, "--json"],
        ["probe", *IMG, "--json", "--json"],
        ["probe", *IMG, *IMG, "--json"],
        ["probe", "--image", "--json"],  # a value that is an option: argparse's error
        ["probe", "--json", "--image"],
        ["probe", "--json", "--image="],
        ["probe", *IMG, "--json", "--probe-timeout", "soon"],
        ["probe", *IMG, "--json", "--probe-timeout", "-1"],
        ["probe", *IMG, "--json=1"],
        ["probe", *IMG, "--json", "--python", sys.executable],
        ["probe", *IMG, "--json", "--"],
        ["probe", *IMG, "--json", "extra"],
    ],
)
def test_anything_else_goes_to_the_full_cli(argv: list[str]) -> None:
    assert plain_image_probe(argv) is None
    assert imageprobe.run(argv, lambda run: 99) is None


def test_the_default_timeout_is_the_clis() -> None:
    assert imageprobe.PROBE_TIMEOUT_S == PROBE_TIMEOUT_S


def _envlock(
    args: list[str], *, full: bool, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    entry = ["-c", FULL] if full else ["-m", "envlock"]
    proc = subprocess.run(
        [sys.executable, *entry, *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        timeout=300,
        check=False,
    )
    return proc.returncode, proc.stdout, proc.stderr


# the two entry points: `python -m envlock` and the console script's cli.entry()
ENTRIES = [["-m", "envlock"], ["-c", "import sys\nfrom envlock.cli import entry\nentry()\n"]]


@pytest.mark.parametrize("entry", ENTRIES, ids=["python -m envlock", "console script"])
def test_the_fast_path_loads_no_parser_and_says_what_the_cli_says(entry: list[str]) -> None:
    """No daemon at DOCKER_HOST: the same line and exit code, and neither argparse nor the
    API was imported on the way."""
    env = {"DOCKER_HOST": "unix:///nonexistent/envlock-test.sock"}
    args = ["probe", "--image", "x", "--json"]
    fast = _envlock(args, full=False, env=env)
    assert fast == _envlock(args, full=True, env=env)
    assert fast[0] == 3 and fast[2].count("\n") == 1 and "cannot reach" in fast[2]
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", *entry, *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )
    assert proc.returncode == 3 and proc.stderr.endswith(fast[2])
    names = set(re.findall(r"\| +(\S+)\n", proc.stderr))
    assert "envlock.container.image" in names  # the probe ran
    assert not names & {"argparse", "envlock.api", "envlock.commands.probe"}


@pytest.mark.parametrize(
    "extra",
    [["--gpus", "bogus"], ["--shm-size", "lots"], ["--gpus", "0", "--shm-size", "-"]],
)
def test_bad_container_options_say_what_the_cli_says(extra: list[str]) -> None:
    args = ["probe", "--image", "x", "--json", *extra]
    assert _envlock(args, full=False) == _envlock(args, full=True)


def _volatile_aside(text: str) -> object:
    doc = json.loads(text)
    del doc["meta"]["collected_at"], doc["meta"]["durations_ms"]
    # the container's id: its hostname, and in the evidence that it is one
    return json.loads(re.sub(r"\b[0-9a-f]{12}([0-9a-f]{52})?\b", "<id>", json.dumps(doc)))


@pytest.mark.docker
@pytest.mark.usefixtures("images")
@pytest.mark.parametrize(
    "args",
    [
        ["probe", "--image", PY_IMAGE, "--json"],
        ["probe", "--image", PY_IMAGE, "--json", "--no-torch-live", "--no-pull"],
        ["probe", "--image", BUSYBOX_IMAGE, "--json"],  # no python3: the shell fallback
        ["probe", "--image", "envlock-test/absent:never", "--json", "--no-pull"],
    ],
)
def test_the_fast_path_prints_what_the_cli_prints(args: list[str]) -> None:
    fast, full = _envlock(args, full=False), _envlock(args, full=True)
    assert (fast[0], fast[2]) == (full[0], full[2])
    if full[0] == 0:
        assert _volatile_aside(fast[1]) == _volatile_aside(full[1])
    else:
        assert fast[1] == full[1] == "" and full[2].count("\n") == 1
