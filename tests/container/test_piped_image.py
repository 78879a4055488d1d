"""`envlock probe --image` and `doctor --image` piped: no line padded to the unbounded
width of a console that is not a terminal (issue 22 item 4: 2 MB of blanks per probe)."""

from __future__ import annotations

import pytest

from tests.conftest import REPO, run_envlock
from tests.container.conftest import BUSYBOX_IMAGE, PY_IMAGE
from tests.report.test_piped_output import _env, assert_unpadded

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("images")]


@pytest.mark.parametrize("command", ["probe", "doctor"])
@pytest.mark.parametrize("image", [PY_IMAGE, BUSYBOX_IMAGE])
def test_image_text_output_in_a_pipe_has_no_trailing_blanks(command: str, image: str) -> None:
    done = run_envlock([command, "--image", image, "--no-torch-live"], env=_env(), cwd=REPO)
    assert done.returncode in (0, 1), done.stderr
    assert image in done.stdout
    assert_unpadded(done.stdout)
