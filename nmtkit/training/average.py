"""Checkpoint averaging: the mean of several checkpoints' weights, as one loadable checkpoint.

Averaging the last few checkpoints of a run is a cheap, standard NMT trick for a little BLEU
(e.g. Vaswani et al., 2017; fairseq's average_checkpoints.py). The mean is taken in float64 and
cast back to each tensor's dtype; all inputs must hold the same architecture.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from nmtkit.errors import UsageError
from nmtkit.io.checkpoint import FORMAT_KEY, json_field, load_tensors, save_tensors


def average_checkpoints(paths: list[Path], output: Path) -> None:
    """Write the element-wise mean of `paths` to `output` (metadata from the last input)."""
    if len(paths) < 2:
        raise UsageError("give at least two checkpoints to average")
    total: dict[str, torch.Tensor] = {}
    dtypes: dict[str, torch.dtype] = {}
    config = meta = None
    for path in paths:
        tensors, meta = load_tensors(path)
        this_config = json_field(meta, "model_config", path)
        if config is None:
            config = this_config
            dtypes = {k: v.dtype for k, v in tensors.items()}
            total = {k: v.to(torch.float64) for k, v in tensors.items()}
            continue
        if this_config != config or tensors.keys() != total.keys():
            raise UsageError(
                "checkpoint has a different architecture from the first one", file=path,
                fix="average checkpoints of the same run",
            )  # fmt: skip
        for k, v in tensors.items():
            total[k] += v.to(torch.float64)
    averaged = {k: (v / len(paths)).to(dtypes[k]) for k, v in total.items()}
    metadata = {k: v for k, v in meta.items() if k not in (FORMAT_KEY, "nmtkit.version")}
    metadata["averaged_from"] = json.dumps([str(p) for p in paths])
    save_tensors(output, averaged, metadata)
    _copy_tokenizer(Path(paths[-1]).parent, Path(output).parent)


def _copy_tokenizer(src_dir: Path, out_dir: Path) -> None:
    """Keep the output directory self-contained for `translate` (tokenizer beside it)."""
    if (src_dir / "tokenizer.json").is_file() and not (out_dir / "tokenizer.json").exists():
        from nmtkit.data.tokenizer import Tokenizer

        Tokenizer.load(src_dir).copy_to(out_dir)
