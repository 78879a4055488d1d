"""Shell completion scripts for bash and zsh, written from the argparse parser itself.

The parser is the one source: a script lists, for each command path ("", "fleet",
"fleet report"), its subcommands, its options, which options take a value and that
value's choices. The shell function walks the words typed so far (skipping option
values) to the deepest command path, then offers what that path accepts; an option
value without choices, and a positional argument, complete as file names.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from dataclasses import dataclass

SHELLS = ("bash", "zsh")
# What the generated scripts may hold as a word: compgen -W splits on blanks, and the
# parser's names are all of this kind. Anything else is a bug in a parser, not input.
_WORD = re.compile(r"[A-Za-z0-9_.:+/=@%,-]+\Z")


@dataclass(frozen=True)
class Option:
    flags: tuple[str, ...]
    help: str
    takes_value: bool
    choices: tuple[str, ...]


@dataclass(frozen=True)
class Level:
    """One command path's parser: what can follow `envlock PATH`."""

    path: str  # "" for envlock itself, "fleet report" for a nested subcommand
    commands: tuple[tuple[str, str], ...]  # (name, help)
    options: tuple[Option, ...]
    words: tuple[str, ...]  # choices of its positional arguments (`completion bash|zsh`)


def _word(text: object) -> str:
    word = str(text)
    if not _WORD.match(word):
        raise ValueError(f"cannot complete {word!r}: not a plain word")
    return word


def _help(action: argparse.Action) -> str:
    text = action.help if isinstance(action.help, str) else ""
    return " ".join(text.replace("%(default)s", str(action.default)).split())


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction | None:  # type: ignore[type-arg]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return None


def levels(parser: argparse.ArgumentParser, path: str = "") -> Iterator[Level]:
    """Every command path of `parser`, depth first, the parser's own first."""
    options: list[Option] = []
    words: list[str] = []
    for action in parser._actions:
        if action.help == argparse.SUPPRESS or isinstance(action, argparse._SubParsersAction):
            continue
        choices = tuple(_word(c) for c in action.choices or ())
        if action.option_strings:
            flags = tuple(_word(f) for f in action.option_strings)
            options.append(Option(flags, _help(action), action.nargs != 0, choices))
        else:
            words += choices
    sub = _subparsers(parser)
    helps = {a.dest: _help(a) for a in sub._choices_actions} if sub else {}
    children = dict(sub.choices) if sub else {}
    commands = tuple((_word(name), helps.get(name, "")) for name in children)
    yield Level(path, commands, tuple(options), tuple(words))
    for name, child in children.items():
        yield from levels(child, f"{path} {name}".strip())


def script(shell: str, parser: argparse.ArgumentParser) -> str:
    """The completion script for `shell` of the command `parser.prog`."""
    if shell not in SHELLS:
        raise ValueError(f"no completion for {shell!r} (choose from {', '.join(SHELLS)})")
    prog = _word(parser.prog)
    fn = prog.replace("-", "_")
    write = _bash_script if shell == "bash" else _zsh_script
    return write(prog, fn, list(levels(parser)))


def _flags(level: Level, *, valued: bool | None = None) -> list[str]:
    return [f for o in level.options if valued is None or o.takes_value == valued for f in o.flags]


def _value_cases(all_levels: list[Level], opening: str) -> list[str]:
    """`case` arms: "PATH OPTION" -> the option's choices (options without choices: files)."""
    arms = []
    for level in all_levels:
        for option in level.options:
            if option.takes_value and option.choices:
                keys = "|".join('"' + f"{level.path} {f}".strip() + '"' for f in option.flags)
                arms.append(f"        {opening}{keys}) _choices=({' '.join(option.choices)}) ;;")
    return arms


def _functions(fn: str, all_levels: list[Level], level_arms: list[str], *, zsh: bool) -> list[str]:
    """The two lookups both shells' walks call, the same shell code in bash and zsh but
    for zsh's `(PATTERN)` case arms: `_{fn}_level PATH` sets the path's subcommands,
    options and words (`level_arms`; zsh's with help), `_{fn}_value 'PATH OPTION'` the
    option's choices."""
    opening = "(" if zsh else ""
    return [
        f"_{fn}_level() {{  # a command path's subcommands, options and words"
        + (" (with help)" if zsh else ""),
        '    case "$1" in',
        *level_arms,
        f"        {opening}*) _subs=(); _opts=(); _takes=(); _words=() ;;",
        "    esac",
        "}",
        f"_{fn}_value() {{  # the choices of an option's value ('PATH OPTION')",
        "    _choices=()",
        '    case "$1" in',
        *_value_cases(all_levels, opening),
        "    esac",
        "}",
    ]


