"""Device choice: CUDA when available, else Apple MPS, else CPU; ``--device`` overrides.

Two checks, one for each side of the process split. ``check_device`` runs at the boundary
(the flags, the Setup panel: ``RunConfig.validate_to_start``) in any process, so it must not
import torch: it reads the name, then asks the machine whether what was named exists (see
``visible_cuda_gpus``). ``resolve_device`` runs where the model is built and asks torch itself,
so anything the torch-free probe could not see (a GPU that torch still cannot use) is refused
there, in the same words.
"""

from __future__ import annotations

import ctypes
import importlib.util
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from trainscope.engine.errors import ConfigError

if TYPE_CHECKING:
    from types import ModuleType

    import torch

DEVICE_NAME = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")
DEVICE_CHOICES = "auto, cpu, cuda, cuda:N or mps"
CUDA_DRIVER_LIBRARIES = {"win32": ("nvcuda.dll",), "linux": ("libcuda.so.1", "libcuda.so")}
# The generated torch/version.py says which toolkit the installed build was compiled against.
_BUILD_LINE = re.compile(r"^(cuda|hip)\s*(?::[^=]*)?=\s*(None|'[^']*'|\"[^\"]*\")\s*$", re.M)


def device_name(requested: str) -> str:
    """Refuse a misspelt device name; return it normalised (the same on every machine)."""
    name = requested.strip().lower()
    if DEVICE_NAME.match(name) is None:
        raise ConfigError(f"unknown device {requested!r}; use {DEVICE_CHOICES}")
    return name


def check_device(requested: str) -> str:
    """Refuse a device name that is misspelt or not on this machine; return it normalised.

    Torch-free, so the window's process (which never loads torch) refuses ``--device cuda`` on
    a machine without an NVIDIA GPU before a worker starts, just as the headless CLI does.
    """
    name = device_name(requested)
    if name.startswith("cuda"):
        _check_cuda(requested, name.partition(":")[2] or None)
    if name == "mps" and not _mps_possible():
        raise ConfigError("device 'mps' was asked for but Apple MPS is only available on a Mac")
    return name


def _check_cuda(requested: str, index_text: str | None) -> None:
    if _torch_build() == "cpu":
        raise ConfigError(
            f"device {requested!r} was asked for but no CUDA GPU is available: "
            "this PyTorch was installed without CUDA support"
        )
    count = visible_cuda_gpus()
    if count == 0:
        raise ConfigError(f"device {requested!r} was asked for but no CUDA GPU is available")
    if count is not None and index_text is not None and int(index_text) >= count:
        raise ConfigError(
            f"device {requested!r} does not exist; this machine has {count} GPU(s), "
            f"numbered from cuda:0"
        )


def visible_cuda_gpus() -> int | None:
    """How many CUDA GPUs this process could use; None when that cannot be told without torch.

    Where torch is already loaded (the worker's ``resolve_device``) it answers exactly. Otherwise the NVIDIA driver is asked directly (``cuInit`` and ``cuDeviceGetCount``
    through ctypes: no torch, no CUDA context, and it honours ``CUDA_VISIBLE_DEVICES``); no
    driver library means no NVIDIA GPU. A ROCm build of torch also calls its GPUs "cuda" but
    has no NVIDIA driver, so there the answer is left to ``resolve_device``.
    """
    torch_module = _loaded_torch()
    if torch_module is not None and hasattr(torch_module, "cuda"):
        return int(torch_module.cuda.device_count())
    if _torch_build() == "rocm":
        return None
    return _driver_gpu_count()


def _loaded_torch() -> ModuleType | None:
    """torch, if this process has already imported it (then it answers exactly); never imports it."""
    return sys.modules.get("torch")


def _driver_gpu_count() -> int:
    """The driver's own count. Initialising the driver in the window's process is harmless:
    the worker is spawned (a fresh interpreter), not forked, and no context is created."""
    for library_name in CUDA_DRIVER_LIBRARIES.get(sys.platform, ()):
        try:
            driver = ctypes.CDLL(library_name)
        except OSError:
            continue
        count = ctypes.c_int(0)
        if driver.cuInit(0) != 0 or driver.cuDeviceGetCount(ctypes.byref(count)) != 0:
            return 0  # a driver without a usable GPU (or a broken install): nothing to train on
        return count.value
    return 0


def _torch_build() -> str | None:
    """'cuda', 'rocm' or 'cpu' for the installed torch, read without importing it; None: unknown."""
    try:
        spec = importlib.util.find_spec("torch")
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None:
        return None
    try:
        text = (Path(spec.origin).parent / "version.py").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    built = dict(_BUILD_LINE.findall(text))
    if set(built) != {"cuda", "hip"}:
        return None  # a layout this reader does not know: let torch decide later
    if built["hip"] != "None":
        return "rocm"
    return "cpu" if built["cuda"] == "None" else "cuda"


def _mps_possible() -> bool:
    torch_module = _loaded_torch()
    if torch_module is not None and hasattr(torch_module, "backends"):
        return bool(torch_module.backends.mps.is_available())
    return sys.platform == "darwin"


def resolve_device(requested: str = "auto") -> torch.device:
    """Return the torch device for ``requested`` or refuse one that is not available here."""
    import torch

    name = check_device(requested)
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {requested!r} was asked for but no CUDA GPU is available")
    if (
        device.type == "cuda"
        and device.index is not None
        and device.index >= torch.cuda.device_count()
    ):
        raise ConfigError(
            f"device {requested!r} does not exist; this machine has {torch.cuda.device_count()} GPU(s)"
        )
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("device 'mps' was asked for but Apple MPS is not available")
    return device
