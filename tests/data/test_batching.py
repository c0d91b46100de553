"""make_batches / shard: coverage, budgets, determinism, epoch variation, equal shards."""

from __future__ import annotations

import itertools

import pytest
import torch

from nmtkit.data.batching import make_batches, plan_batches, shard


def lengths(n: int = 500, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(1, 60, (n,), generator=g)
    tgt = (src + torch.randint(-5, 6, (n,), generator=g)).clamp(min=0)
    return src, tgt


def test_make_batches_covers_every_index_exactly_once() -> None:
    src, tgt = lengths()
    for kw in ({"max_tokens": 400}, {"batch_size": 7}, {"max_tokens": 300, "batch_size": 5}):
        batches = make_batches(src, tgt, **kw, seed=3, epoch=1)
        flat = sorted(i for b in batches for i in b)
        assert flat == list(range(len(src)))


def test_make_batches_respects_max_tokens_counting_padding() -> None:
    src, tgt = lengths()
    batches = make_batches(src, tgt, max_tokens=400)
    for b in batches:
        width = max(max(int(src[i]), int(tgt[i])) + 1 for i in b)
        assert width * len(b) <= 400
    # greedy: merging neighbours in sorted order would exceed the budget
    ordered = make_batches(src, tgt, max_tokens=400, shuffle=False)
    for a, b in itertools.pairwise(ordered):
        merged = a + b[:1]
        width = max(max(int(src[i]), int(tgt[i])) + 1 for i in merged)
        assert width * len(merged) > 400


def test_make_batches_respects_batch_size() -> None:
    src, tgt = lengths(103)
    batches = make_batches(src, tgt, batch_size=10, shuffle=False)
    assert [len(b) for b in batches] == [10] * 10 + [3]


def test_make_batches_sorted_by_length_when_not_shuffled() -> None:
    src, tgt = lengths()
    order = [i for b in make_batches(src, tgt, batch_size=16, shuffle=False) for i in b]
    keys = [(max(int(src[i]), int(tgt[i])), int(src[i]), int(tgt[i])) for i in order]
    assert keys == sorted(keys)


def reference_greedy(order: list[int], width: list[int], max_tokens: int, cap: int) -> list:
    """The per-pair greedy loop the tensor plan replaces (independent reference)."""
    batches: list[list[int]] = []
    for i in order:
        if batches:
            b = batches[-1]
            wide = max(width[j] for j in [*b, i])
            if len(b) < cap and wide * (len(b) + 1) <= max_tokens:
                b.append(i)
                continue
        batches.append([i])
    return batches


@pytest.mark.parametrize(("max_tokens", "cap"), [(400, None), (300, 5), (50, None), (1, None)])
def test_plan_equals_per_pair_greedy_reference(max_tokens: int, cap: int | None) -> None:
    src, tgt = lengths(700, seed=4)
    width = (torch.maximum(src, tgt) + 1).tolist()
    got = make_batches(src.to(torch.int16), tgt.to(torch.int16), max_tokens=max_tokens,
                       batch_size=cap, shuffle=False)  # fmt: skip
    order = [i for b in got for i in b]
    assert got == reference_greedy(order, width, max_tokens, cap or len(order))


def test_plan_slices_like_a_list_and_shards_alike() -> None:
    src, tgt = lengths()
    plan = plan_batches(src, tgt, max_tokens=300, seed=2, epoch=5)
    batches = list(plan)
    assert list(plan[1:7:2]) == batches[1:7:2]
    for world in (2, 3):
        for rank in range(world):
            assert list(shard(plan, rank, world)) == shard(batches, rank, world)
    assert plan.order.dtype == torch.int32  # compact: no Python objects per pair


def test_make_batches_oversized_sentence_gets_own_batch() -> None:
    src = torch.tensor([3, 100, 4])
    tgt = torch.tensor([3, 90, 4])
    batches = make_batches(src, tgt, max_tokens=20, shuffle=False)
    assert [1] in batches
    assert sorted(i for b in batches for i in b) == [0, 1, 2]


def test_make_batches_deterministic_per_seed_and_epoch() -> None:
    src, tgt = lengths()
    a = make_batches(src, tgt, max_tokens=300, seed=5, epoch=2)
    b = make_batches(src, tgt, max_tokens=300, seed=5, epoch=2)
    c = make_batches(src, tgt, max_tokens=300, seed=5, epoch=3)
    assert a == b
    assert a != c


def test_make_batches_requires_a_budget() -> None:
    src, tgt = lengths(10)
    with pytest.raises(ValueError):
        make_batches(src, tgt)


@pytest.mark.parametrize("world_size", [1, 2, 3, 4])
def test_shard_gives_disjoint_equal_shards(world_size: int) -> None:
    batches = [[i] for i in range(23)]
    shards = [shard(batches, r, world_size) for r in range(world_size)]
    sizes = {len(s) for s in shards}
    assert sizes == {23 // world_size}
    seen = [b[0] for s in shards for b in s]
    assert len(seen) == len(set(seen)) == 23 - 23 % world_size


def test_shard_rejects_bad_rank() -> None:
    with pytest.raises(ValueError):
        shard([[0]], 2, 2)


def test_very_long_sentences_still_batch_and_shuffle() -> None:
    src = torch.tensor([5000, 3, 40000, 3, 3, 3])
    tgt = torch.tensor([7000, 3, 2, 3, 3, 3])
    batches = make_batches(src, tgt, max_tokens=100, seed=1)
    assert sorted(i for b in batches for i in b) == list(range(6))
    assert [2] in batches and [0] in batches
