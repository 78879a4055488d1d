"""Facts a reporter states in their own words (issue 21, session 11): prose and lists written
by hand, in any language, as markdown bullets or bold, or a sentence.

    Also checking the torch version reveals 2.0.0+cpu          (oobabooga textgen#369)
    pytorch 1.13.1+cpu                                          (ultralytics#227)
    it wont find my gpu (RTX 3060 Ti)                           (oobabooga textgen#369)
    I use rtx4090 on windows 11 as well                         (MiniGPT-4#50)
    - **GPU:** NVIDIA RTX 4080                                  (Vonovox#14)
    torch Version: 2.5.1                                        (F5-TTS#404)

Only what is strongly anchored is read:
- torch's version right after a torch or PyTorch word ("torch 2.5.1", "torch Version: 2.5.1",
  "torch-2.1.1", "PyTorch 版本 2.0.0+cpu"); with a variant tag ("+cpu", "+cu118",
  "+rocm6.2": only PyTorch's own indexes tag a version so) a few words may stand between
  ("the torch version reveals 2.0.0+cpu"); never across another family member's name
  (torchvision's, torchaudio's) or a digit; a list's line that is one pin ("# torch==2.0.0",
  flash-attention#443's repro header); the pin of the command a sentence says torch was
  installed with ('pytorch is installed using "pip3 install torch==1.10.0+cu113 ..."',
  walk-these-ways#72);
- a family member's version (torchvision, torchaudio, torchtext) right after its name, as
  torch's is read ("torchaudio-2.0.1" under "torch-2.1.1", TTS-3313; "- torchvision: 0.15.2",
  "torchvision==0.16.0" alone on its line, "* torchvision 0.17"), into packages, only where one
  torch version is read and only beside the torch the report is read for (`supplement`); one
  member of two versions reads none;
- a GPU by a name of envlock's GPU table (envlock/matrix/gpus.toml) led by its vendor or
  series word (NVIDIA, GeForce, RTX, GTX, GT, MX, Quadro, TITAN, Tesla): "RTX 3060 Ti",
  "rtx4090", "NVIDIA A100-SXM4-80GB", "Tesla V100"; a bare "A100" or "4090" is not.

A sentence that asks or plans says nothing of the machine: one ending in a question mark or
opening with a question's word ("should I use torch 2.1.0+cu121?"), one with a modal or a
plan ("I will install torch 2.1.0", "it needs torch 2.0+cu118", "if you have an RTX 3090"),
and an install command or pip's progress ("pip install torch==2.1.0+cu118", "Downloading
torch-2.1.0+cu118-cp310-...whl"); a command a sentence quotes is left out of it ("When
installed with 'pip install chatterbox-tts' ...", chatterbox#95). What remains must agree
with itself: two torch versions (an upgrade told, two machines compared) or two GPU models
read nothing of that kind.

What is read only supplements the report's own structured lines (`supplement`, applied by
envlock/pasted/toolenv.py): it fills what no other reader stated and is dropped where it
disagrees with them (a "+cpu" beside torch's own "CUDA used to build PyTorch: 11.8"); the GPU
is read only beside a torch fact, its own or another reader's. No OS, CUDA or driver is read
from prose: "Windows" or "CUDA 11.8" in a sentence is as often another machine, WSL's host, a
toolkit or the driver's CUDA as this environment's.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from envlock.pasted.toolreading import ToolReading

# a torch word: not a longer name (libtorch, torchvision, torch_npu, torch.cuda)
_TORCH_WORD = re.compile(r"(?<![\w.-])(?:py)?torch(?![\w.]|-(?!\d))", re.IGNORECASE)
# right after it: "version", a colon, "-", "v"; "==" (a requirement) read only in a line that is
# one pin (_PIN: "# torch==2.0.0") or the command torch was installed with (_INSTALLED_BY)
_UNTAGGED = re.compile(
    r"[ \t]{0,40}(?:[Vv]ersion[ \t]{0,40})?(?:(?:[:\uff1a-]|==?)[ \t]{0,40})?v?"
    r"(\d{1,2}\.\d{1,2}(?:\.\d{1,3})?)(?![a-z\d_+-]|\.\w)",
)
# a variant-tagged version a few words on: lowercase ASCII tags, as PyTorch's indexes write
# them; not a wheel's file name (-cp310) nor glued to the next word
_TAGGED = re.compile(
    r"[^\d\n]{0,32}?(?<![\w.])v?(\d{1,2}\.\d{1,2}(?:\.\d{1,3})?\+(?:cpu|cu\d{2,3}|rocm\d{1,2}"
    r"(?:\.\d{1,2}){0,2}))(?![a-z\d_+]|[.-]\w)"
)
_ANY_TAGGED = re.compile(r"\d{1,2}\.\d{1,2}(?:\.\d{1,3})?\+[a-z][a-z0-9.]{0,20}")
# a torch word as the object of another thing's version ("CUDA used to build PyTorch: 12.8")
_OBJECT = re.compile(r"\b(?:build|built|cuda|rocm|compiled|for)\b[^.;]{0,20}$", re.I)
# other names in the words between: the version is theirs
_OTHER_NAME = re.compile(r"vision|audio|text|cuda|python|xformers|numpy|torch", re.IGNORECASE)
# a sentence that asks, plans or instructs (English; a question mark in any script)
_QUESTION_START = re.compile(
    r"^[^\w]*(?:how|what|which|why|whether|does|do|did|can|could|is|are|should|would|will"
    r"|shall|may|any)\b",
    re.IGNORECASE,
)
_PLAN = re.compile(
    r"\b(?:will|shall|should|would|could|might|must|gonna|going to|plan(?:ning)?|want(?:ed)?"
    r"|wanna|wish|hope|try(?:ing)? to|need(?:s|ed)?|requires?|required"
    r"|(?<!by )(?<!from )(?<!via )requirements?"
    r"|recommend(?:ed|s)?|suggest(?:ed|s)?|expect(?:ed|s)?|supposed|instead|if|unless"
    r"|support(?:s|ed)?|compatible|buy|purchase)\b|'ll\b|\u2019ll\b",
    re.IGNORECASE,
)
# a sentence that tells another time or another machine: what it names is not this one now
# (a build that was replaced, a colleague's, the old PC's, a maintainer's test setup, an
# upgrade told from one version to another)
_ELSEWHERE = re.compile(
    r"\b(?:used to|previously|formerly|before the (?:fix|update|upgrade|reinstall)"
    r"|no longer (?:installed|there|present|used|the case|an issue|a problem|happens|appears)"
    r"|(?:was|got|been|is) (?:fixed|solved|resolved|replaced|removed|uninstalled)"
    r"|(?:colleague|friend|coworker|co-worker|someone|somebody|another user|other user)['\u2019]?s"
    r"|someone else|another (?:machine|pc|computer|server|laptop|box|node)"
    r"|(?:the|my|our) (?:old|previous|former) (?:machine|pc|computer|server|laptop|box|setup|env)"
    r"|(?:our|the) (?:test(?:ing)?|ci|reference|official) (?:environment|env|setup|machine|server)"
    r"|(?:upgrad|downgrad|switch|chang|mov|updat|bump|went)(?:e|ed|es|ing)?\b[^;]{0,30}?\bfrom)\b"
    r"|\bfrom [^;]{0,40}\bto (?:torch|pytorch|v?\d)"
    # Chinese: a test environment, at the time, before, once (ActionDetection-AFSD#44's
    # maintainer: "我们当时的测试环境是 V100 + cuda 10.2 + pytorch 1.4")
    r"|\u6d4b\u8bd5\u73af\u5883|\u5f53\u65f6|\u4ee5\u524d|\u66fe\u7ecf",
    re.IGNORECASE,
)
_COMMAND = re.compile(
    r"\b(?:pip3?|conda|mamba|micromamba|uv|poetry)[ \t]+(?:install|add)\b|==|--index-url"
    r"|[<>~!]=[ \t]{0,2}(?:py)?torch\b"
    r"|--extra-index-url|\binstall[ \t]+(?:py)?torch\b|\bDownloading\b|\bCollecting\b"
    r"|\.whl\b|\bRequirement\b",
    re.IGNORECASE,
)
# a quoted span ('...', "...", `...`, curly quotes): a command when one is in it
_QUOTED = re.compile(
    r"'[^'\n]{1,300}'|\"[^\"\n]{1,300}\"|`[^`\n]{1,300}`|\u201c[^\u201d\n]{1,300}\u201d"
)
# a sentence that says how torch was installed, and the pin of the command it names
_INSTALLED_BY = re.compile(
    r"(?:\b(?:is|was|were|are|been|got|get)[ \t]+installed|\binstalled[ \t]+(?:py)?torch)"
    r"[ \t]+(?:using|with|via|by|from|through)\b",
    re.IGNORECASE,
)
_PINNED = re.compile(
    r"(?<![\w.-])torch[ \t]*==[ \t]*(\d{1,2}\.\d{1,2}(?:\.\d{1,3})?(?:\+(?:cpu|cu\d{2,3}"
    r"|rocm\d{1,2}(?:\.\d{1,2}){0,2}))?)(?![a-z\d_+-]|\.\w)"
)
# one pin alone on its line, a list's item or a comment ("# torch==2.0.0", "- torch==2.1.0+cu118",
# "torchvision==0.16.0")
_PIN = re.compile(
    r"[ \t>]{0,4}(?:[*+-][ \t]{1,3})?(?:#[ \t]{0,2})?(?:py)?torch(?:vision|audio|text)?[ \t]{0,2}"
    r"==[ \t]{0,2}[\w.+]{1,40}",
    re.IGNORECASE,
)
# a family member's name, and its version right after it as torch's is read ("torchaudio-2.0.1",
# "- torchvision: 0.15.2", "torchvision==0.16.0", "* torchvision 0.17"), a variant tag with it
_MEMBER_WORD = re.compile(r"(?<![\w.-])(torchvision|torchaudio|torchtext)(?![\w.]|-(?!\d))", re.I)
_MEMBER_VERSION = re.compile(
    r"[ \t]{0,40}(?:[Vv]ersion[ \t]{0,40})?(?:(?:[:\uff1a-]|==?)[ \t]{0,40})?v?"
    r"(\d{1,2}\.\d{1,2}(?:\.\d{1,3})?(?:\+(?:cpu|cu\d{2,3}|rocm\d{1,2}(?:\.\d{1,2}){0,2}))?)"
    r"(?![a-z\d_+-]|\.\w)",
)
# the words before a block of pins that offer them as a change, not as what is installed ("the
# following two lines should be modified ... to sort this issue out:", WPFS#3)
_PROPOSES = re.compile(
    r"\b(?:modif(?:y|ied|ying)|chang(?:e|ed|ing)|replac(?:e|ed|ing)|fix(?:ed|es)?|solution"
    r"|solv(?:e|ed|es)|sort[^.;]{0,20}out|try|tried|diff|patch)\b",
    re.IGNORECASE,
)
_FENCE = re.compile(r"[ \t>]{0,4}(?:```|~~~)")
_LIST_ROW = re.compile(r"[ \t>]{0,8}\[(?:pip3?|conda)\]")
# a sentence that may state something here: it names torch or a GPU's vendor or series
_NAMES = re.compile(r"torch|nvidia|geforce|rtx|gtx|gt|mx|quadro|titan|tesla", re.IGNORECASE)
# a line ending in a torch word or a member's (and "version"): its sentence goes on on the next
# line (a form's heading, "### torchvision version", and its answer)
_WRAPPED = re.compile(
    r"(?<![\w.-])(?:py)?torch(?:vision|audio|text)?(?:[ \t]+version)?[ \t]*$", re.IGNORECASE
)
_SENTENCE_END = re.compile(r"(?<=[.!?;\u3002\uff01\uff1f\uff1b])[ \t]+")
# a GPU's vendor or series word, and the words after it that may name the model
_GPU_ANCHOR = re.compile(r"(?<![\w/-])(?:nvidia|geforce|rtx|gtx|gt|mx|quadro|titan|tesla)", re.I)
_GPU_REACH = 40
# a GPU name's words, as the GPU table splits them; a series glued to its number, a number to
# its suffix ("rtx4090", "3060ti") split too
_WORD = re.compile(r"(?:rtx|gtx|gt|mx)(?=\d)|\d+(?=(?:ti|super)(?![0-9a-z]))|[0-9a-z]+")
_VENDOR_WORDS = frozenset({"nvidia", "geforce", "tesla"})
_NAME_WORDS = 3  # the most words a name of the GPU table has ("quadro rtx 6000", "titan x pascal")
MAX_SENTENCE = 600
# the sentences naming torch or a GPU read at the most: a person's own words are a few of
# them, a log's tracebacks name torch on every line
MAX_SENTENCES = 2000
NOTE = "facts written in the report's own words (prose, a hand-written list): read "


def read_prose(text: str) -> ToolReading | None:
    """torch's version and the GPU the reporter's own sentences state; None for neither."""
    versions: set[str] = set()
    gpus: set[str] = set()
    members: dict[str, set[str]] = {}
    for named in _sentences(text):
        versions |= _installed_pin(named)
        sentence = _without_quoted_commands(named)
        if _states(sentence):
            versions |= _torch_versions(sentence)
            gpus |= _gpu_names(sentence)
            for name, member in _member_versions(sentence):
                members.setdefault(name, set()).add(member)
    out = ToolReading()
    version = _one_version(versions)
    out.put("PyTorch version", version)
    if len(gpus) == 1:
        out.gpus[0] = f"NVIDIA {next(iter(gpus))}"
    for name, found in sorted(members.items()) if version else ():
        out.packages[name] = _one_version(found) or ""
    out.packages = {name: v for name, v in out.packages.items() if v}
    if not (out.fields or out.gpus):
        return None
    said = [f"torch {version}"] if version else []
    said += [f"{name} {v}" for name, v in out.packages.items()]
    said += [out.gpus[0]] if out.gpus else []
    out.notes.append(NOTE + ", ".join(said))
    return out


def supplement(others: list[ToolReading], prose: ToolReading | None) -> ToolReading | None:
    """What `prose` adds to the other readers' findings: torch's version where none stated it
    and nothing they read disagrees with its tag; the GPU where none named one and a torch
    fact was read (by them or in prose); the family members the prose states beside the torch
    the report is read for; None where nothing is left."""
    if prose is None:
        return None
    fields = _fields_of(others)
    out = ToolReading(notes=list(prose.notes))
    version = prose.fields.get("PyTorch version")
    if version and fields.get("PyTorch version", "N/A") == "N/A" and _agrees(version, fields):
        out.put("PyTorch version", version)
    torch_said = any(k in fields for k in _TORCH_KEYS) or bool(out.fields)
    if torch_said and not any(o.gpus for o in others):
        out.gpus.update(prose.gpus)
    if out.fields or _same_release(version, fields.get("PyTorch version")):
        out.packages = _members(others, prose)
    return out if out.fields or out.gpus or out.packages else None


def _fields_of(others: list[ToolReading]) -> dict[str, str]:
    """The other readers' fields, the first of a key kept."""
    fields: dict[str, str] = {}
    for other in others:
        for key, value in other.fields.items():
            fields.setdefault(key, value)
    return fields


