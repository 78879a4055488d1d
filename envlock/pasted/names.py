"""Who ran a pasted report and where: user and host names from the paste's shell prompts
(`[user@host dir]$`, `user@host:~/dir$`, `(venv) user@host:/path#`, zsh's `user@host ~ %`)
and home paths (`/home/USER/`, `/Users/USER/`, `C:\\Users\\USER\\`).

The facts of a paste hold no user or host field, so the names travel as one note
(`names_note`) that `envlock report`'s anonymizer reads back (`names_from_notes`) and
replaces wherever the names appear. Every pattern here is anchored or starts with a
literal and has bounded repeats: linear in the line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from envlock.pasted.draft import Draft

# Names that identify no one: accounts every image has, and words that would only mangle
# what they replace (an Ubuntu cloud VM is called "ubuntu", /home/linuxbrew is Homebrew's).
# The anonymizer replaces these only inside a home path.
COMMON_USERS = frozenset(
    {
        "root",
        "user",
        "users",
        "ubuntu",
        "admin",
        "administrator",
        "runner",
        "nobody",
        "default",
        "public",
        "shared",
        "guest",
        "jovyan",
        "linuxbrew",
        "vagrant",
        "ec2-user",
        "centos",
        "debian",
        "fedora",
        "docker",
        "conda",
        "home",
        # service accounts of images and CI, and path words ("/home/app" makes "app" a user)
        "app",
        "dev",
        "git",
        "www",
        "web",
        "node",
        "python",
        "jenkins",
        "builder",
        "build",
        "codespace",
        "vscode",
        "coder",
        "work",
        "data",
        "test",
    }
)
COMMON_HOSTS = frozenset(
    {
        "localhost",
        "localhost.localdomain",
        "ubuntu",
        "debian",
        "fedora",
        "centos",
        "raspberrypi",
        "gpu",
        "cpu",
        "node",
        "server",
        "master",
        "worker",
        "head",
    }
)

_USER = r"[A-Za-z0-9_][A-Za-z0-9._-]{0,31}"
_HOST = r"[A-Za-z0-9][A-Za-z0-9.-]{0,62}"
# at the start of a line (after a quote "> " and a "(venv) " prefix): user@host, then
# ":path", " dir]" or "]", then the prompt character and a space or the end of the line
_PROMPT = re.compile(
    rf"(?:\([^()\s]{{1,80}}\) {{1,4}})?\[?({_USER})@({_HOST})"
    r"(?::[^\s$#%]{0,256}|(?: [^\s\]$#%]{1,256})?\]?) ?[$#%](?: |$)"
)
_HOME = re.compile(
    rf"(?:/home/|/Users/|[A-Za-z]:\\\\Users\\\\|[A-Za-z]:\\Users\\)({_USER})(?![A-Za-z0-9._-])"
)

NAMES_NOTE = "names in the paste (envlock report replaces them): "


def names_in_text(text: str, draft: Draft) -> None:
    """Add the user and host names that `text`'s prompts and home paths give to `draft`."""
    for line in text.splitlines():
        prompt = _PROMPT.match(line.lstrip(" \t>"))
        if prompt:
            user, host = prompt.group(1), prompt.group(2).rstrip(".")
            if user.lower() not in COMMON_USERS:
                draft.add_name(draft.users, user)
            if host.lower() not in COMMON_HOSTS:
                draft.add_name(draft.hosts, host)
        if "/home/" in line or "Users" in line:
            for home in _HOME.finditer(line):
                if home.group(1).lower() not in COMMON_USERS:
                    draft.add_name(draft.users, home.group(1))


def names_note(users: Iterable[str], hosts: Iterable[str]) -> str:
    parts = [f"{kind} {', '.join(names)}" for kind, names in (("users", users), ("hosts", hosts))]
    return NAMES_NOTE + "; ".join(p for p in parts if p.partition(" ")[2])


def names_from_notes(notes: Iterable[object]) -> tuple[list[str], list[str]]:
    """The users and hosts a `names_note` among `notes` gives."""
    users: list[str] = []
    hosts: list[str] = []
    for note in notes:
        if not isinstance(note, str) or not note.startswith(NAMES_NOTE):
            continue
        for part in note[len(NAMES_NOTE) :].split("; "):
            kind, _, names = part.partition(" ")
            found = [n for n in names.split(", ") if n]
            if kind == "users":
                users += found
            elif kind == "hosts":
                hosts += found
    return users, hosts
