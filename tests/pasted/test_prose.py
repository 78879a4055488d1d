"""Facts a reporter writes in their own words (envlock/pasted/prose.py, supplemented through
envlock/pasted/toolenv.py; issue 21, session 11): torch's version right after a torch word (a
variant tag a few words on), a GPU table name led by its vendor or series word; nothing from a
question, a plan or a command, nothing stated twice differently, nothing against the report's
own structured lines."""

from __future__ import annotations

import json

import pytest

from envlock.checks import run_checks
from envlock.checks.triage import top_finding
from envlock.errors import FactsError
from envlock.findings import Severity
from envlock.matrix import load_matrix
from envlock.pasted import facts_from_texts
from envlock.pasted.prose import read_prose, supplement
from envlock.pasted.toolreading import ToolReading
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"
CORPUS = json.loads((CE / "corpus.json").read_text())["reports"]

# textgen-369's prose, ultralytics-227's hand-written note (the tuning samples of the class)
TEXTGEN = (
    "I am running windows 10, and ran the install script with no errors, however running the "
    "start-webui script it wont find my gpu (RTX 3060 Ti) running conda list reveals no "
    "installed cuda package even though I selected Nvidia when installing.\n"
    "Also checking the torch version reveals 2.0.0+cpu"
)
NOTE = (
    "@maintainer No. it is returning False\nCUDA Version: 11.6\nPython 3.8.15\npytorch 1.13.1+cpu"
)


def _read(text: str) -> tuple[str | None, list[str], str | None]:
    """(the top finding, the errors, torch's version) of the text read as a report; the top
    'unreadable' where nothing is read."""
    try:
        facts = facts_from_texts(collect_env=text)
    except FactsError:
        return "unreadable", [], None
    findings = run_checks(facts)
    top = top_finding(findings)
    errors = [f.check_id for f in findings if f.severity is Severity.ERROR]
    return (top.check_id if top else None), errors, facts.torch.version


# ---------------------------------------------------------------- what is read
@pytest.mark.parametrize(
    "text",
    [
        TEXTGEN,
        TEXTGEN.lower(),
        TEXTGEN.replace("2.0.0+cpu", "`2.0.0+cpu`"),
        # wrapped mid-sentence, and the GPU glued to its series word
        "it wont find my gpu (rtx3060ti)\nAlso checking the torch\nversion reveals 2.0.0+cpu",
        "我的显卡是 NVIDIA GeForce RTX 3060 Ti\uff0ctorch 版本是 2.0.0+cpu\uff0c用不了 GPU",
        "- **GPU**: GeForce RTX 3060 Ti (8GB)\n- **PyTorch**: 2.0.0+cpu",
        "Windows 10 | RTX 3060 Ti | torch-2.0.0+cpu",
    ],
    ids=["textgen-369", "lower", "backquoted", "wrapped", "chinese", "bold-list", "table"],
)
def test_a_cpu_torch_and_a_gpu_stated_in_prose_are_a_cpu_build_error(text: str) -> None:
    top, errors, version = _read(text)
    assert (top, version) == ("EL-TORCH-CPU-ONLY", "2.0.0+cpu")
    assert errors == ["EL-TORCH-CPU-ONLY"]


def test_a_hand_written_cpu_torch_alone_is_the_cpu_build_warning() -> None:
    # ultralytics-227: 'pytorch 1.13.1+cpu' among prose, no GPU named: no error, the warning
    top, errors, version = _read(NOTE)
    assert (top, errors, version) == ("EL-TORCH-CPU-ONLY", [], "1.13.1+cpu")


def test_a_list_gpu_beside_pip_s_torch_is_read() -> None:
    # Vonovox-14: '- **GPU:** NVIDIA RTX 4080' beside pip's untagged Windows torch
    facts = facts_from_texts(collect_env=(CE / "Vonovox-14.txt").read_text())
    assert [g.name for g in facts.driver.gpus or []] == ["NVIDIA RTX 4080"]
    _, errors, _ = _read((CE / "Vonovox-14.txt").read_text())
    assert errors == ["EL-TORCH-CPU-ONLY"]


@pytest.mark.parametrize(
    ("sentence", "version"),
    [
        ("torch Version: 2.5.1", "2.5.1"),  # F5-TTS-404's hand list
        ("torch-2.1.1", "2.1.1"),  # TTS-3313's
        ("torch:2.1.1(通过install.sh安装)", "2.1.1"),  # GPT-SoVITS-1048's
        ("I'm on PyTorch v2.3.0+cu121 now", "2.3.0+cu121"),
        ("the pytorch version is 2.4.1+rocm6.1", "2.4.1+rocm6.1"),
        ("torch 2.0.0. The torch build is 2.0.0+cpu.", "2.0.0+cpu"),  # one release, its tag
    ],
)
def test_torch_s_version_right_after_a_torch_word(sentence: str, version: str) -> None:
    reading = read_prose(sentence)
    assert reading is not None and reading.fields == {"PyTorch version": version}


