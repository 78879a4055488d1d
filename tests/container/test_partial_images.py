"""Images probed only in part: what was found is said, a partial probe is not a pass,
and `lock` refuses partial facts without torch unless --allow-partial.

Real images: envlock-test/busybox (no python3 at all), and the test python image with
its struct module removed (python3 runs, the probe, which reads ELF headers with it,
cannot), built here from envlock-test/python:bookworm and removed afterwards. Its json
package removed (as in Debian's python3-minimal) no longer stops the probe, which
imports neither json nor re.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_envlock
from tests.container.conftest import BUSYBOX_IMAGE, PY_IMAGE, docker

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("images")]


def _image_without(factory: pytest.TempPathFactory, module: str, path: str) -> Iterator[str]:
    """The test python image with the standard library's `module` (at `path`) removed."""
    tag = f"envlock-test/python-no{module}:{os.getpid()}-{os.urandom(3).hex()}"
    ctx = factory.mktemp("no" + module)
    (ctx / "Dockerfile").write_text(
        f"FROM {PY_IMAGE}\nRUN rm -rf {path} && ! python3 -c 'import {module}'\n"
    )
    docker("build", "-q", "--rm", "-t", tag, str(ctx), timeout=300)
    try:
        yield tag
    finally:
        docker("rmi", "-f", tag, check=False)


@pytest.fixture(scope="module")
def nostruct_image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _image_without(tmp_path_factory, "struct", "/usr/lib/python3*/struct.py")


@pytest.fixture(scope="module")
def nojson_image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _image_without(tmp_path_factory, "json", "/usr/lib/python3*/json")


def _doctor(image: str, code: int = 0) -> dict[str, object]:
    proc = run_envlock(["doctor", "--image", image, "--no-torch-live", "--format", "json"])
    assert proc.returncode == code, proc.stderr
    report: dict[str, object] = json.loads(proc.stdout)
    return report


def _finding(report: dict[str, object], check_id: str) -> dict[str, object]:
    findings = report["findings"]
    assert isinstance(findings, list)
    (found,) = [f for f in findings if f["id"] == check_id]
    assert isinstance(found, dict)
    return found


def test_a_python3_that_cannot_run_the_probe_is_named_not_called_missing(
    nostruct_image: str,
) -> None:
    report = _doctor(nostruct_image)
    partial = _finding(report, "EL-IMAGE-PARTIAL-PROBE")
    message = str(partial["message"])
    assert "no python3" not in message
    assert "python3 (/usr/bin/python3, Python 3.11" in message
    assert "No module named 'struct'" in message
    details = report["details"]
    assert isinstance(details, dict)
    assert str(details["interpreter"]).startswith("/usr/bin/python3 (Python 3.11")
    assert not any("no python3" in str(n) for n in details["not_checked"])


def test_busybox_fails_as_an_image_without_torch_and_says_what_was_not_checked() -> None:
    """No python3 is no torch: the same verdict as a python3 image without torch
    (EL-TORCH-MISSING, exit 1; issue 21 item 10), and what could not be checked is said."""
    report = _doctor(BUSYBOX_IMAGE, code=1)
    details = report["details"]
    assert isinstance(details, dict)
    not_checked = [str(n) for n in details["not_checked"]]
    assert any(n.startswith("torch: no python3 in the image") for n in not_checked), not_checked
    assert "no python3" in str(_finding(report, "EL-TORCH-MISSING")["message"])
    text = run_envlock(["doctor", "--image", BUSYBOX_IMAGE, "--no-torch-live"])
    assert text.returncode == 1, text.stderr
    assert text.stdout.startswith("FAIL") and not text.stdout.startswith("PASS")
    assert "not checked: torch: no python3 in the image" in text.stdout


def test_lock_refuses_a_partial_probe_without_torch_unless_allowed(tmp_path: Path) -> None:
    out = tmp_path / "busybox.lock.toml"
    proc = run_envlock(["lock", "--image", BUSYBOX_IMAGE, "-o", str(out)])
    assert proc.returncode == 3, proc.stderr
    assert "not locking partial facts of image:envlock-test/busybox" in proc.stderr
    assert "--allow-partial" in proc.stderr and not out.exists()

    proc = run_envlock(["lock", "--image", BUSYBOX_IMAGE, "-o", str(out), "--allow-partial"])
    assert proc.returncode == 0, proc.stderr
    assert out.exists() and "holds partial facts: torch was not observed" in proc.stderr
    assert "--allow-partial" in out.read_text()  # the regenerate command keeps it


def test_a_full_probe_of_an_image_without_torch_is_not_partial_and_fails() -> None:
    report = _doctor(PY_IMAGE, code=1)  # python:bookworm has no torch: EL-TORCH-MISSING
    details = report["details"]
    assert isinstance(details, dict) and details["not_checked"] == []
    assert "/usr/bin/python3 (Python 3.11" in str(_finding(report, "EL-TORCH-MISSING")["message"])


def test_a_python3_without_json_is_probed_in_full(nojson_image: str) -> None:
    """The probe writes its JSON without the json package (probe/_jsontext.py) and reads
    its package without it (probe/_served.py): Debian's python3-minimal lacks it."""
    proc = run_envlock(["probe", "--image", nojson_image, "--no-torch-live", "--json"])
    assert proc.returncode == 0, proc.stderr
    facts = json.loads(proc.stdout)
    assert facts["image"]["probe_mode"] == "python"
    assert facts["meta"]["partial"] is False
    assert facts["system"]["python"]["version"].startswith("3.11")
