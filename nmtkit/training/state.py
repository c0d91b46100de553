"""Trainer state in trainer_state.safetensors: everything --resume needs, and no pickle.

Tensors: the model weights (`model.*`, so the file is self-consistent even if a crash hit between
writing it and checkpoint_last), optimizer moments (`optim.{param}.{name}`), RNG states
(`rng.torch`, `rng.cuda.{i}` as uint8, `rng.python` as int64). Everything else (step, epoch,
position in the epoch, scheduler, scaler, param groups, configs) is JSON in the metadata.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from nmtkit.io.checkpoint import json_field, load_tensors, save_tensors

STATE_FILE = "trainer_state.safetensors"


def rng_tensors() -> tuple[dict[str, Tensor], dict[str, Any]]:
    """Python and torch RNG states: tensors plus the JSON bits (python's version and gauss)."""
    version, internal, gauss = random.getstate()
    tensors = {
        "rng.torch": torch.get_rng_state(),
        "rng.python": torch.tensor(internal, dtype=torch.int64),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{i}"] = s
    return tensors, {"python_version": version, "python_gauss": gauss}


def restore_rng(tensors: dict[str, Tensor], meta: dict[str, Any]) -> None:
    internal = tuple(int(x) for x in tensors["rng.python"].tolist())
    random.setstate((meta["python_version"], internal, meta["python_gauss"]))
    torch.set_rng_state(tensors["rng.torch"])
    cuda = sorted(k for k in tensors if k.startswith("rng.cuda."))
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([tensors[k] for k in cuda])


def optimizer_tensors(opt: torch.optim.Optimizer) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """Flatten optimizer.state_dict(): tensors by name, the rest (param groups, None) as JSON."""
    sd = opt.state_dict()
    tensors: dict[str, Tensor] = {}
    plain: dict[str, dict[str, Any]] = {}
    for pid, entries in sd["state"].items():
        for name, value in entries.items():
            if isinstance(value, Tensor):
                tensors[f"optim.{pid}.{name}"] = value.detach().clone()
            else:
                plain.setdefault(str(pid), {})[name] = value
    return tensors, {"param_groups": sd["param_groups"], "plain": plain}


def restore_optimizer(
    opt: torch.optim.Optimizer, tensors: dict[str, Tensor], meta: dict[str, Any]
) -> None:
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, pid, name = key.split(".", 2)
            state.setdefault(int(pid), {})[name] = value
    for pid, entries in meta["plain"].items():
        state.setdefault(int(pid), {}).update(entries)
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


def save_state(
    path: Path,
    *,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    progress: dict[str, Any],
) -> None:
    """Atomically write the full trainer state; `progress` is any JSON-able dict."""
    tensors = {f"model.{k}": v.detach().clone() for k, v in model.state_dict().items()}
    opt_tensors, opt_meta = optimizer_tensors(optimizer)
    rng, rng_meta = rng_tensors()
    tensors.update(opt_tensors)
    tensors.update(rng)
    meta = {
        "progress": json.dumps(progress),
        "optimizer": json.dumps(opt_meta),
        "rng": json.dumps(rng_meta),
    }
    save_tensors(path, {k: v.cpu() for k, v in tensors.items()}, meta)


def load_state(path: Path) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """(tensors, decoded metadata with keys progress/optimizer/rng)."""
    tensors, meta = load_tensors(path)
    decoded = {key: json_field(meta, key, path) for key in ("progress", "optimizer", "rng")}
    return tensors, decoded


def restore_model(model: nn.Module, tensors: dict[str, Tensor]) -> None:
    weights = {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}
    model.load_state_dict(weights, strict=True)
