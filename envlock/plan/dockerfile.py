"""A Dockerfile as a Plan: the stage that gets built (the last, or `--target`), its base
image and what the tag states, its ENV, and every install its RUN lines make, a stage
built FROM an earlier one inheriting that one's. The grammar is BuildKit's
(envlock/plan/dockerlex.py); the build arguments are `ARG`s with `--build-arg` values:
those declared before the first FROM are the only ones FROM can use, a stage sees one
only after its own `ARG NAME` line (docs.docker.com/reference/dockerfile/#arg)."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field

from envlock.plan.dockerlex import Instruction, expand, instructions, words
from envlock.plan.images import base_image
from envlock.plan.model import (
    BaseImage,
    EnvVar,
    Install,
    Plan,
    PlanError,
    ReadOptions,
    Requirement,
    Span,
)
from envlock.plan.reqs import read_requirements_file
from envlock.plan.shellcmd import ReadRequirements, ScriptRead, command_install, installs_in

MAX_STAGES = 256
MAX_INSTRUCTIONS = 10_000
# The longest RUN lines of real Dockerfiles are some 20 KB (apt lists, chained installs):
# an instruction or heredoc past this is not read (a note), which bounds the shell reading.
MAX_INSTRUCTION_CHARS = 256 * 1024
_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh"})
_DETECT = re.compile(r"^\s*FROM\s+\S", re.IGNORECASE | re.MULTILINE)
_INSTRUCTION_WORDS = frozenset(
    {"FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT"}
    | {"VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"}
)


@dataclass
class _Stage:
    name: str | None
    index: int
    base: BaseImage | None
    platform: str | None
    env: list[EnvVar] = field(default_factory=list)
    installs: list[Install] = field(default_factory=list)
    args: dict[str, str] = field(default_factory=dict)  # ARGs declared in this stage

    def variables(self) -> dict[str, str]:
        out = dict(self.args)
        out.update({v.name: v.value for v in self.env})
        return out


def detect(text: str) -> bool:
    """A FROM instruction, and every other line an instruction, a comment or a
    continuation (a YAML or TOML file with a 'from' key is not one)."""
    head = text[:65536]
    if _DETECT.search(head) is None:
        return False
    first = next((ln.split(None, 1)[0] for ln in head.splitlines() if _starts(ln)), "")
    return first.upper() in _INSTRUCTION_WORDS


def _starts(line: str) -> bool:
    s = line.strip()
    return bool(s) and not s.startswith("#")


@dataclass
class _Reader:
    source: str
    options: ReadOptions
    escape: str = "\\"
    global_args: dict[str, str] = field(default_factory=dict)
    declared_globals: dict[str, str | None] = field(default_factory=dict)
    stages: list[_Stage] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def run(self, text: str) -> Plan:
        found, self.escape = instructions(text, self.source, MAX_INSTRUCTIONS)
        for ins in found:
            self._instruction(ins)
        if not self.stages:
            raise PlanError(f"{self.source}: no FROM instruction: not a Dockerfile")
        return self._plan(self._chosen())

    def _instruction(self, ins: Instruction) -> None:
        if len(ins.args) > MAX_INSTRUCTION_CHARS and ins.keyword != "FROM":
            self.notes.append(
                f"{ins.span.where}: {ins.keyword} longer than {MAX_INSTRUCTION_CHARS} "
                "characters: not read"
            )
            return
        if ins.keyword == "FROM":
            self._from(ins)
        elif ins.keyword == "ARG":
            self._arg(ins)
        elif not self.stages:
            raise PlanError(
                f"{ins.span.where}: {ins.keyword} before the first FROM (only ARG may precede it)"
            )
        elif ins.keyword == "ENV":
            self._env(ins)
        elif ins.keyword == "RUN":
            self._run(ins)

    # ------------------------------------------------------------------ ARG and FROM
    def _arg(self, ins: Instruction) -> None:
        scope = self.stages[-1].variables() if self.stages else self.global_args
        for word in words(ins.args, scope, self.escape):
            name, eq, default = word.partition("=")
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                self.notes.append(f"{ins.span.where}: ARG {name!r} is not a variable name")
                continue
            value = self.options.build_args.get(name)
            if not self.stages:
                self.declared_globals[name] = default if eq else None
                if value is None and eq:
                    value = default
                if value is not None:
                    self.global_args[name] = value
                continue
            if value is None:
                value = default if eq else self.global_args.get(name)
            if value is not None:
                self.stages[-1].args[name] = value

    def _from(self, ins: Instruction) -> None:
        if len(self.stages) >= MAX_STAGES:
            raise PlanError(f"{ins.span.where}: more than {MAX_STAGES} build stages")
        parts, platform = _from_words(words(ins.args, self.global_args, self.escape), ins.span)
        name = parts[2].lower() if len(parts) >= 3 and parts[1].lower() == "as" else None
        image = parts[0]
        parent = next((s for s in self.stages if s.name == image.lower()), None)
        stage = _Stage(name=name, index=len(self.stages), base=None, platform=platform)
        if parent is not None:
            stage.base, stage.platform = parent.base, platform or parent.platform
            stage.env, stage.installs = list(parent.env), list(parent.installs)
        elif "$" in image or not image:
            self.notes.append(f"{ins.span.where}: FROM {image!r}: a build argument not set")
        elif image.lower() != "scratch":
            stage.base = base_image(image, ins.span, platform)
        self.stages.append(stage)

    # ------------------------------------------------------------------ ENV
    def _env(self, ins: Instruction) -> None:
        stage = self.stages[-1]
        parts = words(ins.args, stage.variables(), self.escape)
        if parts and "=" not in parts[0]:
            # the legacy form: ENV NAME the rest of the line
            rest = ins.args.split(None, 1)[1] if len(ins.args.split(None, 1)) > 1 else ""
            value = " ".join(words(rest, stage.variables(), self.escape))
            stage.env.append(EnvVar(name=parts[0], value=value, span=ins.span))
            return
        for part in parts:
            name, _, value = part.partition("=")
            stage.env.append(EnvVar(name=name, value=value, span=ins.span))

    # ------------------------------------------------------------------ RUN
    def _run(self, ins: Instruction) -> None:
        stage = self.stages[-1]
        args = _without_run_flags(ins.args)
        read = self._requirements_reader(ins.span)
        if args.startswith("["):
            argv = _json_argv(args)
            if argv is not None:
                self._take(stage, _exec_form(argv, ins.span, read))
                return
        command = expand(args, stage.variables(), self.escape)
        if ins.heredocs and _runs_heredoc(command):
            for doc in ins.heredocs:
                if len(doc.body) > MAX_INSTRUCTION_CHARS:
                    self.notes.append(f"{ins.span.where}: heredoc <<{doc.word} too long: not read")
                    continue
                body = expand(doc.body, stage.variables(), self.escape) if doc.expand else doc.body
                self._take(stage, installs_in(body, ins.span, read))
            return
        self._take(stage, installs_in(_without_heredoc_words(command), ins.span, read))

    def _take(self, stage: _Stage, found: ScriptRead) -> None:
        stage.installs.extend(found.installs)
        self.notes.extend(found.notes)

    def _requirements_reader(self, span: Span) -> ReadRequirements | None:
        read_beside = self.options.read_beside
        if read_beside is None:
            return None

        def read(name: str) -> list[Requirement] | None:
            # the path is inside the image (WORKDIR, COPY): the file beside the Dockerfile
            # with its name is the one the build context copies in, in the usual layout
            base = os.path.basename(name)
            text = read_beside(self.source, base)
            if text is None:
                return None
            parsed = read_requirements_file(text, _beside(self.source, base), read_beside)
            self.notes.extend(parsed.notes)
            return parsed.requirements

        return read

    # ------------------------------------------------------------------ the result
    def _chosen(self) -> _Stage:
        target = self.options.target
        if target is None:
            return self.stages[-1]
        stage = next((s for s in self.stages if s.name == target.lower()), None)
        if stage is None:
            named = ", ".join(s.name for s in self.stages if s.name) or "none"
            raise PlanError(f"{self.source}: no build stage named {target!r} (stages: {named})")
        return stage

    def _plan(self, stage: _Stage) -> Plan:
        return Plan(
            kind="dockerfile",
            name=stage.name or os.path.basename(self.source),
            sources=(self.source,),
            base=stage.base,
            env=tuple(stage.env),
            installs=tuple(stage.installs),
            build_target=stage.name,
            platform=stage.platform,
            notes=tuple(dict.fromkeys(self.notes))[:50],
        )


def _from_words(parts: list[str], span: Span) -> tuple[list[str], str | None]:
    """FROM's words past its flags, and its --platform."""
    platform = None
    while parts and parts[0].startswith("--"):
        flag, _, value = parts.pop(0).partition("=")
        if flag == "--platform":
            platform = value
    if not parts:
        raise PlanError(f"{span.where}: FROM names no image")
    if len(parts[0]) > 4096:
        raise PlanError(f"{span.where}: FROM names no image reference (too long)")
    return parts, platform


