"""The GitHub Action (action.yml, issue 22 item 9a) run as the runner runs it.

Its `run:` steps execute in order under `bash --noprofile --norc -eo pipefail` (GitHub's
`shell: bash`) with the inputs' defaults, in a temporary workspace holding a lock, with
the variables the runner sets (RUNNER_TEMP, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY,
GITHUB_ACTION_PATH: a copy of this checkout) and the `if:` conditions and `${{ }}`
expressions evaluated. The `uses:` steps (setup-python, upload-artifact) cannot run here:
they are checked for what they are given (upload: the report the verify step wrote).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO, clean_env, run_envlock

ACTION = REPO / "action.yml"
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
# The job's interpreter (what the action verifies): the python3 beside this one.
JOB_PYTHON = Path(sys.executable).with_name("python3")


def load_action() -> dict[str, Any]:
    doc = yaml.safe_load(ACTION.read_text())
    assert isinstance(doc, dict)
    return doc


@dataclass
class Runner:
    """The part of the Actions runner a composite action's `run:` steps see."""

    workspace: Path
    action_path: Path
    temp: Path
    inputs: dict[str, str]
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    ran: list[str] = field(default_factory=list)
    logs: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)

    def value(self, expr: str) -> str:
        """One `${{ }}` operand: a context value, or a quoted literal."""
        if expr.startswith("'") and expr.endswith("'"):
            return expr[1:-1]
        parts = expr.split(".")
        if parts[0] == "inputs" and len(parts) == 2:
            return self.inputs[parts[1]]
        if parts[0] == "steps" and len(parts) == 4 and parts[2] == "outputs":
            return self.outputs.get(parts[1], {}).get(parts[3], "")
        if expr == "github.action_path":
            return str(self.action_path)
        raise AssertionError(f"the test runner does not know the expression {expr!r}")

    def evaluate(self, expr: str) -> str | bool:
        for op in ("!=", "=="):
            if op in expr:
                left, right = (self.value(s.strip()) for s in expr.split(op))
                return (left != right) if op == "!=" else (left == right)
        return self.value(expr.strip())

    def substitute(self, text: str) -> str:
        return EXPR.sub(lambda m: str(self.evaluate(m.group(1))), text)

    def run_step(self, step: dict[str, Any]) -> int:
        name = step["name"]
        condition = step.get("if")
        if condition is not None and self.evaluate(str(condition)) is not True:
            return 0
        self.ran.append(name)
        if "uses" in step:
            return 0  # checked by the tests, not run
        assert step.get("shell") == "bash", name
        files = {
            key: self.temp / f"{key.lower()}-{len(self.ran)}"
            for key in ("GITHUB_OUTPUT", "GITHUB_PATH")
        }
        env = clean_env(
            RUNNER_TEMP=str(self.temp),
            GITHUB_ACTION_PATH=str(self.action_path),
            GITHUB_WORKSPACE=str(self.workspace),
            GITHUB_STEP_SUMMARY=str(self.temp / "summary.md"),
            GITHUB_ACTIONS="true",
            CI="true",
            # the job's python3 first on PATH, as after a workflow's setup steps
            PATH=os.pathsep.join([str(JOB_PYTHON.parent), os.environ.get("PATH", "")]),
            **{k: str(v) for k, v in files.items()},
        )
        env.pop("PYTHONPATH")  # the action's envlock is the one it installs, not this checkout
        env.update({k: self.substitute(str(v)) for k, v in step.get("env", {}).items()})
        script = self.temp / "step.sh"
        script.write_text(step["run"])
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=self.workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        self.logs[name] = done
        if "id" in step and files["GITHUB_OUTPUT"].exists():
            lines = files["GITHUB_OUTPUT"].read_text().splitlines()
            self.outputs[step["id"]] = dict(ln.split("=", 1) for ln in lines if "=" in ln)
        return done.returncode

    def run_steps(self, steps: list[dict[str, Any]]) -> int:
        """The steps in order; the first failing step ends the job, as on GitHub."""
        for step in steps:
            status = self.run_step(step)
            if status != 0:
                return status
        return 0


