"""envlock report: paste-ready Markdown and JSON, anonymized, and a JSON round trip into
`doctor --facts` that gives the same findings."""

from __future__ import annotations

import getpass
import json
import socket
from pathlib import Path

from markdown_it import MarkdownIt

from envlock.report.anonymize import anonymize
from envlock.report.markdown import cell
from tests.conftest import FIXTURES, clean_env, run_envlock

PLANTED_UUID = "GPU-12345678-abcd-ef01-2345-6789abcdef01"
PLANTED = {
    "CUDA_VISIBLE_DEVICES": PLANTED_UUID,
    "PIP_EXTRA_INDEX_URL": "https://alice:plantedPass42@pypi.example.org/simple",
    "TRANSFORMERS_CACHE": "/data/hf_aBcDeFgHiJkLmNoPqRsTuVwXyZ123456",
    "TORCH_HOME": "/home/plantuser42/.cache/torch",
    "HF_TOKEN": "hf_ZZZZZZZZZZZZZZZZZZZZZZZZZZZZ",
    "NCCL_DEBUG": "INFO",
}
SECRETS = ("plantedPass42", "hf_aBcDeFgHiJkLmNoPqRsTuVwXyZ123456", "hf_ZZZZZZZZZZZZ", "plantuser42")


def _identifying(text: str) -> list[str]:
    found = [s for s in SECRETS if s in text]
    found += [u for u in ("12345678-abcd-ef01-2345-6789abcdef01",) if u in text.lower()]
    home = str(Path.home())
    if home != "/" and home in text:
        found.append(home)
    host = socket.gethostname()
    if f" {host} " in f" {text} ".replace("\n", " ") or f"{host}." in text:
        found.append(host)
    user = getpass.getuser()
    if f"/home/{user}" in text or f"/Users/{user}" in text:
        found.append(user)
    return found


def test_report_on_the_cuda_venv_is_anonymized_markdown(cuda_python: Path) -> None:
    proc = run_envlock(["report", "--python", str(cuda_python)], env=clean_env(**PLANTED))
    assert proc.returncode == 0, proc.stderr
    md = proc.stdout
    assert _identifying(md) == []
    assert len(md.splitlines()) < 150
    tokens = MarkdownIt("commonmark").enable("table").parse(md)
    types = [t.type for t in tokens]
    assert "table_open" in types
    blocks = [t.content for t in tokens if t.type == "html_block"]
    assert sum(b.count("<details>") for b in blocks) >= 3
    assert sum(b.count("</details>") for b in blocks) == sum(b.count("<details>") for b in blocks)
    html = MarkdownIt("commonmark").enable("table").render(md)
    assert "<script" not in html
    # what collect_env lacks is there: the cuDNN and NCCL torch loaded, its arch flags
    assert "cuDNN loaded by torch | 9." in md and "NCCL loaded by torch | 2." in md
    assert "sm\\_90" in md
    assert "NCCL_DEBUG=INFO" in md and "HF_TOKEN=<withheld>" in md


def test_no_anonymize_keeps_the_home_path(cuda_python: Path) -> None:
    proc = run_envlock(
        ["report", "--no-anonymize", "--format", "json", "--python", str(cuda_python)],
        env=clean_env(**PLANTED),
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    venv = str(cuda_python.parent.parent)
    assert venv in proc.stdout  # the real paths are kept
    assert doc["env"]["variables"]["CUDA_VISIBLE_DEVICES"] == PLANTED_UUID
    assert "plantedPass42" not in proc.stdout  # secrets are masked at the probe regardless


def test_json_round_trips_into_doctor_with_the_same_findings(
    cuda_python: Path, tmp_path: Path
) -> None:
    env = clean_env(**PLANTED)
    rep = run_envlock(["report", "--format", "json", "--python", str(cuda_python)], env=env)
    assert rep.returncode == 0, rep.stderr
    assert _identifying(rep.stdout) == []
    path = tmp_path / "report.json"
    path.write_text(rep.stdout)
    again = run_envlock(["doctor", "--facts", str(path), "--format", "json"], env=env)
    direct = run_envlock(["doctor", "--python", str(cuda_python), "--format", "json"], env=env)
    assert again.returncode == direct.returncode, again.stderr + direct.stderr

    def ids(out: str) -> list[tuple[str, str]]:
        return [(f["id"], f["severity"]) for f in json.loads(out)["findings"]]

    embedded = [
        (f["id"], f["severity"])
        for f in json.loads(rep.stdout)["envlock_report"]["doctor"]["findings"]
    ]
    assert ids(again.stdout) == ids(direct.stdout) == embedded


def test_pasted_report_renders_and_round_trips(tmp_path: Path) -> None:
    src = FIXTURES / "collect_env" / "pytorch-150733.txt"
    md = run_envlock(["report", "--collect-env", str(src)])
    assert md.returncode == 0, md.stderr
    assert "**Top finding** `EL-ARCH-UNSUPPORTED`" in md.stdout
    assert "/home/mm" not in md.stdout  # the user's conda path in torch's warning
    js = run_envlock(["report", "--format", "json", "--collect-env", str(src)])
    path = tmp_path / "r.json"
    path.write_text(js.stdout)
    again = run_envlock(["doctor", "--facts", str(path), "--format", "json"])
    assert again.returncode == 1
    assert "EL-ARCH-UNSUPPORTED" in {f["id"] for f in json.loads(again.stdout)["findings"]}


def test_anonymizer_is_consistent_and_covers_keys() -> None:
    doc = {
        "driver": {
            "gpus": [{"uuid": PLANTED_UUID}, {"uuid": "GPU-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"}]
        },
        "env": {"CUDA_VISIBLE_DEVICES": PLANTED_UUID + ",MIG-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"},
        "paths": ["/home/bob/venv/lib", "C:\\Users\\carol\\AppData", "/Users/dave/x"],
        "hostkeys": {"gpu-node-007.example.org": "gpu-node-007"},
        "token": "export GH=ghp_abcdefghijklmnopqrstuvwxyz0123",
    }
    out = anonymize(doc, hostnames=["gpu-node-007.example.org", "gpu-node-007"])
    text = json.dumps(out)
    for gone in ("12345678", "aaaaaaaa", "bob", "carol", "dave", "gpu-node-007", "ghp_"):
        assert gone not in text
    u1, u2 = (g["uuid"] for g in out["driver"]["gpus"])
    assert u1 != u2 and out["env"]["CUDA_VISIBLE_DEVICES"].startswith(u1 + ",MIG-")
    assert out["paths"][0] == "/home/user/venv/lib"


def test_cells_cannot_open_tags_or_cells() -> None:
    assert cell("<script>|x`") == "&lt;script&gt;\\|x\\`"
    assert cell(None) == "—"
    assert "\n" not in cell("a\nb")


def test_markdown_reads_a_value_of_another_shape_as_missing() -> None:
    """The document is read leniently: a section that is not an object (a hand-edited or
    truncated report) renders as not observed, never as a traceback."""
    from envlock.report.markdown import markdown_lines

    facts = json.loads((FIXTURES / "facts.cuda-venv+h100-driver-580-replayed.json").read_text())
    odd = {**facts, "torch": "2.14.1", "system": ["linux"], "cuda": {"libcuda": 7}}
    odd["driver"] = {**facts["driver"], "gpus": ["H100"]}
    doc = {"facts": odd, "doctor": {"summary": [], "findings": "none"}, "top": "EL-X"}
    text = "\n".join(markdown_lines(doc))
    assert "| torch | not installed |" in text
    assert "| GPUs | 1x unknown model |" in text
    assert "| OS | — |" in text and "Findings (0)" in text
