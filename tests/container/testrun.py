"""This test run's id, as a label on every container the run creates, and the daemon's
address as the session found it (before the labelling proxy took DOCKER_HOST).

Its own module, always imported by this name: pytest imports conftest.py as
`container.conftest` and the test modules import it again as
`tests.container.conftest`, and both must see one id and one address."""

from __future__ import annotations

import os
import uuid

TEST_RUN_LABEL = "org.envlock.test-run"
TEST_RUN = uuid.uuid4().hex
RUN_LABELS = ("--label", f"{TEST_RUN_LABEL}={TEST_RUN}")

DOCKER_HOST = os.environ.get("DOCKER_HOST")
DAEMON_SOCKET = (DOCKER_HOST or "unix:///var/run/docker.sock").removeprefix("unix://")