def read(text: str, source: str, options: ReadOptions) -> list[Plan]:
    """The plan of the stage a build of this Dockerfile produces."""
    return [_Reader(source=source, options=options).run(text)]


def _beside(source: str, name: str) -> str:
    return os.path.join(os.path.dirname(source), name)


def _without_run_flags(args: str) -> str:
    """RUN's own flags (--mount=..., --network=..., --security=...) taken off."""
    while args.startswith("--"):
        m = re.match(r"--\S*\s*", args)
        assert m is not None
        args = args[m.end() :]
    return args


def _json_argv(args: str) -> list[str] | None:
    try:
        value = json.loads(args)
    except (ValueError, RecursionError):
        return None  # not JSON: BuildKit runs it in a shell
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [str(v) for v in value]
    return None


def _exec_form(argv: list[str], span: Span, reader: ReadRequirements | None) -> ScriptRead:
    """RUN ["..."]: no shell, unless the program is one run with -c."""
    if len(argv) >= 3 and os.path.basename(argv[0]) in _SHELLS and argv[1] in ("-c", "-ec"):
        return installs_in(argv[2], span, reader)
    out = ScriptRead()
    install = command_install(argv, span, reader, out.notes)
    if install is not None:
        out.installs.append(install)
    return out


def _runs_heredoc(command: str) -> bool:
    """The heredoc is the script itself (RUN <<EOF, RUN bash <<EOF), not a program's input."""
    words_before = _without_heredoc_words(command).split()
    return not words_before or (
        os.path.basename(words_before[0]) in _SHELLS
        and all(w.startswith("-") for w in words_before[1:])
    )


def _without_heredoc_words(command: str) -> str:
    return re.sub(r"<<-?[ \t]*(?:\"[^\"\n]*\"|'[^'\n]*'|[A-Za-z0-9_.]+)", " ", command)
