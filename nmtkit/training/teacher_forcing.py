"""Scheduled sampling (Bengio et al., 2015): the probability of feeding the gold previous token.

Training starts near `--teacher-forcing` and moves towards `--teacher-forcing-min` as the step
grows, so the model learns to recover from its own predictions. One time scale,
`--teacher-forcing-steps`, parametrises every shape:
  linear           p0 - (p0 - min) * min(1, step / steps)          (floor reached at `steps`)
  exponential      min + (p0 - min) * 0.5 ** (step / steps)        (half-life `steps`)
  inverse-sigmoid  min + (p0 - min) * sigmoid(8 * (1 - step / steps))  (halfway at `steps`)
"""

from __future__ import annotations

import math

from nmtkit.training.config import TrainConfig


def teacher_forcing_at(cfg: TrainConfig, step: int) -> float:
    """Teacher-forcing probability for update `step` (0-based)."""
    p0, floor, scale = cfg.teacher_forcing, cfg.teacher_forcing_min, cfg.teacher_forcing_steps
    kind = cfg.teacher_forcing_schedule
    if kind == "constant" or p0 <= floor:
        return p0
    if kind == "linear":
        return p0 - (p0 - floor) * min(1.0, step / scale)
    if kind == "exponential":
        return floor + (p0 - floor) * 0.5 ** (step / scale)
    if kind == "inverse-sigmoid":
        x = 8.0 * (1.0 - step / scale)
        return floor + (p0 - floor) / (1.0 + math.exp(-x)) if x > -700 else floor
    raise AssertionError(kind)
