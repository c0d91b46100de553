"""`nmtkit.training.run`: set up (or resume) a training run in a save dir, then train.

Setup order matters for safety: the save dir is locked and checked before anything is written;
with torchrun every rank agrees on the outcome of setup, so one rank's error stops all ranks
instead of leaving the others waiting in a collective.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from torch import nn

from nmtkit.errors import UsageError
from nmtkit.hardware import bound_onednn_cache, select_device
from nmtkit.io.atomic import DirLock
from nmtkit.models.build import describe_model
from nmtkit.training import checkpoints as ckpt
from nmtkit.training import distributed as D
from nmtkit.training import state as S
from nmtkit.training.config import TrainConfig
from nmtkit.training.data import TrainData
from nmtkit.training.display import Display, MetricsLog
from nmtkit.training.optim import LRSchedule, build_optimizer
from nmtkit.training.precision import grad_scaler
from nmtkit.training.trainer import Progress, Trainer


def run(
    *,
    data_dir: Path,
    save_dir: Path,
    model_config: Any,
    train_config: TrainConfig,
    resume: bool,
    force: bool,
    console: Console,
    arch: str | None = None,
    notes: tuple[str, ...] = (),
) -> None:
    """Train `model_config` on DATA_DIR into SAVE_DIR (see docs/ARCHITECTURE.md, save dir).

    arch: the named architecture the options came from (recorded in checkpoints); notes: how
    the options were resolved (aliases, --arch, --resume), shown at start.
    """
    data_dir, save_dir = Path(data_dir), Path(save_dir)
    device, precision = select_device(train_config.device, train_config.precision)
    train_config = train_config.replace(precision=precision)
    dist = D.init_from_env(device.type)
    if dist.enabled and device.index is not None:
        D.shutdown(dist)
        raise UsageError(
            f"--device {train_config.device}: under torchrun each process uses its local rank's "
            "GPU", fix="use --device cuda (or auto)"
        )  # fmt: skip
    lock = DirLock(save_dir) if dist.is_main else None
    try:
        _run(data_dir, save_dir, model_config, train_config, resume, force, console, device,
             dist, lock, arch, notes)  # fmt: skip
    finally:
        if lock is not None:
            lock.release()
        D.shutdown(dist)


def _run(
    data_dir: Path, save_dir: Path, model_config: Any, cfg: TrainConfig, resume: bool,
    force: bool, console: Console, device: torch.device, dist: D.DistInfo, lock: DirLock | None,
    arch: str | None, notes: tuple[str, ...],
) -> None:  # fmt: skip
    from nmtkit.data.manifest import Manifest
    from nmtkit.data.tokenizer import Tokenizer

    set_threads(cfg.threads)
    bound_onednn_cache()
    display = Display(console, enabled=dist.is_main)
    error: UsageError | None = None
    state_path = None
    try:
        if not data_dir.is_dir():
            raise UsageError("data directory not found", file=data_dir,
                             fix="run `nmtkit preprocess` first")  # fmt: skip
        manifest = Manifest.load(data_dir)
        tokenizer = Tokenizer.load(data_dir)
        if lock is not None:
            save_dir.mkdir(parents=True, exist_ok=True)
            lock.acquire()
        state_path = ckpt.prepare_save_dir(save_dir, resume=resume, force=force,
                                           write=dist.is_main)  # fmt: skip
        if lock is not None and (stale := ckpt.remove_stale_temp_files(save_dir)):
            display.message(f"removed {len(stale)} temp file(s) a killed run left: "
                            f"{', '.join(stale)}")  # fmt: skip
    except UsageError as exc:
        error = exc
    if not D.all_agree(dist, error is None, comm_device(device)):
        raise error or UsageError("training setup failed on another rank (see rank 0)")
    data = TrainData(manifest, tokenizer, cfg, dist)
    trainer = _build(model_config, cfg, data, tokenizer, device, dist, display, save_dir,
                     state_path, arch)  # fmt: skip
    if dist.is_main:
        tokenizer.copy_to(save_dir)
        for note in notes:
            display.message(note)
        display.message(f"model: {describe_model(trainer.model.config)}", style="bold")
        display.message(model_summary(trainer.model))
        display.message(f"model config: {trainer.model.config.to_json()}")
        display.message(f"training config: {cfg.to_json()}")
        if data.valid_note:
            display.message(data.valid_note)
    try:
        with display, stop_signals(trainer):
            reason = trainer.fit()
    finally:
        trainer.metrics.close()
    _farewell(trainer, reason, save_dir)
    if dist.is_main and trainer.signal_name is None:
        _average_last(trainer, save_dir)


def _build(
    model_config: Any, cfg: TrainConfig, data: TrainData, tokenizer: Any, device: torch.device,
    dist: D.DistInfo, display: Display, save_dir: Path, state_path: Path | None,
    arch: str | None = None,
) -> Trainer:  # fmt: skip
    """Model, optimizer, schedule and progress: fresh, or restored from trainer_state."""
    from nmtkit.models.build import build_model

    random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)  # same initial weights on every rank
    model = build_model(model_config, joint_vocab=tokenizer.joint)
    check_vocab(model.config, tokenizer)
    stored = S.load_state(state_path) if state_path is not None else None
    if stored is not None:
        _check_resume(stored[1]["progress"], model, tokenizer, state_path)
        S.restore_model(model, stored[0])
    model.to(device).train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = build_optimizer(cfg, params, device)
    scaler = grad_scaler(cfg.precision, device)
    schedule = LRSchedule(cfg)
    progress = Progress()
    if stored is not None:
        tensors, meta = stored
        saved = meta["progress"]
        S.restore_optimizer(optimizer, tensors, meta["optimizer"])
        schedule.load_state_dict(saved["schedule"])
        if scaler is not None and saved.get("scaler"):
            scaler.load_state_dict(saved["scaler"])
        fields = {k: saved[k] for k in Progress.__dataclass_fields__ if k in saved}
        progress = Progress(**fields)
        if note := ckpt.check_pair(save_dir, saved):  # every rank: all raise or none
            display.message(note, style="yellow")
        progress.run_id = progress.run_id or uuid.uuid4().hex
        S.restore_rng(tensors, meta["rng"])
        if dist.rank:
            torch.manual_seed(cfg.seed + 7919 * dist.rank + progress.step)
        display.message(f"resuming from step {progress.step} (epoch {progress.epoch + 1})")
        if dist.is_main:
            ckpt.truncate_metrics(save_dir / ckpt.METRICS, progress.step)
    else:
        progress.run_id = uuid.uuid4().hex  # not from torch/random: the seeded RNGs stay as set
        if dist.rank:
            torch.manual_seed(cfg.seed + 7919 * dist.rank)  # different dropout masks per rank
    D.broadcast_params(dist, list(model.state_dict().values()))
    metrics = MetricsLog(
        save_dir / ckpt.METRICS if dist.is_main else None,
        save_dir / "tensorboard" if dist.is_main else None,
    )
    ckpt_meta = {"model_config": model.config, "train_config": cfg,
                 "tokenizer": tokenizer.identity(), "arch": arch}  # fmt: skip
    return Trainer(
        model=model, optimizer=optimizer, scaler=scaler, schedule=schedule, data=data, cfg=cfg,
        device=device, dist=dist, display=display, metrics=metrics, save_dir=save_dir,
        ckpt_meta=ckpt_meta, progress=progress,
    )  # fmt: skip


def _check_resume(saved: dict[str, Any], model: nn.Module, tokenizer: Any, path: Path) -> None:
    from nmtkit.models.build import upgrade_model_config

    given = json.loads(model.config.to_json())
    stored = saved["model_config"]
    if isinstance(stored, dict):
        stored = upgrade_model_config(stored)
    ckpt.check_same_architecture(stored, given, path)
    identity = saved.get("tokenizer")
    if identity is not None and not tokenizer.matches(identity):
        raise UsageError("--resume: the data dir's tokenizer differs from the run's", file=path)


def check_vocab(model_config: Any, tokenizer: Any) -> None:
    for side in ("src", "tgt"):
        want = getattr(tokenizer, f"{side}_vocab_size")
        have = getattr(model_config, f"{side}_vocab_size")
        if want != have:
            raise UsageError(
                f"model {side}_vocab_size {have} does not match the tokenizer's {want}",
                fix="leave vocabulary sizes to the data directory",
            )


def set_threads(threads: int) -> None:
    """--threads, else every core this process may use (split between local DDP ranks)."""
    if threads <= 0:
        local_world = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
        threads = max(1, len(os.sched_getaffinity(0)) // local_world)
    torch.set_num_threads(threads)


def comm_device(device: torch.device) -> torch.device:
    return device if device.type == "cuda" else torch.device("cpu")


def model_summary(model: nn.Module) -> str:
    """One line: architecture and parameters per component (shared tensors counted once)."""
    seen: set[int] = set()
    parts = []
    for name, child in model.named_children():
        count = 0
        for p in child.parameters():
            if id(p) not in seen:
                seen.add(id(p))
                count += p.numel()
        parts.append(f"{name} {count / 1e6:.2f}M")
    cfg = model.config
    arch = f"{cfg.encoder}/{cfg.attention}/{cfg.decoder}"
    total = sum(p.numel() for p in model.parameters())
    return f"model {arch}: {total / 1e6:.2f}M parameters ({', '.join(parts)})"


@contextlib.contextmanager
def stop_signals(trainer: Trainer) -> Iterator[None]:
    """SIGINT/SIGTERM: finish the current update, write checkpoint_last, stop. A second SIGINT
    interrupts at once. Whatever handlers were found are put back afterwards; a SIGINT found
    ignored (a background job started by a script, nohup) stays ignored, as Python itself does."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        if trainer.signal_name is not None:
            raise KeyboardInterrupt
        trainer.signal_name = signal.Signals(signum).name
        trainer.display.message(f"{trainer.signal_name}: finishing the current step…")

    wanted = [signal.SIGTERM]
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        wanted.append(signal.SIGINT)
    old = {s: signal.signal(s, handler) for s in wanted}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _average_last(trainer: Trainer, save_dir: Path) -> None:
    """checkpoint_avg: the mean of the kept step checkpoints (written at each validation and at
    the end): a cheap ensemble, at the cost of one extra file."""
    from nmtkit.training.average import average_checkpoints

    steps = ckpt.step_checkpoints(save_dir)
    if len(steps) >= 2:
        average_checkpoints(steps, save_dir / ckpt.AVERAGE)
        trainer.display.message(
            f"averaged {len(steps)} step checkpoints into {ckpt.AVERAGE}", style="bold"
        )


def _farewell(trainer: Trainer, reason: str, save_dir: Path) -> None:
    p, display = trainer.progress, trainer.display
    if trainer.signal_name is not None:
        display.message(
            f"{reason} at step {p.step}: checkpoint_last written to {save_dir}. "
            "Resume with the same command plus --resume.",
            style="yellow",
        )
        return
    best = "" if p.best is None else (
        f"; best {trainer.cfg.early_stopping_metric} {p.best:.4g} in checkpoint_best"
    )
    display.message(f"done: {reason} at step {p.step}{best}", style="bold")