def _copy_checkout(dest: Path) -> Path:
    """The action's checkout: this repository's files (tracked, and new ones not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for name in filter(None, listed):
        src = REPO / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


def _defaults(action: dict[str, Any]) -> dict[str, str]:
    return {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}


def _lock_job_python(workspace: Path) -> Path:
    lock = workspace / "envlock.lock.toml"
    done = run_envlock(["lock", "--python", str(JOB_PYTHON), "-o", str(lock)])
    assert done.returncode == 0, done.stderr
    return lock


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Runner:
    """The whole action, defaults, on a workspace whose lock matches the job's python."""
    action = load_action()
    workspace = tmp_path_factory.mktemp("workspace")
    _lock_job_python(workspace)
    runner = Runner(
        workspace=workspace,
        action_path=_copy_checkout(tmp_path_factory.mktemp("action")),
        temp=tmp_path_factory.mktemp("runner-temp"),
        inputs=_defaults(action),
    )
    status = runner.run_steps(action["runs"]["steps"])
    logs = {name: (p.stdout, p.stderr) for name, p in runner.logs.items()}
    assert status == 0, logs
    return runner


def _step(name: str) -> dict[str, Any]:
    steps: list[dict[str, Any]] = load_action()["runs"]["steps"]
    return next(s for s in steps if s["name"] == name)


@pytest.mark.slow
def test_a_matching_environment_passes_and_its_report_is_uploaded(installed: Runner) -> None:
    runner = installed
    assert runner.outputs["verify"]["exit-code"] == "0"
    assert "Fail on drift" not in runner.ran
    assert "Upload the envlock report" in runner.ran
    # what upload-artifact is given is the file the verify step wrote
    upload = _step("Upload the envlock report")
    report = runner.workspace / runner.substitute(upload["with"]["path"])
    assert report.name == "envlock-report.html"
    page = report.read_text()
    assert page.startswith("<!DOCTYPE html>") and "PASS" in page
    assert runner.substitute(upload["with"]["name"]) == "envlock-report"
    verify = runner.logs["envlock verify"].stdout
    assert "::error" not in verify and "envlock verify passed" in verify
    assert "envlock verify passed" in (runner.temp / "summary.md").read_text()
    # the installed envlock is this checkout's, in a venv of its own
    version = runner.logs["Install envlock"].stdout
    assert re.search(r"^envlock \d", version, re.M), version
    assert runner.outputs["install"]["envlock"].startswith(str(runner.temp))
    assert runner.outputs["target"]["python"] == str(JOB_PYTHON)


@pytest.mark.slow
def test_drift_is_annotated_reported_and_fails_the_job(installed: Runner, tmp_path: Path) -> None:
    """The same runner, a drifted lock: the verify step annotates, the report is still
    written and uploaded, and the last step fails the job with verify's exit code."""
    runner = installed
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    lock = _lock_job_python(workspace)
    text = lock.read_text()
    drifted, n = re.subn(r'^(pytest = )"[^"]+"$', r'\1"0.0.1"', text, count=1, flags=re.M)
    assert n == 1, "the lock names the job's pytest"
    lock.write_text(drifted)
    runner.workspace, runner.ran = workspace, []
    steps = load_action()["runs"]["steps"]
    later = steps[[s["name"] for s in steps].index("envlock verify") :]
    assert runner.run_steps(later) == 1
    assert runner.ran == ["envlock verify", "Upload the envlock report", "Fail on drift"]
    annotations = runner.logs["envlock verify"].stdout
    assert re.search(
        r"^::error file=envlock\.lock\.toml,title=envlock [^:]*pytest::", annotations, re.M
    )
    assert "FAIL" in (workspace / "envlock-report.html").read_text()
    assert "drift" in runner.logs["Fail on drift"].stdout


def test_the_uses_steps_are_pinned_actions_with_their_inputs() -> None:
    steps = load_action()["runs"]["steps"]
    uses = {s["uses"]: s for s in steps if "uses" in s}
    assert set(uses) == {"actions/setup-python@v5", "actions/upload-artifact@v4"}
    assert uses["actions/setup-python@v5"]["with"] == {
        "python-version": "${{ inputs.python-version }}"
    }
    assert uses["actions/upload-artifact@v4"]["with"]["path"] == "${{ inputs.report }}"


def test_no_expression_is_pasted_into_a_script() -> None:
    """Inputs reach the scripts as environment variables: an input holding `"; rm -rf ~`
    is a value, never shell code (GitHub's script-injection advice)."""
    action = load_action()
    assert action["runs"]["using"] == "composite"
    for step in action["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step["name"]


def test_the_docs_install_the_distribution_pyproject_names() -> None:
    """docs/github-action.md's PyPI spec is the distribution in pyproject.toml."""
    import tomllib

    name = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["name"]
    doc = (REPO / "docs" / "github-action.md").read_text()
    specs = re.findall(r"spec: ([A-Za-z0-9_.-]+)==", doc)
    assert specs and set(specs) == {name}
    assert f"`{name}==" in load_action()["inputs"]["spec"]["description"]
