"""envlock.imageref: image references parsed as Docker parses them
(https://github.com/distribution/reference), on a table of real references."""

from __future__ import annotations

import pytest

from envlock.imageref import (
    ImageReference,
    InvalidReference,
    digest_of,
    is_image_id,
    parse_or_none,
    same_repository,
)

DIGEST = "sha256:4add8d05cafe43a1b2a0b42f1b3e5f35b2c3f5bd6c3e3d4d4f2a0f7b0c1d2e3f"


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("docker.io/library/python:3.11-slim", "docker.io", "library/python", "3.11-slim", None),
        ("python:3.11-slim", "docker.io", "library/python", "3.11-slim", None),
        ("ubuntu", "docker.io", "library/ubuntu", None, None),
        ("docker.io/ubuntu", "docker.io", "library/ubuntu", None, None),
        ("index.docker.io/library/busybox", "docker.io", "library/busybox", None, None),
        ("library/ubuntu:22.04", "docker.io", "library/ubuntu", "22.04", None),
        (
            "pytorch/pytorch:2.7.0-cuda12.8-cudnn9-runtime",
            "docker.io",
            "pytorch/pytorch",
            "2.7.0-cuda12.8-cudnn9-runtime",
            None,
        ),
        ("nvcr.io/nvidia/pytorch:24.05-py3", "nvcr.io", "nvidia/pytorch", "24.05-py3", None),
        ("ghcr.io/org/img", "ghcr.io", "org/img", None, None),
        ("quay.io/org/sub/img:v1.2", "quay.io", "org/sub/img", "v1.2", None),
        (f"localhost:5055/x@{DIGEST}", "localhost:5055", "x", None, DIGEST),
        ("localhost/x", "localhost", "x", None, None),
        ("localhost:5000/a/b:1", "localhost:5000", "a/b", "1", None),
        (
            "127.0.0.1:5055/envlock-test/python:bookworm",
            "127.0.0.1:5055",
            "envlock-test/python",
            "bookworm",
            None,
        ),
        ("[::1]:5000/img:tag", "[::1]:5000", "img", "tag", None),
        (f"python:3.11@{DIGEST}", "docker.io", "library/python", "3.11", DIGEST),
        ("vllm/vllm-openai:v0.8.5", "docker.io", "vllm/vllm-openai", "v0.8.5", None),
        ("a__b/c-d--e.f_g:Tag_1.0-rc", "docker.io", "a__b/c-d--e.f_g", "Tag_1.0-rc", None),
        # An uppercase first component can only be a registry host.
        ("Registry/img", "Registry", "img", None, None),
    ],
)
def test_parse_real_references(
    text: str, registry: str, repository: str, tag: str | None, digest: str | None
) -> None:
    ref = ImageReference.parse(text)
    assert ref == ImageReference(registry, repository, tag, digest)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("Ubuntu", "must be lowercase"),
        ("nvcr.io/NVIDIA/pytorch:24.05-py3", "must be lowercase"),
        ("python:", "invalid reference format"),
        ("python:-slim", "invalid reference format"),
        ("python:3.11:slim", "invalid reference format"),
        ("python:" + "t" * 129, "invalid reference format"),
        ("", "invalid reference format"),
        ("-python", "invalid reference format"),
        ("a//b", "invalid reference format"),
        ("img/", "invalid reference format"),
        ("img@sha256:abc", "invalid reference format"),  # under 32 hex digits
        ("img@sha256:" + "a" * 40, "invalid checksum digest"),
        ("img@sha256:" + "A" * 64, "invalid checksum digest"),
        ("img@md5:" + "a" * 32, "unsupported digest algorithm"),
        ("localhost:port/img", "invalid reference format"),
        ("a" * 64, "64-byte hexadecimal"),
        ("x/" + "y" * 250, "not be more than 255 characters"),
    ],
)
def test_parse_refuses_what_docker_refuses(text: str, why: str) -> None:
    with pytest.raises(InvalidReference, match=why):
        ImageReference.parse(text)
    assert parse_or_none(text) is None


@pytest.mark.parametrize(
    ("text", "effective"),
    [
        ("ubuntu", "latest"),  # Docker's implicit tag
        ("ubuntu:latest", "latest"),
        ("localhost:5000/img", "latest"),  # a registry port is not a tag
        ("ubuntu:22.04", "22.04"),
        (f"ubuntu@{DIGEST}", None),  # by digest: no tag is implied
        (f"ubuntu:22.04@{DIGEST}", "22.04"),
    ],
)
def test_default_tag_only_where_docker_applies_it(text: str, effective: str | None) -> None:
    assert ImageReference.parse(text).effective_tag == effective


@pytest.mark.parametrize(
    ("text", "familiar"),
    [
        ("pytorch/pytorch:2.7.0-cuda12.8-cudnn9-runtime", "pytorch/pytorch"),
        ("python", "python"),
        ("docker.io/library/python:3.11", "python"),
        (f"127.0.0.1:5055/envlock-test/python@{DIGEST}", "127.0.0.1:5055/envlock-test/python"),
        ("localhost:5000/a/b:1", "localhost:5000/a/b"),
        ("nvcr.io/nvidia/pytorch:24.05-py3", "nvcr.io/nvidia/pytorch"),
        ("docker.io/library/a/b", "library/a/b"),  # only one-component official names shorten
    ],
)
def test_familiar_name_is_the_name_docker_prints(text: str, familiar: str) -> None:
    assert ImageReference.parse(text).familiar_name == familiar


def test_str_is_the_fully_qualified_reference() -> None:
    assert str(ImageReference.parse("ubuntu")) == "docker.io/library/ubuntu"
    assert str(ImageReference.parse(f"python:3.11@{DIGEST}")) == (
        f"docker.io/library/python:3.11@{DIGEST}"
    )
    ref = ImageReference.parse("nvcr.io/nvidia/pytorch:24.05-py3")
    assert ImageReference.parse(str(ref)) == ref


def test_same_repository_normalizes_docker_hub_names() -> None:
    assert same_repository("python", "docker.io/library/python:3.12")
    assert same_repository(f"python@{DIGEST}", "index.docker.io/library/python:3.11")
    assert not same_repository("python", "pytorch/pytorch")
    assert not same_repository("localhost:5000/python", "python")
    assert not same_repository("Python", "Python")  # not references


def test_digest_of_picks_the_references_own_repository() -> None:
    digests = [f"127.0.0.1:5055/envlock-test/python@{DIGEST}", f"python@{DIGEST}"]
    assert digest_of("python:3.11-slim", digests) == digests[1]
    assert digest_of("127.0.0.1:5055/envlock-test/python:bookworm", digests) == digests[0]
    assert digest_of("envlock-test/python:bookworm", digests) is None


@pytest.mark.parametrize(
    ("text", "is_id"),
    [
        ("sha256:" + "0123456789ab" * 5 + "cdef", True),
        ("0123456789ab", True),
        ("0123456789a", False),  # too short to be an id prefix
        ("python", False),
        ("sha256:python", False),
    ],
)
def test_is_image_id(text: str, is_id: bool) -> None:
    assert is_image_id(text) is is_id