def _same_release(version: str | None, said: str | None) -> bool:
    """Whether the prose's torch is the release the other readers state."""
    return bool(version and said and said.partition("+")[0] == version.partition("+")[0])


def _members(others: list[ToolReading], prose: ToolReading) -> dict[str, str]:
    """The family members the prose states beside the torch the report is read for, where no
    other reader read them."""
    read = {name for other in others for name in other.packages}
    return {name: v for name, v in prose.packages.items() if name not in read}


_TORCH_KEYS = ("PyTorch version", "CUDA used to build PyTorch", "Is CUDA available")


def _agrees(version: str, fields: dict[str, str]) -> bool:
    """A version's tag against torch's CUDA and CUDA's availability as the others read them."""
    tag = version.partition("+")[2]
    cuda = fields.get("CUDA used to build PyTorch")
    if tag == "cpu":
        return cuda in (None, "None") and fields.get("Is CUDA available") != "True"
    if tag.startswith("cu"):
        return cuda is None or (cuda != "None" and cuda.replace(".", "")[:3] == tag[2:5])
    return not tag or cuda in (None, "None")


def _sentences(text: str) -> set[str]:
    """The text's sentences that name torch or a GPU's vendor or series, links left out, the
    first MAX_SENTENCES of them; a sentence wrapped right after its torch word ("the
    torch\nversion reveals ...") whole."""
    named: list[str] = []
    carried = ""
    for line in _lines(text):
        if carried and not line.strip():
            continue  # a form's heading ("### PyTorch version"), its answer after a blank line
        pieces = _SENTENCE_END.split(carried + line)
        wrapped = not carried and _WRAPPED.search(pieces[-1][-40:]) is not None
        carried = pieces.pop()[-MAX_SENTENCE:] + " " if wrapped else ""
        named += [s for s in (p.strip() for p in pieces) if _NAMES.search(s)]
        if len(named) >= MAX_SENTENCES:
            break
    named.append(carried.strip())
    return {s for s in named[:MAX_SENTENCES] if 0 < len(s) <= MAX_SENTENCE}


