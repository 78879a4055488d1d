"""Whether a message torch or a library printed is told in a paste as this machine's own.

A message is read where it stands as printed: at a line's start, after the prefix Python,
a logger or a debugger puts before it ("RuntimeError: ", "ERROR:root:", VS Code's
"Exception has occurred: RuntimeError" on the line before), or quoted after the words that
say the reporter got it ("I get the following error: '...'"). It is another machine's, or
asked about, where a sentence quotes it (issue 21, session 12; V1-findings F3, F5):

- quoted after words that do not say the reporter got it: "In #45028 people saw '...'",
  "The warning '...' went away", "Is '...' something I will see?", a PR's "This would
  prevent: \"...\"" or "Should fix `...`";
- told on its line as gone or as another machine's: "went away", "no longer see",
  "used to get", "on my old PC", "the old server", "another machine".

A sentence asks about the message only where it ends in a question mark ("When I run X, I get
'...' which is raised in Y." tells it: jetson-inference-1848), and a why/how question in the
first person presupposes the reporter has it ("Why do I get '...'?", session 13).

Only the words around the message on its own line are read (`_REACH` characters each side),
never the message's own words ("PyTorch no longer supports this GPU" is torch's), so each
question costs a bounded time whatever the line's length.
"""

from __future__ import annotations

import re

# how far each side of a message the sentence around it is read
_REACH = 240
# quote marks a sentence opens around a message (an apostrophe inside a word is not one)
_QUOTES = "'\"`\u2018\u201c\u00ab"
# what may stand right before a quote mark that opens a quote
_OPENERS = "([{:=,;"
# the words that say the reporter got the message (before the opening quote): a verb of getting
# with the reporter as its subject somewhere in the sentence ("I run X and get '...'"), or
# opening it ("got `...` on start"), or a phrase that presents what follows
_GOT_VERB = (
    r"(?:get|gets|got|getting|see|saw|seeing|receive|received|receiving|encounter|encountered"
    r"|hit|run into|ran into|face|faced|facing)"
)
_GOT = re.compile(rf"\b{_GOT_VERB}\b", re.IGNORECASE)
_GOT_FIRST = re.compile(rf"^\W*{_GOT_VERB}\b", re.IGNORECASE)
_FIRST_PERSON = re.compile(r"\b(?:i|i'm|i've|me|my|we|we're|we've|us|our)\b", re.IGNORECASE)
_PRESENTS = re.compile(
    r"\b(?:gives|gave|throws|threw|shows|showed|raises|raised|prints|printed) (?:me|us)\b"
    r"|\bfollowing (?:error|warning|message|exception)s?\b"
    r"|\b(?:error|warning|message|exception)s? (?:below|like this|as follows)\b",
    re.IGNORECASE,
)
_QUESTION = re.compile(
    r"^\W*(?:is|are|does|do|did|will|would|can|could|should|has|have|why|what|how|when)\b",
    re.IGNORECASE,
)
# a why/how question presupposes the reporter has the message ("Why do I get '...'?", "How do
# I fix '...'?"); the others ask whether or when one will see it
_PRESUPPOSES = re.compile(r"^\W*(?:why|how)\b", re.IGNORECASE)
# where a sentence ends: its mark and a blank, or the line's end
_SENTENCE_END = re.compile(r"[.?!](?:\s|$)")
# the words that tell the message as gone or as another machine's
_GONE = re.compile(
    r"\b(?:went away|goes away|has gone away|disappeared|no longer (?:see|get|appears?|shows?)"
    r"|not (?:see|get) (?:it|this|that) any ?more|used to (?:get|see|have|appear)"
    r"|old (?:pc|server|machine|computer|laptop|box|workstation|gpu|card|node|cluster)"
    r"|(?:another|a different|someone else'?s|a friend'?s|(?:my )?colleague'?s)"
    r" (?:machine|pc|server|computer|laptop|box|workstation|node|user|person)"
    r"|on (?:the|my|our) (?:previous|former) (?:machine|pc|server|computer|laptop|setup))\b",
    re.IGNORECASE,
)


