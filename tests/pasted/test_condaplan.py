"""conda's package plan read as the environment the install makes (envlock/pasted/condaplan.py,
issue 21). The texts are real plans from issue threads and notes, cut to their plan lines:
vision#7022's nightly torch beside the defaults channel's torchvision 0.13.1 (conda 22's
record ids under the reporter's own sentence), vision#4240's download table (torch 1.9.0
beside torchvision 0.2.2), an UPDATED block's arrows (conda 4.6), a SUPERSEDED line onto a
CPU build, vision#113's conda 4.3 plan, mamba's table; a record id outside a plan (a repodata patch's listing),
a plan answered "n" and a package the plan removes read as nothing."""

from __future__ import annotations

from envlock.pasted import facts_from_texts
from envlock.pasted.condaplan import Planned, read_conda_plan, read_plan

# pytorch/vision#7022 (conda 22.x on an M1 Mac), as the issue pasted it
VISION_7022 = """\
When I did:
```
conda install pytorch torchvision torchtext cpuonly -c pytorch-nightly
```

It will install the following torch related package:
```
  pytorch            pytorch-nightly/osx-arm64::pytorch-1.14.0.dev20221208-py3.8_0
  torchdata          pytorch-nightly/osx-arm64::torchdata-0.6.0.dev20221208-py38
  torchtext          pytorch-nightly/osx-arm64::torchtext-0.15.0.dev20221208-py38
  torchvision        pkgs/main/osx-arm64::torchvision-0.13.1-cpu_py38he5d19f7_0
```
"""
# a healthy CUDA plan (conda 4.14 adds each record's metadata, " None")
HEALTHY_CU113 = """\
The following NEW packages will be INSTALLED:

  pytorch            pytorch/linux-64::pytorch-1.12.1-py3.10_cuda11.3_cudnn8.3.2_0 None
  pytorch-mutex      pytorch/noarch::pytorch-mutex-1.0-cuda None
  torchaudio         pytorch/linux-64::torchaudio-0.12.1-py310_cu113 None
  torchvision        pytorch/linux-64::torchvision-0.13.1-py310_cu113 None


Proceed ([y]/n)? y
"""
# pytorch/vision#4240: the excerpt keeps only the download table
VISION_4240 = """\
The following packages will be downloaded:

    package                    |            build
    ---------------------------|-----------------
    ninja-1.10.2               |       hff7bd54_1         1.4 MB
    pytorch-1.9.0              |py3.9_cuda11.1_cudnn8.0.5_0        1.44 GB  pytorch
    torchvision-0.2.2          |             py_3          55 KB  pytorch
    ------------------------------------------------------------
                                           Total:        1.59 GB
"""
# conda 4.6's arrows: a channel change names channel and name, an unchanged one only the
# version and build under the name column
UPDATED = """\
   The following packages will be UPDATED:

     pytorch            pkgs/main::pytorch-1.0.1-cuda100py37h~ --> pytorch::pytorch-1.0.1-py3.7_cuda10.0.130_cudnn7.4.2_2
     torchvision                                    0.2.1-py_2 --> 0.2.2-py_2

   Proceed ([y]/n)?
"""
# a note's bullet list: conda moved torch onto the pytorch channel's CPU build
SUPERSEDED_CPU = """\
The following packages will be SUPERSEDED by a higher-priority channel:

* [ ] pytorch            pkgs/main::pytorch-1.3.1-cuda100py37h~ --> pytorch::pytorch-1.3.1-py3.7_cpu_0
"""
# pytorch/vision#113 (conda 4.3): "name: version-build channel"
VISION_113 = """\
(pytorch) daviddelaiglesia@daviddelaiglesia:~$ conda install torchvision -c soumith
Fetching package metadata ...........
Solving package specifications: .
Package plan for installation in environment /home/daviddelaiglesia/miniconda3/envs/pytorch:
The following NEW packages will be INSTALLED:
    torchvision: 0.1.6-py35_19 soumith
"""
# mamba's table (a conda-forge environment's creation log)
MAMBA = """\
  + pycparser               2.22  pyhd8ed1ab_0           conda-forge/noarch       Cached
  + python                3.9.20  h13acc7a_1_cpython     conda-forge/linux-64       24MB
  + pytorch               1.11.0  cuda112py39ha0cca9b_1  conda-forge/linux-64     Cached
  + readline                 8.2  h8228510_1             conda-forge/linux-64     Cached
"""
# conda-forge-repodata-patches-feedstock#1135: record ids of package files, no plan
REPODATA = """\
linux-aarch64::torchvision-0.24.0-cuda129_py311_h02b8398_0.conda
linux-aarch64::torchvision-0.24.0-cpu_py312_h2be80f8_1.conda
-    "pytorch >=2.7.1,<2.8.0a0",
+    "pytorch >=2.9.1,<2.10.0a0",
"""


