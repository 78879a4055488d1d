"""NCCL's own words that it could not create its shared-memory segment, in a pasted log.

NCCL's intra-node transport keeps its buffers in files under /dev/shm. In a container
/dev/shm is what the runtime mounted (Docker's default: 64 MiB), and NCCL's first
collective then fails with torch's "unhandled system error" (checks/container.py,
EL-SHM-SMALL). Which warning NCCL prints depends on its release (NVIDIA/nccl, by tag):

- 2.4 to 2.11, src/include/shm.h: shmSetup() sizes the segment with posix_fallocate()
  through SYSCHECK, whose WARN (src/include/checks.h) is `"Call to " name " failed : %s"`
  with strerror(errno), then shmOpen() warns `"Error while %s shared memory segment %s
  (size %d)"` ("creating"; the name is shm_open's, "nccl-shm-recv-<hash>-<a>-<b>-<c>"):

      include/shm.h:28 NCCL WARN Call to posix_fallocate failed : No space left on device
      include/shm.h:48 NCCL WARN Error while creating shared memory segment
          nccl-shm-recv-250a7cc850ba9298-0-1-3 (size 9637888)            (NVIDIA/nccl#342)

- 2.12 to 2.22, src/misc/shmutils.cc: ncclShmOpen() makes "/dev/shm/nccl-XXXXXX" with
  mkstemp and sizes it with ftruncate, warning `"Error: failed to extend %s to %d bytes"`
  when that fails, then the same "Error while creating shared memory segment %s (size %d)";
  torch re-raises the last one after "Last error:" (pytorch/torchtitan#853, NCCL 2.21.5:
  "Error while creating shared memory segment /dev/shm/nccl-1YsMbG (size 7340384)").
- 2.23 on, src/misc/shmutils.cc (since 2.30, src/os/linux.cc): fallocate() again, and both
  warnings end with the error: `"Error: failed to extend %s to %ld bytes, error: %s (%d)"`,
  `"Error while %s shared memory segment %s (size %ld), error: %s (%d)"` ("No space left
  on device (28)" for a full /dev/shm).

Read as a shared-memory failure (system.shm_failure: NCCL's message as seen): a line with
"No space left on device" that names NCCL's segment (posix_fallocate, "failed to extend",
"shared memory segment"), or NCCL itself, as a reporter writes it ("a strange error from NCLL
backend. Error message is `No space left on device`", huggingface/transformers#11658: NCCL's
only file is its /dev/shm segment; then the error alone is kept, REPORTED); or
"Error while creating shared memory segment" / "failed to extend" with no error named,
unless the paste shows another cause. Not read: the same warnings with another error
("error: Permission denied (13)"), after a CUDA failure (NVIDIA/nccl#1518: "NCCL WARN Cuda
failure 'invalid argument'" before the segment's warning, cudaHostRegister failing with
room to spare), "Error while attaching to shared memory segment" (a peer's segment gone:
NVIDIA/nccl#1589, with 252 GB free in vllm#18831's twin NVIDIA/nccl#2190), torch's
"unhandled system error" or "unhandled cuda error" alone, NCCL's socket and InfiniBand
warnings, and a disk's "No space left on device" that does not name NCCL.

Read apart, as a note (SHM_DENIED + the message; checks/buildenv.py's EL-SHM-PERMISSION): the
segment refused for want of permission, /dev/shm not writable by the user (pytorch#37004,
NVIDIA/nccl#328: "include/shm.h:27 NCCL WARN Call to shm_open failed : Permission denied",
fixed by "chmod 777 /dev/shm"): SYSCHECK's "Call to shm_open failed" (2.4-2.11) or "Call to
mkstemp failed" / "Call to open failed" beside /dev/shm (2.12-2.22), 2.23's "shared memory
segment ... error: Permission denied (13)", and torch's own libshm refusal of its segment
("unable to open shared memory object </torch_...> in read-write mode: Permission denied").

A word wrap may break "No space left on device" across two lines: a line is also read joined
to the one before it, for that phrase only. Linear: each line is looked at twice at most, with
substring tests and one pattern.
"""

from __future__ import annotations

import re

from envlock.pasted.draft import Draft

NO_SPACE = "no space left on device"
_NO_SPACE_JOINED = NO_SPACE.replace(" ", "")
# a reporter's sentence naming NCCL and the error: the error is what was seen (the sentence
# is the reporter's, and a wrap of it reads differently)
REPORTED = "No space left on device"
_NCCL_WORD = re.compile(r"\bnc(?:cl|ll)\b")  # "NCLL": the reporter's spelling in #11658
_SEGMENT_PHRASES = ("call to posix_fallocate failed", "failed to extend", "shared memory segment")
_CREATING = "error while creating shared memory segment"
_EXTEND = "failed to extend"
_ERROR_NAMED = ", error: "
_STARTS = ("call to posix_fallocate", "error: failed", "error while")
_OTHER_CAUSE = "nccl warn cuda failure"  # the segment's cudaHostRegister failed, not its size
MAX_SEEN_CHARS = 200
# the note a permission refusal leaves; checks/buildenv.py (EL-SHM-PERMISSION) reads it back
SHM_DENIED = "the user may not create shared-memory segments in /dev/shm: "
_DENIED = "permission denied"
_DENIED_BY = (
    "call to shm_open failed",
    "unable to open shared memory object",
    "shared memory segment",
)
_DENIED_NEAR_SHM = ("call to mkstemp failed", "call to open failed")


