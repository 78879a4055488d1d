"""envlock.container (run, parse) and the image checks without a Docker engine, from recordings.

Recordings (tests/container/data), all made on the dev machine with Docker 20.10:
- shell-probe.<image>.txt: the shell fallback's raw output in the test images
  (run with NVIDIA_VISIBLE_DEVICES, HF_TOKEN and a PIP_INDEX_URL with a password
  set, to exercise redaction; the values are fake).
- docker-image-inspect.python-bookworm.json: `docker image inspect` output.
- facts.image-*.json: `envlock probe --image ... --json` output (by digest,
  --gpus all on a daemon without the NVIDIA runtime, --shm-size 2g, busybox
  without python3, an image with USER 65534 and a secret in its ENV).
"""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from envlock.checks import run_checks
from envlock.collect import Source
from envlock.container.image import DOCKER_DEFAULT_SHM_BYTES
from envlock.container.options import (
    ContainerTarget,
    check_target,
    parse_gpus,
    parse_size,
    plainly_a_reference,
)
from envlock.container.parse import facts_from_shell, image_facts, merge_host_facts, split_env
from envlock.container.run import probe_target
from envlock.errors import ContainerError, UsageError
from envlock.facts import Facts, LibcudaFacts
from envlock.imageref import digest_of
from envlock.payload import python_command
from tests.conftest import FIXTURES, clean_env, load_fixture_json, run_envlock
from tests.container.conftest import DATA, load_data_json

UUID = "GPU-8a5e5b1c-2f4d-4d5e-9c1a-0b8e3d7f6a21"  # made up: the syntax only
IMAGE_CHECKS = (
    "EL-IMAGE-LATEST-TAG",
    "EL-IMAGE-NO-DIGEST",
    "EL-IMAGE-ROOT-USER",
    "EL-GPU-REQUEST-FAILED",
    "EL-IMAGE-PARTIAL-PROBE",
)


def recorded(name: str) -> Facts:
    """A recorded image probe; the by-digest one lives in tests/fixtures (other tests use it)."""
    name = f"facts.image-{name}.json"
    if (FIXTURES / name).exists():
        return Facts.from_dict(load_fixture_json(name))
    return Facts.from_dict(load_data_json(name))


def fired(facts: Facts, host: Facts | None = None) -> set[str]:
    return {f.check_id for f in run_checks(facts, host=host)}


# ------------------------------------------------------------------- options
@pytest.mark.parametrize(
    ("text", "count", "ids", "canonical"),
    [
        ("all", -1, (), "all"),
        ("2", 2, (), "2"),
        ("count=3", 3, (), "3"),
        ("0,1", None, ("0", "1"), "device=0,1"),
        ("device=0,1", None, ("0", "1"), "device=0,1"),
        ('"device=2"', None, ("2",), "device=2"),
        (f"device={UUID}", None, (UUID,), f"device={UUID}"),
    ],
)
def test_parse_gpus_follows_docker_run(
    text: str, count: int | None, ids: tuple[str, ...], canonical: str
) -> None:
    req = parse_gpus(text)
    assert (req.count, req.device_ids, req.text) == (count, ids, canonical)


@pytest.mark.parametrize("text", ["", "0", "none", "0,x", "device=", "count=many"])
def test_parse_gpus_rejects_with_usage_error(text: str) -> None:
    with pytest.raises(UsageError, match="--gpus"):
        parse_gpus(text)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("2g", 2 << 30),
        ("512m", 512 << 20),
        ("64M", 64 << 20),
        ("1048576", 1 << 20),
        ("1.5g", 3 << 29),
        ("16kb", 16 << 10),
    ],
)
def test_parse_size_uses_docker_binary_units(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["lots", "-1g", "0", "2x"])
def test_parse_size_rejects(text: str) -> None:
    with pytest.raises(UsageError, match="--shm-size"):
        parse_size(text)