@pytest.mark.parametrize(
    ("sentence", "gpu"),
    [
        ("I use rtx4090 on windows 11 as well", "NVIDIA RTX 4090"),  # MiniGPT-4-50
        ("Running on an NVIDIA A100-SXM4-80GB", "NVIDIA A100"),
        ("GPU: GTX 1080 Ti", "NVIDIA GTX 1080 Ti"),
        ("显卡\uff1aTesla M40", "NVIDIA M40"),
        ("two NVIDIA GeForce RTX 3090 cards", "NVIDIA RTX 3090"),
    ],
)
def test_a_gpu_by_its_table_name_and_vendor_word(sentence: str, gpu: str) -> None:
    reading = read_prose(sentence)
    assert reading is not None and reading.gpus == {0: gpu}
    assert load_matrix().gpu_by_name(gpu) is not None


# ---------------------------------------------------------------- what is not
@pytest.mark.parametrize(
    "text",
    [
        "Should I use torch 2.0.0+cpu with my RTX 3060 Ti?",
        "does it work with pytorch 2.0.0+cpu on an RTX 3060 Ti",
        "I will install torch 2.0.0+cpu on my RTX 3060 Ti",
        "It needs torch 2.0.0+cpu if you have an RTX 3060 Ti",
        "pip install torch==2.0.0+cpu --index-url https://download.pytorch.org/whl/cpu",
        "Downloading torch-2.0.0+cpu-cp310-cp310-win_amd64.whl (172.3 MB)",
        # an upgrade told: two torches, neither is read
        "I had torch 1.13.1+cpu. Now torch 2.0.0+cu118 is installed, RTX 3060 Ti",
        # xFormers' build and torch's in one sentence
        "PyTorch 2.1.2+cu121 with CUDA 1201 (you have 2.1.2+cpu)",
        # the torch word is another thing's object; another member's version
        "CUDA used to build PyTorch: 12.8",
        "torchvision 0.15.1+cpu",
        "torch.cuda.is_available() 2.0.0+cpu",
    ],
)
def test_a_question_a_plan_a_command_or_two_versions_read_no_torch(text: str) -> None:
    reading = read_prose(text)
    assert reading is None or "PyTorch version" not in reading.fields


@pytest.mark.parametrize(
    "sentence",
    [
        "A100",  # no vendor or series word
        "RTX 30 series",  # no model of the table
        "works on my RTX 3090 but not on the RTX 4090",  # two models: which is this one?
        "is an RTX 5090 supported?",
        "I want to buy an RTX 5090",
        "see https://example.com/nvidia-rtx-4090-review",
    ],
)
def test_no_gpu_without_one_stated_model(sentence: str) -> None:
    reading = read_prose(sentence)
    assert reading is None or reading.gpus == {}


# ---------------------------------------------------------------- supplement, never against
def _reading(fields: dict[str, str], gpus: dict[int, str] | None = None) -> ToolReading:
    return ToolReading(fields=dict(fields), gpus=dict(gpus or {}))


def test_the_prose_version_gives_way_to_another_reader_s_and_to_a_disagreeing_build() -> None:
    prose = read_prose("pytorch 2.0.0+cpu, GeForce RTX 3060 Ti")
    assert prose is not None
    added = supplement([_reading({"PyTorch version": "2.1.0+cu118"})], prose)
    assert added is not None and (added.fields, added.gpus) == ({}, {0: "NVIDIA RTX 3060 Ti"})
    for cuda in ({"CUDA used to build PyTorch": "11.8"}, {"Is CUDA available": "True"}):
        added = supplement([_reading(cuda)], prose)
        assert added is not None and "PyTorch version" not in added.fields
    # a torch that failed to import ('N/A') hides no version
    added = supplement([_reading({"PyTorch version": "N/A"})], prose)
    assert added is not None and added.fields == {"PyTorch version": "2.0.0+cpu"}
    # torch's own refusal agrees with +cpu: read beside it
    added = supplement([_reading({"CUDA used to build PyTorch": "None"})], prose)
    assert added is not None and added.fields == {"PyTorch version": "2.0.0+cpu"}


def test_the_prose_gpu_needs_a_torch_fact_and_no_gpu_read_elsewhere() -> None:
    prose = read_prose("my card is an RTX 3060 Ti")
    assert prose is not None and supplement([], prose) is None
    assert supplement([_reading({}, {0: "NVIDIA GeForce RTX 4090"})], prose) is None
    added = supplement([_reading({"CUDA used to build PyTorch": "None"})], prose)
    assert added is not None and added.gpus == {0: "NVIDIA RTX 3060 Ti"}


