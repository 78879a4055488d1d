"""The probe served into an image (its package on stdin) imports no more than it runs:
in the Debian test image, whose only command is `ldconfig -p`, subprocess is never
imported (~5 ms of every container probe; the command starts through os.posix_spawn
before the sections load), and what ldconfig says is read as before. Nor json, re, enum,
glob or fnmatch (~5-8 ms in a fresh container): the package comes marshalled, the facts
go out through probe/_jsontext.py, and the parsers of what every image has (meminfo,
cpuinfo, NUMA nodes, library and distribution names) use string methods. Nor threading,
contextlib, importlib.util or array, which import functools and collections (~3-5 ms):
the sources run in _thread threads, and ELF words are read into arrays only in a scan."""

from __future__ import annotations

import re
import subprocess

import pytest

from envlock.payload import python_stdin
from envlock.probe.cudalibs import parse_ldconfig
from tests.container.conftest import PY_IMAGE, RUN_LABELS, docker_env

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("images")]


def _in_image(argv: list[str], stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["docker", "run", "--rm", "-i", *RUN_LABELS, "--network", "none", PY_IMAGE, *argv],
        input=stdin,
        capture_output=True,
        env=docker_env(),
        timeout=120,
        check=True,
    )


def test_the_served_probe_imports_no_subprocess_where_it_runs_only_ldconfig() -> None:
    import json

    argv, stdin = python_stdin("image:x", torch_live=True, timeout=60.0, with_pynvml=False)
    proc = _in_image([argv[0], "-X", "importtime", *argv[1:]], stdin)
    imported = set(re.findall(r"\| +(\S+)\n", proc.stderr.decode()))
    assert "envlock.probe.statcache" in imported  # the output was read
    assert "subprocess" not in imported
    ldconfig = _in_image(["ldconfig", "-p"]).stdout.decode()
    facts = json.loads(proc.stdout)
    assert facts["cuda"]["ldconfig_libraries"] == parse_ldconfig(ldconfig)


def test_the_served_probe_of_a_plain_image_imports_no_json_nor_re() -> None:
    import json

    argv, stdin = python_stdin("image:x", torch_live=True, timeout=60.0, with_pynvml=False)
    proc = _in_image([argv[0], "-X", "importtime", *argv[1:]], stdin)
    imported = set(re.findall(r"\| +(\S+)\n", proc.stderr.decode()))
    assert "envlock.probe.statcache" in imported  # the sections ran (cudalibs, toolchain)
    assert imported.isdisjoint({"json", "re", "enum", "glob", "fnmatch"})
    # nor threading, contextlib, importlib.util or array, and what they import
    assert imported.isdisjoint(
        {"threading", "contextlib", "importlib.util", "array", "functools", "collections"}
    )
    facts = json.loads(proc.stdout)
    assert facts["system"]["memory_total_bytes"] > 0  # /proc/meminfo read without re
    assert facts["toolchain"]["cpu_isa"] is not None  # /proc/cpuinfo too
