"""NCCL's own log lines as real reports pasted them (each from the thread it names), for the
shared-memory reader's tests (tests/pasted/test_nccl_log.py, tests/checks/test_shm_observed.py,
tests/fuzz/test_fuzz_nccl_log.py). Hosts and paths as the reporters printed them."""

from __future__ import annotations

from pathlib import Path

CE = Path(__file__).resolve().parent.parent / "fixtures" / "collect_env"

# huggingface/transformers#11658: the hand-written environment list of the corpus report
TRANSFORMERS_11658 = (CE / "transformers-11658.txt").read_text()
HAND_LIST = "".join(TRANSFORMERS_11658.splitlines(keepends=True)[:7])

# --- a segment that could not be made for want of room
# NVIDIA/nccl#290 (NCCL 2.5, nvcr.io/nvidia/tensorflow:20.01 in Docker)
NCCL_290 = """\
gpu2-ru7:2144:2556 [2] NCCL INFO Ring 00 : 2[3d000] -> 3[3e000] via direct shared memory
gpu2-ru7:2143:2561 [1] NCCL INFO Ring 00 : 1[1b000] -> 2[3d000] via direct shared memory

gpu2-ru7:2143:2561 [1] include/shm.h:28 NCCL WARN Call to posix_fallocate failed : No space left on device
gpu2-ru7:2143:2561 [1] NCCL INFO include/shm.h:41 -> 2
"""
# NVIDIA/nccl#525 (NCCL 2.9.6, Kubeflow on GKE)
NCCL_525 = """\
[3] include/shm.h:28 NCCL WARN Call to posix_fallocate failed : No space left on device
[3] NCCL INFO include/shm.h:41 -> 2
[3] include/shm.h:48 NCCL WARN Error while creating shared memory segment nccl-shm-recv-1462445a6f01cbfc-1-2-3 (size 9637888)
"""
# pytorch/torchtitan#853 (NCCL 2.21.5, a CI container with a 16 MB /dev/shm): torch's error
TORCHTITAN_853 = (
    "  torch.distributed.DistBackendError: NCCL error in: /pytorch/torch/csrc/distributed/c10d/"
    "NCCLUtils.hpp:268, unhandled system error (run with NCCL_DEBUG=INFO for details), NCCL "
    "version 2.21.5\n"
    "  ncclSystemError: System call (e.g. socket, malloc) or external library call failed or "
    "device error. \n"
    "  Last error:\n"
    "  Error while creating shared memory segment /dev/shm/nccl-1YsMbG (size 7340384)\n"
    "  Exception raised from create at /pytorch/torch/csrc/distributed/c10d/NCCLUtils.hpp:268 "
    "(most recent call first):\n"
)
# NVIDIA/nccl-tests#166 (NCCL 2.12-2.22's ftruncate)
NCCL_TESTS_166 = """\
ubuntu:9621:9691 [6] misc/shmutils.cc:71 NCCL WARN Error: failed to extend /dev/shm/nccl-fjwOOB to 5967876 bytes

ubuntu:9621:9691 [6] misc/shmutils.cc:112 NCCL WARN Error while creating shared memory segment /dev/shm/nccl-fjwOOB (size 5967872)
ubuntu:9621:9691 [6] NCCL INFO transport/shm.cc:114 -> 2
"""

# --- the segment failing for another cause, or NCCL failing elsewhere
# NVIDIA/nccl#1518: cudaHostRegister of the segment failed, with a 64 MB /dev/shm to spare
NCCL_1518 = """\
[1] misc/shmutils.cc:103 NCCL WARN Cuda failure 'invalid argument'

[1] misc/shmutils.cc:114 NCCL WARN Error while creating shared memory segment /dev/shm/nccl-NzwJ7O (size 9637888)
"""
# NVIDIA/nccl#1589: a peer's segment gone (NCCL 2.23+, which names the error)
NCCL_1589 = (
    "g148:14937:69361 [0] misc/shmutils.cc:93 NCCL WARN Call to open failed: No such file or "
    "directory\n\n"
    "g148:14937:69361 [0] misc/shmutils.cc:129 NCCL WARN Error while attaching to shared memory "
    "segment /dev/shm/nccl-glnlGK (size 14156128), error: No such file or directory (2)\n"
)
# NVIDIA/nccl-tests#166, its other log: the network, not /dev/shm
NCCL_SOCKET = (
    "ubuntu:39964:40075 [0] misc/socket.cc:483 NCCL WARN socketStartConnect: Connect to "
    "10.0.0.2<45763> failed : Software caused connection abort\n"
    "ubuntu:39964:40075 [0] NCCL INFO misc/socket.cc:564 -> 2\n"
    "ubuntu:39964:40049 [5] NCCL INFO Channel 20 : 5[5] -> 4[4] via SHM/direct/direct\n"
)
# NVIDIA/nccl#875: torch's "unhandled system error" alone (the cause is in NCCL's warnings)
UNHANDLED_SYSTEM = (
    "RuntimeError: NCCL error in: /home/builder/mc3/envs/pytorch-build/envs/pytorch-build/"
    "conda-bld/pytorch_1673601922403/work/torch/csrc/distributed/c10d/ProcessGroupNCCL.cpp:1191,"
    " unhandled system error, NCCL version 2.10.3\n"
)
# facebookresearch/SlowFast#462
UNHANDLED_CUDA = (
    "RuntimeError: NCCL error in: /pytorch/torch/lib/c10d/ProcessGroupNCCL.cpp:911, unhandled "
    "cuda error, NCCL version 2.7.8 ncclUnhandledCudaError: Call to CUDA function failed.\n"
)
# microsoft/nni#2317: a disk that is full, no NCCL
DISK_FULL = (
    "Only use `nnictl view` can see the cause `OSError: [Errno 28] No space left on device`.\n"
)

ROOM = (NCCL_290, NCCL_525, TORCHTITAN_853, NCCL_TESTS_166)
NOT_ROOM = (NCCL_1518, NCCL_1589, NCCL_SOCKET, UNHANDLED_SYSTEM, UNHANDLED_CUDA, DISK_FULL)