def test_container_target_is_typed_and_immutable() -> None:
    """The target is the Source itself (its options are declared once, there)."""
    target: ContainerTarget = Source(image="envlock-test/python:bookworm", gpus="all", timeout=30.0)
    assert (target.container, target.pull, target.torch_live) == (None, True, True)
    with pytest.raises(AttributeError):
        target.image = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (Source(image="x", container="y"), "at most one of --image, --container"),
        (Source(), "one of --image, --container"),
        (Source(container="y", gpus="all"), "--gpus applies to --image only"),
        (Source(container="y", shm_size="2g"), "--shm-size applies to --image only"),
        (Source(image="x", gpus="none"), "--gpus 'none'"),
        (Source(image="x", shm_size="lots"), "--shm-size 'lots'"),
    ],
)
def test_probe_target_refuses_bad_options_before_reaching_docker(
    target: ContainerTarget, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    with pytest.raises(UsageError, match=re.escape(message)):
        probe_target(target)


# ------------------------------------------------------------- references
def test_digest_of_only_matches_the_references_repository() -> None:
    digests = recorded("python-by-digest").image.repo_digests  # type: ignore[union-attr]
    assert digest_of("127.0.0.1:5055/envlock-test/python:bookworm", digests) == digests[0]
    assert digest_of("envlock-test/python:bookworm", digests) is None


# -------------------------------------------------------------- image facts
def test_image_facts_from_recorded_inspect() -> None:
    inspect = load_data_json("docker-image-inspect.python-bookworm.json")
    img = image_facts(
        "envlock-test/python:bookworm",
        inspect,
        kind="image",
        shm_size_bytes=DOCKER_DEFAULT_SHM_BYTES,
        gpus_requested=None,
        gpu_request_error=None,
        probe_mode="python",
    )
    assert img.id == inspect["Id"]
    assert img.tags == sorted(inspect["RepoTags"])
    assert img.user is None  # Config.User "" means root
    assert img.env["PATH"].startswith("/usr/local/sbin")


def test_split_env_withholds_secrets_and_masks_url_passwords() -> None:
    kept, withheld = split_env(
        [
            "PATH=/usr/bin",
            "HF_TOKEN=hf_fake",
            "WANDB_API_KEY=fake",
            "AWS_SECRET_ACCESS_KEY=x",
            "PIP_INDEX_URL=https://user:pw@pypi.example/simple",
            "NVIDIA_REQUIRE_CUDA=cuda>=12.8",
            "SLACK_WEBHOOK=https://hooks.slack.example/services/T000/B000/XXXXXXXX",
            "APP_DB_PASS=hunter2",
            "APP_SETTINGS=postgres://app:hunter2@db:5432/prod",
            "NOEQUALS",
        ]
    )
    assert kept == {
        "PATH": "/usr/bin",
        "PIP_INDEX_URL": "https://***@pypi.example/simple",
        "NVIDIA_REQUIRE_CUDA": "cuda>=12.8",
    }
    assert withheld == [
        "APP_DB_PASS",
        "AWS_SECRET_ACCESS_KEY",
        "HF_TOKEN",
        "SLACK_WEBHOOK",
        "WANDB_API_KEY",
    ]
    assert "hunter2" not in repr(kept) and "APP_SETTINGS" not in kept  # not allow-listed


def test_recorded_image_env_secret_was_withheld() -> None:
    facts = recorded("python-user-nobody")
    assert facts.image is not None
    assert "WANDB_API_KEY" not in facts.image.env
    assert "recorded-fake" not in facts.to_json()
    assert any("WANDB_API_KEY withheld" in n for n in facts.meta.notes)


# ------------------------------------------------------------ probe payload
def test_python_command_carries_the_probe_in_args_below_the_kernel_limit() -> None:
    cmd = python_command("image:x", torch_live=False, timeout=30, with_pynvml=True)
    assert cmd[:2] == ["python3", "-c"]
    assert all(len(a.encode()) < 128 * 1024 for a in cmd)  # MAX_ARG_STRLEN
    sep = cmd.index("--")
    assert cmd[sep + 1 :] == ["--target", "image:x", "--timeout", "30", "--no-torch-live"]


# ----------------------------------------------------------- shell fallback
def test_shell_fallback_in_torch_image_gives_partial_facts() -> None:
    text = (DATA / "shell-probe.torch-cpu.txt").read_text()
    facts = facts_from_shell(
        text, target="image:envlock-test/torch-cpu:2.13.0", why="no python3 in the image"
    )
    assert facts.meta.partial is True
    assert facts.meta.notes and facts.meta.notes[0].startswith("no python3 in the image")
    assert facts.system.os is not None and (facts.system.os.id, facts.system.os.version_id) == (
        "debian",
        "12",
    )
    assert facts.system.glibc == "2.36"
    assert facts.system.shm_total_bytes == 64 << 20
    assert (facts.torch.installed, facts.torch.version, facts.torch.build, facts.torch.cuda) == (
        True,
        "2.13.0+cpu",
        "cpu",
        None,
    )
    assert facts.torch.live is None
    # the shell fallback lists every dist-info it finds (the full closure)
    assert facts.packages.distributions["torch"] == "2.13.0+cpu"
    assert {"filelock", "fsspec", "sympy"} <= facts.packages.distributions.keys()
    assert facts.env.variables["NVIDIA_VISIBLE_DEVICES"] == "all"
    assert facts.env.variables["PIP_INDEX_URL"] == "https://***@example.invalid/simple"
    assert facts.env.redacted == ["HF_TOKEN"]
    assert "hf_recorded_fake_value" not in facts.to_json()
    assert "HOSTNAME" not in facts.env.variables
    assert facts.driver.unavailable is not None and "nvidia-smi" in facts.driver.unavailable
    assert facts.cuda.ldconfig_libraries == []  # no CUDA library in this image


def test_shell_fallback_in_busybox_observes_little_and_says_so() -> None:
    facts = facts_from_shell(
        (DATA / "shell-probe.busybox.txt").read_text(),
        target="image:envlock-test/busybox",
        why="no python3 in the image",
    )
    assert facts.meta.partial is True
    assert facts.system.os is None and facts.system.glibc is None
    assert facts.system.kernel and facts.system.arch == "x86_64"
    assert facts.torch.installed is False
    assert facts.packages.distributions == {}


def test_shell_fallback_output_without_sections_is_a_container_error() -> None:
    with pytest.raises(ContainerError, match="printed no facts"):
        facts_from_shell("sh: syntax error\n", target="image:x", why="no python3")


@pytest.mark.parametrize(
    ("build", "cuda"),
    [("cu130", "13.0"), ("cu118", "11.8"), ("cu126", "12.6"), ("cpu", None), (None, None)],
)
def test_torch_cuda_from_wheel_build_tag(build: str | None, cuda: str | None) -> None:
    from envlock.container.parse import _cuda_of_build

    assert _cuda_of_build(build) == cuda


# ------------------------------------------------------------ host merge
def test_merge_host_facts_takes_driver_and_gpus_from_host_only() -> None:
    image = recorded("python-by-digest")
    host = Facts.from_dict(load_fixture_json("facts.cuda-venv+h100-driver-580-replayed.json"))
    merged = merge_host_facts(image, host)
    assert merged.driver == host.driver and merged.driver.gpus
    assert merged.system == image.system
    assert merged.torch == image.torch and merged.packages == image.packages
    assert merged.image == image.image
    assert merged.cuda.toolkit == image.cuda.toolkit
    assert merged.cuda.libcuda == host.cuda.libcuda
    assert any("host" in n for n in merged.meta.notes)
    # and the image's own facts had no driver to begin with
    assert image.driver.gpus is None


def test_merge_keeps_an_images_compat_libcuda() -> None:
    image = recorded("python-by-digest")
    host = Facts.from_dict(load_fixture_json("facts.cuda-venv+h100-driver-580-replayed.json"))
    # Edited: an image with a cuda-compat package (as NGC images ship) loads its own libcuda.
    own = LibcudaFacts(
        path="/usr/local/cuda-13.0/compat/libcuda.so.1", driver_version="13.0", compat=True
    )
    merged = merge_host_facts(
        image.replace(cuda=dataclasses.replace(image.cuda, libcuda=own)), host
    )
    assert merged.cuda.libcuda == own


# ------------------------------------------------------------ image checks
def test_checks_on_image_probed_by_digest_as_root() -> None:
    got = fired(recorded("python-by-digest")) & set(IMAGE_CHECKS)
    assert got == {"EL-IMAGE-ROOT-USER"}


def test_checks_on_busybox_latest_without_python() -> None:
    got = fired(recorded("busybox")) & set(IMAGE_CHECKS)
    assert got == {
        "EL-IMAGE-LATEST-TAG",
        "EL-IMAGE-NO-DIGEST",
        "EL-IMAGE-ROOT-USER",
        "EL-IMAGE-PARTIAL-PROBE",
    }


def test_checks_on_gpu_request_without_nvidia_runtime() -> None:
    findings = {f.check_id: f for f in run_checks(recorded("python-gpu-request-failed"))}
    assert "EL-GPU-REQUEST-FAILED" in findings
    f = findings["EL-GPU-REQUEST-FAILED"]
    assert f.severity.label == "error"
    assert "NVIDIA Container Toolkit" in f.message and "nvidia-ctk" in (f.fix or "")
    # only another repository's digest: the tag asked for is still unpinned
    assert "other repositories" in findings["EL-IMAGE-NO-DIGEST"].message
    assert "EL-IMAGE-LATEST-TAG" not in findings


@pytest.mark.parametrize(
    ("reference", "latest", "suggested"),
    [
        ("envlock-test/busybox", "the implicit tag 'latest'", "envlock-test/busybox:2.7"),
        ("busybox:latest", "the tag 'latest'", "busybox:2.7"),
        ("docker.io/library/busybox", "the implicit tag 'latest'", "busybox:2.7"),
        ("localhost:5000/busybox", "the implicit tag 'latest'", "localhost:5000/busybox:2.7"),
        ("localhost:5000/busybox:1.36", None, None),  # the port is not a tag
        (f"busybox@sha256:{'a' * 64}", None, None),
        (f"busybox:latest@sha256:{'a' * 64}", None, None),  # the digest decides
        ("BusyBox", None, None),  # not a reference: nothing to judge
    ],
)
def test_latest_tag_check_reads_the_reference_as_docker_does(
    reference: str, latest: str | None, suggested: str | None
) -> None:
    facts = recorded("busybox")
    assert facts.image is not None
    facts = facts.replace(image=dataclasses.replace(facts.image, reference=reference))
    findings = {f.check_id: f for f in run_checks(facts)}
    if latest is None:
        assert "EL-IMAGE-LATEST-TAG" not in findings
        return
    f = findings["EL-IMAGE-LATEST-TAG"]
    assert latest in f.message
    assert f"e.g. {suggested}-cuda12.8@sha256:" in (f.fix or "")


def test_checks_on_non_root_image() -> None:
    got = fired(recorded("python-user-nobody")) & set(IMAGE_CHECKS)
    assert "EL-IMAGE-ROOT-USER" not in got
    assert "EL-GPU-REQUEST-FAILED" not in got and "EL-IMAGE-PARTIAL-PROBE" not in got


def test_image_checks_do_not_fire_on_host_facts() -> None:
    host = Facts.from_dict(load_fixture_json("facts.cuda-venv+h100-driver-580-replayed.json"))
    assert not fired(host) & set(IMAGE_CHECKS)


def test_shm_check_uses_the_size_the_container_got() -> None:
    assert "EL-SHM-SMALL" in fired(recorded("python-by-digest"))
    assert "EL-SHM-SMALL" not in fired(recorded("python-shm-2g"))


def test_require_cuda_of_image_against_host_driver() -> None:
    image = recorded("python-user-nobody")  # NVIDIA_REQUIRE_CUDA=cuda>=12.8
    host = Facts.from_dict(load_fixture_json("facts.cuda-venv+h100-driver-580-replayed.json"))
    assert "EL-IMAGE-REQUIRE-CUDA" not in fired(image, host)  # driver 580: CUDA 13.0
    # Edited: the same host with an R550 driver, CUDA 12.4 ("CUDA Toolkit and Corresponding
    # Driver Versions", https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/index.html).
    old = host.replace(
        driver=dataclasses.replace(host.driver, version="550.54.15", cuda_version="12.4")
    )
    assert "EL-IMAGE-REQUIRE-CUDA" in fired(image, old)


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--image", "../../x"),
        ("--image", "Upper/Case"),
        ("--image", "a b"),
        ("--container", "a/../b"),
    ],
)
def test_names_that_are_not_references_are_refused_before_any_request(
    flag: str, value: str
) -> None:
    """`--image ../../x` once went into the Engine API's URL path (a 301, exit 4)."""
    proc = run_envlock(["probe", flag, value], env=clean_env(DOCKER_HOST="unix:///nonexistent"))
    assert proc.returncode == 2, proc.stderr
    assert "not a valid image reference" in proc.stderr or "not a container name" in proc.stderr


