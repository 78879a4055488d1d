"""envlock completion bash|zsh: the shell's completion script, written from the parser."""

from __future__ import annotations

import argparse
import sys

from envlock.errors import ExitCode
from envlock.report.completion import SHELLS

HELP = "print a bash or zsh completion script for envlock (generated from its parser)"
DESCRIPTION = """\
  eval "$(envlock completion bash)"          # in ~/.bashrc
  envlock completion zsh > ~/.zfunc/_envlock  # a directory in $fpath, before compinit

Completes the commands, their options and the choices of an option's value
(`--format <TAB>`); a file argument completes as a file name. The script is
written from envlock's own argument parser, so it follows the installed
version: regenerate it after an upgrade.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("shell", choices=SHELLS, help="the shell to complete in")


def run(args: argparse.Namespace) -> ExitCode:
    from envlock.report.completion import script

    # cli.build_parser hands every command the whole parser as `_root`
    sys.stdout.write(script(args.shell, args._root))
    return ExitCode.OK