_BASH_WALK = """\
_{fn}() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} prev=${{COMP_WORDS[COMP_CWORD-1]}}
    local cmdpath="" word i
    local -a _subs _opts _takes _words _choices
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${{COMP_WORDS[i]}}
        [[ $word == -- ]] && return 0  # `run -- CMD`: the shell's own completion (-o default)
        _{fn}_level "$cmdpath"
        if [[ $word == -* ]]; then
            [[ $word != *=* && " ${{_takes[*]}} " == *" $word "* ]] && i=$((i + 1))
        elif [[ " ${{_subs[*]}} " == *" $word "* ]]; then
            cmdpath=${{cmdpath:+$cmdpath }}$word
        fi
    done
    _{fn}_level "$cmdpath"
    if [[ $cur == --*=* ]]; then  # --format=j
        _{fn}_value "${{cmdpath:+$cmdpath }}${{cur%%=*}}"
        COMPREPLY=($(compgen -P "${{cur%%=*}}=" -W "${{_choices[*]}}" -- "${{cur#*=}}"))
    elif [[ $prev == -* && " ${{_takes[*]}} " == *" $prev "* ]]; then
        _{fn}_value "${{cmdpath:+$cmdpath }}$prev"
        COMPREPLY=($(compgen -W "${{_choices[*]}}" -- "$cur"))  # none: file names (-o default)
    elif [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "${{_opts[*]}}" -- "$cur"))
    else
        COMPREPLY=($(compgen -W "${{_subs[*]}} ${{_words[*]}}" -- "$cur"))
    fi
}}
complete -o default -F _{fn} {prog}
"""


def _bash_script(prog: str, fn: str, all_levels: list[Level]) -> str:
    level_arms = [
        f'        "{level.path}") _subs=({" ".join(n for n, _ in level.commands)}); '
        f"_opts=({' '.join(_flags(level))}); _takes=({' '.join(_flags(level, valued=True))}); "
        f"_words=({' '.join(level.words)}) ;;"
        for level in all_levels
    ]
    lines = [
        f"# bash completion for {prog}, generated from its parser by `{prog} completion bash`.",
        f'# Load it with: eval "$({prog} completion bash)"  (in ~/.bashrc)',
        *_functions(fn, all_levels, level_arms, zsh=False),
        _BASH_WALK.format(fn=fn, prog=prog),
    ]
    return "\n".join(lines)


def _zq(text: str) -> str:
    """A zsh single-quoted word."""
    return "'" + text.replace("'", "'\\''") + "'"


def _described(name: str, help_text: str) -> str:
    return _zq(f"{name.replace(':', chr(92) + ':')}:{help_text}")


_ZSH_WALK = """\
_{fn}() {{
    local cmdpath="" word i
    local -a _subs _opts _takes _words _choices
    for ((i = 2; i < CURRENT; i++)); do
        word=${{words[i]}}
        if [[ $word == -- ]]; then  # `run -- CMD ARGS`: complete CMD as its own command line
            shift $i words
            (( CURRENT -= i ))
            _normal
            return
        fi
        _{fn}_level "$cmdpath"
        if [[ $word == -* ]]; then
            [[ $word != *=* ]] && (( ${{_takes[(Ie)$word]}} )) && (( i++ ))
        elif (( ${{${{_subs[@]%%:*}}[(Ie)$word]}} )); then
            cmdpath=${{cmdpath:+$cmdpath }}$word
        fi
    done
    _{fn}_level "$cmdpath"
    local cur=${{words[CURRENT]}} prev=${{words[CURRENT-1]}}
    if [[ $cur == --*=* ]]; then
        _{fn}_value "${{cmdpath:+$cmdpath }}${{cur%%=*}}"
        if (( $#_choices )); then
            compadd -P "${{cur%%=*}}=" -- $_choices
        else
            compset -P '*='
            _files
        fi
    elif [[ $prev == -* ]] && (( ${{_takes[(Ie)$prev]}} )); then
        _{fn}_value "${{cmdpath:+$cmdpath }}$prev"
        if (( $#_choices )); then compadd -- $_choices; else _files; fi
    elif [[ $cur == -* ]]; then
        _describe -t options option _opts
    else
        (( $#_subs )) && _describe -t commands command _subs
        (( $#_words )) && compadd -- $_words
        (( $#_subs || $#_words )) || _files
    fi
}}
if [[ ${{funcstack[1]}} == _{fn} ]]; then
    _{fn} "$@"
else
    compdef _{fn} {prog}
fi
"""


def _zsh_script(prog: str, fn: str, all_levels: list[Level]) -> str:
    level_arms = []
    for level in all_levels:
        subs = " ".join(_described(n, h) for n, h in level.commands)
        opts = " ".join(_described(f, o.help) for o in level.options for f in o.flags)
        level_arms.append(
            f'        ("{level.path}") _subs=({subs}); _opts=({opts}); '
            f"_takes=({' '.join(_flags(level, valued=True))}); _words=({' '.join(level.words)}) ;;"
        )
    lines = [
        f"#compdef {prog}",
        f"# zsh completion for {prog}, generated from its parser by `{prog} completion zsh`.",
        f"# Save it as _{prog} in a directory of $fpath, or: source <({prog} completion zsh)",
        *_functions(fn, all_levels, level_arms, zsh=True),
        _ZSH_WALK.format(fn=fn, prog=prog),
    ]
    # zsh's own completion functions declare locals named _opts, _subs, ... (_describe
    # does): arrays of ours under those names would be shadowed there, and _describe
    # would complete nothing. Ours carry the program's prefix.
    return _ZSH_ARRAYS.sub(lambda m: f"_{fn}{m.group(0)}", "\n".join(lines))


_ZSH_ARRAYS = re.compile(r"(?<!\w)_(?:subs|opts|takes|words|choices)\b")