def test_shell_fallback_numbers_from_a_hostile_image_are_bounded() -> None:
    """An image's shell output is untrusted: 5,000-digit numbers, "²" (str.isdigit() but
    not int()) and a probe JSON with a huge integer are dropped or one ContainerError,
    never a ValueError (exit 4)."""
    from envlock.container.parse import facts_from_json

    huge = "9" * 5000
    text = (
        "@@envlock os-release\nID=debian\n"
        f"@@envlock shm\nshm /dev/shm tmpfs rw,size={huge}k 0 0\n"
        f"@@envlock meminfo\nMemTotal: {huge} kB\n"
        "@@envlock cpus\n\u00b2\n" + huge + "\n8\n"
        f"@@envlock nvidia-smi\n\u00b2, A100, 0000:00:01.0, 40960, 535.1, 8.0\n"
        f"0, A100, 0000:00:01.0, {huge}, 535.1, 8.0\n"
        "@@envlock end\n"
    )
    facts = facts_from_shell(text, target="image:x", why="no python3")
    assert facts.system.shm_total_bytes is None and facts.system.memory_total_bytes is None
    assert facts.system.cpu_count == 8
    assert [g.index for g in facts.driver.gpus] == [0]
    assert facts.driver.gpus[0].memory_total_bytes is None
    with pytest.raises(ContainerError, match="did not print Facts JSON"):
        facts_from_json(f'{{"facts_version": {huge}}}', "image:x")


