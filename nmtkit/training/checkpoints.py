"""The save directory: refusing to clobber another run, model checkpoints, keep-last pruning.

Every file is written atomically (nmtkit.io.atomic): a crash mid-write leaves the previous file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from torch import nn

from nmtkit.errors import UsageError
from nmtkit.io.atomic import atomic_open, is_temp_file
from nmtkit.io.checkpoint import save_model
from nmtkit.training.state import STATE_FILE

LAST, BEST = "checkpoint_last.safetensors", "checkpoint_best.safetensors"
AVERAGE = "checkpoint_avg.safetensors"
STEP_RE = re.compile(r"checkpoint_step(\d+)\.safetensors$")
METRICS = "metrics.jsonl"


def run_files(save_dir: Path) -> list[Path]:
    """Files that mark a directory as holding a training run."""
    if not save_dir.is_dir():
        return []
    names = {LAST, BEST, STATE_FILE, METRICS}
    return sorted(p for p in save_dir.iterdir() if p.name in names or STEP_RE.match(p.name))


def prepare_save_dir(save_dir: Path, *, resume: bool, force: bool, write: bool) -> Path | None:
    """Check the save dir against --resume/--force; returns the state file to resume from.

    With --force (and no --resume) the previous run's files are removed (only when `write`).
    """
    if save_dir.exists() and not save_dir.is_dir():
        raise UsageError("--save-dir is a file, not a directory", file=save_dir)
    existing = run_files(save_dir)
    state = save_dir / STATE_FILE
    if resume:
        if not state.is_file():
            raise UsageError(
                "nothing to resume: no trainer_state.safetensors here",
                file=save_dir,
                fix="drop --resume to start a new run",
            )
        return state
    if existing and not force:
        raise UsageError(
            "save dir already holds a training run",
            file=save_dir,
            fix="pass --resume to continue it, --force to start over, or choose another --save-dir",
        )
    if write:
        for path in existing:
            path.unlink()
    return None


def remove_stale_temp_files(save_dir: Path) -> list[str]:
    """Temp files a killed trainer left in the save dir (a SIGKILL runs no cleanup). Call only
    while holding the save dir's lock: then no live writer owns them."""
    removed = []
    for path in save_dir.iterdir() if save_dir.is_dir() else []:
        if is_temp_file(path.name) and path.is_file():
            path.unlink(missing_ok=True)
            removed.append(path.name)
    return sorted(removed)


def checkpoint_metadata(
    *, model_config: Any, train_config: Any, tokenizer: dict[str, Any], step: int, epoch: int,
    arch: str | None = None, run_id: str = "",
) -> dict[str, str]:  # fmt: skip
    meta = {
        "model_config": model_config.to_json(),
        "train_config": train_config.to_json(),
        "tokenizer": json.dumps(tokenizer, sort_keys=True),
        "step": str(step),
        "epoch": str(epoch),
        **({"arch": arch} if arch else {}),
    }
    if run_id:
        meta["run_id"] = run_id  # pairs checkpoint_last with its trainer_state (check_pair)
    return meta


def check_pair(save_dir: Path, progress: dict[str, Any]) -> str | None:
    """checkpoint_last and trainer_state are written one after the other (two renames), so a
    kill between them leaves checkpoint_last one save ahead. Resuming is still consistent:
    weights, optimizer and RNG all come from trainer_state, whose step and run id are checked
    here against checkpoint_last's. Returns a line to show when they differ; refuses files of
    two different runs."""
    from nmtkit.io.checkpoint import read_metadata

    last = save_dir / LAST
    run_id, step = progress.get("run_id") or "", progress.get("step")
    if not last.is_file() or not run_id:
        return None  # no checkpoint_last yet, or a state written before run ids existed
    try:
        meta = read_metadata(last)
    except UsageError:
        return f"{LAST} is unreadable; resuming from {STATE_FILE} (step {step}), which is whole"
    if meta.get("run_id", run_id) != run_id:
        raise UsageError(
            f"{LAST} and {STATE_FILE} belong to different training runs",
            file=save_dir,
            fix="restore the run's own files, or pass --force to start a new run",
        )
    if meta.get("step") == str(step):
        return None
    return (
        f"{LAST} is at step {meta.get('step')} but {STATE_FILE} at step {step} (the run was "
        f"stopped between the two writes): resuming from step {step}, whose weights, optimizer "
        "and RNG state belong together"
    )


def write_checkpoint(save_dir: Path, name: str, model: nn.Module, meta: dict[str, str]) -> Path:
    path = save_dir / name
    save_model(path, model, meta)
    return path


def step_checkpoints(save_dir: Path) -> list[Path]:
    """checkpoint_step{N} files, oldest first."""
    steps = sorted(
        (int(m.group(1)), p) for p in save_dir.iterdir() if (m := STEP_RE.match(p.name))
    )
    return [p for _, p in steps]


def prune_step_checkpoints(save_dir: Path, keep_last: int) -> None:
    """Delete all but the newest `keep_last` checkpoint_step{N} files."""
    steps = step_checkpoints(save_dir)
    for path in steps[: max(0, len(steps) - keep_last)]:
        path.unlink(missing_ok=True)


def first_difference(stored: Any, given: Any, prefix: str = "") -> str | None:
    """Dotted name of the first field where two config dicts differ, else None."""
    if isinstance(stored, dict) and isinstance(given, dict):
        for key in sorted(set(stored) | set(given)):
            diff = first_difference(stored.get(key), given.get(key), f"{prefix}{key}.")
            if diff is not None:
                return diff
        return None
    return None if stored == given else prefix.rstrip(".")


def check_same_architecture(stored: dict[str, Any], given: dict[str, Any], path: Path) -> None:
    """--resume must rebuild the same model: name the first field that differs."""
    field = first_difference(stored, given)
    if field is None:
        return
    value = _lookup(stored, field), _lookup(given, field)
    raise UsageError(
        f"--resume: architecture differs from the checkpoint at {field} "
        f"(checkpoint {value[0]!r}, given {value[1]!r})",
        file=path,
        fix="pass the original architecture flags, or --force to start a new run",
    )


def _lookup(values: dict[str, Any], dotted: str) -> Any:
    for key in dotted.split("."):
        values = values.get(key) if isinstance(values, dict) else None
    return values


def truncate_metrics(path: Path, step: int) -> None:
    """On resume, drop log lines written after the checkpoint (a killed run may have logged
    steps that the resumed run will log again)."""
    if not path.is_file():
        return
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    keep = []
    for line in lines:
        try:
            if json.loads(line)["step"] <= step:
                keep.append(line)
        except (ValueError, KeyError, TypeError):
            continue  # a torn last line from a killed process
    if len(keep) != len(lines):
        with atomic_open(path) as f:
            f.writelines(keep)
