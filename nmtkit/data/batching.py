"""Length-bucketed batches, a seeded per-epoch shuffle, and equal-size shards for DDP.

Pairs are sorted by padded width ``max(src_len, tgt_len) + 1`` (then source, then target length),
so a batch holds similar lengths and little padding; ties are broken by a seeded permutation so
the buckets themselves vary across epochs. The batch *order* is then shuffled with
``torch.Generator().manual_seed(seed + epoch)``: the same (seed, epoch) always gives the same
batches, on every rank and after a resume.

A plan is held as tensors, never as Python objects per pair: the sorted pair order (N,) int32, the
batch boundaries in it (nb+1,) int64 and the batch order (nb,) int64 (about 4 bytes per pair).
A batch's indices become a Python list only when that batch is used.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence

import torch
from torch import Tensor

_SLICE = 1 << 20


def _order(
    src_lengths: Tensor, tgt_lengths: Tensor, gen: torch.Generator | None
) -> tuple[Tensor, Tensor]:
    """Pairs sorted by (width, src length, tgt length), ties in a seeded random order if `gen`.

    Each pair gets one int64 key: its length key in the high bits, random bits (with `gen`),
    and its index in the low bits. Keys are unique, so one in-place sort of the keys alone
    (numpy's, which needs no index array and no buffer) gives the order: the only N-sized
    memory is the keys (8 bytes per pair) and the results (int32 order and widths).
    Returns the order (N,) int32 and the widths in that order (N,) int32.
    """
    n = len(src_lengths)
    top = int(max(src_lengths.max(), tgt_lengths.max())) + 2 if n else 1
    index_bits = max(1, (n - 1).bit_length())
    length_bits = (top**3 - 1).bit_length()
    random_bits = min(32, 63 - length_bits - index_bits) if gen is not None else 0
    if random_bits < 0:
        raise ValueError(f"{n} pairs with sentences of {top - 2} pieces are too many to batch")
    low = random_bits + index_bits
    key = torch.empty(n, dtype=torch.int64)  # (N,) built in slices: no N-sized temporaries
    for a in range(0, n, _SLICE):
        src = src_lengths[a : a + _SLICE].to(torch.int64)
        tgt = tgt_lengths[a : a + _SLICE].to(torch.int64)
        part = torch.maximum(src, tgt).add_(1).mul_(top).add_(src).mul_(top).add_(tgt)
        part.mul_(1 << low).add_(torch.arange(a, a + len(part)))
        if random_bits:
            bits = torch.randint(0, 1 << random_bits, (len(part),), generator=gen)
            part.add_(bits.mul_(1 << index_bits))
        key[a : a + len(part)] = part
    key.numpy().sort(kind="quicksort")  # in place, unique keys: no stability needed
    order = torch.empty(n, dtype=torch.int32)  # (N,)
    width = torch.empty(n, dtype=torch.int32)  # (N,)
    for a in range(0, n, _SLICE):
        part = key[a : a + _SLICE]
        order[a : a + len(part)] = part & ((1 << index_bits) - 1)
        width[a : a + len(part)] = part.div((1 << low) * top * top, rounding_mode="floor")
    return order, width


def _cut(width: Tensor, max_tokens: int | None, batch_size: int | None) -> Tensor:
    """(nb+1,) int64 batch boundaries over pairs sorted by non-decreasing `width` (N,).

    Greedy: each batch takes the most following pairs with B * max(width) <= max_tokens and
    B <= batch_size. Widths are sorted, so max(width) of pairs [i, e) is width[e-1] and the
    largest e is found by bisection: Python work per batch, not per pair. A single pair wider
    than max_tokens gets a batch of its own.
    """
    n = len(width)
    if max_tokens is None:
        return torch.arange(0, n + batch_size, batch_size).clamp_(max=n).unique_consecutive()
    w = array("i", bytes(4 * n))  # Python ints per *batch* below; the widths stay compact
    if n:
        torch.frombuffer(w, dtype=torch.int32, count=n).copy_(width)
    cap = batch_size or n
    bounds = array("q", [0])
    i = 0
    while i < n:
        lo, hi = i + 1, min(n, i + cap, i + max(1, max_tokens // w[i]))  # e in [lo, hi]
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if w[mid - 1] * (mid - i) <= max_tokens:
                lo = mid
            else:
                hi = mid - 1
        i = lo
        bounds.append(i)
    return torch.frombuffer(bounds, dtype=torch.int64).clone()  # (nb+1,)


class BatchPlan(Sequence):
    """An epoch's batches: `plan[j]` is the j-th batch's pair indices (a list of ints).

    Slicing (`plan[rank::world]`) selects batches and gives another plan sharing the order.
    """

    def __init__(self, order: Tensor, bounds: Tensor, batch_order: Tensor) -> None:
        self.order = order  # (N,) int32 pair indices, sorted by width
        self.bounds = bounds  # (nb+1,) int64 batch boundaries in `order`
        self.batch_order = batch_order  # (nb',) int64 which batches, in which order

    def __len__(self) -> int:
        return len(self.batch_order)

    def __getitem__(self, j):  # type: ignore[override]
        if isinstance(j, slice):
            return BatchPlan(self.order, self.bounds, self.batch_order[j])
        b = int(self.batch_order[j])
        return self.order[int(self.bounds[b]) : int(self.bounds[b + 1])].tolist()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]


def plan_batches(
    src_lengths: Tensor,
    tgt_lengths: Tensor,
    *,
    max_tokens: int | None = None,
    batch_size: int | None = None,
    shuffle: bool = True,
    seed: int = 0,
    epoch: int = 0,
) -> BatchPlan:
    """Batches of pair indices covering every index exactly once, as a BatchPlan.

    Args:
        src_lengths, tgt_lengths: (N,) piece counts without specials, any integer dtype.
        max_tokens: budget of *padded* tokens per batch, B * max(src_len + 1, tgt_len + 1)
            (the +1 is the EOS/BOS that collate adds).
        batch_size: at most this many pairs per batch. Give one or both budgets.
        shuffle: randomise tie order and batch order with seed + epoch; else sorted order.
    """
    if max_tokens is None and batch_size is None:
        raise ValueError("make_batches needs max_tokens or batch_size")
    if (max_tokens is not None and max_tokens < 1) or (batch_size is not None and batch_size < 1):
        raise ValueError("max_tokens and batch_size must be positive")
    if len(src_lengths) != len(tgt_lengths):
        raise ValueError("src_lengths and tgt_lengths differ in size")
    src_lengths = torch.as_tensor(src_lengths)
    tgt_lengths = torch.as_tensor(tgt_lengths)
    gen = torch.Generator().manual_seed(seed + epoch) if shuffle else None
    order, width = _order(src_lengths, tgt_lengths, gen)  # (N,), (N,)
    bounds = _cut(width, max_tokens, batch_size)
    del width
    nb = len(bounds) - 1
    batch_order = torch.randperm(nb, generator=gen) if gen is not None else torch.arange(nb)
    return BatchPlan(order, bounds, batch_order)


def make_batches(
    src_lengths: Tensor,
    tgt_lengths: Tensor,
    **kwargs: object,
) -> list[list[int]]:
    """plan_batches as a list of lists (for small splits: validation, scoring, tests)."""
    return list(plan_batches(src_lengths, tgt_lengths, **kwargs))  # type: ignore[arg-type]


def shard(batches: Sequence, rank: int, world_size: int) -> Sequence:
    """This rank's share: batches[rank::world_size] after dropping the remainder.

    Every rank gets the same number of batches (DDP all-reduces once per step, so a rank with an
    extra batch would hang); the few dropped batches differ from epoch to epoch because the batch
    order is shuffled per epoch. Works on lists and on BatchPlans.
    """
    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f"bad rank {rank} for world size {world_size}")
    usable = len(batches) - len(batches) % world_size
    return batches[rank:usable:world_size]
