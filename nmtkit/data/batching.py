"""Length-bucketed batches, a seeded per-epoch shuffle, and equal-size shards for DDP.

Sentences are sorted by length (source, then target) so a batch holds similar lengths and little
padding; ties are broken by a seeded permutation so the buckets themselves vary across epochs.
The batch *order* is then shuffled with ``torch.Generator().manual_seed(seed + epoch)``: the same
(seed, epoch) always gives the same batches, on every rank and after a resume.
"""

from __future__ import annotations

import torch
from torch import Tensor


def _order(src_lengths: Tensor, tgt_lengths: Tensor, gen: torch.Generator | None) -> Tensor:
    """Indices sorted by (src length, tgt length); ties in a seeded random order if `gen`."""
    n = len(src_lengths)
    idx = torch.randperm(n, generator=gen) if gen is not None else torch.arange(n)  # (N,)
    idx = idx[torch.sort(tgt_lengths[idx], stable=True).indices]
    return idx[torch.sort(src_lengths[idx], stable=True).indices]  # (N,)


def _chunk(
    order: list[int], cost: list[int], max_tokens: int | None, batch_size: int | None
) -> list[list[int]]:
    """Greedy cut of the sorted order: a batch grows while B * max(cost) fits both budgets.

    A single sentence longer than max_tokens still gets its own batch (it cannot be split).
    """
    batches: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for i in order:
        c = cost[i]
        new_longest = max(longest, c)
        too_many = batch_size is not None and len(current) + 1 > batch_size
        too_big = max_tokens is not None and new_longest * (len(current) + 1) > max_tokens
        if current and (too_many or too_big):
            batches.append(current)
            current, new_longest = [], c
        current.append(i)
        longest = new_longest
    if current:
        batches.append(current)
    return batches


def make_batches(
    src_lengths: Tensor,
    tgt_lengths: Tensor,
    *,
    max_tokens: int | None = None,
    batch_size: int | None = None,
    shuffle: bool = True,
    seed: int = 0,
    epoch: int = 0,
) -> list[list[int]]:
    """Batches of sentence indices covering every index exactly once.

    Args:
        src_lengths, tgt_lengths: (N,) piece counts without specials (Split.src_lengths).
        max_tokens: budget of *padded* tokens per batch, B * max(src_len + 1, tgt_len + 1)
            (the +1 is the EOS/BOS that collate adds).
        batch_size: at most this many sentences per batch. Give one or both budgets.
        shuffle: randomise tie order and batch order with seed + epoch; else sorted order.
    """
    if max_tokens is None and batch_size is None:
        raise ValueError("make_batches needs max_tokens or batch_size")
    if (max_tokens is not None and max_tokens < 1) or (batch_size is not None and batch_size < 1):
        raise ValueError("max_tokens and batch_size must be positive")
    if len(src_lengths) != len(tgt_lengths):
        raise ValueError("src_lengths and tgt_lengths differ in size")
    src_lengths = torch.as_tensor(src_lengths, dtype=torch.int64)
    tgt_lengths = torch.as_tensor(tgt_lengths, dtype=torch.int64)
    gen = torch.Generator().manual_seed(seed + epoch) if shuffle else None
    order = _order(src_lengths, tgt_lengths, gen)
    cost = (torch.maximum(src_lengths, tgt_lengths) + 1).tolist()  # (N,) padded width per row
    batches = _chunk(order.tolist(), cost, max_tokens, batch_size)
    if gen is not None:
        batches = [batches[j] for j in torch.randperm(len(batches), generator=gen).tolist()]
    return batches


def shard(batches: list[list[int]], rank: int, world_size: int) -> list[list[int]]:
    """This rank's share: batches[rank::world_size] after dropping the remainder.

    Every rank gets the same number of batches (DDP all-reduces once per step, so a rank with an
    extra batch would hang); the few dropped batches differ from epoch to epoch because the batch
    order is shuffled per epoch.
    """
    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f"bad rank {rank} for world size {world_size}")
    usable = len(batches) - len(batches) % world_size
    return batches[rank:usable:world_size]