def not_this_machines(line: str, start: int, end: int) -> bool:
    """Whether `line[start:end]`, a message torch or a library prints, is told on its line
    as another machine's, asked about, or gone (see the module's docstring)."""
    before = line[max(0, start - _REACH) : start]
    after = line[end : end + _REACH]
    if _GONE.search(before) or _GONE.search(after):
        return True
    opened = _opening_quote(before)
    if opened < 0:
        return False
    sentence = before[:opened]
    if not any(c.isalpha() for c in sentence):
        return False  # quoted at the line's start: what the reporter pasted, in quotes
    last = _last_sentence(sentence)
    if not any(c.isalpha() for c in last):
        return False  # the quote opens its sentence: what the reporter pasted
    if _QUESTION.match(last) and _asked(after):
        return not (_PRESUPPOSES.match(last) and _FIRST_PERSON.search(last))
    return not _reporter_got(last)


def _asked(after: str) -> bool:
    """Whether the sentence the message stands in ends in a question mark (after the quote
    closes: "Is '...' something I will see?"); a sentence its opening word only seems to ask
    ("When I run X, I get '...' which is raised in Y.") ends otherwise."""
    end = _SENTENCE_END.search(after)
    return end is not None and after[end.start()] == "?"


def _reporter_got(sentence: str) -> bool:
    """Whether the sentence before a quoted message says the reporter got it."""
    if _PRESENTS.search(sentence) or _GOT_FIRST.match(sentence):
        return True
    return bool(_GOT.search(sentence) and _FIRST_PERSON.search(sentence))


def not_this_machines_in(text: str, start: int, end: int) -> bool:
    """`not_this_machines` of `text[start:end]` on its line of a whole text."""
    low = text.rfind("\n", max(0, start - _REACH), start) + 1 or max(0, start - _REACH)
    high = text.find("\n", end, end + _REACH)
    line = text[low : high if high >= 0 else end + _REACH]
    return not_this_machines(line, start - low, end - low)


def name_start(head: str) -> int:
    """Where a GPU name torch printed starts in `head`, the line before it: after the last
    quote mark or colon (a quote opened, "error:" joined to it by a lost line break)."""
    cut = max(head.rfind(c) for c in (*_QUOTES, ":", "\u201d", "\u2019", "\uff1a"))
    return cut + 1


def _opening_quote(before: str) -> int:
    """The position of a quote mark opened before the message and not closed, or -1: the last
    quote mark (not an apostrophe, not a fence's run of backquotes) opens a quote where a blank,
    a bracket or a colon stands before it; after a word it closes one ('File "x.py", line')."""
    for at in range(len(before) - 1, -1, -1):
        if before[at] not in _QUOTES or _apostrophe(before, at) or _fence(before, at):
            continue
        if before.endswith("File ", 0, at):
            return -1  # a traceback frame's path ('File "/x/torch/cuda/__init__.py", line')
        ahead = before[at - 1] if at > 0 else " "
        return at if ahead.isspace() or ahead in _OPENERS else -1
    return -1


def _apostrophe(text: str, at: int) -> bool:
    """Whether the "'" at `at` stands between two letters or digits ("I'm", "torch's")."""
    return (
        text[at] == "'"
        and 0 < at < len(text) - 1
        and text[at - 1].isalnum()
        and text[at + 1].isalnum()
    )


def _fence(text: str, at: int) -> bool:
    """Whether the mark at `at` is one of a run of backquotes (a fence, "```bash")."""
    return text[at] == "`" and (text[at - 1 : at] == "`" or text[at + 1 : at + 2] == "`")


def _last_sentence(text: str) -> str:
    """The last sentence of `text` (after its last '. ', '? ', '! ' or line break)."""
    cut = max(text.rfind(". "), text.rfind("? "), text.rfind("! "), text.rfind("\n"))
    return text[cut + 1 :]
