"""Image references (`[registry/]repository[:tag][@digest]`), parsed the way Docker does.

The grammar is that of the distribution/reference Go module, which the docker
CLI and daemon use:
https://github.com/distribution/reference/blob/main/reference.go (grammar),
https://github.com/distribution/reference/blob/main/normalize.go (Docker Hub
defaults: `docker.io`, `library/`, the implicit `latest`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_REGISTRY = "docker.io"
_LEGACY_DEFAULT_REGISTRY = "index.docker.io"
_OFFICIAL_PREFIX = "library/"
_NAME_MAX = 255  # NameTotalLengthMax

_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])"
_REGISTRY = re.compile(rf"{_HOST}(?::[0-9]+)?", re.ASCII)
_REMAINDER = re.compile(
    rf"(?P<path>{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?",
    re.ASCII,
)
# Digest algorithms the daemon accepts, with their hex length (opencontainers/go-digest).
_DIGEST_HEX = {"sha256": 64, "sha384": 96, "sha512": 128}
_IMAGE_ID = re.compile(r"(?:sha256:)?[0-9a-f]{12,64}")


class InvalidReference(ValueError):
    """Text Docker would refuse as an image reference."""


@dataclass(frozen=True)
class ImageReference:
    """A parsed image reference, normalized as Docker normalizes it."""

    registry: str  # "docker.io" when none is written; may carry a port: "localhost:5000"
    repository: str  # the path in the registry: "library/python" for Docker Hub's official images
    tag: str | None  # as written (see effective_tag)
    digest: str | None  # "sha256:<64 hex>"

    @classmethod
    def parse(cls, text: str) -> ImageReference:
        """Parse `text` (raises InvalidReference where Docker would refuse it).

        The first '/'-separated component is a registry when it contains '.' or
        ':', is `localhost`, or has an uppercase letter; otherwise the reference
        is on Docker Hub (`docker.io`, with `library/` before a one-component name).
        """
        if re.fullmatch(r"[a-f0-9]{64}", text):
            raise InvalidReference(
                f"invalid repository name ({text}): cannot specify 64-byte hexadecimal strings"
            )
        registry, remainder = _split_registry(text)
        if not _REGISTRY.fullmatch(registry):
            raise InvalidReference(f"invalid reference format: {text!r}")
        remote = remainder.split(":", 1)[0]
        if remote.lower() != remote:
            raise InvalidReference(
                f"invalid reference format: repository name ({remote}) must be lowercase"
            )
        m = _REMAINDER.fullmatch(remainder)
        if m is None:
            raise InvalidReference(f"invalid reference format: {text!r}")
        if len(registry) + 1 + len(m["path"]) > _NAME_MAX:
            raise InvalidReference(f"repository name must not be more than {_NAME_MAX} characters")
        digest = m["digest"]
        if digest is not None:
            _check_digest(digest)
        return cls(registry=registry, repository=m["path"], tag=m["tag"], digest=digest)

    @property
    def name(self) -> str:
        """The fully qualified name, `docker.io/library/python`: equal names, same repository."""
        return f"{self.registry}/{self.repository}"

    @property
    def familiar_name(self) -> str:
        """The name as `docker` prints it: `python`, `pytorch/pytorch`, `nvcr.io/nvidia/pytorch`."""
        if self.registry != DEFAULT_REGISTRY:
            return self.name
        official = self.repository.removeprefix(_OFFICIAL_PREFIX)
        return official if "/" not in official else self.repository

    @property
    def effective_tag(self) -> str | None:
        """The tag Docker resolves: the written one, else `latest` unless a digest is given."""
        if self.tag is None and self.digest is None:
            return "latest"
        return self.tag

    def __str__(self) -> str:
        tag = f":{self.tag}" if self.tag else ""
        digest = f"@{self.digest}" if self.digest else ""
        return f"{self.name}{tag}{digest}"


def _split_registry(text: str) -> tuple[str, str]:
    """(registry, the rest), with Docker Hub's defaults filled in: `docker.io` for
    `index.docker.io` or no registry, `library/` before a one-component name there."""
    first, slash, rest = text.partition("/")
    if slash and (any(c in first for c in ".:") or first == "localhost" or first.lower() != first):
        registry, remainder = first, rest
    else:
        registry, remainder = DEFAULT_REGISTRY, text
    if registry == _LEGACY_DEFAULT_REGISTRY:
        registry = DEFAULT_REGISTRY
    if registry == DEFAULT_REGISTRY and "/" not in remainder:
        remainder = _OFFICIAL_PREFIX + remainder
    return registry, remainder


def _check_digest(digest: str) -> None:
    """An algorithm the daemon accepts, with its length of lowercase hex."""
    algorithm, _, hexits = digest.partition(":")
    if algorithm not in _DIGEST_HEX:
        raise InvalidReference(f"unsupported digest algorithm: {digest}")
    if len(hexits) != _DIGEST_HEX[algorithm] or hexits.lower() != hexits:
        raise InvalidReference(f"invalid checksum digest format: {digest}")


def parse_or_none(text: str) -> ImageReference | None:
    """ImageReference.parse, or None for text that is not a reference."""
    try:
        return ImageReference.parse(text)
    except InvalidReference:
        return None


def same_repository(a: str, b: str) -> bool:
    """Whether two references name the same repository (`python` and `docker.io/library/python`)."""
    ra, rb = parse_or_none(a), parse_or_none(b)
    return ra is not None and rb is not None and ra.name == rb.name


def digest_of(reference: str, repo_digests: list[str]) -> str | None:
    """The repo digest (`repo@sha256:...`) of the reference's own repository, if any."""
    return next((d for d in repo_digests if same_repository(d, reference)), None)


def is_image_id(text: str) -> bool:
    """An image id (`sha256:<hex>` or at least 12 hex digits of it) rather than a reference."""
    return _IMAGE_ID.fullmatch(text) is not None
