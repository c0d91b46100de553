"""What the hardware runs natively; decides `--precision auto` for train, translate and score."""

from __future__ import annotations

import os

import torch


def resolve_precision(name: str, device: torch.device) -> str:
    """auto → bf16 where the hardware runs it natively (CUDA with bf16, or a CPU with AVX-512
    BF16 / AMX, where bf16 matmuls beat fp32), else fp32."""
    if name != "auto":
        return name
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if cpu_has_native_bf16() else "fp32"


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