def _lines(text: str) -> Iterator[str]:
    """The text's lines, links left out (a link's words say nothing of this machine), but
    collect_env's own package rows (its reader's) and the pins offered as a change (the last
    line of words before them proposes, plans or asks: WPFS#3's "should be modified ... to
    sort this issue out:" over ```torch==1.10.1+cu111```)."""
    words = ""  # the last line of words, judged only where a pin line follows it
    for line in text.split("\n"):
        if "://" in line:
            line = " ".join(word for word in line.split() if "://" not in word)
        if _PIN.fullmatch(line):
            line = "" if words and _offers(words) else line
        elif line.strip() and not _FENCE.match(line):
            words = line
        if not _LIST_ROW.match(line):
            yield line


def _offers(line: str) -> bool:
    """A line of words that offers what follows as a change, a plan or a question."""
    line = line.rstrip()
    return (
        line.endswith(("?", "\uff1f"))
        or _PROPOSES.search(line) is not None
        or _PLAN.search(line) is not None
    )


def _without_quoted_commands(sentence: str) -> str:
    """The sentence without the commands it quotes ("When installed with 'pip install x'
    torch installed w/o gpu support."): what it says besides them."""
    if not any(q in sentence for q in "'\"`\u201c"):
        return sentence
    return _QUOTED.sub(lambda m: " " if _COMMAND.search(m.group()) else m.group(), sentence)


