"""A fix as a Windows user can run it: one command a line.

Fixes chain commands with `&&` (`pip uninstall -y torch && pip install ...`), which POSIX
shells, cmd and PowerShell 7 run, but Windows PowerShell 5.1, the one Windows opens,
rejects ("The token '&&' is not a valid statement separator"). `;`, its separator, is none
in cmd, where `conda remove --force pytorch; pip install ...` would also remove packages
named pip and install. One command a line runs the same in both (pytorch#122924, #29301).
"""

from __future__ import annotations

import dataclasses

from envlock.findings import Finding

_AND = " && "
NOTE = "one command a line, for cmd and PowerShell alike"
# where a chain's first command starts (after the prose that leads to it) and where its
# last one ends (before a label "  (torch 2.2 cu121)" or the next road "; or ...")
_LEADS = (": ", "; ")
_ENDS = ("  (", " (", "; ")


def for_windows(finding: Finding) -> Finding:
    """`finding` with every `a && b` of its fix as one command a line."""
    if not finding.fix or _AND not in finding.fix:
        return finding
    return dataclasses.replace(finding, fix=one_command_a_line(finding.fix))


def one_command_a_line(text: str) -> str:
    """Each chain of `text` as its prose, a note naming the shells, then each command on a
    line of its own; the text after the chain on the next line."""
    at = text.find(_AND)
    if at < 0:
        return text
    head = text[:at]
    start = max((head.rfind(s) + len(s) for s in _LEADS if s in head), default=0)
    commands, rest = [head[start:]], text[at + len(_AND) :]
    while True:
        end = min((i for s in _ENDS if (i := rest.find(s)) >= 0), default=len(rest))
        nxt = rest.find(_AND)
        if 0 <= nxt < end:  # a third command of the same chain
            commands.append(rest[:nxt])
            rest = rest[nxt + len(_AND) :]
            continue
        commands.append(rest[:end])
        rest = rest[end:].strip()
        break
    intro = head[:start].rstrip().removesuffix(":").removesuffix(";")
    lead = f"{intro} ({NOTE}):" if intro else f"{NOTE}:"
    lines = [lead, *commands]
    if rest:
        lines.append(one_command_a_line(rest))
    return "\n".join(lines)
