"""What a package's version says it was built for (envlock/checks/builtfor.py) and pip
freeze's direct-URL wheels (envlock/pasted/pip_freeze.py) on outside input: random names
and versions, real labels mangled, never raise; what is read is what the text says (a
torch named is digits of the label, a version read is the URL's wheel's); the checks over
such packages beside any torch never raise and every finding they raise has a fix; 1 MB
adversarial labels and URLs finish within the bound."""

from __future__ import annotations

import functools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envlock.checks import run_checks
from envlock.checks.builtfor import PYG, built_for, other_torch_builds
from envlock.checks.context import CheckContext
from envlock.matrix import load_matrix
from envlock.pasted.draft import Draft
from envlock.pasted.pip_freeze import parse_pip_freeze
from tests.facts_builders import edit, h100_host
from tests.fuzz.pastes import adversarial_line, assert_in_bound
from tests.fuzz.test_fuzz import EXAMPLES, FUZZ

pytestmark = pytest.mark.fuzz

# real local labels (the corpus's and PyG's index's) and the pieces that mangle them
LABELS = [
    "torch2.1.0.abi0",
    "cu124torch2.5",
    "cuda11.8.torch1.14.0a0",
    "pt20cu118",
    "pt112cu113",
    "pt212cpu",
    "pt212",
    "corex.4.5.0.20260721",
    "cu121",
    "4ade6f3.cu124torch2.4",
]
PIECES = st.sampled_from(["torch", "pt", "cu", "cuda", ".", "9", "12", "+", "a0", "_", "-"])
NAMES = st.sampled_from([*PYG, "mindietorch", "gptqmodel", "k2", "flashinfer", "Torch_Scatter"])
TORCHES = st.sampled_from(
    ["2.5.1+cpu", "2.5.1+cu124", "1.12.1+cu113", "2.0.1", "2.14.1+cu130", "1.14.0a0+410ce96"]
)


def _mangled(label: str, cuts: list[tuple[int, str]]) -> str:
    for at, piece in cuts:
        label = label[:at] + piece + label[at:]
    return label


@settings(FUZZ, deadline=None, max_examples=max(10, EXAMPLES // 3))
@given(
    name=NAMES,
    public=st.sampled_from(["2.1.2", "1.0rc2", "0.6.16", "1.23.2.dev20221221"]),
    label=st.sampled_from(LABELS),
    cuts=st.lists(st.tuples(st.integers(0, 30), PIECES), max_size=6),
)
def test_mangled_labels_read_or_not(
    name: str, public: str, label: str, cuts: list[tuple[int, str]]
) -> None:
    text = _mangled(label, cuts)
    b = built_for(name, f"{public}+{text}")
    if b is not None:  # the torch named is digits the label holds
        assert str(b.torch).replace(".", "") in text.replace(".", "")


@settings(FUZZ, deadline=None, max_examples=max(10, EXAMPLES // 3))
@given(name=st.text(max_size=40), version=st.text(max_size=120))
def test_random_versions_never_raise(name: str, version: str) -> None:
    built_for(name, version)


@settings(FUZZ, deadline=None, max_examples=max(10, EXAMPLES // 4))
@given(
    packages=st.dictionaries(
        NAMES,
        st.tuples(st.sampled_from(LABELS), st.lists(st.tuples(st.integers(0, 30), PIECES))),
        max_size=5,
    ),
    torch=TORCHES,
)
def test_the_check_beside_any_torch_never_raises_and_fixes(
    packages: dict[str, tuple[str, list[tuple[int, str]]]], torch: str
) -> None:
    facts = edit(h100_host(), "torch.version", torch)
    dists = {n: f"2.1.0+{_mangled(label, cuts)}" for n, (label, cuts) in packages.items()}
    facts = edit(facts, "packages.distributions", {**facts.packages.distributions, **dists})
    ctx = CheckContext(facts=facts, host=None, matrix=load_matrix(), expect=frozenset())
    for f in other_torch_builds(ctx):
        assert f.fix and "pip uninstall -y" in f.fix
    run_checks(facts)


URL_PIECES = st.sampled_from(
    [
        "https://data.pyg.org/whl/torch-2.0.0%2Bcu118/",
        "torch_scatter-",
        "2.1.2%2Bpt20cu118",
        "-cp310",
        "-cp310",
        "-linux_x86_64",
        ".whl",
        "/",
        "-",
        "%2B",
        "@",
        " ",
        "git+",
    ]
)


@settings(FUZZ, deadline=None, max_examples=max(10, EXAMPLES // 3))
@given(name=st.sampled_from(["torch-scatter", "torch_scatter", "x"]), parts=st.lists(URL_PIECES))
def test_direct_urls_read_only_their_wheels_version(name: str, parts: list[str]) -> None:
    url = "".join(parts)
    draft = Draft()
    parse_pip_freeze(f"{name} @ {url}\n", draft)
    for version in draft.packages.values():  # a version read is in the URL, decoded
        assert version in url.replace("%2B", "+")


ADVERSARIAL = [
    ("1.0+", "torch1.", "x"),
    ("1.0+", "cu1torch", "9."),
    ("1.0+pt", "1", "cux"),
    ("1.0+", "cuda1.", "1torch"),
]


@pytest.mark.parametrize("case", ADVERSARIAL, ids=lambda c: repr(c[1])[:24])
def test_a_long_adversarial_label_stays_in_bound(case: tuple[str, str, str]) -> None:
    readers = [functools.partial(built_for, name) for name in ("mindietorch", "torch-scatter")]
    assert_in_bound(readers, adversarial_line(case), repr(case))


@pytest.mark.parametrize(
    "case", [("a @ https://x/", "a-1-", ".whl"), ("a @ ", "/a_1", "-p-a-b.wh")], ids=str
)
def test_a_long_adversarial_url_stays_in_bound(case: tuple[str, str, str]) -> None:
    line = adversarial_line(case, 8000)  # longer lines are skipped before any reader
    assert_in_bound([lambda text: parse_pip_freeze(text, Draft())], line, f"pip freeze on {case!r}")
