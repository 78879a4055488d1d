"""Other tools' environment reports, read as the collect_env facts they hold (issue 21).

People paste whatever their tool prints: Hugging Face's "- Key: value" lists
(envlock/pasted/hfenv.py, also an application's generated System Info list and a list written
by hand), the checklist of PyTorch's old bug-report template and its copies, filled in by hand
(envlock/pasted/templenv.py), xFormers' load warning and `python -m xformers.info`
(envlock/pasted/xformers_info.py), and launch logs that print torch's build
(envlock/pasted/launchlog.py: SD.Next, kohya_ss, Unsloth's banner, ComfyUI's start-up and
System Information), stable-diffusion-webui's footer, version check and Sysinfo
(envlock/pasted/webui.py), DeepSpeed's ds_report (envlock/pasted/dsreport.py), Ultralytics'
device line and Lightning's collect_env_details (envlock/pasted/trainerenv.py), `yolo checks`'
table (envlock/pasted/yolochecks.py), pip's own install output (envlock/pasted/pipout.py),
conda's package plan (envlock/pasted/condaplan.py),
`python -m bitsandbytes` (envlock/pasted/bnbdiag.py), `pip show` (envlock/pasted/pipshow.py), OpenMMLab's
collect_env printed as a dict repr (envlock/pasted/mmrepr.py), a Python session's prints (envlock/pasted/repl.py)
and the refusals of torch and NVIDIA's containers that state a fact
(envlock/pasted/libmessages.py), a number format (bf16, tf32) refused by vLLM, transformers,
torch's autocast, xFormers, FlashAttention or Accelerate (envlock/pasted/precmsg.py),
DeepSpeed's refusal of its prebuilt ops (envlock/pasted/dscheck.py) and torch's dispatcher
refusing a family member's operator on CUDA (envlock/pasted/dispatcher.py); what the
reporter states in their own words (envlock/pasted/prose.py: torch's version, the GPU) only
supplements them (`prose.supplement`: what no reader stated, never against it). Each reader turns
what is unambiguous into the collect_env lines it is (`PyTorch version: ...`, `GPU 0: ...`);
they are appended to the text, which the collect_env readers then read as ever (a real
collect_env line wins over a derived one: the first copy of a key is kept). A text that is
collect_env or sglang's check_env already gets no derived lines, only the extension facts and
notes.

NCCL's shared-memory failure in a log (envlock/pasted/nccl_log.py), a hand-written list's
"Platform: docker" (envlock/pasted/hfenv.container_runtime), the dynamic loader's glibc refusals
(envlock/pasted/glibcneed.py) and nvcc's refused architectures (envlock/pasted/nvccarch.py) are
set in the draft directly (`_system_facts`).
"""

from __future__ import annotations

from collections.abc import Callable

from envlock.pasted.bnbdiag import read_bnb_diagnostics
from envlock.pasted.condaplan import read_conda_plan
from envlock.pasted.cppext import read_build_messages
from envlock.pasted.depsjson import read_versions_object
from envlock.pasted.dispatcher import read_dispatcher
from envlock.pasted.draft import Draft
from envlock.pasted.dscheck import read_ds_check
from envlock.pasted.dsreport import read_ds_report
from envlock.pasted.extsymbol import read_ext_symbols
from envlock.pasted.glibcneed import read_glibc_refusals
from envlock.pasted.hfenv import container_runtime, read_env_list
from envlock.pasted.launchlog import read_launch_log
from envlock.pasted.libbuilt import read_lib_built, read_torch_cuda
from envlock.pasted.libmessages import read_lib_messages
from envlock.pasted.mmrepr import read_mm_repr
from envlock.pasted.nccl_log import read_nccl_log
from envlock.pasted.nvccarch import read_nvcc_refusals
from envlock.pasted.pipout import read_pip_output
from envlock.pasted.precmsg import read_precision_refusals
from envlock.pasted.prose import read_prose, supplement
from envlock.pasted.repl import read_repl
from envlock.pasted.templenv import read_template
from envlock.pasted.toolreading import ToolReading
from envlock.pasted.torch_import import read_torch_import
from envlock.pasted.trainerenv import read_lightning, read_ultralytics
from envlock.pasted.webui import read_webui
from envlock.pasted.xformers_info import read_xformers
from envlock.pasted.yolochecks import read_yolo_checks

