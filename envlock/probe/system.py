"""The `system` section: OS, kernel, glibc, Python, CPU, memory, cgroups, containers, shm,
ulimits."""

from __future__ import annotations

import os
import sys

from envlock.probe._util import line_starts, read_int, read_text, skip_space

# typing is not imported at run time (~3 ms of every container probe).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from envlock.probe.shapes import ContainerDoc, OsDoc, PythonDoc, SystemDoc, UlimitDoc

# cgroup v1 reports "no limit" as a page-rounded LONG_MAX; anything this large is unlimited.
_UNLIMITED_FLOOR = 1 << 62


def collect() -> SystemDoc:
    return {
        "unavailable": None,
        "hostname": _hostname(),
        "os": parse_os_release(read_text("/etc/os-release") or read_text("/usr/lib/os-release")),
        "kernel": os.uname().release or None,
        "arch": os.uname().machine or None,
        "glibc": glibc_version(),
        "python": python_facts(),
        "cpu_model": parse_cpu_model(read_text("/proc/cpuinfo") or ""),
        "cpu_count": cpu_count(),
        "memory_total_bytes": parse_meminfo_total(read_text("/proc/meminfo") or ""),
        "cgroup_version": cgroup_version(),
        "cgroup_memory_limit_bytes": cgroup_memory_limit(),
        "container": detect_container(
            dockerenv=os.path.exists("/.dockerenv"),
            containerenv=os.path.exists("/run/.containerenv"),
            environ=os.environ,
            cgroup_text=read_text("/proc/1/cgroup") or read_text("/proc/self/cgroup") or "",
            mountinfo_text=read_text("/proc/self/mountinfo") or "",
        ),
        "shm_total_bytes": shm_total_bytes(),
        "ulimit_memlock": ulimit("RLIMIT_MEMLOCK"),
        "ulimit_nofile": ulimit("RLIMIT_NOFILE"),
    }


def _hostname() -> str | None:
    return os.uname().nodename or None  # what socket.gethostname() reads on Linux


def parse_os_release(text: str | None) -> OsDoc | None:
    if not text:
        return None
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip():
            values[key.strip()] = value.strip().strip("\"'")
    return {
        "id": values.get("ID"),
        "version_id": values.get("VERSION_ID"),
        "pretty_name": values.get("PRETTY_NAME"),
    }


def glibc_version() -> str | None:
    try:
        value = os.confstr("CS_GNU_LIBC_VERSION")  # "glibc 2.36"
    except (AttributeError, ValueError, OSError):
        value = None
    if value and value.startswith("glibc "):
        return value.split(" ", 1)[1]
    import platform  # slow to import; only for a libc without confstr

    lib, version = platform.libc_ver()
    return version if lib == "glibc" and version else None


def python_facts() -> PythonDoc:
    base = getattr(sys, "base_prefix", sys.prefix)
    return {
        "version": python_version(),
        "implementation": _IMPLEMENTATIONS.get(sys.implementation.name, sys.implementation.name),
        "executable": sys.executable or None,
        "virtualenv": sys.prefix if sys.prefix != base else None,
    }


# platform.python_implementation()'s spelling, without importing platform.
_IMPLEMENTATIONS = {"cpython": "CPython", "pypy": "PyPy", "graalpy": "GraalVM"}
_RELEASE_LEVELS = {"alpha": "a", "beta": "b", "candidate": "rc", "final": ""}


def python_version() -> str:
    """platform.python_version(): 3.11.7, or 3.13.0rc1 for a pre-release."""
    v = sys.version_info
    level = _RELEASE_LEVELS.get(v.releaselevel, v.releaselevel)
    return f"{v.major}.{v.minor}.{v.micro}" + (f"{level}{v.serial}" if level else "")


def parse_cpu_model(cpuinfo: str) -> str | None:
    # x86 says "model name"; arm64 kernels often only give "CPU part" or nothing useful.
    for key in ("model name", "Model", "cpu model", "Hardware"):
        for line in cpuinfo.splitlines():
            name, sep, value = line.partition(":")
            if sep and name.strip() == key and value.strip():
                return value.strip()
    return None


def cpu_count() -> int | None:
    # The CPUs this process may run on (taskset, cgroup cpusets), not the machine's.
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count()


def parse_meminfo_total(meminfo: str) -> int | None:
    r"""re.search(r"^MemTotal:\s+(\d+)\s*kB", meminfo, re.M)'s number in bytes, without re
    (a served probe imports none): \d is str.isdecimal(), \s str.isspace()."""
    for start in line_starts(meminfo):
        if not meminfo.startswith("MemTotal:", start):
            continue
        first = skip_space(meminfo, start + len("MemTotal:"))
        end = first
        while end < len(meminfo) and meminfo[end].isdecimal():
            end += 1
        spaced = first > start + len("MemTotal:")
        if spaced and end > first and meminfo.startswith("kB", skip_space(meminfo, end)):
            return int(meminfo[first:end]) * 1024
    return None


