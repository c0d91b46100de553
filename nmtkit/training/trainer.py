"""The training loop: updates, budgets, validation, checkpoints. No architecture knowledge.

The hot loop is tensor-only: loss sums, token counts and the non-finite flags stay tensors and
are read on the host only at log time (and every NONFINITE_CHECK updates); a step whose
gradient norm is not finite is skipped on device through the fused optimizer's `found_inf`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from nmtkit.errors import NmtkitError, UsageError
from nmtkit.training import checkpoints as ckpt
from nmtkit.training import distributed as D
from nmtkit.training.config import TrainConfig
from nmtkit.training.data import TrainData
from nmtkit.training.display import Display, MetricsLog
from nmtkit.training.loss import model_loss
from nmtkit.training.optim import LRSchedule, set_lr, step_function
from nmtkit.training.precision import autocast
from nmtkit.training.state import STATE_FILE, save_state
from nmtkit.training.teacher_forcing import teacher_forcing_at
from nmtkit.training.validate import search_decoder, validate

MAX_NONFINITE = 5  # consecutive skipped updates before training stops
NONFINITE_CHECK = 8  # read the non-finite counters every this many updates


class TrainingDiverged(NmtkitError):
    exit_code = 3


@dataclasses.dataclass
class Progress:
    """Where training stands; JSON in trainer_state. `epoch` counts completed epochs."""

    step: int = 0
    epoch: int = 0
    epoch_update: int = 0  # updates done in the current epoch
    best: float | None = None
    bad_validations: int = 0
    last_valid_step: int = -1
    seconds: float = 0.0  # training wall time of all runs up to the last checkpoint
    run_id: str = ""  # written in checkpoint_last and trainer_state: pairs the two files


@dataclasses.dataclass
class Budget:
    """Whichever of max-epochs/steps/time comes first.

    Time is training wall time summed over resumed runs (as fairseq's cumulative training
    time), so `--max-time 12m` means 12 minutes in all. `elapsed` only moves in `tick`, which
    the trainer calls with the ranks' maximum, so every rank sees the same budget fraction and
    the same cosine learning rate.
    """

    cfg: TrainConfig
    start: float  # time.monotonic() when this process started training
    seconds_before: float = 0.0  # training seconds of earlier runs (from the checkpoint)
    elapsed: float = 0.0  # training seconds of all runs, as of the last tick
    start_fraction: float = 0.0

    def local_seconds(self) -> float:
        return self.seconds_before + time.monotonic() - self.start

    def tick(self, seconds: float) -> None:
        self.elapsed = seconds

    def fraction(self, p: Progress, epoch_len: int) -> float:
        cfg, parts = self.cfg, [0.0]
        if cfg.max_steps:
            parts.append(p.step / cfg.max_steps)
        if cfg.max_seconds:
            parts.append(self.elapsed / cfg.max_seconds)
        if cfg.max_epochs:
            parts.append((p.epoch + p.epoch_update / max(1, epoch_len)) / cfg.max_epochs)
        return min(1.0, max(parts))

    def eta(self, p: Progress, epoch_len: int) -> float | None:
        done = self.fraction(p, epoch_len)
        gained = done - self.start_fraction
        if gained <= 0:
            return None
        return (time.monotonic() - self.start) * (1.0 - done) / gained

    def time_up(self) -> bool:
        return bool(self.cfg.max_seconds) and self.elapsed >= self.cfg.max_seconds


class Trainer:
    """Runs updates over TrainData until a budget, early stopping or a signal ends training."""

    def __init__(
        self,
        *,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        scaler: torch.amp.GradScaler | None,
        schedule: LRSchedule,
        data: TrainData,
        cfg: TrainConfig,
        device: torch.device,
        dist: D.DistInfo,
        display: Display,
        metrics: MetricsLog,
        save_dir: Path,
        ckpt_meta: dict[str, Any],
        progress: Progress,
    ) -> None:
        self.model, self.optimizer, self.scaler, self.schedule = model, optimizer, scaler, schedule
        self.data, self.cfg, self.device, self.dist = data, cfg, device, dist
        self.display, self.metrics, self.save_dir = display, metrics, save_dir
        self.ckpt_meta, self.progress = ckpt_meta, progress
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.optimizer_step = step_function(optimizer)
        self.stop_reason: str | None = None
        self.signal_name: str | None = None
        self.budget = Budget(
            cfg, time.monotonic(), seconds_before=progress.seconds, elapsed=progress.seconds
        )
        self.first_step = progress.step
        self._reset_meters()
        self.nonfinite_run = torch.zeros((), device=device)  # consecutive skipped updates
        self.nonfinite_max = torch.zeros((), device=device)  # longest such run since last check
        self.nonfinite_total = torch.zeros((), device=device)
        self.nonfinite_seen = 0

    # ---- the loop -------------------------------------------------------------------------

    def fit(self) -> str:
        """Train until done; returns why it stopped."""
        p, cfg = self.progress, self.cfg
        groups = self.data.epoch_groups(p.epoch)
        if not groups:
            raise UsageError(
                "the train split gives no batches for this run",
                fix="use more training data, fewer ranks, or smaller batches",
            )
        self.budget.start_fraction = self.budget.fraction(p, len(groups))
        while self.stop_reason is None:
            if cfg.max_epochs and p.epoch >= cfg.max_epochs:
                self.stop_reason = f"reached --max-epochs {cfg.max_epochs}"
                break
            if p.epoch_update >= len(groups):
                self._end_epoch()
                groups = self.data.epoch_groups(p.epoch)
                continue
            self._update(groups[p.epoch_update])
            p.step += 1
            p.epoch_update += 1
            self._after_update(len(groups))
        self._finish()
        return self.stop_reason

    def _after_update(self, epoch_len: int) -> None:
        p, cfg = self.progress, self.cfg
        seconds, signalled = D.sync_clock(
            self.dist, self.budget.local_seconds(), self.signal_name is not None, self.device
        )  # every rank stops at the same update and sees the same clock
        self.budget.tick(seconds)
        if p.step % NONFINITE_CHECK == 0:
            self._check_nonfinite()
        if p.step % cfg.log_every == 0 or p.step == self.first_step + 1:
            self._log(epoch_len)  # also after this process's first update: early feedback
        if cfg.max_steps and p.step >= cfg.max_steps:
            self.stop_reason = f"reached --max-steps {cfg.max_steps}"
        elif self.budget.time_up():
            self.stop_reason = f"reached --max-time {cfg.max_time}"
        elif signalled and self.signal_name is None:
            self.stop_reason = "stopped on another rank"
        if self.signal_name and self.stop_reason is None:
            self.stop_reason = f"interrupted by {self.signal_name}"
        if self.stop_reason is None and cfg.validate_every and p.step % cfg.validate_every == 0:
            self._validate_and_save()

    def _end_epoch(self) -> None:
        p = self.progress
        p.epoch += 1
        p.epoch_update = 0
        self.display.message(f"epoch {p.epoch} done at step {p.step}")
        if p.last_valid_step != p.step:
            self._validate_and_save()

    def _finish(self) -> None:
        p = self.progress
        self._check_nonfinite()
        if self.tokens:  # updates since the last log line
            self._log(self.data.epoch_len)
        if p.step == 0 or p.last_valid_step == p.step:
            return  # nothing trained, or checkpoints were just written
        if self.signal_name is not None:
            self._save(best=False)  # be quick: the user asked to stop
        else:
            self._validate_and_save(final=True)

    # ---- one update -------------------------------------------------------------------------

    def _update(self, group: list[list[int]]) -> None:
        """Forward/backward over the group's batches, one optimizer step (skipped if not finite)."""
        cfg, p = self.cfg, self.progress
        batches = [self.data.batch(ids).to(self.device, non_blocking=True) for ids in group]
        tokens = sum(b.num_tgt_tokens for b in batches)
        tf = teacher_forcing_at(cfg, p.step)
        progress = self.budget.fraction(p, self.data.epoch_len)
        set_lr(self.optimizer, self.schedule.lr_at(p.step, progress))
        for batch in batches:
            try:
                with autocast(cfg.precision, self.device):
                    loss, nll = model_loss(
                        self.model, batch, smoothing=cfg.label_smoothing, teacher_forcing=tf
                    )
                scaled = loss / tokens
                (self.scaler.scale(scaled) if self.scaler else scaled).backward()
            except RuntimeError as exc:
                if is_oom(exc):
                    raise out_of_memory(batch) from None
                raise
            self.loss_sum += loss.detach()
            self.nll_sum += nll
        self.tokens += tokens
        self._step(tokens)

    def _step(self, tokens: int) -> None:
        D.all_reduce_grads(self.dist, self.params, tokens)
        if self.scaler is not None:
            self.scaler.unscale_(self.optimizer)
        grads = [q.grad for q in self.params if q.grad is not None]
        norm = torch.nn.utils.get_total_norm(grads, foreach=True)
        if self.cfg.clip_norm > 0:
            torch.nn.utils.clip_grads_with_norm_(
                self.params, self.cfg.clip_norm, norm, foreach=True
            )
        bad = (~torch.isfinite(norm)).to(torch.float32)  # () 1.0 = skip this update
        if self.scaler is not None:
            self.scaler.step(self.optimizer)  # fp16: the scaler skips inf steps itself
            self.scaler.update()
        else:
            self.optimizer.found_inf = bad  # fused kernels skip the update on device
            self.optimizer_step()
        self.optimizer.zero_grad(set_to_none=True)
        self.nonfinite_run = (self.nonfinite_run + bad) * bad
        self.nonfinite_max = torch.maximum(self.nonfinite_max, self.nonfinite_run)
        self.nonfinite_total += bad
        self.grad_norm = norm

    # ---- logging ----------------------------------------------------------------------------

    def _reset_meters(self) -> None:
        zero = torch.zeros((), dtype=torch.float32, device=self.device)
        self.loss_sum, self.nll_sum = zero.clone(), zero.clone()
        self.tokens = 0
        self.meter_start = time.monotonic()
        self.grad_norm: Tensor | None = None

    def _check_nonfinite(self) -> None:
        longest, total = (int(x) for x in torch.stack([self.nonfinite_max, self.nonfinite_total]))
        self.nonfinite_max.zero_()
        self.nonfinite_max += self.nonfinite_run
        if total > self.nonfinite_seen:
            self.display.message(
                f"warning: step {self.progress.step}: loss not finite, skipped "
                f"{total - self.nonfinite_seen} update(s)",
                style="yellow",
            )
            self.nonfinite_seen = total
        if longest >= MAX_NONFINITE:
            raise TrainingDiverged(
                f"training diverged: loss not finite for {longest} updates in a row at step "
                f"{self.progress.step} (fix: lower --lr, keep --clip-norm, or use --precision fp32)"
            )

    def _log(self, epoch_len: int) -> None:
        stats = torch.stack([self.loss_sum, self.nll_sum]).double().cpu()
        stats = torch.cat([stats, torch.tensor([float(self.tokens)], dtype=torch.float64)])
        stats = D.sum_across(self.dist, stats)
        loss, nll, tokens = stats.tolist()
        elapsed_meter = max(1e-9, time.monotonic() - self.meter_start)
        p = self.progress
        tokens = max(tokens, 1.0)
        m = {
            "step": p.step,
            "epoch": p.epoch + 1,
            "loss": loss / tokens,
            "nll_loss": nll / tokens,
            "ppl": math.exp(min(nll / tokens, 100.0)),
            "lr": self.optimizer.param_groups[0]["lr"],
            "teacher_forcing": teacher_forcing_at(self.cfg, max(0, p.step - 1)),
            "grad_norm": float(self.grad_norm) if self.grad_norm is not None else None,
            "tgt_tok_s": tokens / elapsed_meter,
            "elapsed": self.budget.elapsed,
            "time": time.time(),
            "eta": self.budget.eta(p, epoch_len),
        }
        self.display.train(m)
        self.metrics.write("train", m)
        self._reset_meters()

    # ---- validation and checkpoints -----------------------------------------------------------

    def _validate_and_save(self, *, final: bool = False) -> None:
        """Rank 0 validates (RNG-neutral, so resumed runs stay exact) and writes checkpoints."""
        p, cfg = self.progress, self.cfg
        p.last_valid_step = p.step
        stop = torch.zeros(1, device=self.device)
        if self.dist.is_main:
            rng = torch.get_rng_state()
            result = self._run_validation()
            torch.set_rng_state(rng)
            improved = self._record(result) if result is not None else False
            self._save(best=improved)
            if cfg.keep_last:
                ckpt.write_checkpoint(self.save_dir, f"checkpoint_step{p.step}.safetensors",
                                      self.model, self._meta())  # fmt: skip
                ckpt.prune_step_checkpoints(self.save_dir, cfg.keep_last)
            if cfg.patience and p.bad_validations >= cfg.patience and not final:
                stop += 1
        stop = D.broadcast_tensor(self.dist, stop)
        if float(stop) > 0 and self.stop_reason is None:
            self.stop_reason = (
                f"early stopping: no {cfg.early_stopping_metric} improvement in "
                f"{cfg.patience} validations"
            )

    def _run_validation(self) -> dict[str, Any] | None:
        if self.data.valid is None:
            return None
        return validate(
            self.model,
            self.data.valid_batches(self.device),
            references=self.data.references(),
            detokenize=self.data.tokenizer.decode_tgt,
            smoothing=self.cfg.label_smoothing,
            autocast=lambda: autocast(self.cfg.precision, self.device),
            decode=search_decoder(self.cfg.valid_beam),
        )

    def _record(self, result: dict[str, Any]) -> bool:
        """Update best/patience/plateau from a validation result; True if it is a new best."""
        p, metric = self.progress, self.cfg.early_stopping_metric
        value = result[metric]
        higher = metric == "bleu"
        improved = p.best is None or (value > p.best if higher else value < p.best)
        if improved:
            p.best, p.bad_validations = value, 0
        else:
            p.bad_validations += 1
        self.schedule.on_validation(value, higher)
        epoch = p.epoch + (1 if p.epoch_update else 0)  # the epoch this validation belongs to
        m = {"step": p.step, "epoch": epoch, "elapsed": self.budget.elapsed, **result,
             "best": improved}  # fmt: skip
        self.display.valid(m)
        self.metrics.write("valid", m)
        return improved

    def _meta(self) -> dict[str, str]:
        p = self.progress
        return ckpt.checkpoint_metadata(
            **self.ckpt_meta, step=p.step, epoch=p.epoch, run_id=p.run_id
        )

    def _save(self, *, best: bool) -> None:
        """checkpoint_last (+ trainer state) and, if `best`, checkpoint_best. Rank 0 only."""
        if not self.dist.is_main:
            return
        meta = self._meta()
        self.progress.seconds = self.budget.local_seconds()
        ckpt.write_checkpoint(self.save_dir, ckpt.LAST, self.model, meta)
        if best:
            ckpt.write_checkpoint(self.save_dir, ckpt.BEST, self.model, meta)
        progress = {
            **dataclasses.asdict(self.progress),
            "schedule": self.schedule.state_dict(),
            "scaler": self.scaler.state_dict() if self.scaler is not None else None,
            "model_config": json.loads(self.model.config.to_json()),
            "tokenizer": self.ckpt_meta["tokenizer"],
            "train_config": self.cfg.to_dict(),
            "arch": self.ckpt_meta.get("arch"),
            "world_size": self.dist.world_size,
        }
        save_state(self.save_dir / STATE_FILE, model=self.model, optimizer=self.optimizer,
                   progress=progress)  # fmt: skip


def is_oom(exc: BaseException) -> bool:
    text = str(exc).lower()
    return isinstance(exc, torch.OutOfMemoryError) or "out of memory" in text or (
        "can't allocate memory" in text
    )


def out_of_memory(batch: Any) -> UsageError:
    return UsageError(
        f"out of memory on a batch of {batch.size} sentences / {batch.num_tgt_tokens} target "
        "tokens",
        fix="lower --max-tokens (or --batch-size), or use --update-freq to keep the batch size",
    )