def _installed_pin(sentence: str) -> set[str]:
    """torch's pin in the command a sentence says torch was installed with ("pytorch is
    installed using "pip3 install torch==1.10.0+cu113 ..."", walk-these-ways#72); none from a
    question or a plan, nor from a command of two torch pins."""
    said = _INSTALLED_BY.search(sentence)
    if said is None or sentence.endswith(("?", "\uff1f")) or _QUESTION_START.match(sentence):
        return set()
    if _ELSEWHERE.search(sentence):
        return set()
    if _PLAN.search(sentence, 0, said.start()):
        return set()
    pins = set(_PINNED.findall(sentence, said.end()))
    return pins if len(pins) == 1 else set()


def _states(sentence: str) -> bool:
    """Whether a sentence may state this machine's facts now: not a question, a plan, a
    command, nor another time's or another machine's (_ELSEWHERE); a line that is one pin
    does."""
    if sentence.endswith(("?", "\uff1f")) or _QUESTION_START.match(sentence):
        return False
    if _ELSEWHERE.search(sentence):
        return False
    if _PIN.fullmatch(sentence):
        return True  # a line of a list that is one pin, as pip freeze prints it
    return not (_PLAN.search(sentence) or _COMMAND.search(sentence))


def _torch_versions(sentence: str) -> set[str]:
    """The torch versions stated right after a torch word in one sentence; none from a
    sentence of two tagged versions ("PyTorch 2.1.2+cu121 with CUDA 1201 (you have
    2.1.2+cpu)": xFormers' build and torch's, one sentence)."""
    if len(set(_ANY_TAGGED.findall(sentence))) > 1:
        return set()
    found = set()
    for word in _TORCH_WORD.finditer(sentence):
        if _OBJECT.search(sentence, max(0, word.start() - 40), word.start()):
            continue
        plain = _UNTAGGED.match(sentence, word.end())
        if plain:
            found.add(plain.group(1))
            continue
        tagged = _TAGGED.match(sentence, word.end())
        between = sentence[word.end() : tagged.start(1)] if tagged else ""
        if tagged and not _OTHER_NAME.search(between):
            found.add(tagged.group(1))
    return found


