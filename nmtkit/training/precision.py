"""One autocast context plus a GradScaler only for fp16 (nanoGPT's policy).

bf16 has fp32's exponent range, so it needs no loss scaling; fp16 does. The same code runs on
CPU and CUDA: only the device type passed to autocast/GradScaler differs.
"""

from __future__ import annotations

import contextlib

import torch

_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def autocast(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    """Autocast for bf16/fp16 (matmuls in low precision; softmax/loss stay float32)."""
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=_DTYPES[precision])


def grad_scaler(precision: str, device: torch.device) -> torch.amp.GradScaler | None:
    """A dynamic loss scaler for fp16, None otherwise."""
    if precision != "fp16":
        return None
    return torch.amp.GradScaler(device.type)
