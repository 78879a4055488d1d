"""Windows Subsystem for Linux 1: no GPU is reachable there at all.

CUDA on WSL runs only under WSL 2, whose kernel the NVIDIA driver for Windows serves
(NVIDIA's CUDA on WSL User Guide; Microsoft's "GPU accelerated machine learning training
in WSL": "requires WSL 2"). WSL 1 translates Linux system calls with no Linux kernel and
no GPU paravirtualization, so a CUDA build of torch there never sees a GPU, whatever the
paste shows of the driver. Its kernel release names it: `4.4.0-19041-Microsoft` (WSL 1,
the Windows build number, a capital M) against `5.15.153.1-microsoft-standard-WSL2`
(pasted/os_lines.wsl1; a pasted report on WSL 1 reads as one with no GPU).
"""

from __future__ import annotations

from envlock.pasted.os_lines import wsl1

__all__ = ["FIX", "wsl1"]

FIX = (
    "this is WSL 1 (kernel {kernel}), which has no GPU support: convert the distribution to "
    "WSL 2 in Windows (wsl --set-version <distribution> 2), with NVIDIA's Windows driver "
    "installed and no Linux driver inside; CUDA then runs under WSL 2"
)
