"""Each scorer equals a hand computation of its formula; masking and normalisation hold for all."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from nmtkit.models import ATTENTION
from nmtkit.models.base import Scorer

B, T, S, HQ, HK = 2, 3, 4, 5, 6


def make_scorer(name: str, *, query_size: int = HQ, key_size: int = HK, **options) -> Scorer:
    entry = ATTENTION.entry(name)
    if name in ("dot", "scaled-dot") and query_size != key_size:
        options.setdefault("project", True)
    if name == "multihead":
        options.setdefault("heads", 2)
        options.setdefault("size", 8)
    torch.manual_seed(0)
    cfg = entry.config_cls.from_dict(options)
    return entry.cls(cfg, query_size=query_size, key_size=key_size)


def inputs() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(1)
    query = torch.randn(B, T, HQ, generator=gen)
    values = torch.randn(B, S, HK, generator=gen)
    pad_mask = torch.tensor([[False] * S, [False, False, True, True]])  # row 1 has length 2
    return query, values, pad_mask


def mix(energies: torch.Tensor, values: torch.Tensor, pad_mask: torch.Tensor):
    weights = energies.masked_fill(pad_mask[:, None, :], float("-inf")).softmax(-1)
    return weights @ values, weights


def run(scorer: Scorer, query, values, pad_mask):
    with torch.no_grad():
        return scorer(query, scorer.prepare(values, pad_mask))


@pytest.mark.parametrize("name", ATTENTION.names())
def test_scorer_weights_sum_to_one_and_are_exactly_zero_on_padding(name):
    query, values, pad_mask = inputs()
    context, weights = run(make_scorer(name), query, values, pad_mask)
    assert context.shape == (B, T, HK) and weights.shape == (B, T, S)
    assert weights.dtype == torch.float32
    torch.testing.assert_close(weights.sum(-1), torch.ones(B, T))
    assert (weights[1, :, 2:] == 0).all()
    assert (weights[1, :, :2] > 0).all()


@pytest.mark.parametrize("name", ATTENTION.names())
def test_scorer_ignores_values_at_padded_positions(name):
    query, values, pad_mask = inputs()
    scorer = make_scorer(name)
    context, weights = run(scorer, query, values, pad_mask)
    values2 = values.clone()
    values2[1, 2:] = 1e4
    context2, weights2 = run(scorer, query, values2, pad_mask)
    torch.testing.assert_close(context2, context)
    torch.testing.assert_close(weights2, weights)


@pytest.mark.parametrize("name", ATTENTION.names())
def test_scorer_step_queries_equal_all_queries_at_once(name):
    query, values, pad_mask = inputs()
    scorer = make_scorer(name)
    context, weights = run(scorer, query, values, pad_mask)
    for t in range(T):
        c_t, w_t = run(scorer, query[:, t : t + 1], values, pad_mask)
        torch.testing.assert_close(c_t[:, 0], context[:, t])
        torch.testing.assert_close(w_t[:, 0], weights[:, t])


def test_dot_is_q_dot_k():
    query, values, pad_mask = inputs()
    scorer = make_scorer("dot", query_size=HK)
    q = query.new_zeros(B, T, HK).normal_()
    expected = mix(torch.einsum("btd,bsd->bts", q, values), values, pad_mask)
    torch.testing.assert_close(run(scorer, q, values, pad_mask), expected)


def test_dot_with_projection_is_wq_dot_k():
    query, values, pad_mask = inputs()
    scorer = make_scorer("dot")
    w = scorer.query_proj.weight  # (HK, HQ)
    energies = torch.einsum("btd,bsd->bts", query @ w.T, values)
    expected = mix(energies, values, pad_mask)
    torch.testing.assert_close(run(scorer, query, values, pad_mask), expected)


def test_scaled_dot_is_q_dot_k_over_sqrt_d():
    _, values, pad_mask = inputs()
    q = torch.randn(B, T, HK)
    scorer = make_scorer("scaled-dot", query_size=HK)
    energies = torch.einsum("btd,bsd->bts", q, values) / math.sqrt(HK)
    torch.testing.assert_close(run(scorer, q, values, pad_mask), mix(energies, values, pad_mask))


@pytest.mark.parametrize("bias", [False, True])
def test_general_is_q_w_k(bias):
    query, values, pad_mask = inputs()
    scorer = make_scorer("general", bias=bias)
    w = scorer.key_proj.weight  # (HQ, HK)
    energies = torch.einsum("btq,qk,bsk->bts", query, w, values)
    if bias:
        energies = energies + (query @ scorer.key_proj.bias)[:, :, None]
    expected = mix(energies, values, pad_mask)
    torch.testing.assert_close(run(scorer, query, values, pad_mask), expected)


def test_concat_is_v_tanh_wq_q_plus_wk_k():
    query, values, pad_mask = inputs()
    scorer = make_scorer("concat", size=7)
    wq, wk, bk = scorer.query_proj.weight, scorer.key_proj.weight, scorer.key_proj.bias
    v = scorer.v.weight[0]  # (A,)
    energies = torch.empty(B, T, S)
    for b in range(B):
        for t in range(T):
            for s in range(S):
                energies[b, t, s] = v @ torch.tanh(wq @ query[b, t] + wk @ values[b, s] + bk)
    expected = mix(energies, values, pad_mask)
    torch.testing.assert_close(run(scorer, query, values, pad_mask), expected)


def test_location_is_softmax_of_wa_h_over_positions():
    query, values, pad_mask = inputs()
    scorer = make_scorer("location", max_source_len=10)
    proj = scorer.position_proj
    energies = (query @ proj.weight.T + proj.bias)[..., :S]
    expected = mix(energies, values, pad_mask)
    torch.testing.assert_close(run(scorer, query, values, pad_mask), expected)


def test_location_positions_beyond_max_length_reuse_the_last_row():
    query, values, _ = inputs()
    scorer = make_scorer("location", max_source_len=3)
    pad_mask = torch.zeros(B, S, dtype=torch.bool)
    _, weights = run(scorer, query, values, pad_mask)
    torch.testing.assert_close(weights[..., 3], weights[..., 2])


def test_multihead_is_per_head_scaled_dot_with_output_projection():
    query, values, pad_mask = inputs()
    scorer = make_scorer("multihead", heads=2, size=8)
    q = scorer.query_proj(query)  # (B, T, 8)
    kv = scorer.key_value_proj(values)
    k, v = kv[..., :8], kv[..., 8:]
    heads, weights = [], []
    for h in range(2):
        cols = slice(4 * h, 4 * h + 4)
        energies = torch.einsum("btd,bsd->bts", q[..., cols], k[..., cols]) / 2.0
        head, w = mix(energies, v[..., cols], pad_mask)
        heads.append(head)
        weights.append(w)
    context = scorer.out_proj(torch.cat(heads, -1))
    expected = (context, (weights[0] + weights[1]) / 2)
    torch.testing.assert_close(run(scorer, query, values, pad_mask), expected)


def test_scorer_softmax_is_float32_under_bf16_autocast():
    query, values, pad_mask = inputs()
    scorer = make_scorer("concat")
    with torch.autocast("cpu", dtype=torch.bfloat16):
        _, weights = run(scorer, query, values, pad_mask)
    assert weights.dtype == torch.float32
    torch.testing.assert_close(weights.sum(-1), torch.ones(B, T))
    assert (weights[1, :, 2:] == 0).all()


def test_check_refuses_dot_products_with_unequal_sizes_unless_projected():
    for name in ("dot", "scaled-dot"):
        cls = ATTENTION.entry(name).cls
        plain = ATTENTION.entry(name).config_cls()
        reason = cls.check(plain, query_size=4, key_size=6)
        assert reason is not None and "--attention-project" in reason
        assert cls.check(plain, query_size=6, key_size=6) is None
        assert cls.check(plain.replace(project=True), query_size=4, key_size=6) is None


def test_check_refuses_heads_not_dividing_attention_size():
    entry = ATTENTION.entry("multihead")
    bad = entry.config_cls(heads=3, size=8)
    assert "multiple" in entry.cls.check(bad, query_size=4, key_size=4)


def test_aliases_resolve_to_their_scorers():
    for alias in ("additive", "bahdanau", "mlp"):
        assert ATTENTION.canonical(alias) == "concat"
    for alias in ("bilinear", "multiplicative"):
        assert ATTENTION.canonical(alias) == "general"


def test_softmax_reference_helper_matches_torch():
    energies = torch.randn(B, T, S)
    _, weights = mix(energies, torch.randn(B, S, HK), torch.zeros(B, S, dtype=torch.bool))
    torch.testing.assert_close(weights, F.softmax(energies, -1))