def cgroup_version(root: str = "/sys/fs/cgroup") -> int | None:
    if os.path.exists(os.path.join(root, "cgroup.controllers")):
        return 2
    if os.path.isdir(os.path.join(root, "memory")) or os.path.isdir(os.path.join(root, "cpu")):
        return 1
    return None


def cgroup_memory_limit(root: str = "/sys/fs/cgroup") -> int | None:
    """The memory limit of this process's cgroup; None when unlimited or unknown."""
    v2 = read_text(os.path.join(root, "memory.max"), 64)
    if v2 is not None:
        v2 = v2.strip()
        return None if v2 == "max" or not v2.isdigit() else _limit(int(v2))
    v1 = read_int(os.path.join(root, "memory", "memory.limit_in_bytes"))
    return _limit(v1) if v1 is not None else None


def _limit(value: int) -> int | None:
    return None if value >= _UNLIMITED_FLOOR else value


_MOUNT_PATTERNS: tuple[tuple[str, str], ...] = (
    ("/var/lib/docker/containers/", "docker"),
    ("/var/lib/containers/storage/", "podman"),
    ("/run/containerd/io.containerd", "containerd"),
    ("/var/lib/kubelet/pods/", "kubernetes"),
    ("/var/lib/lxc/", "lxc"),
)
_CGROUP_PATTERNS: tuple[tuple[str, str], ...] = (
    ("/docker/", "docker"),
    ("docker-", "docker"),
    ("/libpod-", "podman"),
    ("/kubepods", "kubernetes"),
    ("/lxc/", "lxc"),
    ("/actions_job/", "docker"),
)


def detect_container(
    *,
    dockerenv: bool,
    containerenv: bool,
    environ: Mapping[str, str],
    cgroup_text: str,
    mountinfo_text: str,
) -> ContainerDoc:
    """Whether this process runs in a container, which runtime, and why we think so.

    Pure over its inputs so recorded /proc blobs can be replayed in tests.
    """
    evidence: list[str] = []
    runtimes: list[str] = []
    if dockerenv:
        evidence.append("/.dockerenv exists")
        runtimes.append("docker")
    if containerenv:
        evidence.append("/run/.containerenv exists")
        runtimes.append("podman")
    kubernetes = bool(environ.get("KUBERNETES_SERVICE_HOST"))
    if kubernetes:
        evidence.append("KUBERNETES_SERVICE_HOST is set")
    for hit in _proc_hits(cgroup_text, mountinfo_text):
        evidence.append(hit[1])
        runtimes.append(hit[0])
    kubernetes = kubernetes or "kubernetes" in runtimes
    if environ.get("container") and not runtimes:  # set by podman, systemd-nspawn, lxc
        evidence.append("container={} in the environment".format(environ.get("container")))
        runtimes.append(str(environ.get("container")))
    return {
        "detected": bool(evidence),
        "runtime": _runtime(runtimes, kubernetes),
        "kubernetes": kubernetes,
        "evidence": evidence,
    }


def _proc_hits(cgroup_text: str, mountinfo_text: str) -> list[tuple[str, str]]:
    """(runtime, evidence) from /proc/1/cgroup's first known path, then mountinfo's."""
    hits = [
        _first_match(
            ((line.split(":", 2)[-1], line.strip()) for line in cgroup_text.splitlines()),
            _CGROUP_PATTERNS,
        ),
        _first_match(
            (
                (f[3], f"mountinfo: {f[3]} mounted at {f[4]}")
                for f in (line.split() for line in mountinfo_text.splitlines())
                if len(f) > 4
            ),
            _MOUNT_PATTERNS,
        ),
    ]
    if hits[0] is not None:
        hits[0] = (hits[0][0], "/proc/1/cgroup: " + hits[0][1])
    return [hit for hit in hits if hit is not None]


def _runtime(runtimes: list[str], kubernetes: bool) -> str | None:
    """The first runtime other than kubernetes (the one a pod's containers run on), else
    kubernetes when that is all there is to say."""
    for r in runtimes:
        if r != "kubernetes":
            return r
    return "kubernetes" if kubernetes else None


def _first_match(
    candidates: Iterable[tuple[str, str]], patterns: tuple[tuple[str, str], ...]
) -> tuple[str, str] | None:
    """(runtime, evidence) for the first candidate text containing a known pattern."""
    for text, evidence in candidates:
        for needle, runtime in patterns:
            if needle in text:
                return runtime, evidence
    return None


def shm_total_bytes(path: str = "/dev/shm") -> int | None:
    try:
        st = os.statvfs(path)
    except (OSError, AttributeError):
        return None
    return st.f_blocks * st.f_frsize


def ulimit(name: str) -> UlimitDoc | None:
    try:
        import resource
    except ImportError:  # not on Windows
        return None
    which = getattr(resource, name, None)
    if which is None:
        return None
    try:
        soft, hard = resource.getrlimit(which)
    except (OSError, ValueError):
        return None

    def norm(v: int) -> int | None:
        return None if v == resource.RLIM_INFINITY or v < 0 else int(v)

    return {"soft": norm(soft), "hard": norm(hard)}