READERS: tuple[Callable[[str], ToolReading | None], ...] = (
    read_env_list,
    read_template,
    read_xformers,
    read_launch_log,
    read_webui,
    read_ds_report,
    read_ultralytics,
    read_yolo_checks,
    read_lightning,
    read_bnb_diagnostics,
    read_pip_output,  # pip's install lines and `pip show`
    read_mm_repr,  # OpenMMLab's collect_env printed as a dict/OrderedDict repr
    read_versions_object,  # an app's versions as a JSON object or dict (InvokeAI's)
    read_conda_plan,  # conda's package plan (NEW/UPDATED lines, the download table, mamba's)
    read_repl,  # a Python session's prints (torch's version and CUDA, the GPUs' properties)
    read_lib_messages,  # torch's and the NGC banner's own refusals
    read_precision_refusals,  # a number format refused by any library (after read_repl's GPUs)
    read_ds_check,  # DeepSpeed's refusal of its prebuilt ops (another torch, another CUDA)
    read_dispatcher,  # torch's dispatcher: a family member's operator with no CUDA kernel
    read_ext_symbols,  # an extension's import failing on a torch C++ symbol
    read_lib_built,  # a library's own words on what it was built for (CUDA, torch, archs)
    read_torch_import,  # last: its 'PyTorch version: N/A' never hides a version another read
)


def read_tools(text: str) -> ToolReading | None:
    """Every tool reader's findings in `text`, merged, with what the reporter's own words add
    to them (before the last reader's: torch_import's 'N/A' never hides a version); None when
    none found anything."""
    *readers, last = READERS
    found = [r for r in (read(text) for read in readers) if r]
    found += [r for r in (supplement(found, read_prose(text)), last(text)) if r]
    if not found:
        return None
    merged = found[0]
    for other in found[1:]:
        merged.merge(other)
    return merged


def parse_tool_report(text: str, draft: Draft, parse: Callable[[str, Draft], int]) -> int:
    """`text` into `draft` through `parse` (the collect_env reader, its count), with the
    collect_env lines other tools' reports in it hold appended; extensions and notes too;
    the system facts a log or a hand-written list states (a container, NCCL's /dev/shm)."""
    read = _parse_with_tools(text, draft, parse) + _system_facts(text, draft)
    # an extension build's CUDA message states torch's CUDA without its version: set directly
    # as a library's CUDA check states torch's CUDA alone (pasted/libbuilt.py): set directly
    return read + read_build_messages(text, draft) + read_torch_cuda(text, draft)


def _system_facts(text: str, draft: Draft) -> int:
    """The container a list names, NCCL's shared-memory failure, the loader's glibc refusals
    and nvcc's refused architectures (pasted/glibcneed.py, pasted/nvccarch.py): how many."""
    runtime = container_runtime(text)
    if runtime is not None and draft.system.get("container") is None:
        draft.system["container"] = {
            "detected": True,
            "runtime": runtime,
            "kubernetes": runtime == "kubernetes",
            "evidence": [f"the report's own list says the platform is {runtime}"],
        }
    found = read_nccl_log(text, draft) + read_glibc_refusals(text, draft)
    return (runtime is not None) + found + read_nvcc_refusals(text, draft)


def _parse_with_tools(text: str, draft: Draft, parse: Callable[[str, Draft], int]) -> int:
    from envlock.pasted.check_env import looks_like_check_env
    from envlock.pasted.collect_env import looks_like_collect_env

    reading = read_tools(text)
    if reading is None:
        return parse(text, draft)
    report = looks_like_collect_env(text) or looks_like_check_env(text)
    lines = [] if report else reading.collect_env_lines()
    read = parse("\n".join([text, "", *lines]) + "\n" if lines else text, draft)
    for note in reading.notes:
        draft.note(note)
    if not report:
        for gpu in draft.gpus or []:
            draft.set_default(gpu, "compute_capability", reading.capabilities.get(gpu["index"]))
    for ext in reading.extensions:
        if not any(e.get("file") == ext["file"] for e in draft.extensions):
            draft.extensions.append(ext)
    return read + len(reading.extensions)
