"""The index URL (credentials become an Authorization header, messages show them masked)
and the redirect rule that keeps a request with the index the user named: see
install/index.py for the whole of what an index's answers may and may not do."""

from __future__ import annotations

import base64
import dataclasses
import urllib.parse

from envlock.errors import RestoreError


@dataclasses.dataclass(frozen=True, slots=True)
class Index:
    """An http(s) index: its URL without credentials, the URL as messages show it
    (password masked), and the Authorization header the credentials become."""

    url: str
    shown: str
    authorization: str | None = dataclasses.field(default=None, repr=False)

    @classmethod
    def parse(cls, url: str, *, where: str = "the index URL") -> Index:
        """The index `url` names; RestoreError (never quoting the URL, which may hold a
        password) when it is not an http(s) URL with a host."""
        if not url.isascii() or not url.isprintable() or " " in url:
            raise RestoreError(f"{where}: not an index URL (spaces or control characters)")
        try:
            parts = urllib.parse.urlsplit(url)
            parts.port  # noqa: B018 (raises ValueError for a bad port)
        except ValueError:
            raise RestoreError(f"{where}: not an index URL (it does not parse)") from None
        if parts.scheme not in ("http", "https"):
            raise RestoreError(f"{where}: envlock reads only http(s) indexes (PEP 691)")
        if not parts.hostname:
            raise RestoreError(f"{where}: the index URL names no host")
        userinfo, _, netloc = parts.netloc.rpartition("@")
        bare = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
        if not userinfo:
            return cls(bare, bare)
        user, colon, password = userinfo.partition(":")
        plain = f"{urllib.parse.unquote(user)}:{urllib.parse.unquote(password)}"
        token = base64.b64encode(plain.encode("utf-8")).decode("ascii")
        # pip's redaction: a user without a password is often a token itself
        masked = f"{user}:****" if colon else "****"
        shown = urllib.parse.urlunsplit(
            (parts.scheme, f"{masked}@{netloc}", parts.path, parts.query, "")
        )
        return cls(bare, shown, f"Basic {token}")


def same_origin_or_upgrade(old: str, new: str) -> bool:
    """Whether a redirect from `old` to `new` stays with the index: the same scheme, host
    and port, or http to https on the same host; never to a URL with credentials."""
    a, b = urllib.parse.urlsplit(old), urllib.parse.urlsplit(new)
    default = {"http": 80, "https": 443}
    if a.scheme not in default or b.scheme not in default or "@" in b.netloc:
        return False
    try:
        ports = (a.port or default[a.scheme], b.port or default[b.scheme])
    except ValueError:
        return False
    if not a.hostname or a.hostname != b.hostname:
        return False
    if a.scheme == b.scheme:
        return ports[0] == ports[1]
    return (a.scheme, b.scheme) == ("http", "https")
