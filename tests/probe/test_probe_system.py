"""The system section: container detection replayed from recorded /proc blobs, and this host."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

import pytest

from envlock.probe import system

DATA = Path(__file__).parent / "data"


def _blob(name: str) -> str:
    return (DATA / name).read_text()


def test_docker_container_from_recorded_mountinfo_and_cgroup() -> None:
    found = system.detect_container(
        dockerenv=False,
        containerenv=False,
        environ={},
        cgroup_text=_blob("cgroup.docker-28-cgroupv1.txt"),
        mountinfo_text=_blob("mountinfo.docker-28-cgroupv1.txt"),
    )
    assert found["detected"] is True
    assert found["runtime"] == "docker"
    assert found["kubernetes"] is False
    assert any(e.startswith("/proc/1/cgroup: ") and "/docker/" in e for e in found["evidence"])
    assert any("/var/lib/docker/containers/" in e for e in found["evidence"])


def test_docker_container_from_mountinfo_alone_as_under_cgroup_v2() -> None:
    # cgroup v2 namespaces show "0::/": the bind-mounted /etc/hostname still gives it away.
    found = system.detect_container(
        dockerenv=False,
        containerenv=False,
        environ={},
        cgroup_text="0::/\n",
        mountinfo_text=_blob("mountinfo.docker-28-cgroupv1.txt"),
    )
    assert (found["detected"], found["runtime"]) == (True, "docker")


def test_docker_cgroup_recorded_by_pre_commit() -> None:
    found = system.detect_container(
        dockerenv=False,
        containerenv=False,
        environ={},
        cgroup_text=_blob("cgroup.docker-precommit.txt"),
        mountinfo_text="",
    )
    assert (found["detected"], found["runtime"]) == (True, "docker")


def test_a_docker_host_is_not_a_container() -> None:
    # The dev machine mounts /var/lib/docker (it runs the engine) but is not inside a container.
    found = system.detect_container(
        dockerenv=False,
        containerenv=False,
        environ={"PATH": "/usr/bin"},
        cgroup_text=_blob("cgroup.host-precommit.txt"),
        mountinfo_text=_blob("mountinfo.devbox-docker-host.txt"),
    )
    assert found == {"detected": False, "runtime": None, "kubernetes": False, "evidence": []}


def test_podman_and_kubernetes_markers() -> None:
    podman = system.detect_container(
        dockerenv=False,
        containerenv=True,
        environ={"container": "podman"},
        cgroup_text="0::/\n",
        mountinfo_text="",
    )
    assert (podman["detected"], podman["runtime"], podman["kubernetes"]) == (True, "podman", False)
    k8s = system.detect_container(
        dockerenv=False,
        containerenv=False,
        environ={"KUBERNETES_SERVICE_HOST": "10.96.0.1"},
        cgroup_text="0::/\n",
        mountinfo_text="",
    )
    assert (k8s["detected"], k8s["runtime"], k8s["kubernetes"]) == (True, "kubernetes", True)


def test_parse_os_release_and_meminfo() -> None:
    text = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'
    assert system.parse_os_release(text) == {
        "id": "debian",
        "version_id": "12",
        "pretty_name": "Debian GNU/Linux 12 (bookworm)",
    }
    assert system.parse_os_release(None) is None
    assert system.parse_meminfo_total("MemTotal:       24684084 kB\nMemFree: 1 kB\n") == (
        24684084 * 1024
    )
    assert system.parse_meminfo_total("") is None


def test_parse_cpu_model() -> None:
    assert system.parse_cpu_model("processor\t: 0\nmodel name\t: AMD EPYC 9654\n") == (
        "AMD EPYC 9654"
    )
    assert system.parse_cpu_model("processor\t: 0\n") is None


def test_cgroup_memory_limits(tmp_path: Path) -> None:
    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "cgroup.controllers").write_text("cpu memory\n")
    (v2 / "memory.max").write_text("max\n")
    assert system.cgroup_version(str(v2)) == 2
    assert system.cgroup_memory_limit(str(v2)) is None
    (v2 / "memory.max").write_text("1073741824\n")
    assert system.cgroup_memory_limit(str(v2)) == 1073741824
    v1 = tmp_path / "v1"
    (v1 / "memory").mkdir(parents=True)
    (v1 / "memory" / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    assert system.cgroup_version(str(v1)) == 1
    assert system.cgroup_memory_limit(str(v1)) is None  # cgroup v1's "no limit"
    (v1 / "memory" / "memory.limit_in_bytes").write_text("68719476736\n")
    assert system.cgroup_memory_limit(str(v1)) == 68719476736


def test_collect_on_this_machine() -> None:
    facts = system.collect()
    assert facts["unavailable"] is None
    assert facts["python"]["version"] == platform.python_version()
    assert facts["python"]["executable"] == sys.executable
    assert facts["kernel"] == platform.release()
    assert facts["cpu_count"] == len(os.sched_getaffinity(0))
    assert facts["memory_total_bytes"] > 0
    assert (
        facts["shm_total_bytes"]
        == os.statvfs("/dev/shm").f_blocks * os.statvfs("/dev/shm").f_frsize
    )
    assert facts["ulimit_nofile"]["soft"] is not None
    assert facts["glibc"] == platform.libc_ver()[1]
    if Path("/.dockerenv").exists():
        assert facts["container"]["detected"] is True


def test_unlimited_ulimit_is_none() -> None:
    resource = pytest.importorskip("resource")
    soft, hard = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    got = system.ulimit("RLIMIT_MEMLOCK")
    assert got == {
        "soft": None if soft == resource.RLIM_INFINITY else soft,
        "hard": None if hard == resource.RLIM_INFINITY else hard,
    }
