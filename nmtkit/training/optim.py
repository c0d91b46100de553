"""Optimizer and learning-rate schedule factories.

The schedule is a plain object whose state is JSON (it goes into trainer_state.safetensors
metadata, never pickle): the rate is a pure function of the step, times a plateau factor.
"""

from __future__ import annotations

import inspect
import math
import sys
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from nmtkit.training.config import TrainConfig


def build_optimizer(cfg: TrainConfig, params: list[nn.Parameter], device: torch.device):
    """Adam / AdamW / SGD. The fused kernels (CPU and CUDA) read a `found_inf` tensor and skip
    the update on device when it is set, so a non-finite step costs no host sync."""
    skip_dynamo_import()
    fused = device.type in ("cpu", "cuda")
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=fused)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=fused)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(
            params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay, fused=fused
        )
    raise AssertionError(cfg.optimizer)


def skip_dynamo_import() -> None:
    """Keep torch.optim from importing torch._dynamo (seconds of start-up, for nothing we use).

    torch.optim wraps several methods with `torch._disable_dynamo`, which imports dynamo on the
    first call and caches the disabled function as `__dynamo_disable` on the raw function; we
    pre-fill that cache with the raw function itself. Disabling dynamo only matters under
    torch.compile, which training does not use; if dynamo is already loaded we change nothing.
    """
    if "torch._dynamo" in sys.modules:
        return
    from torch.optim import adam, adamw, optimizer, sgd

    methods = ("add_param_group", "zero_grad", "state_dict", "load_state_dict")
    targets = [getattr(optimizer.Optimizer, m) for m in methods]
    targets += [getattr(mod, mod.__name__.rsplit(".", 1)[1], None) for mod in (adam, adamw, sgd)]
    for fn in targets:
        if fn is not None:
            raw = inspect.unwrap(fn)
            if not hasattr(raw, "__dynamo_disable"):
                setattr(raw, "__dynamo_disable", raw)


def step_function(opt: torch.optim.Optimizer) -> Callable[[], None]:
    """`opt.step` without its wrapper (which imports torch._dynamo and runs profiler hooks):
    the raw step under no_grad, exactly what the wrapper does in eager mode."""
    if "torch._dynamo" in sys.modules:
        return opt.step
    raw = inspect.unwrap(type(opt).step)

    def step() -> None:
        with torch.no_grad():
            raw(opt)

    return step


class LRSchedule:
    """lr = peak * warmup(step) * shape(progress) * plateau_factor, floored at lr_min.

    constant: 1; inverse-sqrt: sqrt(warmup / step) after warm-up (Vaswani et al., 2017);
    cosine: half-cosine from peak to lr_min over the budget, where `progress` is the fraction
    of whichever budget (--max-steps, --max-epochs, --max-time) ends training first, so a
    time budget anneals to its end as an epoch budget does; plateau: the factor shrinks by
    lr_decay after lr_patience validations without improvement.
    """

    def __init__(self, cfg: TrainConfig) -> None:
        self.cfg = cfg
        self.factor = 1.0
        self.best: float | None = None
        self.bad = 0

    def lr_at(self, step: int, progress: float = 0.0) -> float:
        """Rate for update `step` (0-based) when `progress` (0..1) of the budget is spent."""
        cfg = self.cfg
        step1 = step + 1
        warm = min(1.0, step1 / cfg.warmup_steps) if cfg.warmup_steps else 1.0
        if cfg.lr_schedule == "inverse-sqrt":
            shape = math.sqrt(max(1, cfg.warmup_steps) / max(step1, cfg.warmup_steps, 1))
        elif cfg.lr_schedule == "cosine":
            progress = min(1.0, max(0.0, progress))
            low = cfg.lr_min / cfg.lr
            shape = low + (1 - low) * 0.5 * (1 + math.cos(math.pi * progress))
        else:
            shape = 1.0
        lr = cfg.lr * warm * shape * self.factor
        return lr if cfg.lr_schedule in ("constant", "inverse-sqrt") else max(lr, cfg.lr_min)

    def on_validation(self, value: float, higher_is_better: bool) -> None:
        """Plateau bookkeeping; other schedules ignore validation results."""
        if self.cfg.lr_schedule != "plateau":
            return
        better = self.best is None or (value > self.best if higher_is_better else value < self.best)
        if better:
            self.best, self.bad = value, 0
            return
        self.bad += 1
        if self.bad > self.cfg.lr_patience:
            self.factor *= self.cfg.lr_decay
            self.bad = 0

    def state_dict(self) -> dict[str, Any]:
        return {"factor": self.factor, "best": self.best, "bad": self.bad}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.factor, self.best, self.bad = state["factor"], state["best"], state["bad"]


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr
