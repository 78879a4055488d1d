"""ChatGLM's issue template (ChatGLM-6B, ChatGLM2-6B: '- OS:', '- Python:', '- Transformers:',
'- PyTorch:', '- CUDA Support (`python -c "import torch; print(torch.cuda.is_available())"`)
:') read by envlock/pasted/templenv.py (issue 21): ChatGLM2-6B-251 left PyTorch and
Transformers empty and typed 'Ture': it reads the OS and CUDA available, no torch, and no
error; an empty field reads nothing; a filled one (ChatGLM-6B-343's False beside 'Torch not
compiled with CUDA enabled') reads as written."""

from __future__ import annotations

from envlock.pasted import facts_from_texts
from envlock.pasted.templenv import read_template
from tests.pasted.test_tool_reports import _errors, _report, _top

FILLED = """\
### Environment

```markdown
- OS: Ubuntu 20.04
- Python: 3.11
- Transformers: 4.30.2
- PyTorch: 2.0.1
- CUDA Support (`python -c "import torch; print(torch.cuda.is_available())"`) : True
```
"""


def test_chatglm2_251_reads_what_it_states_and_no_error() -> None:
    text = _report("ChatGLM2-6B-251.txt")
    reading = read_template(text)
    assert reading is not None
    assert reading.fields == {"OS": "ubuntu", "Is CUDA available": "True"}
    assert reading.packages == {}
    assert facts_from_texts(collect_env=text).torch.version is None
    assert _errors(text) == []


def test_a_filled_template_reads_each_field() -> None:
    reading = read_template(FILLED)
    assert reading is not None
    assert reading.fields["PyTorch version"] == "2.0.1"
    assert reading.fields["Is CUDA available"] == "True"
    assert reading.packages == {"transformers": "4.30.2"}
    assert _errors(FILLED) == []


def test_the_answer_is_read_as_written() -> None:
    false = FILLED.replace(": True", ": False")
    reading = read_template(false)
    assert reading is not None and reading.fields["Is CUDA available"] == "False"
    blank = FILLED.replace(": True", ":")
    reading = read_template(blank)
    assert reading is not None and "Is CUDA available" not in reading.fields
    assert _top(_report("ChatGLM-6B-343.txt")) == "EL-TORCH-CPU-ONLY"


def test_the_support_line_without_its_command_is_no_template() -> None:
    assert read_template("- OS: ubuntu\n- CUDA Support: True\n") is None


def test_a_backtick_inside_a_version_is_no_mark() -> None:
    # a code span's backticks go (ChatGLM's answers, PyTorch's template alike); one inside a
    # version is no code span (D3's full-depth fuzz of templenv: '1`.7.0' was read as 1.7.0)
    assert read_template(" - PyTorch Version (e.g., 1.0): `1.7.0`") is not None
    assert read_template(" - PyTorch Version (e.g., 1.0): 1`.7.0") is None
