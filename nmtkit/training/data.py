"""Training and validation data for the trainer: per-epoch batch plans, collation, references."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from nmtkit.data.batching import make_batches, shard
from nmtkit.data.binarized import Split
from nmtkit.data.collate import Batch, collate
from nmtkit.training.config import TrainConfig
from nmtkit.training.distributed import DistInfo
from nmtkit.training.validate import search_decoder


class TrainData:
    """The train split as per-epoch update groups, and the valid split (if any) for validation.

    An epoch plan is a list of updates; each update is `--update-freq` batches of sentence
    indices. Plans depend only on (seed, epoch), so a resumed run replays the same batches, and
    with DDP every rank takes its shard of the same plan.
    """

    def __init__(self, manifest: Any, tokenizer: Any, cfg: TrainConfig, dist: DistInfo) -> None:
        self.tokenizer = tokenizer
        self.cfg = cfg
        self.dist = dist
        self.train = Split.open(manifest.split_path("train"))
        has_valid = "valid" in manifest.splits
        self.valid = Split.open(manifest.split_path("valid")) if has_valid else None
        self.epoch_len = 0
        self._valid_batches: list[Batch] | None = None
        self._references: list[str] | None = None

    def _budgets(self) -> dict[str, int | None]:
        if self.cfg.max_tokens:
            return {"max_tokens": self.cfg.max_tokens, "batch_size": None}
        return {"max_tokens": None, "batch_size": self.cfg.batch_size}

    def epoch_groups(self, epoch: int) -> list[list[list[int]]]:
        """This rank's updates for epoch `epoch` (0-based)."""
        batches = make_batches(
            self.train.src_lengths, self.train.tgt_lengths, **self._budgets(),
            shuffle=True, seed=self.cfg.seed, epoch=epoch,
        )  # fmt: skip
        if self.dist.enabled:
            batches = shard(batches, self.dist.rank, self.dist.world_size)
        k = self.cfg.update_freq
        groups = [batches[i : i + k] for i in range(0, len(batches), k)]
        self.epoch_len = len(groups)
        return groups

    def batch(self, ids: list[int]) -> Batch:
        split = self.train
        return collate([split.src(i) for i in ids], [split.tgt(i) for i in ids], ids)

    def valid_batches(self, device: torch.device) -> list[Batch]:
        """Length-sorted validation batches, collated once and kept."""
        if self._valid_batches is None:
            split = self.valid
            plan = make_batches(split.src_lengths, split.tgt_lengths, **self._budgets(),
                                shuffle=False)  # fmt: skip
            self._valid_batches = [
                collate([split.src(i) for i in ids], [split.tgt(i) for i in ids], ids).to(device)
                for ids in plan
            ]
        return self._valid_batches

    def references(self) -> list[str]:
        """Detokenized validation targets (from the binarized pieces), in split order."""
        if self._references is None:
            split = self.valid
            self._references = self.tokenizer.decode_tgt(
                [split.tgt(i).tolist() for i in range(len(split))]
            )
        return self._references

    def decoder(self, beam: int) -> Callable[[Any, Batch], list[list[int]]]:
        return search_decoder(beam)