def test_vision_7022s_record_lines_are_its_torch_and_members() -> None:
    plan = read_plan(VISION_7022)
    assert plan["pytorch"] == Planned(
        "1.14.0.dev20221208", "py3.8_0", "pytorch-nightly", "osx-arm64"
    )
    assert plan["torchvision"] == Planned("0.13.1", "cpu_py38he5d19f7_0", "pkgs/main", "osx-arm64")
    facts = facts_from_texts(collect_env=VISION_7022)
    assert facts.torch.version == "1.14.0.dev20221208"
    assert facts.torch.cuda is None
    assert facts.system.os is not None and facts.system.os.id == "macos"
    assert facts.system.arch == "arm64"
    assert facts.packages.distributions["torchvision"] == "0.13.1"
    assert facts.packages.distributions["torchtext"] == "0.15.0.dev20221208"


def test_a_cuda_plan_states_torchs_cuda_and_linux() -> None:
    facts = facts_from_texts(collect_env=HEALTHY_CU113)
    assert (facts.torch.version, facts.torch.cuda) == ("1.12.1", "11.3")
    assert facts.system.arch == "x86_64"
    assert facts.packages.distributions["torchvision"] == "0.13.1"


def test_the_download_table_is_read_under_its_heading() -> None:
    reading = read_conda_plan(VISION_4240)
    assert reading is not None
    assert reading.fields["PyTorch version"] == "1.9.0"
    assert reading.fields["CUDA used to build PyTorch"] == "11.1"
    assert reading.packages == {"torchvision": "0.2.2"}
    # the same rows without conda's heading are no plan
    assert read_conda_plan(VISION_4240.split("\n", 2)[2]) is None


def test_an_arrow_line_is_read_as_what_the_package_becomes() -> None:
    plan = read_plan(UPDATED)
    assert plan["pytorch"] == Planned("1.0.1", "py3.7_cuda10.0.130_cudnn7.4.2_2", "pytorch")
    assert plan["torchvision"] == Planned("0.2.2", "py_2")
    reading = read_conda_plan(SUPERSEDED_CPU)
    assert reading is not None
    assert reading.fields == {"PyTorch version": "1.3.1", "CUDA used to build PyTorch": "None"}


def test_conda_43s_plan_lines_are_read() -> None:
    assert read_plan(VISION_113) == {"torchvision": Planned("0.1.6", "py35_19", "soumith")}


def test_what_no_plan_installs_is_not_read() -> None:
    assert read_conda_plan(REPODATA) is None
    declined = HEALTHY_CU113.replace("Proceed ([y]/n)? y", "Proceed ([y]/n)? n")
    assert read_conda_plan(declined) is None
    removed = (
        "The following packages will be REMOVED:\n\n  pytorch-1.12.1-py3.10_cuda11.3_cudnn8.3.2_0\n"
    )
    assert read_plan(HEALTHY_CU113 + removed).get("pytorch") is None
    # the left of an arrow is what the package was
    assert "1.0.1-cuda100py37h" not in str(read_plan(UPDATED))


def test_mambas_table_is_read_and_its_removed_rows_undo() -> None:
    reading = read_conda_plan(MAMBA)
    assert reading is not None
    assert reading.fields == {
        "PyTorch version": "1.11.0",
        "CUDA used to build PyTorch": "11.2",
        "OS": "Linux (x86_64)",
    }
    removed = MAMBA.replace("  + pytorch ", "  - pytorch ")
    assert "pytorch" not in read_plan(removed)
