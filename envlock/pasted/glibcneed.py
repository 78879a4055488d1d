"""The dynamic loader's refusal of a library that needs a newer glibc than the system's, in a
pasted log (issue 21, session 13: ColossalAI-2402).

glibc's loader (elf/dl-version.c, match_symbol) stops a dlopen, and Python's import with it,
when a library asks for a symbol version the system's libc, libm or libpthread lacks:

    ImportError: /lib64/libm.so.6: version `GLIBC_2.29' not found (required by
        /root/.../site-packages/colossalai/_C/fused_optim.cpython-39-x86_64-linux-gnu.so)

("%s: version `%s' not found (required by %s)": the system library, the version, the file
that needs it). A prebuilt extension or a wheel linked on a newer OS than its manylinux tag
promises says it this way (a CentOS 7 host has glibc 2.17), and so does torch's own
libtorch_cpu.so where torch came from somewhere pip did not choose it for this glibc.

Each refusal is a note: GLIBC_MISSING + "2.29 in /lib64/libm.so.6, required by FILE"; the
check (checks/buildenv.py, EL-EXT-GLIBC-TOO-OLD) reads it back. Not read: libstdc++'s
GLIBCXX_ and CXXABI_ versions (another library, another fix), a refusal the text tells as
another machine's (pasted/hearsay.py). Quotes as reporters retype them (` ' " and the
typographic ones) and a wrap inside the sentence are read. One pattern, from the literal
"version": linear.
"""

from __future__ import annotations

import re

from envlock.pasted.draft import Draft
from envlock.pasted.hearsay import not_this_machines_in

# the note a refusal leaves; checks/buildenv.py reads it back
GLIBC_MISSING = "the dynamic loader found no GLIBC_"
IN_LIB = " in "
REQUIRED_BY = ", required by "
_Q = "['\"`\u2018\u2019]?"
# from the literal "version" on: the version, the file that needs it
_TAIL = re.compile(
    rf"version\s+{_Q}GLIBC_(\d{{1,2}}\.\d{{1,3}})(?:\.\d{{1,3}})?{_Q}\s+"
    rf"not\s+found\s+\(required\s+by\s+{_Q}([^\s)'\"`\u2019]{{1,400}})",
    re.IGNORECASE,
)
# just before "version": the system library and its colon
_LIB = re.compile(r"(\S{1,300}):\s{0,4}\Z")
MAX_REFUSALS = 4
_OPENER = re.compile("[\"'`(\\[\u2018\u2019]")


def glibc_refusals(text: str) -> list[tuple[str, str, str]]:
    """(glibc version, system library, the file that needs it) of each loader refusal in
    `text`, in order, each once."""
    out: list[tuple[str, str, str]] = []
    at = _find_version(text, 0)
    while at >= 0 and len(out) < MAX_REFUSALS:
        tail = _TAIL.match(text, at)
        lib = _LIB.search(text, max(0, at - 306), at) if tail is not None else None
        if tail is not None and lib is not None:
            name = _OPENER.split(lib.group(1))[-1]  # 'ImportError("/lib/libc.so.6' (vLLM's)
            found = (tail.group(1), name, tail.group(2))
            if (
                name
                and found not in out
                and not not_this_machines_in(text, lib.start(1), tail.end())
            ):
                out.append(found)
        at = _find_version(text, at + 1)
    return out


def _find_version(text: str, start: int) -> int:
    """The next "version" (any case) from `start`; -1 when none."""
    m = _VERSION.search(text, start)
    return m.start() if m is not None else -1


_VERSION = re.compile("version", re.IGNORECASE)


def read_glibc_refusals(text: str, draft: Draft) -> int:
    """The loader's glibc refusals in `text` as notes; how many."""
    refused = glibc_refusals(text)
    for version, lib, needer in refused:
        draft.note(f"{GLIBC_MISSING}{version}{IN_LIB}{lib}{REQUIRED_BY}{needer}")
    return len(refused)


def parse_glibc_note(note: str) -> tuple[str, str, str] | None:
    """(version, system library, file) of a note read_glibc_refusals left; None otherwise."""
    if not note.startswith(GLIBC_MISSING):
        return None
    version, _, rest = note[len(GLIBC_MISSING) :].partition(IN_LIB)
    lib, _, needer = rest.partition(REQUIRED_BY)
    return (version, lib, needer) if version and lib and needer else None