# ------------------------------------------ a signal that lands during the cleanup
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_during_cleanup_ends_the_command_after_the_cleanup(sig: signal.Signals) -> None:
    """The container's removal runs under uninterrupted(): a Ctrl-C or SIGTERM that lands
    there (a fast probe is being removed) is held, not dropped; the cleanup finishes and
    the command then ends as interrupted (it used to exit 0: seen in CI)."""
    from envlock.container.signals import uninterrupted
    from envlock.errors import Signalled

    cleaned = []
    before = signal.getsignal(signal.SIGINT)  # SIG_IGN when CI runs the suite in the background
    with pytest.raises(KeyboardInterrupt) as raised, uninterrupted():
        os.kill(os.getpid(), sig)
        time.sleep(0.05)  # the handler runs between bytecodes: the cleanup goes on
        cleaned.append(True)
    assert cleaned == [True]
    if sig == signal.SIGINT:
        assert type(raised.value) is KeyboardInterrupt
    else:
        assert isinstance(raised.value, Signalled) and raised.value.signum == sig
    # the handlers in force before are back
    assert signal.getsignal(signal.SIGINT) == before


def test_cleanup_ending_on_an_error_keeps_that_error() -> None:
    from envlock.container.signals import uninterrupted

    with pytest.raises(RuntimeError, match="removal failed"), uninterrupted():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
        raise RuntimeError("removal failed")


@pytest.mark.parametrize(
    "image",
    [
        "envlock-test/python:bookworm",
        "python:3.11",
        "pytorch/pytorch:2.4.0-cuda12.1-cudnn9-runtime",
        "ubuntu",
        "nvidia/cuda_x:12.4.1-base_ubuntu22.04",
    ],
)
def test_a_plain_image_reference_is_checked_without_imageref(image: str) -> None:
    """The image checks' parser (its dataclass loads dataclasses and inspect, ~8 ms) is
    not loaded before `probe --image`'s container is created, for the usual references."""
    script = (
        "import sys\n"
        "from envlock.collect import Source\n"
        "from envlock.container.options import check_target\n"
        "check_target(Source(image=sys.argv[1]))\n"
        "print('envlock.imageref' in sys.modules, 'dataclasses' in sys.modules)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, image], capture_output=True, text=True, check=True
    )
    assert proc.stdout.split() == ["False", "False"], proc.stdout


@pytest.mark.parametrize(
    "image", ["registry.example.com/a/b:1", "localhost:5000/x", "python@sha256:" + "a" * 64]
)
def test_other_references_are_left_to_imageref(image: str) -> None:
    assert not plainly_a_reference(image)
    check_target(Source(image=image))  # accepted, by envlock.imageref
