"""The Facts model: what envlock observed about one machine, host or container.

The probe (stdlib only, possibly inside an old interpreter in a container)
emits plain JSON; `Facts.from_dict` turns that into frozen dataclasses and
rejects documents that do not fit, naming the dotted path of the offending
value. Everything downstream (checks, lock, verify, fleet) reads Facts only.

Here by concern: the dataclasses (`model.py`), the bounded JSON reader
(`load.py`: `load_json`), and reading a file's bytes (`decode.py`: the msgspec
decoder `fast_facts` where it reads as the reference does, `decode_facts`,
`read_facts_file`). Every name is importable from `envlock.facts`.

A source that could not be observed carries `unavailable = "<reason>"`; an
observed absence is an empty list or a None field next to
`unavailable = None`.
"""

from envlock.facts.decode import (
    _long_digit_run,
    decode_facts,
    fast_facts,
    fast_if_cheaper,
    plain_json,
    read_facts_file,
)
from envlock.facts.health import FabricFacts, GpuHealthFacts
from envlock.facts.load import MAX_INT_DIGITS, load_json
from envlock.facts.model import (
    FACTS_VERSION,
    MAX_GPUS,
    ContainerFacts,
    CudaLibFacts,
    CudartFacts,
    DeterminismFacts,
    DigestClassFacts,
    DigestSummary,
    DriverFacts,
    EnvFacts,
    ExtensionFacts,
    ExtensionsFacts,
    Facts,
    GpuFacts,
    IbDeviceFacts,
    IbPortFacts,
    ImageFacts,
    LibcudaFacts,
    LibDirFacts,
    LoadedLibFacts,
    MetaFacts,
    NetInterfaceFacts,
    NetworkFacts,
    OsFacts,
    PackagesFacts,
    PackageSourceFacts,
    PciGpuFacts,
    PythonFacts,
    RequiresFacts,
    SystemFacts,
    ToolchainFacts,
    ToolkitFacts,
    TorchDeviceFacts,
    TorchFacts,
    TorchFlagsFacts,
    TorchLiveFacts,
    UlimitFacts,
    WheelFacts,
    _build,
)

__all__ = [
    "FACTS_VERSION",
    "MAX_GPUS",
    "MAX_INT_DIGITS",
    "ContainerFacts",
    "CudaLibFacts",
    "CudartFacts",
    "DeterminismFacts",
    "DigestClassFacts",
    "DigestSummary",
    "DriverFacts",
    "EnvFacts",
    "ExtensionFacts",
    "ExtensionsFacts",
    "FabricFacts",
    "Facts",
    "GpuFacts",
    "GpuHealthFacts",
    "IbDeviceFacts",
    "IbPortFacts",
    "ImageFacts",
    "LibDirFacts",
    "LibcudaFacts",
    "LoadedLibFacts",
    "MetaFacts",
    "NetInterfaceFacts",
    "NetworkFacts",
    "OsFacts",
    "PackageSourceFacts",
    "PackagesFacts",
    "PciGpuFacts",
    "PythonFacts",
    "RequiresFacts",
    "SystemFacts",
    "ToolchainFacts",
    "ToolkitFacts",
    "TorchDeviceFacts",
    "TorchFacts",
    "TorchFlagsFacts",
    "TorchLiveFacts",
    "UlimitFacts",
    "WheelFacts",
    "_build",
    "_long_digit_run",
    "decode_facts",
    "fast_facts",
    "fast_if_cheaper",
    "load_json",
    "plain_json",
    "read_facts_file",
]