def shm_failure(text: str) -> str | None:
    """NCCL's words (or the reporter's) that creating its shared-memory segment failed for
    want of room; None when the paste shows none, or shows the segment failing otherwise."""
    unexplained = None
    other_cause = False
    prev = ""
    for line in text.split("\n"):
        low = line.lower()
        said = _no_room(line, low)
        joined = f"{prev} {line}"  # a word wrap's break inside the phrase itself
        if said is None and not _enospc(low) and not _enospc(prev.lower()):
            said = _no_room(joined, joined.lower())
        if said is not None:
            return said
        prev = line
        if _OTHER_CAUSE in low:
            other_cause = True
        elif _CREATING in low or (_EXTEND in low and "/dev/shm/" in low):
            if _ERROR_NAMED in low[low.find(_CREATING if _CREATING in low else _EXTEND) :]:
                other_cause = True  # 2.23 on names its error: another than ENOSPC
            elif unexplained is None:
                unexplained = _seen(line, low)
    return None if other_cause else unexplained


def _enospc(low: str) -> bool:
    """strerror(ENOSPC), also with a blank lost where a wrap was joined ("left ondevice")."""
    return NO_SPACE in low or _NO_SPACE_JOINED in low.replace(" ", "")


def _no_room(line: str, low: str) -> str | None:
    """What the line says of ENOSPC beside NCCL's segment (NCCL's message) or NCCL's name
    (the reporter's words: only the error, REPORTED); None when it says neither."""
    if not _enospc(low):
        return None
    if any(p in low for p in _SEGMENT_PHRASES):
        return _seen(line, low)
    return REPORTED if _NCCL_WORD.search(low) is not None else None


def _seen(line: str, low: str) -> str:
    """NCCL's own message in the line, without its log prefix and what a re-wrapped paste
    joined after it (its error's "(28)", or its size's ")", ends it). Cut to MAX_SEEN_CHARS."""
    start = next((low.find(p) for p in _STARTS if p in low), -1)
    if start >= 0:
        end = _end_of(low, start)
        line, low = line[start:end], low[start:end]
    seen = " ".join(line.split())
    return seen if len(seen) <= MAX_SEEN_CHARS else seen[: MAX_SEEN_CHARS - 3] + "..."


def _end_of(low: str, start: int) -> int:
    """Where NCCL's message that starts at `start` ends: after "no space left on device"
    and its errno, else after the segment's "(size N)", else the line's end."""
    space = low.find(NO_SPACE, start)
    if space >= 0:
        end = space + len(NO_SPACE)
        errno = low.find(")", end, end + 6)  # " (28)"
        return errno + 1 if low.startswith(" (", end) and errno > 0 else end
    size = low.find("(size ", start)
    close = low.find(")", size) if size >= 0 else -1
    return close + 1 if close >= 0 else len(low)


def shm_denied(text: str) -> str | None:
    """NCCL's (or torch's libshm's) words that it was refused a segment in /dev/shm for want
    of permission; None when the text holds none."""
    for line in text.split("\n"):
        low = line.lower()
        if _DENIED not in low:
            continue
        named = any(p in low for p in _DENIED_BY) or (
            "/dev/shm" in low and any(p in low for p in _DENIED_NEAR_SHM)
        )
        if named:
            return _seen_denied(line, low)
    return None


def _seen_denied(line: str, low: str) -> str:
    """The refusal from its first words ("Call to", "unable to", "Error while") to
    "Permission denied" and its errno, without the log prefix before it."""
    first = low.find(_DENIED)
    # (a start phrase after the refusal's words is another sentence's: a mangled paste)
    starts = [
        i for p in ("call to ", "unable to open", "error while") if 0 <= (i := low.find(p)) < first
    ]
    start = min(starts) if starts else 0
    end = low.find(_DENIED, start) + len(_DENIED)
    errno = low.find(")", end, end + 6)
    end = errno + 1 if low.startswith(" (", end) and errno > 0 else end
    seen = " ".join(line[start:end].split())
    return seen if len(seen) <= MAX_SEEN_CHARS else seen[: MAX_SEEN_CHARS - 3] + "..."


def read_nccl_log(text: str, draft: Draft) -> int:
    """NCCL's shared-memory failure in `text` into the draft (system.shm_failure), a refusal
    for want of permission as a note (SHM_DENIED); how many were read."""
    denied = shm_denied(text)
    if denied is not None:
        draft.note(SHM_DENIED + denied)
    # the segment's "Error while creating" after a refusal is the refusal's, not a full /dev/shm
    seen = shm_failure(text) if denied is None else None
    if seen is not None:
        draft.system["shm_failure"] = seen
    return (seen is not None) + (denied is not None)
