"""Facts about images and containers: what Docker says about an image, the
shell fallback's output, and the merge of an image's facts with the host's.

Pure functions of recorded data (`docker image inspect` JSON, the shell
probe's text), used by envlock.container.image and .exec after a probe container has run
and by `envlock verify`. Importing this module is what costs (the Facts model);
envlock.container.image imports it only once its container is running.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from typing import Any

from envlock import __version__
from envlock.container.document import image_fields
from envlock.container.document import split_env as split_env  # where it was
from envlock.errors import ContainerError, FactsError, last_line
from envlock.facts import (
    ContainerFacts,
    CudaLibFacts,
    DriverFacts,
    EnvFacts,
    Facts,
    GpuFacts,
    ImageFacts,
    MetaFacts,
    OsFacts,
    PackagesFacts,
    PythonFacts,
    SystemFacts,
    TorchFacts,
    WheelFacts,
    load_json,
)


def image_facts(
    reference: str,
    image: dict[str, Any],
    *,
    kind: str,
    shm_size_bytes: int | None,
    gpus_requested: str | None,
    gpu_request_error: str | None,
    probe_mode: str,
) -> ImageFacts:
    """ImageFacts from `docker image inspect` output (or a container's view of it)."""
    return ImageFacts(
        **image_fields(
            reference,
            image,
            kind=kind,
            shm_size_bytes=shm_size_bytes,
            gpus_requested=gpus_requested,
            gpu_request_error=gpu_request_error,
            probe_mode=probe_mode,
        )
    )


def with_image(facts: Facts, image: ImageFacts, notes: list[str], withheld: list[str]) -> Facts:
    if withheld:
        notes = [*notes, f"image env: values of {', '.join(withheld)} withheld (secrets)"]
    meta = facts.meta
    if notes:
        meta = dataclasses.replace(meta, notes=[*meta.notes, *notes])
    return facts.replace(image=image, meta=meta)


_warm: list[bool] = []  # [True] once warm_decoder() built msgspec's decoder


def warm_decoder() -> None:
    """Loads msgspec and builds its facts decoder (~25 ms), so that facts_from_json
    reads a probe's output with it (~0.1 ms, where the reference's first document costs
    ~10 ms of type hints): envlock.container.image calls it while a container starts.
    Raises ImportError without msgspec (facts_from_json then reads with the reference)."""
    from envlock.facts.decode import fast_facts

    fast_facts(b'{"facts_version": 1}')
    _warm[:] = [True]


def facts_from_json(text: str, where: str) -> Facts:
    """The probe's output as Facts: by msgspec's decoder once warm_decoder() loaded it and
    it reads the document exactly as the reference would, else by the reference (whose
    errors are these)."""
    if _warm:
        from envlock.facts.decode import fast_facts

        facts = fast_facts(text.encode("utf-8", "surrogatepass"))
        if facts is not None:
            return facts
    try:
        data = load_json(text)
    except FactsError:
        first = last_line(text[:200]) or "nothing"
        raise ContainerError(
            f"the probe in {where} did not print Facts JSON (got: {first[:80]!r})"
        ) from None
    try:
        return Facts.from_dict(data)
    except FactsError as exc:
        raise ContainerError(f"the probe in {where} printed invalid facts: {exc}") from None


# ------------------------------------------------------- merge with the host
def merge_host_facts(image_facts: Facts, host_facts: Facts) -> Facts:
    """The image's facts, with driver and GPU facts taken from the host.

    A container uses the host's kernel driver and GPUs (the NVIDIA runtime
    mounts the host's libcuda/libnvidia-ml in), so those are the host's to
    report; everything else (OS, python, torch, CUDA libraries, packages, env)
    is the image's. An image's own libcuda (a cuda-compat package) is kept.
    """
    cuda = image_facts.cuda
    image_libcuda = cuda.libcuda
    if image_libcuda is None or image_libcuda.path is None or not image_libcuda.compat:
        cuda = dataclasses.replace(cuda, libcuda=host_facts.cuda.libcuda)
    notes = [
        *image_facts.meta.notes,
        "driver and GPU facts are the host's (a container runs on the host's driver)",
    ]
    return image_facts.replace(
        driver=host_facts.driver,
        cuda=cuda,
        meta=dataclasses.replace(image_facts.meta, notes=notes),
    )


# ------------------------------------------------------------- shell fallback
# For images without python3: plain POSIX sh (busybox works), sections on
# stdout that facts_from_shell() turns into partial Facts on the host.
SHELL_PROBE = r"""#!/bin/sh
# envlock shell probe: partial facts for images without python3.
section() { printf '\n@@envlock %s\n' "$1"; }
section os-release
cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null
section uname
uname -r 2>/dev/null; uname -m 2>/dev/null
section glibc
getconf GNU_LIBC_VERSION 2>/dev/null
section shm
grep ' /dev/shm ' /proc/mounts 2>/dev/null
section meminfo
grep '^MemTotal:' /proc/meminfo 2>/dev/null
section cpus
grep -c '^processor' /proc/cpuinfo 2>/dev/null
section ldconfig
if command -v ldconfig >/dev/null 2>&1; then ldconfig -p 2>/dev/null
elif [ -x /sbin/ldconfig ]; then /sbin/ldconfig -p 2>/dev/null; fi
section dist-info
for d in /usr/lib/python3*/site-packages /usr/lib/python3*/dist-packages \
         /usr/lib/python3/dist-packages /usr/local/lib/python3*/site-packages \
         /usr/local/lib/python3*/dist-packages /opt/conda/lib/python3*/site-packages \
         /opt/*/lib/python3*/site-packages; do
    [ -d "$d" ] || continue
    for e in "$d"/*.dist-info "$d"/*.egg-info; do [ -e "$e" ] && echo "$e"; done
done
section python3
if command -v python3 >/dev/null 2>&1; then command -v python3; python3 -V 2>&1; fi
section nvidia-smi
if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=index,name,pci.bus_id,memory.total,driver_version,compute_cap \
        --format=csv,noheader,nounits 2>&1
fi
section driver
cat /sys/module/nvidia/version 2>/dev/null
section devices
for n in /dev/nvidia*; do [ -e "$n" ] && echo "$n"; done
section env
env 2>/dev/null
section end
"""


def shell_command() -> list[str]:
    """argv of the shell fallback, for images and containers without python3."""
    return ["sh", "-c", SHELL_PROBE]


def _sections(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("@@envlock "):
            current = out.setdefault(line[len("@@envlock ") :].strip(), [])
        elif current is not None and line.strip():
            current.append(line.rstrip("\n"))
    return out


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


_DIST_DIR = re.compile(r"(?P<name>[^-]+)-(?P<version>[^-]+?)(?:-py[\w.]+)?\.(dist|egg)-info")


def _dist_entries(lines: list[str]) -> dict[str, str]:
    dists: dict[str, str] = {}
    for line in lines:
        base = line.rsplit("/", 1)[-1]
        m = _DIST_DIR.fullmatch(base)
        if m:
            dists[_normalize(m.group("name"))] = m.group("version")
    return dists


def _cuda_of_build(build: str | None) -> str | None:
    m = re.fullmatch(r"cu(\d+)(\d)", build or "")
    return f"{m.group(1)}.{m.group(2)}" if m else None


def facts_from_shell(text: str, *, target: str, why: str) -> Facts:
    """Partial Facts from the shell probe's sections (meta.partial, with a note why)."""
    s = _sections(text)
    if "end" not in s and "os-release" not in s:
        raise ContainerError(f"the shell probe for {target} printed no facts")
    from envlock.probe.envvars import is_allowed

    dists = dict(_dist_entries(s.get("dist-info", [])))
    variables, withheld = split_env(s.get("env", []))
    env = EnvFacts(
        variables={k: v for k, v in variables.items() if is_allowed(k)}, redacted=withheld
    )
    return Facts(
        meta=_shell_meta(target, why),
        system=_system_from_shell(s, target),
        driver=_driver_from_shell(s, why),
        cuda=_cuda_from_shell(s, dists, why),
        torch=_torch_from_shell(dists, why),
        packages=PackagesFacts(distributions=dists),
        env=env,
    )


def _shell_meta(target: str, why: str) -> MetaFacts:
    return MetaFacts(
        envlock_version=__version__,
        collected_at=datetime.datetime.now(datetime.timezone.utc)
        .replace(microsecond=0)
        .isoformat()
        .replace("+00:00", "Z"),
        target=target,
        partial=True,
        notes=[
            f"{why}: shell fallback probe, partial facts (no NVML, no torch import, "
            "no CUDA library loading)"
        ],
    )


def _system_from_shell(s: dict[str, list[str]], target: str) -> SystemFacts:
    osr: dict[str, str] = {}
    for line in s.get("os-release", []):
        k, sep, v = line.partition("=")
        if sep:
            osr[k.strip()] = v.strip().strip('"')
    uname = s.get("uname", [])
    glibc = next(iter(s.get("glibc", [])), "")
    return SystemFacts(
        os=OsFacts(
            id=osr.get("ID"), version_id=osr.get("VERSION_ID"), pretty_name=osr.get("PRETTY_NAME")
        )
        if osr
        else None,
        kernel=uname[0] if uname else None,
        arch=uname[1] if len(uname) > 1 else None,
        glibc=glibc.split()[-1] if glibc.startswith("glibc") else None,
        cpu_count=next((n for n in map(_small_int, s.get("cpus", [])) if n is not None), None),
        memory_total_bytes=_last_kib(s.get("meminfo", []), _MEM_TOTAL),
        shm_total_bytes=_last_kib(s.get("shm", []), _SHM_SIZE),
        python=_python_from_shell(s.get("python3", [])),
        # envlock started this container itself: no need to infer it
        container=ContainerFacts(
            detected=True, runtime="docker", evidence=[f"probed by envlock in {target}"]
        ),
    )


_SHM_SIZE = re.compile(r"size=([0-9]{1,18})k")  # a /proc/mounts line's size=NNNk
_MEM_TOTAL = re.compile(r"(?<![0-9])([0-9]{1,18})\s*kB")  # "MemTotal:  65843012 kB"


def _last_kib(lines: list[str], pattern: re.Pattern[str]) -> int | None:
    """Bytes of the last line's KiB number that `pattern` finds (None: no line has one)."""
    found = None
    for line in lines:
        m = pattern.search(line)
        if m:
            found = int(m.group(1)) * 1024
    return found


def _cuda_from_shell(s: dict[str, list[str]], dists: dict[str, str], why: str) -> CudaLibFacts:
    from envlock.probe.libnames import is_cuda_library

    ldconfig = sorted(
        {
            ln.strip().split(" ", 1)[0]
            for ln in s.get("ldconfig", [])[1:]
            if ln.startswith(("\t", " ")) and ln.strip().startswith("lib")
        }
    )
    wheels = [
        WheelFacts(name=n, version=v, cuda_major=_wheel_cuda_major(n))
        for n, v in sorted(dists.items())
        if n.startswith("nvidia-")
    ]
    return CudaLibFacts(
        unavailable=f"{why}: only ldconfig and installed wheels were observed",
        wheels=wheels,
        ldconfig_libraries=[ln for ln in ldconfig if is_cuda_library(ln.split(" ", 1)[0])],
    )


def _torch_from_shell(dists: dict[str, str], why: str) -> TorchFacts:
    if "torch" not in dists:
        # Not observed, not "not installed": the shell only lists the usual site-packages.
        return TorchFacts(
            installed=False,
            unavailable=f"{why}: not imported, and no torch dist-info in the usual "
            "site-packages directories",
        )
    version = dists["torch"]
    build = version.split("+", 1)[1] if "+" in version else None
    return TorchFacts(
        installed=True,
        version=version,
        build=build,
        cuda=_cuda_of_build(build),
        live=None,
        unavailable=f"{why}: version from dist-info only, not imported",
    )


def _wheel_cuda_major(name: str) -> int | None:
    m = re.search(r"-cu([0-9]{1,4})$", name)
    return int(m.group(1)) if m else None


def _small_int(text: str) -> int | None:
    """An ASCII decimal of at most 18 digits from an image's output, else None: "²" passes
    str.isdigit() and int() refuses it; 5,000 digits crash int()."""
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def _python_from_shell(lines: list[str]) -> PythonFacts | None:
    """The python3 the shell found (path, `python3 -V`) even when the probe cannot run
    under it (too old, or no json module as in Debian's python3-minimal)."""
    path = next((ln.strip() for ln in lines if ln.strip().startswith("/")), None)
    version = next(
        (ln.split()[1] for ln in lines if ln.startswith("Python ") and len(ln.split()) > 1), None
    )
    if path is None and version is None:
        return None
    return PythonFacts(version=version or "unknown", implementation="unknown", executable=path)


def _driver_from_shell(s: dict[str, list[str]], why: str) -> DriverFacts:
    nodes = [n for n in s.get("devices", []) if n.startswith("/dev/nvidia")]
    gpus: list[GpuFacts] = []
    version = None
    for row in s.get("nvidia-smi", []):
        cols = [c.strip() for c in row.split(",")]
        index = _small_int(cols[0]) if len(cols) >= 6 else None
        if index is None:
            continue
        mib = _small_int(cols[3])
        gpus.append(
            GpuFacts(
                index=index,
                name=cols[1],
                pci_bus_id=cols[2],
                memory_total_bytes=mib * (1 << 20) if mib is not None else None,
                compute_capability=cols[5] or None,
            )
        )
        version = cols[4] or version
    module = next(iter(s.get("driver", [])), None)
    if gpus:
        return DriverFacts(
            source="nvidia-smi",
            version=version,
            kernel_module_version=module,
            gpus=gpus,
            device_nodes=nodes,
        )
    if module:
        return DriverFacts(
            source="sysfs", version=module, kernel_module_version=module, device_nodes=nodes
        )
    return DriverFacts(
        unavailable=f"{why}, and no nvidia-smi: driver and GPUs not observable from inside",
        device_nodes=nodes,
    )