def test_a_structured_build_wins_over_a_prose_tag_in_a_report() -> None:
    text = "torch 2.0.0+cpu is what I have\nGPU 0: NVIDIA GeForce RTX 3060 Ti\n" + (
        "Torch not compiled with CUDA enabled"
    )
    top, _, version = _read(text)
    assert (top, version) == ("EL-TORCH-CPU-ONLY", "2.0.0+cpu")
    # pip's own line says +cu118: the prose '+cpu' is another moment's
    pip = "Successfully installed torch-2.0.0+cu118\nmy old torch was 2.0.0+cpu, RTX 3060 Ti"
    assert _read(pip)[2] == "2.0.0+cu118"


# ---------------------------------------------------------------- the corpus agrees
@pytest.mark.parametrize("entry", CORPUS, ids=lambda e: e["file"])
def test_where_a_report_states_torch_and_gpus_the_prose_reading_agrees(
    entry: dict[str, str],
) -> None:
    """Every tuning report's own lines (collect_env, a tool's table) against what the prose
    reader takes from the same text: the same torch release and one of the same GPU models."""
    text = (CE / entry["file"]).read_text()
    prose = read_prose(text)
    if prose is None or "unreadable" in entry:
        return
    try:
        facts = facts_from_texts(collect_env=text)
    except FactsError:
        return
    version = prose.fields.get("PyTorch version")
    if version and facts.torch.version:
        assert version.partition("+")[0] == facts.torch.version.partition("+")[0]
    matrix = load_matrix()
    named = {m.name for g in facts.driver.gpus or [] if (m := matrix.gpu_by_name(g.name or ""))}
    if prose.gpus and named:
        model = matrix.gpu_by_name(prose.gpus[0])
        assert model is not None and model.name in named


# ---------------------------------------------------------------- hand-written lists
def test_a_list_s_own_pin_line_is_a_stated_version_not_a_command() -> None:
    # flash-attention-443: '# torch==2.0.0' and '# NVIDIA A100-SXM4-80GB' in a repro's header
    text = (CE / "flash-attention-443.txt").read_text()
    assert _read(text)[::2] == (None, "2.0.0")
    reading = read_prose("# Tested with\n# torch==2.0.0\n# NVIDIA A100-SXM4-80GB")
    assert reading is not None and reading.fields == {"PyTorch version": "2.0.0"}
    assert read_prose("pip install torch==2.0.0 # NVIDIA A100") is None


@pytest.mark.parametrize("note", ["CPU toolkit", "cpu", "CPU only"])
def test_a_hand_written_cpu_note_beside_torch_s_version_is_the_cpu_build(note: str) -> None:
    # pyg-1330: '* PyTorch version: 1.5.0 (CPU toolkit)' on Windows 10
    text = f"## Environment\n\n* OS: Windows 10\n* PyTorch version: 1.5.0 ({note})\n"
    assert _read(text) == ("EL-TORCH-CPU-ONLY", [], "1.5.0")


@pytest.mark.parametrize("note", ["GPU", "True", "cpu and cuda"])
def test_no_cpu_build_from_a_note_that_names_a_gpu(note: str) -> None:
    text = f"* OS: Windows 10\n* PyTorch version: 1.5.0 ({note})\n"
    assert _read(text)[0] != "EL-TORCH-CPU-ONLY"


# ---------------------------------------------------------------- the install a sentence states
def test_the_pin_of_the_command_torch_was_installed_with_is_its_version() -> None:
    # walk-these-ways-72: 'pytorch is installed using "pip3 install torch==1.10.0+cu113 ..."'
    # beside an RTX 4090 and NVRTC's refusal of its architecture
    text = (CE / "walk-these-ways-72.txt").read_text()
    assert _read(text)[::2] == ("EL-ARCH-NVRTC-UNSUPPORTED", "1.10.0+cu113")
    said = 'torch was installed with "pip install torch==2.1.0+cu118 torchvision==0.16.0+cu118"'
    reading = read_prose(said)
    assert reading is not None and reading.fields == {"PyTorch version": "2.1.0+cu118"}


@pytest.mark.parametrize(
    "text",
    [
        "I will get torch installed with pip install torch==2.0.0+cpu",
        "Is torch installed with pip install torch==2.0.0+cpu?",
        "torch was installed with pip install torch==2.0.0+cpu torch==2.1.0+cpu",
    ],
)
def test_no_pin_from_a_planned_asked_or_doubled_install(text: str) -> None:
    assert read_prose(text) is None


