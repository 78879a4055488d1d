"""The venv of `python -m venv --without-pip --prompt P DIR`, written by envlock's own
interpreter without importing the venv module (issue 23's restore row).

A repeat `envlock restore LOCK --venv DIR` starts uv the moment the venv is there, and
the venv module costs that start ~15-25 ms of a 2-core machine before it writes a byte:
it imports logging (traceback, textwrap, string), sysconfig, shutil and subprocess. What
it writes for this one case (POSIX, symlinks, no pip, no --system-site-packages) is
small and fixed: pyvenv.cfg, bin/ with the base interpreter linked as python, python3
and python3.X, the activate scripts from the venv package's own templates with their
placeholders filled, include/pythonX.Y/, lib/pythonX.Y/site-packages/ and lib64 -> lib.
write() writes exactly that, byte for byte what EnvBuilder.create() writes (tests/
install/test_venvwrite.py diffs the two trees, every file's bytes, mode and link, for
each interpreter it finds); where it does not know the interpreter's venv module (another
version, another platform, an ABI suffix) it says so (False) and the caller uses the
module, which is also what finishes a venv this one could not (a symlink refused).
"""

from __future__ import annotations

import os
import sys

# the versions whose venv.EnvBuilder.create() this reproduces (3.11 and 3.12 write the
# same tree for this case; 3.13 adds a .gitignore, 3.10 no executable/command lines)
VERSIONS = ((3, 11), (3, 12))


def known() -> bool:
    """Whether write() reproduces this interpreter's venv module."""
    return (
        sys.version_info[:2] in VERSIONS
        and os.name == "posix"
        and sys.platform.startswith("linux")
        and not sys.abiflags
        and bool(getattr(sys, "_base_executable", ""))
    )


def write(env_dir: str, prompt: str) -> bool:
    """`python -m venv --without-pip --prompt PROMPT ENV_DIR` of this interpreter, done
    here; False (nothing written) where known() is not or the path is one the module
    refuses, so the caller runs the module. An OSError is the caller's: the venv module
    run over the same directory finishes or says why (it copies what it cannot link)."""
    scripts = prepare(env_dir, prompt)
    if scripts is None:
        return False
    write_core(env_dir, prompt)
    write_scripts(scripts)
    return True


# the empty directory the venv module makes for this interpreter's headers
HEADERS = os.path.join("include", f"python{sys.version_info[0]}.{sys.version_info[1]}")
# what write_scripts() needs: bin/, the placeholders' values, whether they are quoted
Scripts = tuple[str, dict[str, str], bool]


def prepare(env_dir: str, prompt: str, *, moved: str = "") -> Scripts | None:
    """What write_scripts() fills in for this venv, or None (nothing to write: write()'s
    False). Reads the venv package's source, writes nothing. `moved`: the part of
    ENV_DIR's path that install/relocate.py will drop once the venv is swapped in (its
    suffix), dropped here already (the scripts then need no rewrite after uv)."""
    env_dir = os.path.abspath(env_dir)
    if not known() or os.pathsep in env_dir or prompt == ".":
        return None
    quoted = _quoting()
    if quoted is None:
        return None
    bin_path = os.path.join(env_dir, "bin")
    names = {
        "__VENV_DIR__": env_dir,
        "__VENV_NAME__": os.path.basename(env_dir),
        "__VENV_PROMPT__": f"({prompt}) ",
        "__VENV_BIN_NAME__": "bin",
        "__VENV_PYTHON__": os.path.join(bin_path, _executable()[1]),
    }
    if moved:  # as relocate() drops it from the written text: the templates hold none
        names = {k: v.replace(moved, "") for k, v in names.items()}
    return bin_path, names, quoted


def _executable() -> tuple[str, str]:
    """The base interpreter's directory and file name (what bin/ links to)."""
    executable: str = getattr(sys, "_base_executable", "")
    return os.path.split(os.path.abspath(executable))


