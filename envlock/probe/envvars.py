"""The `env` section: allow-listed environment variables, secrets withheld.

A variable is kept only when its name is on the allow-list; a name that looks
like a secret is never kept, whatever the list says (only the name goes to
`redacted`);
credentials inside URLs (`scheme://user:pw@host`) are masked in every kept value.
"""

from __future__ import annotations

import os

# typing is not imported at run time (~3 ms of every container probe).
TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from collections.abc import Mapping

    from envlock.probe.shapes import EnvDoc

ALLOWED_PREFIXES = (
    "CUDA_",
    "NVIDIA_",
    "NCCL_",
    "TORCH_",
    "PYTORCH_",
    "CUBLAS_",
    "CUBLASLT_",
    "CUDNN_",
    "TORCHINDUCTOR_",
    "TORCHELASTIC_",
    "TRITON_",
    "OMP_",
    "MKL_",
    "KMP_",
    "HF_",
    "TRANSFORMERS_",
    "XLA_",
)
ALLOWED_NAMES = frozenset(
    {
        "LD_LIBRARY_PATH",
        "LD_PRELOAD",
        "PYTHONHASHSEED",
        "PYTHONPATH",
        "PIP_INDEX_URL",
        "PIP_EXTRA_INDEX_URL",
        "UV_INDEX_URL",
        "UV_EXTRA_INDEX_URL",
        "UV_DEFAULT_INDEX",
        "UV_INDEX",
        "CONDA_PREFIX",
        "CONDA_DEFAULT_ENV",
        "VIRTUAL_ENV",
        "TOKENIZERS_PARALLELISM",
        "TF32_OVERRIDE",
        "NVIDIA_TF32_OVERRIDE",
        "CUBLAS_WORKSPACE_CONFIG",
        "WORLD_SIZE",
        "LOCAL_WORLD_SIZE",
        "OPENBLAS_NUM_THREADS",
        # the job's precision, as accelerate and Lightning read it (checks/context.BF16_ENV)
        "ACCELERATE_MIXED_PRECISION",
        "PL_PRECISION",
        # the interface gloo binds to (checks/network.py validates it against the node's)
        "GLOO_SOCKET_IFNAME",
    }
)
SECRET_MARKERS = (
    "TOKEN",
    "KEY",
    "SECRET",
    "PASS",  # PASSWORD, PASSWD, APP_DB_PASS
    "CREDENTIAL",
    "AUTH",
    "COOKIE",
    "WEBHOOK",  # a Slack/Teams webhook URL is its own credential
    "PRIVATE",
    "SESSION",
    "SIGNATURE",
)

# scheme://authority[/path][?query][#fragment]; the authority ends at the first / ? # or space.
# A scheme is tried once per run of scheme characters, from the run's first letter (group 1
# is what comes before it): tried at every letter, a long run without "://" is quadratic.
# Both patterns are left to re's cache, and re is imported only for a value holding "://"
# (no URL without it): a probe whose variables hold no URL imports no re (a served probe's
# ~3-5 ms in a fresh container).
_URL = (
    r"(?<![A-Za-z0-9+.\-])([0-9+.\-]*)([A-Za-z][A-Za-z0-9+.\-]*://)"
    r"([^/?#\s]*)([^?#\s]*)(\?[^#\s]*)?(#\S*)?"
)
# A path segment of an http(s) URL that looks like a token: tokens in index URLs such as
# https://host/<TOKEN>/simple. Random-looking: 20+ characters with 4+ digits, or 32+ hex
# digits; a word_like_name_1 is not one.
_TOKEN_SEGMENT = (
    r"(?<![^/])(?=(?:[A-Za-z_\-]*[0-9]){4})[A-Za-z0-9_\-]{20,}(?![^/])"
    r"|(?<![^/])[0-9a-fA-F]{32,}(?![^/])"
)


def is_allowed(name: str) -> bool:
    return name in ALLOWED_NAMES or name.startswith(ALLOWED_PREFIXES)


def is_secret_name(name: str) -> bool:
    upper = name.upper()
    return any(marker in upper for marker in SECRET_MARKERS)


def mask_url_credentials(value: str) -> str:
    """Every URL in `value` with its credentials masked: the userinfo (everything before the
    LAST '@' of the authority, so a password holding '@' or '/' is masked whole), every
    query value, and path segments that look like tokens.

    'https://user:p@ss@host/simple' -> 'https://***@host/simple';
    'https://host/simple?token=abc' -> 'https://host/simple?token=***'.
    """
    if "://" not in value:  # _URL matches nothing
        return value
    import re

    def one(m: re.Match[str]) -> str:
        before, scheme, authority, path, query, fragment = m.groups()
        if "@" in authority or (":" in authority and "@" in path):
            # A password may hold '@' or '/' unencoded: the host follows the last '@'.
            rest = (authority + path).rpartition("@")[2]
            cut = rest.find("/")
            authority, path = (
                "***@" + (rest if cut < 0 else rest[:cut]),
                "" if cut < 0 else rest[cut:],
            )
        if scheme.lower() in ("http://", "https://"):
            path = re.sub(_TOKEN_SEGMENT, "***", path)
        if query:
            pairs = query[1:].split("&")
            query = "?" + "&".join((p.partition("=")[0] + "=***") if "=" in p else p for p in pairs)
        return before + scheme + authority + path + (query or "") + (fragment or "")

    return re.sub(_URL, one, value)


def collect(environ: Mapping[str, str] | None = None) -> EnvDoc:
    env = os.environ if environ is None else environ
    variables: dict[str, str] = {}
    redacted: list[str] = []
    for name in sorted(env):
        if is_secret_name(name):
            # Listed so a reader knows it existed and was withheld on purpose.
            redacted.append(name)
        elif is_allowed(name):
            variables[name] = mask_url_credentials(env[name])
    return {"unavailable": None, "variables": variables, "redacted": redacted}