def test_a_quoted_command_is_left_out_of_its_sentence() -> None:
    # chatterbox-95: "When installed with 'pip install chatterbox-tts' torch installed w/o gpu
    # support." states what happened; the command it quotes states nothing
    reading = read_prose("When installed with 'pip install torch==2.0.0+cpu' my RTX 3060 Ti idles.")
    assert reading is not None and (reading.fields, reading.gpus) == ({}, {0: "NVIDIA RTX 3060 Ti"})


def test_an_issue_form_s_heading_and_its_answer_after_a_blank_line() -> None:
    # DAMO-YOLO-57: GitHub's issue form renders '### PyTorch version', a blank line, '1.7.0'
    text = "### PyTorch version\n\n1.7.0\n\n### torchvision version\n\n0.8.1"
    indented = "\n".join("    " + line for line in text.split("\n"))
    for layout in (text, text.replace("\n\n", "\n"), indented):
        reading = read_prose(layout)
        assert reading is not None and reading.fields == {"PyTorch version": "1.7.0"}
    assert read_prose("### PyTorch version\n\n_No response_\n") is None


def test_collect_env_s_own_package_rows_are_its_reader_s() -> None:
    # pytorch-72957: '[conda] pytorch    1.10.2    py3.7_cuda10.2_cudnn7.6.5_0    pytorch' read
    # the same whatever the blanks (a rendered page collapses them): by collect_env's reader
    rows = "[pip3] torch==1.10.2\n[conda] pytorch                   1.10.2          py3.7_cuda10.2"
    assert read_prose(rows) is None
    assert read_prose("\n".join(" ".join(row.split()) for row in rows.split("\n"))) is None


# --------------------------------- another time, another machine, a change offered (V1 F1, F2)
CONTROLS = FIXTURES / "prose_controls"


@pytest.mark.parametrize(
    "text",
    [
        "I used to have torch 2.0.1+cpu on my RTX 3060.",
        "Previously torch was 2.0.1+cpu on this RTX 3060.",
        "My friend's PC has torch 2.0.1+cpu and an RTX 3060.",
        "My coworker\u2019s box runs torch 2.0.1+cpu with an RTX 3060.",
        "The old server had torch 2.0.1+cpu; that was fixed.",
        "Our test environment: RTX 3060 + CUDA 11.8 + pytorch 2.0.1.",
        "I moved from torch 2.0.1+cpu to the CUDA build on my RTX 3060.",
        "We went from pytorch 1.13.1 to 2.0.1 on the RTX 3060.",
    ],
)
def test_a_sentence_of_another_time_or_machine_states_nothing(text: str) -> None:
    assert read_prose(text) is None


@pytest.mark.parametrize(
    ("name", "read"),
    [
        # a maintainer's reference setup (ActionDetection-AFSD#44)
        ("ActionDetection-AFSD-44.txt", None),
        # "I upgraded from torch 1.6.0 to 1.7.0": the old one was read (segmentation_models#282)
        ("segmentation_models.pytorch-282.txt", None),
        # a commenter's fix in a code block under "should be modified ... to sort this out" (WPFS#3)
        ("WPFS-3.txt", None),
        # a requirements diff's added line ('+torch==2.5.1+cu121', keras-hub PR #2087's review)
        ("keras-hub-2087.txt", None),
    ],
)
def test_a_real_thread_of_another_time_machine_or_proposal_reads_no_torch(
    name: str, read: str | None
) -> None:
    reading = read_prose((CONTROLS / name).read_text())
    assert (reading.fields.get("PyTorch version") if reading else None) == read


def test_a_pin_list_under_words_that_do_not_offer_it_is_read() -> None:
    listed = "My environment:\n```\ntorch==2.0.1+cpu\n```\nThe RTX 3060 is idle."
    reading = read_prose(listed)
    assert reading is not None and reading.fields == {"PyTorch version": "2.0.1+cpu"}
    for offered in ("The fix: change it to", "You should pin", "Try this instead:"):
        reading = read_prose(listed.replace("My environment:", offered))
        assert reading is not None and reading.fields == {}  # the GPU alone
    # a unified diff's '+' line is no list bullet; a list's '+ ' is
    assert read_prose("```diff\n+torch==2.0.1+cpu\n```") is None
    bullet = read_prose("+ torch==2.0.1+cpu")
    assert bullet is not None and bullet.fields == {"PyTorch version": "2.0.1+cpu"}


def test_requirements_that_installed_torch_state_it_but_a_requirements_spec_does_not() -> None:
    pulled = "The CPU wheel (torch 2.1.0+cpu) got pulled in by requirements.txt on my RTX 4090."
    reading = read_prose(pulled)
    assert reading is not None and reading.fields == {"PyTorch version": "2.1.0+cpu"}
    # exllamav2#434: a file's specifier, not what is installed
    assert read_prose("the requirements.txt says >=torch 2.2.0 for the wheels") is None
    assert read_prose("# torch in requirements.txt breaks the UI (torch 2.9.0)") is None