def _member_versions(sentence: str) -> Iterator[tuple[str, str]]:
    """(name, version) of each family member whose version the sentence states right after
    its name, as torch's is read; none from a sentence of two tagged versions."""
    if len(set(_ANY_TAGGED.findall(sentence))) > 1:
        return
    for word in _MEMBER_WORD.finditer(sentence):
        if _OBJECT.search(sentence, max(0, word.start() - 40), word.start()):
            continue
        found = _MEMBER_VERSION.match(sentence, word.end())
        if found:
            yield word.group(1).lower(), found.group(1)


def _one_version(versions: set[str]) -> str | None:
    """The one version the sentences state: a tagged one and its own release untagged agree;
    two releases or two tags are two torches (or one before and after), read as none."""
    tagged = {v for v in versions if "+" in v}
    publics = {v.partition("+")[0] for v in versions}
    if len(tagged) > 1 or len(publics) != 1:
        return None
    return next(iter(tagged)) if tagged else next(iter(publics))


def _gpu_names(sentence: str) -> set[str]:
    """The GPU table's names the sentence writes after a vendor or series word."""
    names = _gpu_names_by_words()
    found = set()
    for anchor in _GPU_ANCHOR.finditer(sentence):
        tokens = _tokens(sentence[anchor.start() : anchor.start() + _GPU_REACH])
        while tokens and tokens[0] in _VENDOR_WORDS:
            tokens = tokens[1:]
        # the longest name the words open with ("rtx 3060 ti" before "rtx 3060")
        for n in range(min(len(tokens), _NAME_WORDS), 0, -1):
            name = names.get(tuple(tokens[:n]))
            if name is not None:
                found.add(name)
                break
    return found


@functools.cache
def _gpu_names_by_words() -> dict[tuple[str, ...], str]:
    """The GPU table's names (envlock/matrix/gpus.toml) by their words."""
    from envlock.matrix import load_matrix

    names: dict[tuple[str, ...], str] = {}
    for gpu in load_matrix().gpus:
        if gpu.tokens:
            names.setdefault(gpu.tokens, gpu.name)
    return names


def _tokens(window: str) -> list[str]:
    """The window's words, lowercase, a series glued to its number split ("rtx4090"), a
    number glued to its suffix too ("3060ti")."""
    return _WORD.findall(window.lower())[: _NAME_WORDS + 3]
