"""Device and precision choice (`auto`) for train, translate and `score -c`; CPU matmul caches.
"""

from __future__ import annotations

import dataclasses
import os

import torch


@dataclasses.dataclass(frozen=True)
class Machine:
    """What this process can compute on: the one place that asks torch about CUDA and the CPU.

    Tests pass a Machine of their own to `select_device` to see what it picks where CUDA exists.
    """

    cuda_bf16: tuple[bool, ...]  # per visible CUDA device: runs bf16 natively (compute >= 8.0)
    cuda_current: int = 0  # torch's current CUDA device (the local rank under torchrun)
    cpu_bf16: bool = False  # AVX-512 BF16 or AMX

    @classmethod
    def detect(cls) -> Machine:
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        return cls(
            cuda_bf16=tuple(torch.cuda.get_device_capability(i) >= (8, 0) for i in range(count)),
            cuda_current=torch.cuda.current_device() if count else 0,
            cpu_bf16=cpu_has_native_bf16(),
        )


DEVICE_HELP = "auto (cuda when available, else cpu), cpu, cuda, cuda:N"


def select_device(
    device: str, precision: str, machine: Machine | None = None
) -> tuple[torch.device, str]:
    """The device and precision that train, translate and `score -c` run with.

    device: `auto` → cuda (torch's current device) when CUDA is present, else cpu; `cpu`,
    `cuda`, `cuda:N` are checked against the devices this process sees. precision: `auto` →
    bf16 where that device runs it natively (CUDA compute capability 8.0+, or a CPU with
    AVX-512 BF16 / AMX, where bf16 matmuls beat fp32), else fp32.
    """
    machine = machine or Machine.detect()
    chosen = _device(device, machine)
    if precision != "auto":
        return chosen, precision
    if chosen.type == "cuda":
        native = machine.cuda_bf16[machine.cuda_current if chosen.index is None else chosen.index]
    else:
        native = machine.cpu_bf16
    return chosen, "bf16" if native else "fp32"


def _device(name: str, machine: Machine) -> torch.device:
    from nmtkit.errors import UsageError

    count = len(machine.cuda_bf16)
    if name == "auto":
        return torch.device("cuda" if count else "cpu")
    try:
        chosen = torch.device(name)
    except (RuntimeError, ValueError):
        raise UsageError(f"invalid --device {name!r}", fix=f"use {DEVICE_HELP}") from None
    if chosen.type not in ("cpu", "cuda") or (chosen.type == "cpu" and chosen.index):
        raise UsageError(f"invalid --device {name!r}", fix=f"use {DEVICE_HELP}")
    if chosen.type == "cuda" and not count:
        raise UsageError(f"--device {name}: CUDA is not available", fix="use --device auto or cpu")
    if chosen.type == "cuda" and chosen.index is not None and chosen.index >= count:
        raise UsageError(
            f"--device {name}: this process sees {count} CUDA device(s)",
            fix=f"use cuda:0 to cuda:{count - 1} (CUDA_VISIBLE_DEVICES renumbers them)",
        )
    return chosen


def cpu_has_native_bf16() -> bool:
    """True if /proc/cpuinfo lists avx512_bf16 or amx_bf16 (emulated bf16 is slower than fp32)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            flags = next((line for line in f if line.startswith("flags")), "")
    except OSError:
        return False
    return bool({"avx512_bf16", "amx_bf16"} & set(flags.split()))


ONEDNN_CACHE_ENV = "ONEDNN_PRIMITIVE_CACHE_CAPACITY"
IDEEP_CACHE_ENV = "LRU_CACHE_CAPACITY"
ONEDNN_CACHE_ENTRIES = 64
IDEEP_CACHE_ENTRIES = 16


def bound_onednn_cache(
    capacity: int = ONEDNN_CACHE_ENTRIES, ideep_capacity: int = IDEEP_CACHE_ENTRIES
) -> None:
    """Keep the two per-shape caches behind PyTorch's CPU matmuls small, unless the user set them.

    bf16 matmuls on CPU go through ideep to oneDNN, and each library caches one entry per
    operand shape, up to 1024 by default. Packed encoders, length-varying batches and beam
    search create hundreds of shapes, so both caches fill with entries that are rarely reused,
    and ideep's (`LRU_CACHE_CAPACITY`, pytorch#27971) fragments the heap around them: resident
    memory grows over a run while speed gains nothing (figures: benchmarks/README.md, "Memory").
    Both libraries read their variable at first use: call this before the first matmul.
    """
    os.environ.setdefault(ONEDNN_CACHE_ENV, str(capacity))
    os.environ.setdefault(IDEEP_CACHE_ENV, str(ideep_capacity))
