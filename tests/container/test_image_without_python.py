"""An image without python3 has no torch either (issue 21 item 10): doctor --image gives
it the verdict an image with python3 and no torch gets (EL-TORCH-MISSING, exit 1), not a
pass. Real images from .ci/build-test-images.sh."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_envlock
from tests.container.conftest import BUSYBOX_IMAGE, PY_IMAGE

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("images")]


def _doctor(image: str) -> tuple[int, dict[str, dict[str, object]]]:
    proc = run_envlock(["doctor", "--image", image, "--format", "json"])
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, {f["id"]: f for f in json.loads(proc.stdout)["findings"]}


def test_no_python3_is_the_same_missing_torch_as_python3_without_torch() -> None:
    code, found = _doctor(BUSYBOX_IMAGE)
    py_code, py_found = _doctor(PY_IMAGE)
    assert (code, py_code) == (1, 1)
    missing, py_missing = found["EL-TORCH-MISSING"], py_found["EL-TORCH-MISSING"]
    assert missing["severity"] == py_missing["severity"] == "error"
    assert "no python3" in str(missing["message"])
    assert BUSYBOX_IMAGE in str(missing["message"])
    # what the shell probe could not see stays said
    assert "EL-IMAGE-PARTIAL-PROBE" in found
