"""TrainConfig: every training option, declared once (flags, help, defaults, checkpoint metadata).

Defaults are the recipe of examples/multi30k/README.md: a small model trained on one CPU machine.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Literal

from nmtkit.config import ConfigBase, option
from nmtkit.errors import UsageError

_DURATION = re.compile(r"(\d+(?:\.\d+)?)([hms])")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0}


def parse_duration(text: str) -> float:
    """Seconds in "90", "90s", "12m", "1h", "1h30m"; 0 means no limit."""
    text = text.strip().lower()
    try:
        return float(text)
    except ValueError:
        pass
    parts = _DURATION.findall(text)
    if not parts or "".join(f"{n}{u}" for n, u in parts) != text:
        raise UsageError(
            f"invalid --max-time {text!r}", fix="use seconds or a duration like 90s, 12m, 1h30m"
        )
    return sum(float(n) * _UNIT[u] for n, u in parts)


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainConfig(ConfigBase):
    """Batching, loss, optimisation, precision, budgets, validation and checkpointing."""

    # batching
    max_tokens: int = option(
        0, help="Padded tokens per batch (token batches); 0 = use --batch-size."
    )
    batch_size: int = option(64, help="Sentences per batch (ignored when --max-tokens is set).")
    seed: int = option(1, help="Seed for initialisation, dropout and the per-epoch batch shuffle.")
    # loss and teacher forcing
    label_smoothing: float = option(0.1, help="Label smoothing epsilon of the cross-entropy.")
    teacher_forcing: float = option(
        1.0, help="Probability of feeding the gold previous token (1 = always; scheduled sampling)."
    )
    teacher_forcing_schedule: Literal["constant", "linear", "exponential", "inverse-sigmoid"] = (
        option("constant", help="How the teacher-forcing probability decays with the step.")
    )
    teacher_forcing_min: float = option(
        0.0, help="Floor the teacher-forcing schedule decays towards."
    )
    teacher_forcing_steps: int = option(
        10000,
        help="Decay time scale: linear reaches the floor, exponential halves, inverse-sigmoid is "
        "halfway, at this step.",
    )
    # optimisation
    optimizer: Literal["adam", "adamw", "sgd"] = option("adam", help="Optimizer.")
    lr: float = option(3e-3, help="Peak learning rate.")
    momentum: float = option(0.9, help="SGD momentum (sgd only).")
    weight_decay: float = option(0.0, help="Weight decay (decoupled for adamw).")
    lr_schedule: Literal["constant", "inverse-sqrt", "plateau", "cosine"] = option(
        "cosine",
        help="Learning-rate schedule, all with linear --warmup-steps; cosine anneals to --lr-min "
        "over whichever budget (--max-steps, --max-epochs, --max-time) ends training first.",
    )
    warmup_steps: int = option(100, help="Linear warm-up steps from 0 to --lr.")
    lr_min: float = option(0.0, help="Lowest learning rate for cosine and plateau schedules.")
    lr_decay: float = option(0.5, help="Plateau: factor applied when validation stalls.")
    lr_patience: int = option(1, help="Plateau: validations without improvement before decaying.")
    clip_norm: float = option(1.0, help="Clip the gradient norm to this value; 0 = no clipping.")
    update_freq: int = option(1, help="Accumulate gradients over this many batches per update.")
    # hardware
    precision: Literal["auto", "fp32", "bf16", "fp16"] = option(
        "auto",
        help="Autocast precision; auto = bf16 where the hardware runs it natively (CUDA with bf16, "
        "CPUs with AVX-512 BF16/AMX), else fp32.",
    )
    device: str = option(
        "auto", help="auto (cuda when available, else cpu), cpu, cuda, cuda:N (one process)."
    )
    threads: int = option(0, help="CPU threads for torch; 0 = all available cores.")
    # budgets
    max_epochs: int = option(10, help="Stop after this many epochs; 0 = no limit.")
    max_steps: int = option(0, help="Stop after this many updates; 0 = no limit.")
    max_time: str = option(
        "0", help="Training wall-clock budget, summed over resumed runs: seconds or 90s, 12m, "
        "1h30m; 0 = none."
    )
    # validation and checkpoints
    validate_every: int = option(0, help="Validate every N updates (and at each epoch end).")
    valid_beam: int = option(1, help="Beam size for validation BLEU; 0 or 1 = greedy.")
    valid_subset: int = option(
        0, help="Validate on this many valid pairs, drawn once with --seed (0 = all): for large "
        "dev sets."
    )
    early_stopping_metric: Literal["bleu", "loss", "ppl"] = option(
        "bleu", help="Validation metric that picks checkpoint_best and drives early stopping."
    )
    patience: int = option(
        10, help="Stop after this many validations without improvement; 0 = never."
    )
    keep_last: int = option(
        3, help="Step checkpoints to keep (checkpoint_step{N}); at the end they are averaged "
        "into checkpoint_avg. 0 = none."
    )
    log_every: int = option(100, help="Log training metrics every N updates.")

    def __post_init__(self) -> None:
        positive = ("update_freq", "log_every", "teacher_forcing_steps")
        non_negative = (
            "max_tokens", "batch_size", "warmup_steps", "max_epochs", "max_steps", "validate_every",
            "valid_beam", "patience", "keep_last", "threads", "lr_patience", "valid_subset",
        )  # fmt: skip
        for name in positive:
            if getattr(self, name) < 1:
                raise UsageError(f"--{name.replace('_', '-')} must be at least 1")
        for name in non_negative:
            if getattr(self, name) < 0:
                raise UsageError(f"--{name.replace('_', '-')} must not be negative")
        if self.max_tokens == 0 and self.batch_size == 0:
            raise UsageError("no batch size", fix="set --max-tokens or --batch-size")
        for name in ("teacher_forcing", "teacher_forcing_min"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise UsageError(f"--{name.replace('_', '-')} must be in [0, 1]")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise UsageError("--label-smoothing must be in [0, 1)")
        if self.lr <= 0 or self.clip_norm < 0 or self.weight_decay < 0:
            raise UsageError("--lr must be positive, --clip-norm and --weight-decay not negative")
        seconds = parse_duration(self.max_time)
        if self.lr_schedule == "cosine" and not (self.max_epochs or self.max_steps or seconds):
            raise UsageError(
                "--lr-schedule cosine anneals over the budget, and there is none",
                fix="set --max-epochs, --max-steps or --max-time",
            )

    @property
    def max_seconds(self) -> float:
        return parse_duration(self.max_time)
