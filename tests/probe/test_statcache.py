"""The probe's file-decided results cached by stat (envlock/probe/statcache.py): each part
of a key changed is a run again, a damaged entry is a miss, a failure or a script is
never stored, concurrent writers keep every entry, and only the host's probe uses it.

The tools here are real executables, compiled from C: each run appends a line to a log,
which is how a test sees whether the cache answered or the tool ran.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from envlock.probe import cudalibs, probe_host, statcache, toolchain
from tests.conftest import REPO, clean_env

CC = shutil.which("gcc") or shutil.which("cc")
_BUILD_ENV = dict(os.environ)  # the compiler's PATH, before a test narrows it
needs_cc = pytest.mark.skipif(CC is None, reason="no C compiler to build a test tool")

_TOOL_C = r"""
#include <stdio.h>
#include <stdlib.h>
int main(void) {
    const char *log = getenv("TOOL_LOG");
    if (log) { FILE *f = fopen(log, "a"); if (f) { fputs("ran\n", f); fclose(f); } }
    fputs(TEXT "\n", stdout);
    return STATUS;
}
"""


def build_tool(path: Path, text: str, status: int = 0) -> Path:
    """An ELF executable at `path` that prints `text`, logs its run, exits `status`."""
    assert CC is not None
    path.parent.mkdir(parents=True, exist_ok=True)
    src = path.parent.parent / f"{path.parent.name}-{path.name}.c"
    src.write_text(_TOOL_C)
    define = "-DTEXT=" + json.dumps(text)
    subprocess.run(
        [CC, "-O0", define, f"-DSTATUS={status}", "-o", str(path), str(src)],
        check=True,
        env=_BUILD_ENV,
    )
    return path


@pytest.fixture
def log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "runs.log"
    monkeypatch.setenv("TOOL_LOG", str(path))
    return path


def runs(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def fresh(directory: Path) -> statcache.StatCache:
    """The cache as the next process finds it: written back, then read from its file."""
    return statcache.open_cache(str(directory))


def ninja_twice(cache_dir: Path) -> tuple[str | None, str | None]:
    """tool_version of ninja through the cache file, as two processes would see it."""
    first = fresh(cache_dir)
    toolchain.tool_version("ninja", 5.0, first)
    first.save()
    return toolchain.tool_version("ninja", 5.0, fresh(cache_dir))


@needs_cc
def test_a_tool_runs_once_while_its_files_stay(
    tmp_path: Path, log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    build_tool(bin_dir / "ninja", "1.11.1")
    monkeypatch.setenv("PATH", str(bin_dir))
    assert ninja_twice(tmp_path / "cache") == ("1.11.1", None)
    assert runs(log) == 1
    # without a cache (a served probe, --no-cache) it runs every time
    assert toolchain.tool_version("ninja", 5.0) == ("1.11.1", None)
    assert runs(log) == 2


@needs_cc
@pytest.mark.parametrize("change", ["rebuilt", "touched", "shadowed", "later", "path", "locale"])
def test_each_part_of_a_tools_key_changed_runs_it_again(
    tmp_path: Path, log: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    bin_dir, other = tmp_path / "bin", tmp_path / "other"
    other.mkdir()
    exe = build_tool(bin_dir / "ninja", "1.11.1")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{other}")
    monkeypatch.setenv("LANG", "C.UTF-8")
    cache_dir = tmp_path / "cache"
    assert ninja_twice(cache_dir) == ("1.11.1", None)
    assert runs(log) == 1
    want = "1.11.1"
    if change == "rebuilt":  # a new version installed over it
        exe.unlink()
        build_tool(exe, "1.12.0")
        want = "1.12.0"
    elif change == "touched":  # same bytes, another mtime
        st = exe.stat()
        os.utime(exe, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    elif change == "shadowed":  # another ninja earlier on PATH
        build_tool(tmp_path / "first" / "ninja", "1.13.0")
        monkeypatch.setenv("PATH", f"{tmp_path / 'first'}{os.pathsep}{bin_dir}")
        want = "1.13.0"
    elif change == "later":  # a ninja after it on PATH (a wrapper may run the next one)
        build_tool(other / "ninja", "9.9.9")
    elif change == "path":
        monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{other}{os.pathsep}{tmp_path}")
    else:
        monkeypatch.setenv("LANG", "de_DE.UTF-8")
    before = runs(log)
    cache = fresh(cache_dir)
    assert toolchain.tool_version("ninja", 5.0, cache) == (want, None)
    assert runs(log) == before + 1
    cache.save()
    assert toolchain.tool_version("ninja", 5.0, fresh(cache_dir)) == (want, None)
    assert runs(log) == before + 1  # and the new answer is the one kept


@needs_cc
def test_a_script_or_a_failure_is_never_stored(
    tmp_path: Path, log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    real = build_tool(tmp_path / "real" / "ninja", "1.11.1")
    bin_dir.mkdir()
    script = bin_dir / "ninja"
    script.write_text(f'#!/bin/sh\nNINJA_STATUS=x\nexec {real} "$@"\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    assert ninja_twice(tmp_path / "cache") == ("1.11.1", None)
    assert runs(log) == 2  # a script's output depends on what it runs
    build_tool(tmp_path / "bad" / "ninja", "", status=2)
    monkeypatch.setenv("PATH", str(tmp_path / "bad"))
    version, why = ninja_twice(tmp_path / "cache2")
    assert version is None and why is not None and "exit 2" in why
    assert runs(log) == 4


@needs_cc
def test_a_script_that_only_execs_a_binary_is_that_binary(
    tmp_path: Path, log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`exec /abs/path "$@"` and nothing else (a toolkit's nvcc on PATH): stored, keyed
    by the script and its target; any other line, or a variable that makes the shell read
    more first, runs it every time."""
    real = build_tool(tmp_path / "real" / "ninja", "1.11.1")
    script = tmp_path / "bin" / "ninja"
    script.parent.mkdir()
    script.write_text(f'#!/bin/sh\n# a wrapper\nexec {real} "$@"\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(script.parent))
    assert statcache.exec_target(str(script)) == str(real)
    assert ninja_twice(tmp_path / "cache") == ("1.11.1", None)
    assert runs(log) == 1
    real.unlink()
    build_tool(real, "1.12.0")  # the target replaced
    assert ninja_twice(tmp_path / "cache") == ("1.12.0", None)
    assert runs(log) == 2
    script.write_text(f'#!/bin/sh\nexec {real} "$@"\n')  # the script edited
    assert ninja_twice(tmp_path / "cache") == ("1.12.0", None)
    assert runs(log) == 3
    monkeypatch.setenv("BASH_ENV", str(tmp_path / "rc"))
    assert ninja_twice(tmp_path / "cache") == ("1.12.0", None)
    assert runs(log) == 5
    monkeypatch.delenv("BASH_ENV")
    for text in (
        f'#!/bin/sh\nexec {real} --version "$@"\n',
        f'#!/bin/sh\nexec {real}$X "$@"\n',
        f'#!/bin/sh\nexec {real} "$@"\necho more\n',
        f'#!/usr/bin/python3\nexec {real} "$@"\n',
        f'exec {real} "$@"\n',
    ):
        script.write_text(text)
        assert statcache.exec_target(str(script)) is None, text
    assert statcache.exec_target(str(real)) is None  # an ELF file is no script


@needs_cc
def test_nvcc_of_a_toolkit_runs_once_and_again_when_replaced(
    tmp_path: Path, log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "cuda"
    (home / "include").mkdir(parents=True)
    (home / "include" / "cuda.h").write_text("")
    nvcc = build_tool(home / "bin" / "nvcc", "Cuda compilation tools, release 12.4, V12.4.131")
    monkeypatch.setenv("CUDA_HOME", str(home))
    cache_dir = tmp_path / "cache"
    for _ in range(2):
        cache = fresh(cache_dir)
        assert cudalibs.toolkit_facts(5.0, cache)["nvcc_version"] == "12.4.131"
        cache.save()
    assert runs(log) == 1
    nvcc.unlink()
    build_tool(nvcc, "Cuda compilation tools, release 12.6, V12.6.77")
    assert cudalibs.toolkit_facts(5.0, fresh(cache_dir))["nvcc_version"] == "12.6.77"
    assert runs(log) == 2


def test_ldconfig_runs_again_when_the_loader_cache_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not Path("/etc/ld.so.cache").is_file() or cudalibs.ldconfig_libraries() is None:
        pytest.skip("no ldconfig -p here")
    ld_cache = tmp_path / "ld.so.cache"
    shutil.copyfile("/etc/ld.so.cache", ld_cache)
    monkeypatch.setattr(cudalibs, "LD_SO_CACHE", str(ld_cache))
    first = fresh(tmp_path)
    libs = cudalibs.ldconfig_libraries(5.0, first)
    assert libs == cudalibs.ldconfig_libraries()  # what the loader's own cache lists
    first.save()
    again = fresh(tmp_path)
    assert cudalibs.ldconfig_libraries(5.0, again) == libs
    assert not again._new  # answered from the cache: nothing to write back
    st = ld_cache.stat()  # ldconfig ran again (a driver install runs it)
    os.utime(ld_cache, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    after = fresh(tmp_path)
    assert cudalibs.ldconfig_libraries(5.0, after) == libs
    assert list(after._new) == ["ldconfig"]  # run again, and its answer kept


def test_a_damaged_cache_is_a_miss(tmp_path: Path) -> None:
    path = tmp_path / statcache.FILE_NAME
    for text in ("{not json", "[]", '{"format": 99, "entries": {}}', "\xff"):
        path.write_text(text, encoding="latin-1")
        assert fresh(tmp_path).get("ldconfig", ["k"]) is None
    # an entry of the wrong shape under the right key: run again, and replaced
    key = ["PATH=x"]
    calls: list[int] = []

    def compute() -> tuple[list[str], bool]:
        calls.append(1)
        return ["a.so"], True

    for bad in ("not a list", [1, 2], {"x": 1}):
        cache = statcache.StatCache(str(path), {"ld": {"key": key, "value": bad}})
        got = statcache.cached(cache, "ld", key, compute, statcache.is_str_list)
        assert got == ["a.so"]
    assert len(calls) == 3
    cache = statcache.StatCache(str(path), {"ld": {"key": key, "value": ["x"], "paths": 3}})
    assert cache.get("ld", key) is None


def test_a_loaded_library_changed_is_a_miss(tmp_path: Path) -> None:
    lib = tmp_path / "libcuda.so.1"
    lib.write_bytes(b"x" * 10)
    cache = statcache.StatCache(None, {})
    cache.put("ctypes", ["k"], {"v": 1}, [str(lib)])
    assert cache.get("ctypes", ["k"]) == {"v": 1}
    lib.write_bytes(b"y" * 11)  # a driver update replaced it in place
    assert cache.get("ctypes", ["k"]) is None
    lib.unlink()
    assert cache.get("ctypes", ["k"]) is None


def test_the_ctypes_childs_key_holds_the_loaders_inputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    libdir = tmp_path / "lib"
    libdir.mkdir()
    monkeypatch.setenv("LD_LIBRARY_PATH", str(libdir))
    monkeypatch.delenv("LD_PRELOAD", raising=False)
    home = tmp_path / "cuda"
    (home / "lib64").mkdir(parents=True)
    cands = cudalibs.cudart_candidates(str(home))
    key = cudalibs._runtime_key(cands)
    assert cudalibs._runtime_key(cudalibs.cudart_candidates(str(home))) == key

    changes = []
    (home / "lib64" / "libcudart.so.12").write_bytes(b"")  # a toolkit's cudart appears
    changes.append(cudalibs._runtime_key(cudalibs.cudart_candidates(str(home))))
    (libdir / "libcuda.so.1").write_bytes(b"")  # a library added to LD_LIBRARY_PATH
    st = libdir.stat()
    os.utime(libdir, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    changes.append(cudalibs._runtime_key(cands))
    monkeypatch.setenv("LD_PRELOAD", "/x/libfoo.so")
    changes.append(cudalibs._runtime_key(cands))
    monkeypatch.setenv("LD_LIBRARY_PATH", f"{libdir}{os.pathsep}{tmp_path}")
    changes.append(cudalibs._runtime_key(cands))
    seen = [key]
    for changed in changes:
        assert changed not in seen
        seen.append(changed)


def test_the_ctypes_child_runs_once_and_says_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    children: list[int] = []
    real = cudalibs._ctypes_child

    def counted(cands: list[str], timeout: float) -> tuple[dict[str, object], bool]:
        children.append(1)
        return real(cands, timeout)

    monkeypatch.setattr(cudalibs, "_ctypes_child", counted)
    home = cudalibs.toolkit_facts()["cuda_home"]
    first = cudalibs.runtime_facts(home, 10.0, cache := fresh(tmp_path))
    cache.save()
    assert cudalibs.runtime_facts(home, 10.0, fresh(tmp_path)) == first
    assert len(children) == 1
    assert first == cudalibs.runtime_facts(home, 10.0)  # what the child says uncached


_WRITER = textwrap.dedent(
    """
    import os, sys, time
    from envlock.probe import statcache
    directory, name, go = sys.argv[1:]
    cache = statcache.open_cache(directory)
    cache.put(name, [name], [name])
    while not os.path.exists(go):
        time.sleep(0.001)
    cache.save()
    """
)


def test_concurrent_writers_keep_every_entry(tmp_path: Path) -> None:
    go = tmp_path / "go"
    env = clean_env(PYTHONPATH=str(REPO))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(tmp_path / "c"), f"w{i}", str(go)], env=env
        )
        for i in range(8)
    ]
    go.write_text("")
    assert [p.wait(60) for p in procs] == [0] * 8
    data = json.loads((tmp_path / "c" / statcache.FILE_NAME).read_text())
    assert sorted(data["entries"]) == sorted(f"w{i}" for i in range(8))
    assert not [p for p in (tmp_path / "c").iterdir() if p.name.startswith(".probe-files-")]


def test_no_usable_cache_directory_is_only_a_slower_probe(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    facts = probe_host(
        torch_live=False, sections=("cuda", "toolchain"), file_cache_dir=str(blocker / "c")
    )
    assert facts["cuda"]["unavailable"] is None
    assert facts["toolchain"]["unavailable"] is None


def test_only_the_hosts_caller_uses_it(tmp_path: Path) -> None:
    """The probe as served to a container or to --python (python -m envlock.probe, the
    same entry) writes no cache; `envlock probe` does, and --no-cache does not."""
    env = clean_env(PYTHONPATH=str(REPO), ENVLOCK_CACHE_DIR=str(tmp_path / "served"))
    cmd = [sys.executable, "-m", "envlock.probe", "--no-torch-live"]
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    assert not (tmp_path / "served").exists()
    for name, extra in (("cli", []), ("nocache", ["--no-cache"])):
        env["ENVLOCK_CACHE_DIR"] = str(tmp_path / name)
        cmd = [sys.executable, "-m", "envlock", "probe", "--no-torch-live", "--json", *extra]
        subprocess.run(cmd, env=env, check=True, capture_output=True)
    assert (tmp_path / "cli" / statcache.FILE_NAME).is_file()
    assert not (tmp_path / "nocache" / statcache.FILE_NAME).exists()
