"""The plan: what a Dockerfile, compose file, manifest, requirements file or lock says
will be built and run, before anything is built.

Every value a file states carries the `Span` of the instruction that states it (file,
first and last line, the text as written, all its lines), so a finding names file:line
and its fix can be the replacement text of that whole instruction. What a file does not
say is `None` ("not stated"), never a guess.

How a reader plugs in (helper readers: compose.py, kube.py, condaenv.py)
------------------------------------------------------------------------
A reader is a module of `envlock.plan` with two functions:

    def detect(text: str) -> bool            # does this content look like my kind?
    def read(text: str, source: str, options: ReadOptions) -> list[Plan]

`read` is pure and bounded: `text` is already decoded and cut to the plan-file limits
(`envlock.plan.limits`), `source` is the name findings show (the path as given), and
whatever the file refers to (a `-r` file, a compose `build:` context's Dockerfile) is
read through `options.read_beside`, never `open()`. Bad input is `PlanError` (one line,
exit 3). `read` returns one Plan per thing that runs: a compose service, a Kubernetes
container, a Dockerfile's chosen stage, a requirements file's environment.

The registry, `envlock.plan.registry.KINDS`, lists each kind once: its name, its module,
and the file names that mean it (`Dockerfile`, `docker-compose.yml`, ...). A file is
detected by its name first, then by asking each kind's `detect` in the registry's order;
`--kind`-style overrides take the kind's name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

from envlock.errors import EnvlockError

T = TypeVar("T")

Installer = Literal["pip", "uv", "conda"]
# the file kinds envlock reads (registry.KINDS holds the same names)
FileKind = Literal[
    "dockerfile",
    "compose",
    "kubernetes",
    "requirements",
    "pylock",
    "uv-lock",
    "pyproject",
    "conda-env",
]
Flavor = Literal["base", "runtime", "devel", "cudnn-runtime", "cudnn-devel"]
GpuRequestSource = Literal[
    "deploy.resources.reservations.devices",
    "runtime: nvidia",
    "gpus",
    "nvidia.com/gpu",
    "none",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Span:
    """Where a value is stated: `file` as given, 1-based `line`..`end_line` (inclusive),
    and `text`, the instruction as written (every line of it, continuations included)."""

    file: str
    line: int
    end_line: int
    text: str

    @property
    def where(self) -> str:
        """`Dockerfile:12` or `Dockerfile:12-15`."""
        if self.end_line > self.line:
            return f"{self.file}:{self.line}-{self.end_line}"
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class Stated(Generic[T]):
    """A value a file states, and where it states it."""

    value: T
    span: Span


@dataclass(frozen=True, slots=True, kw_only=True)
class Requirement:
    """One requirement as an installer reads it (PEP 508, through packaging)."""

    name: str  # PEP 503 normalized: "torch", "nvidia-cudnn-cu12"
    specifier: str = ""  # "==2.7.0+cu128", ">=2.4,<2.6", "" for none
    extras: tuple[str, ...] = ()
    markers: str | None = None  # "platform_machine == 'x86_64'"
    url: str | None = None  # a direct reference: name @ https://.../torch-...whl
    index: str | None = None  # the index a lock or a uv source pins it to
    build: str | None = None  # conda's build string: pytorch=2.1.0=py3.10_cuda12.1_cudnn8.9.2_0
    span: Span | None = None  # its own line, where the file has one (requirements, locks)

    @property
    def pinned(self) -> str | None:
        """The version an `==` / `===` specifier pins (with its local part), else None; a
        prefix pin (`==2.1.*`, conda's `=2.1`) pins its release series: "2.1"."""
        spec = self.specifier
        for op in ("===", "=="):
            if spec.startswith(op) and "," not in spec:
                version = spec[len(op) :].strip().removesuffix(".*")
                return None if "*" in version or not version else version
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Install:
    """One install command (`pip install ...`, `uv pip install ...`, `conda install ...`)
    or a file's whole set of requirements (requirements.txt, a lock)."""

    installer: Installer
    requirements: tuple[Requirement, ...] = ()
    index_url: str | None = None  # --index-url / -i (conda: None)
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()  # -f / --find-links
    requirement_files: tuple[str, ...] = ()  # -r FILE, as written
    channels: tuple[str, ...] = ()  # conda -c
    uninstall: bool = False  # pip uninstall / conda remove: packages leave
    torch_backend: str | None = None  # uv's --torch-backend: cu128, cpu, auto
    span: Span


@dataclass(frozen=True, slots=True, kw_only=True)
class EnvVar:
    name: str
    value: str
    span: Span


@dataclass(frozen=True, slots=True, kw_only=True)
class BaseImage:
    """A base image and what its reference states (each None: the tag does not say)."""

    reference: Stated[
        str
    ]  # after ARG substitution: "nvidia/cuda:12.1.0-cudnn8-runtime-ubuntu22.04"
    platform: str | None = None  # FROM --platform=linux/arm64
    cuda: Stated[str] | None = None  # "12.1" (major.minor; "12.1.0" in full_cuda)
    full_cuda: str | None = None  # the tag's version as written: "12.1.0"
    cudnn_major: Stated[int] | None = None
    flavor: Stated[Flavor] | None = None
    os: Stated[str] | None = None  # "ubuntu22.04", "ubi9", "rockylinux8"
    torch: Stated[str] | None = None  # pytorch/pytorch images: "2.7.0"
    # where the facts came from: "tag" (the images table), "image" (a local image probed
    # with --image), None when nothing is known
    known_from: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GpuRequest:
    """What a runtime file asks of the GPUs: `count` None means all of them; 0 is an
    explicit "none" (a compose service or container with no GPU request at all)."""

    count: int | None
    source: GpuRequestSource
    device_ids: tuple[str, ...] = ()
    capabilities: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """What one thing that runs (a compose service, a Kubernetes container, a Dockerfile's
    chosen stage, a requirements file's environment) is planned to be."""

    kind: FileKind
    name: str  # service / container / stage name; the file name when it has none
    sources: tuple[str, ...]  # every file read for this plan, the first one named by the user
    base: BaseImage | None = None
    env: tuple[EnvVar, ...] = ()  # in file order; a later one wins (see env_value)
    installs: tuple[Install, ...] = ()  # in build order
    gpu_request: Stated[GpuRequest] | None = None
    shm_size_bytes: Stated[int] | None = None
    ipc: Stated[str] | None = None  # "host", "private", "shareable", "container:NAME"
    build_target: str | None = None  # the stage built (--target, compose build.target)
    platform: str | None = None  # the platform the run or build asks for
    notes: tuple[str, ...] = ()  # what was skipped or could not be read, and why

    def env_value(self, name: str) -> EnvVar | None:
        """The last ENV setting `name` (what a container of this plan starts with)."""
        for var in reversed(self.env):
            if var.name == name:
                return var
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Replacement:
    """A fix as the text that replaces one instruction: `span.text` becomes `text`."""

    span: Span
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadOptions:
    """What changes what a file plans: `--build-arg`, `--target`, and the one way a reader
    reads another file (resolved beside the plan file, bounded; None when it is absent)."""

    build_args: Mapping[str, str] = field(default_factory=dict)
    target: str | None = None
    read_beside: Callable[[str, str], str | None] | None = None  # (from_file, relative) -> text


class PlanError(EnvlockError):
    """A plan file envlock cannot read: one line, exit 3."""
