"""The env section: allow-list, secret names withheld, credentials in URLs masked."""

from __future__ import annotations

import pytest

from envlock.probe import envvars

ENV = {
    "CUDA_VISIBLE_DEVICES": "0,1",
    "NCCL_DEBUG": "INFO",
    "CUBLAS_WORKSPACE_CONFIG": ":4096:8",
    "PIP_INDEX_URL": "https://user:pw@host/simple",
    "PIP_EXTRA_INDEX_URL": "https://download.pytorch.org/whl/cu130 https://u:p@mirror/simple",
    "HF_TOKEN": "hf_abcdefsecret",
    "HF_HUB_OFFLINE": "1",
    "WANDB_API_KEY": "wandbsecret",
    "AWS_SECRET_ACCESS_KEY": "awssecret",
    "NVIDIA_API_KEY": "nvsecret",
    "HOME": "/root",
    "EDITOR": "vim",
}


def test_allow_list_keeps_useful_variables_only() -> None:
    got = envvars.collect(ENV)
    assert got["variables"]["CUDA_VISIBLE_DEVICES"] == "0,1"
    assert got["variables"]["NCCL_DEBUG"] == "INFO"
    assert got["variables"]["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
    assert got["variables"]["HF_HUB_OFFLINE"] == "1"
    assert "HOME" not in got["variables"] and "EDITOR" not in got["variables"]


def test_secret_names_are_withheld_even_when_allow_listed() -> None:
    got = envvars.collect(ENV)
    for name in ("HF_TOKEN", "WANDB_API_KEY", "AWS_SECRET_ACCESS_KEY", "NVIDIA_API_KEY"):
        assert name not in got["variables"]
        assert name in got["redacted"]
    text = repr(got)
    for secret in ("hf_abcdefsecret", "wandbsecret", "awssecret", "nvsecret"):
        assert secret not in text


def test_credentials_in_urls_are_masked() -> None:
    got = envvars.collect(ENV)
    assert got["variables"]["PIP_INDEX_URL"] == "https://***@host/simple"
    assert got["variables"]["PIP_EXTRA_INDEX_URL"] == (
        "https://download.pytorch.org/whl/cu130 https://***@mirror/simple"
    )
    assert envvars.mask_url_credentials("https://host/simple") == "https://host/simple"


@pytest.mark.parametrize(
    ("value", "masked", "secret"),
    [
        ("https://user:p@ss@host/simple", "https://***@host/simple", "ss@"),
        ("https://user:p/w@host/simple", "https://***@host/simple", "p/w"),
        ("https://host/simple?token=abc123&x=1", "https://host/simple?token=***&x=***", "abc123"),
        (
            "name=https://host/ghp_abcdefghij1234567890XY/simple",
            "name=https://host/***/simple",
            "ghp_",
        ),
        ("tcp://admin:pw@10.0.0.1:2376", "tcp://***@10.0.0.1:2376", "admin"),
        (
            "https://download.pytorch.org/whl/cu130",
            "https://download.pytorch.org/whl/cu130",
            None,
        ),
        (  # a long word with a digit is a name, not a token; unix sockets have no tokens
            "unix:///tmp/pytest-155/test_stopped_daemon_is_one_line0/d.sock",
            "unix:///tmp/pytest-155/test_stopped_daemon_is_one_line0/d.sock",
            None,
        ),
    ],
)
def test_url_credentials_are_masked_whole(value: str, masked: str, secret: str | None) -> None:
    assert envvars.mask_url_credentials(value) == masked
    if secret is not None:
        assert secret not in envvars.mask_url_credentials(value)


def test_empty_environment() -> None:
    assert envvars.collect({}) == {"unavailable": None, "variables": {}, "redacted": []}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ACCELERATE_MIXED_PRECISION", "bf16"),
        ("PL_PRECISION", "bf16"),
        ("PL_PRECISION", "bf16-mixed"),
    ],
)
def test_bf16_from_the_environment_reaches_the_check_through_a_real_probe(
    name: str, value: str
) -> None:
    """The variable set for a real `envlock probe --json`; its env section put on the
    recorded V100 host (no V100 here): EL-BF16-UNSUPPORTED is an error, as with --expect."""
    import dataclasses
    import json

    from envlock.checks import run_checks
    from envlock.facts import Facts
    from envlock.findings import Severity
    from tests.conftest import clean_env, run_envlock
    from tests.facts_builders import gpu, h100_host, with_gpus

    proc = run_envlock(["probe", "--json", "--no-torch-live"], env=clean_env(**{name: value}))
    assert proc.returncode == 0, proc.stderr
    probed = Facts.from_dict(json.loads(proc.stdout))
    assert probed.env.variables.get(name) == value
    host = h100_host()
    v100 = with_gpus(host, gpu(host, name="Tesla V100-SXM2-16GB", compute_capability="7.0"))
    facts = dataclasses.replace(v100, env=probed.env)
    bf16 = [f for f in run_checks(facts) if f.check_id == "EL-BF16-UNSUPPORTED"]
    assert [f.severity for f in bf16] == [Severity.ERROR], bf16
