"""Training and validation data for the trainer: per-epoch batch plans, collation, references."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from nmtkit.data.batching import BatchPlan, make_batches, plan_batches, shard
from nmtkit.data.collate import Batch, collate
from nmtkit.data.shards import ShardedSplit, open_split
from nmtkit.training.config import TrainConfig
from nmtkit.training.distributed import DistInfo


class TrainData:
    """The train split as per-epoch update groups, and the valid split (if any) for validation.

    An epoch plan is a sequence of updates; each update is `--update-freq` batches of pair
    indices (global over the train split's shards). Plans depend only on (seed, epoch), so a
    resumed run replays the same batches from the same update on, and with DDP every rank takes
    its shard of the same plan. Plans are tensors (`BatchPlan`), a few bytes per pair.
    """

    def __init__(self, manifest: Any, tokenizer: Any, cfg: TrainConfig, dist: DistInfo) -> None:
        self.tokenizer = tokenizer
        self.cfg = cfg
        self.dist = dist
        self.train = open_split(manifest, "train")
        self.valid: ShardedSplit | SubsetSplit | None = None
        self.valid_note = ""
        if "valid" in manifest.splits:
            self.valid = open_split(manifest, "valid")
            if 0 < cfg.valid_subset < len(self.valid):
                total = len(self.valid)
                self.valid = SubsetSplit(self.valid, cfg.valid_subset, seed=cfg.seed)
                self.valid_note = (f"validating on {cfg.valid_subset:,} of {total:,} valid pairs "
                                   f"(--valid-subset, drawn with --seed {cfg.seed})")  # fmt: skip
        self.epoch_len = 0
        self._valid_batches: list[Batch] | None = None
        self._references: list[str] | None = None

    def _budgets(self) -> dict[str, int | None]:
        if self.cfg.max_tokens:
            return {"max_tokens": self.cfg.max_tokens, "batch_size": None}
        return {"max_tokens": None, "batch_size": self.cfg.batch_size}

    def epoch_groups(self, epoch: int) -> Updates:
        """This rank's updates for epoch `epoch` (0-based)."""
        batches = plan_batches(
            self.train.src_lengths, self.train.tgt_lengths, **self._budgets(),
            shuffle=True, seed=self.cfg.seed, epoch=epoch,
        )  # fmt: skip
        if self.dist.enabled:
            batches = shard(batches, self.dist.rank, self.dist.world_size)
        groups = Updates(batches, self.cfg.update_freq)
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


class Updates(Sequence):
    """An epoch's updates: `updates[u]` is the list of `k` batches (index lists) of update u."""

    def __init__(self, batches: BatchPlan | Sequence[list[int]], k: int) -> None:
        self.batches = batches
        self.k = k

    def __len__(self) -> int:
        return -(-len(self.batches) // self.k)

    def __getitem__(self, u):  # type: ignore[override]
        if isinstance(u, slice):
            return [self[i] for i in range(*u.indices(len(self)))]
        if not -len(self) <= u < len(self):
            raise IndexError(u)
        u %= len(self)
        end = min(len(self.batches), (u + 1) * self.k)
        return [self.batches[j] for j in range(u * self.k, end)]


class SubsetSplit:
    """`size` pairs of a split drawn once with `seed` (kept in split order), renumbered 0..size-1
    so validation's references and hypotheses line up as for a whole split."""

    def __init__(self, split: ShardedSplit, size: int, *, seed: int) -> None:
        gen = torch.Generator().manual_seed(seed)
        self.split = split
        self.indices = torch.randperm(len(split), generator=gen)[:size].sort().values  # (K,)
        self.src_lengths: Tensor = split.src_lengths[self.indices]  # (K,)
        self.tgt_lengths: Tensor = split.tgt_lengths[self.indices]  # (K,)
        self._ids = self.indices.tolist()

    def __len__(self) -> int:
        return len(self._ids)

    def src(self, i: int) -> Tensor:
        return self.split.src(self._ids[i])

    def tgt(self, i: int) -> Tensor:
        return self.split.tgt(self._ids[i])
