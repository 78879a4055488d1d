"""The driver a paste's own messages say is too old, where the paste does not name torch's
CUDA (checks/driver.py's EL-DRIVER-TOO-OLD judges by versions where it does).

Two messages state it:

- NVIDIA's NGC containers' banner (envlock/pasted/libmessages.py): "This container was built
  for NVIDIA Driver Release 450.36 or later, but version 440.100 was detected and
  compatibility mode is UNAVAILABLE": the driver the image's CUDA needs, in so many words;
- torch's "The NVIDIA driver on your system is too old (found version 11060)" (torch's
  _cuda_init, on cudaErrorInsufficientDriver; envlock/pasted/torch_warnings.py): the driver's
  CUDA is older than torch's. From CUDA 11 on, a driver runs every newer minor of its own
  CUDA major (minor-version compatibility: the major's floor, which any driver of that major
  meets), so torch's CUDA is of a later major and the least driver that can run it is that
  major's floor; before CUDA 11 there is no such floor: the next CUDA's own driver. Both
  drivers are the matrix's.

And the driver a paste's torch says is not there at all: torch's "Found no NVIDIA driver on
your system" (raised only by a CUDA build: envlock/pasted/torch_warnings.py), anywhere in a
line (after "RuntimeError: ", inside a sentence in another language, in a backquoted
traceback), where the paste names no torch build, no driver and no GPU: EL-NO-DRIVER's
subject, a CUDA build whose version the paste does not give (AF-SfMLearner-39,
Bringing-Old-Photos-Back-to-Life-32).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from envlock.findings import Finding, Severity
from envlock.matrix import Matrix, Version
from envlock.pasted.libmessages import container_driver_need
from envlock.pasted.torch_warnings import TORCH_DRIVER_TOO_OLD, TORCH_FOUND_NO_DRIVER
from envlock.probe.libnames import decode_cuda_version

if TYPE_CHECKING:
    from envlock.facts import Facts

_FOUND = re.compile(r"\(found version (\d{4,5})\)$")


@dataclass(frozen=True, slots=True)
class StatedNeed:
    """The least driver the paste's message asks for, and the finding's words."""

    driver: Version
    said: str

    @property
    def fix(self) -> str:
        return f"upgrade the NVIDIA driver to >= {self.driver}"

    @property
    def road(self) -> dict[str, str]:
        return {"driver_at_least": str(self.driver)}

    def finding(self, evidence: dict[str, object]) -> Finding:
        """EL-DRIVER-TOO-OLD in these words (checks/driver.py gives the evidence)."""
        return Finding(
            check_id="EL-DRIVER-TOO-OLD",
            severity=Severity.ERROR,
            message=self.said,
            fix=self.fix,
            evidence=evidence,
        )


def stated_driver_need(facts: Facts, matrix: Matrix, os_name: str) -> StatedNeed | None:
    """The need a message in the paste states and its driver does not meet, or None (also
    where the paste names torch's CUDA: checks/driver.py judges the versions then)."""
    if facts.torch.installed and Version.of(facts.torch.cuda) is not None:
        return None
    driver = Version.of(facts.driver.version) or Version.of(facts.driver.kernel_module_version)
    cuda = Version.of(facts.driver.cuda_version)
    have = f"driver {driver}" if driver else f"the driver for CUDA {cuda}"
    need = Version.of(container_driver_need(facts.meta.notes))
    if need is not None and driver is not None and driver < need:
        return StatedNeed(
            need,
            f"the container's start-up banner (NVIDIA NGC) says {have} is too old: the image's "
            f"CUDA needs driver {need} or later and compatibility mode is unavailable, so CUDA "
            "does not initialise in it",
        )
    # torch's word, where the paste does not name torch's CUDA: the installed build raised it,
    # so its CUDA is newer than the driver's whichever build it is (mmdetection-6049's untagged
    # torch 1.5.0, tests/pasted/test_torch_own_checks.py's conda torch 1.7.1)
    found = _found(facts.meta.notes) if Version.of(facts.torch.cuda) is None else None
    least = _least_newer(matrix, found, os_name) if found is not None else None
    # the driver now: its version, else the one its CUDA ships with (a driver upgraded since
    # torch's message, as its fix is followed, meets the need)
    now = driver or (matrix.toolkit_driver(cuda, os_name) if cuda is not None else None)
    if least is None or (now is not None and now >= least):
        return None
    return StatedNeed(
        least,
        f"torch's own check says {have} is too old: its CUDA {found} is older than the CUDA "
        f"torch was built with, so CUDA init fails; the least driver that runs a newer CUDA "
        f'is {least} (`python -c "import torch; print(torch.version.cuda)"` names torch\'s)',
    )


def _found(notes: list[str]) -> Version | None:
    """The driver's CUDA torch's message found ("found version 11060": 11.6), by its note."""
    for note in notes:
        if note.startswith(TORCH_DRIVER_TOO_OLD):
            m = _FOUND.search(note)
            if m:
                return Version.of(decode_cuda_version(m.group(1)))
    return None


def _least_newer(matrix: Matrix, driver_cuda: Version, os_name: str) -> Version | None:
    """The least driver that runs some CUDA newer than `driver_cuda` that this driver does
    not: a later major's minor-compatibility floor, or (no floor) that CUDA's own driver."""
    have = driver_cuda.truncate(2)
    drivers = []
    for cuda in {t.cuda for t in matrix.toolkits}:
        if cuda <= have:
            continue
        floor = matrix.minor_floor(cuda.major, os_name)
        if floor is not None and cuda.major == have.major:
            continue  # this driver runs it already, through minor-version compatibility
        need = floor if floor is not None else matrix.toolkit_driver(cuda, os_name)
        if need is not None:
            drivers.append(need)
    return min(drivers) if drivers else None


def torch_said_no_driver(facts: Facts, gpu_fix: str) -> list[Finding]:
    """EL-NO-DRIVER where torch's own word is the only sign of its CUDA build: the paste names
    no torch version, no driver, no GPU (a listed GPU or driver wins) and no container (whose
    GPUs are the runtime's: checks/driver.py judges a container by its own facts). `gpu_fix`:
    checks/driver.py's road to a GPU; with torch's version unknown no CPU wheel is named, but
    the job itself can leave CUDA (the maintainers' answer in both tuning threads)."""
    driver = facts.driver
    if facts.torch.installed or TORCH_FOUND_NO_DRIVER not in facts.meta.notes:
        return []
    if driver.gpus or driver.version or driver.kernel_module_version or driver.pci_gpus:
        return []
    container = facts.system.container
    if (container is not None and container.detected) or facts.image is not None:
        return []
    return [
        Finding(
            check_id="EL-NO-DRIVER",
            severity=Severity.WARNING,
            message=(
                "the installed torch (its version not given) is a CUDA build (its own 'Found no "
                "NVIDIA driver on your system' is raised by CUDA builds only) but no NVIDIA "
                "driver or GPU is present: torch.cuda.is_available() is False and code that "
                "asks for CUDA fails"
            ),
            fix=f"{gpu_fix}; or run the job on the CPU (its .cuda() and device='cuda' calls made 'cpu')",
            evidence={
                "driver.unavailable": driver.unavailable,
                "torch.cuda": None,
                "torch_said": "Found no NVIDIA driver on your system",
            },
        )
    ]