def write_core(env_dir: str, prompt: str, *, moved: str = "", headers: bool = True) -> None:
    """What an installer needs of the venv (after prepare() said it is known): its
    directories, pyvenv.cfg and the interpreter's links; the activate scripts are
    write_scripts()'s (install/quick.py writes them while uv installs). `moved`: as for
    prepare(), dropped from pyvenv.cfg's command line. `headers` False: include/ without
    its empty HEADERS directory, which the caller makes (install/swap.py's commit)."""
    env_dir = os.path.abspath(env_dir)
    short = f"{sys.version_info[0]}.{sys.version_info[1]}"
    python_dir, exe_name = _executable()
    bin_path = os.path.join(env_dir, "bin")
    for path in (
        env_dir,
        os.path.join(env_dir, HEADERS if headers else "include"),
        os.path.join(env_dir, "lib", "python" + short, "site-packages"),
    ):
        os.makedirs(path, exist_ok=True)
    if sys.maxsize > 2**32 and not os.path.exists(os.path.join(env_dir, "lib64")):
        os.symlink("lib", os.path.join(env_dir, "lib64"))
    os.makedirs(bin_path, exist_ok=True)
    _config(env_dir, python_dir, prompt, moved)
    env_exe = os.path.join(bin_path, exe_name)
    if not os.path.islink(env_exe):
        os.symlink(getattr(sys, "_base_executable", ""), env_exe)
    for name in ("python", "python3", "python" + short):
        path = os.path.join(bin_path, name)
        if not os.path.exists(path):
            os.symlink(exe_name, path)  # relative, beside env_exe, as the module links it


def write_scripts(scripts: Scripts) -> None:
    """The activate scripts into bin/ (after write_core())."""
    _scripts(*scripts)


def _quoting() -> bool | None:
    """How this interpreter's venv module fills the activate scripts' placeholders:
    quoted for the script's shell (gh-124651, CVE-2024-9287: 3.11.11, 3.12.8 and
    distributions' backports), as they are (before it), or None: another way, unknown."""
    source = os.path.join(os.path.dirname(os.__file__), "venv", "__init__.py")
    with open(source, encoding="utf-8") as fh:
        text = fh.read()
    if "gh-124651" in text and "quote = shlex.quote" in text:
        return True
    if "text = text.replace('__VENV_DIR__', context.env_dir)" in text:
        return False
    return None


def _config(env_dir: str, python_dir: str, prompt: str, moved: str = "") -> None:
    """pyvenv.cfg as EnvBuilder.create_configuration() writes it for this case (`moved`
    dropped from it, as relocate() drops it)."""
    lines = [
        f"home = {python_dir}",
        "include-system-site-packages = false",
        "version = {}.{}.{}".format(*sys.version_info[:3]),
        f"prompt = {prompt!r}",
        f"executable = {os.path.realpath(sys.executable)}",
        f'command = {sys.executable} -m venv --without-pip --prompt="{prompt}" {env_dir}',
    ]
    text = "".join(line + "\n" for line in lines)
    with open(os.path.join(env_dir, "pyvenv.cfg"), "w", encoding="utf-8") as fh:
        fh.write(text.replace(moved, "") if moved else text)


def _scripts(bin_path: str, names: dict[str, str], quoted: bool) -> None:
    """The venv package's activate scripts (scripts/common and scripts/posix) into bin/,
    placeholders filled (`quoted`: for each script's shell, as _quoting() found the
    module does), each with its template's mode (EnvBuilder.install_scripts)."""
    root = os.path.join(os.path.dirname(os.__file__), "venv", "scripts")
    for sub in ("common", os.name):
        where = os.path.join(root, sub)
        for name in sorted(os.listdir(where)):
            src = os.path.join(where, name)
            if not os.path.isfile(src):  # the module walks deeper; none are there
                raise OSError(f"unexpected entry in the venv package's scripts: {src}")
            with open(src, "rb") as fh:
                text = fh.read().decode("utf-8")
            for placeholder, value in names.items():
                text = text.replace(placeholder, _quote(name, value) if quoted else value)
            dst = os.path.join(bin_path, name)
            with open(dst, "wb") as fh:
                fh.write(text.encode("utf-8"))
            os.chmod(dst, os.stat(src).st_mode & 0o7777)


def _quote(script: str, value: str) -> str:
    """A placeholder's value quoted as the patched module quotes it for `script`."""
    if script.endswith(".ps1"):
        return "'" + value.replace("'", "''") + "'"
    if script.endswith(".bat"):
        return value
    import shlex

    return shlex.quote(value)
