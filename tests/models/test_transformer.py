"""The Transformer family and its mixing with RNN parts: step == forward (also through the KV
cache after beam reorders), padding invariance, causal masking, the state interface."""

from __future__ import annotations

import pytest
import torch

from nmtkit.data.specials import PAD_ID
from nmtkit.errors import UsageError
from nmtkit.models import ATTENTION, ENCODERS
from nmtkit.models.base import AttentionMemory
from nmtkit.models.build import build_model
from nmtkit.models.decoders.transformer import TransformerState
from nmtkit.models.kv_cache import KVCache
from nmtkit.models.rnn_state import RNNState
from tests.models.models_testlib import (
    TGT_V,
    build,
    decoder_variants,
    make_batch,
    step_loop_log_probs,
    tiny_config,
    variant_id,
)

CROSS = [(enc, att) for enc in ENCODERS.names() for att in ATTENTION.names()]


def assert_step_equals_forward(model, src, lengths, tgt) -> None:
    with torch.no_grad():
        logits, weights = model(src, lengths, tgt)
        step_lp, step_w = step_loop_log_probs(model, src, lengths, tgt)
    torch.testing.assert_close(step_lp, logits.float().log_softmax(-1), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(step_w, weights.float(), atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize(("encoder", "attention"), CROSS, ids=[f"{e}-{a}" for e, a in CROSS])
@pytest.mark.parametrize("norm", ["pre", "post"])
def test_transformer_decoder_steps_equal_teacher_forced_forward(encoder, attention, norm):
    model = build(encoder, attention, "transformer", dec={"norm": norm, "positions": "learned"})
    assert_step_equals_forward(model, *make_batch([7, 5, 3, 2], tgt_len=6, seed=1))


@pytest.mark.parametrize("attention", ATTENTION.names())
@pytest.mark.parametrize("decoder", decoder_variants(), ids=variant_id)
def test_transformer_encoder_with_every_decoder_steps_equal_forward(decoder, attention):
    name, opts = decoder
    model = build("transformer", attention, name, dec=opts)
    assert_step_equals_forward(model, *make_batch([6, 4, 2], tgt_len=5, seed=2))


def reorder_rows(state, rows, hist, index, keep_memory):
    return state.reorder(index, keep_memory=keep_memory), rows[index], hist[index]


@pytest.mark.parametrize("attention", ["multihead", "concat"])
def test_kv_cache_after_beam_reorders_equals_forward_of_the_reordered_prefixes(attention):
    model = build("transformer", attention, "transformer")
    src, lengths, _ = make_batch([7, 5, 3], seed=3)
    K, gen = 3, torch.Generator().manual_seed(0)
    with torch.no_grad():
        state = model.init_state(model.encode(src, lengths))
        rows = torch.arange(3)  # source sentence of each decoder row
        hist = torch.empty(3, 0, dtype=torch.long)
        for t in range(6):
            prev = torch.randint(4, TGT_V, (rows.size(0),), generator=gen)
            hist = torch.cat([hist, prev[:, None]], 1)  # (N, t+1)
            log_probs, state, _ = model.decode_step(prev, state)
            full, _ = model(src[rows], lengths[rows], hist)  # the whole prefix, no cache
            torch.testing.assert_close(
                log_probs, full[:, -1].float().log_softmax(-1), atol=1e-5, rtol=1e-5
            )
            if t == 0:  # expand to K rows per sentence (memory copied)
                index = torch.arange(3).repeat_interleave(K)
                state, rows, hist = reorder_rows(state, rows, hist, index, False)
            elif t < 4:  # beam reorder: parents within each sentence, memory kept as is
                parents = torch.randint(0, K, (3, K), generator=gen)
                index = (torch.arange(3)[:, None] * K + parents).view(-1)
                state, rows, hist = reorder_rows(state, rows, hist, index, True)
            else:  # any selection (sentences leaving, rows duplicated): memory follows
                index = torch.randint(0, rows.size(0), (rows.size(0) - 1,), generator=gen)
                state, rows, hist = reorder_rows(state, rows, hist, index, False)


def test_transformer_state_reorder_keeps_memory_only_when_told():
    mem = AttentionMemory(values=torch.arange(6.0).view(3, 2), pad_mask=torch.zeros(3, 1) > 0)
    cache = KVCache(torch.arange(3.0).view(1, 1, 3, 1, 1, 1).repeat(1, 2, 1, 1, 4, 1), filled=3)
    state = TransformerState(cross=(mem, mem), cache=cache, steps=3)
    index = torch.tensor([2, 2, 0])
    kept = state.reorder(index, keep_memory=True)
    assert kept.cross[0] is mem and kept.steps == 3
    keys, values = kept.cache.keys_values(0, 3)  # (N, H, t, d)
    assert keys[:, 0, :, 0].tolist() == [[2.0] * 3, [2.0] * 3, [0.0] * 3]
    assert torch.equal(keys, values) and kept.cache.filled == 3
    moved = state.reorder(index)
    assert moved.cross[1].values.tolist() == [[4.0, 5.0], [4.0, 5.0], [0.0, 1.0]]


def test_kv_cache_grows_and_never_lets_a_later_write_reach_an_older_state():
    cache = KVCache.empty(2, 3, 1, 1, dtype=torch.float32, device=torch.device("cpu"), capacity=2)
    for t in range(2):
        cache.write(0, t, torch.full((2, 3, 1, 1, 1), float(t)))
    assert cache.ensure_writable(2, 1) is not cache  # full: a copy with room
    grown = cache.reorder(torch.tensor([0, 1, 2]))
    assert grown.capacity == 4 and grown.filled == 2
    assert grown.ensure_writable(2, 1) is grown  # the newest writer writes in place
    grown.write(0, 2, torch.full((2, 3, 1, 1, 1), 7.0))
    older = grown.ensure_writable(2, 1)  # a state still at t = 2 branches: private copy
    older.write(0, 2, torch.full((2, 3, 1, 1, 1), 9.0))
    assert grown.keys_values(0, 3)[0][:, 0, :, 0].tolist() == [[0.0, 1.0, 7.0]] * 3
    assert older.keys_values(0, 3)[1][:, 0, :, 0].tolist() == [[0.0, 1.0, 9.0]] * 3


def test_rnn_state_reorder_selects_rows_in_dim_one_for_hidden():
    mem = AttentionMemory(values=torch.arange(3.0)[:, None, None], pad_mask=torch.zeros(3, 1) > 0)
    hidden = torch.arange(6.0).view(2, 3, 1)  # (L, N, H)
    state = RNNState(hidden=hidden, memory=mem, cell=hidden + 10, input_feed=torch.arange(3.0))
    index = torch.tensor([1, 1, 2])
    kept = state.reorder(index, keep_memory=True)
    assert kept.memory is mem
    assert kept.hidden[:, :, 0].tolist() == [[1.0, 1.0, 2.0], [4.0, 4.0, 5.0]]
    assert kept.cell[1, :, 0].tolist() == [14.0, 14.0, 15.0]
    assert kept.input_feed.tolist() == [1.0, 1.0, 2.0]
    assert state.reorder(index).memory.values.flatten().tolist() == [1.0, 1.0, 2.0]


@pytest.mark.parametrize("decoder", ["transformer", "luong"])
def test_transformer_source_padding_changes_nothing(decoder):
    model = build("transformer", "multihead", decoder)
    src, lengths, tgt = make_batch([9, 3, 6], tgt_len=5, seed=2)
    with torch.no_grad():
        logits, weights = model(src, lengths, tgt)
        alone, alone_w = model(src[1:2, :3], lengths[1:2], tgt[1:2])
    torch.testing.assert_close(logits[1:2], alone, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(weights[1:2, :, :3], alone_w, atol=1e-6, rtol=1e-5)
    assert (weights[1, :, 3:] == 0).all()


def test_transformer_target_padding_changes_nothing():
    model = build("transformer", "multihead", "transformer")
    src, lengths, tgt = make_batch([5, 4], tgt_len=6, seed=4)
    padded = tgt.clone()
    padded[1, 3:] = PAD_ID
    with torch.no_grad():
        logits, _ = model(src, lengths, padded)
        alone, _ = model(src[1:2, :4], lengths[1:2], tgt[1:2, :3])
    torch.testing.assert_close(logits[1:2, :3], alone, atol=1e-5, rtol=1e-5)


def test_changing_a_future_target_token_changes_no_earlier_output():
    model = build("transformer", "multihead", "transformer")
    src, lengths, tgt = make_batch([6, 4], tgt_len=6, seed=5)
    changed = tgt.clone()
    changed[:, 3] = (tgt[:, 3] - 4 + 1) % (TGT_V - 4) + 4  # another real token
    with torch.no_grad():
        before, _ = model(src, lengths, tgt)
        after, _ = model(src, lengths, changed)
    assert torch.equal(before[:, :3], after[:, :3])
    assert not torch.allclose(before[:, 3:], after[:, 3:])


def test_transformer_decoder_refuses_a_scorer_whose_sizes_do_not_fit():
    cfg = tiny_config("transformer", "dot", "transformer", att={"project": False})
    with pytest.raises(UsageError, match="attention 'dot' with decoder 'transformer': needs"):
        build_model(cfg)


def test_auto_attention_is_multihead_over_the_decoders_heads_and_size():
    cfg = tiny_config("transformer", "auto", "transformer", dec={"heads": 5, "model_size": 10})
    model = build_model(cfg)
    assert model.config.attention == "multihead"
    assert model.config.attention_options == {"heads": 5, "size": 10}
    rnn = build_model(tiny_config("rnn", "auto", "luong", att={"project": True}))
    assert rnn.config.attention == "dot"


def test_training_mode_fast_attention_equals_the_weights_path(monkeypatch):
    """scaled_dot_product_attention (no weights) and the explicit float32 path agree."""
    from nmtkit.models.attention.multihead import MultiheadScorer

    monkeypatch.setattr(MultiheadScorer, "fused_on_cpu", True)
    model = build("transformer", "multihead", "transformer")
    scorer = model.decoder.layers[0].self_attn
    x = torch.randn(3, 5, 10)
    pad_mask = torch.zeros(3, 5, dtype=torch.bool)
    pad_mask[1, 3:] = True
    memory = scorer.prepare(x, pad_mask)
    causal = torch.ones(5, 5, dtype=torch.bool).triu(1)
    with torch.no_grad():
        fast, none = scorer(x, memory, causal, need_weights=False)
        slow, weights = scorer(x, memory, causal)
    assert none is None and weights.shape == (3, 5, 5)
    torch.testing.assert_close(fast, slow, atol=1e-6, rtol=1e-5)


def test_alignment_layer_defaults_to_the_last_but_one_and_can_be_chosen():
    model = build("transformer", "multihead", "transformer")  # 2 decoder layers
    src, lengths, tgt = make_batch([6, 4], tgt_len=4, seed=6)
    with torch.no_grad():
        _, default = model(src, lengths, tgt)
        model.decoder.set_alignment_layer(0)
        _, first = model(src, lengths, tgt)
        model.decoder.set_alignment_layer(-1)
        _, last = model(src, lengths, tgt)
    assert torch.equal(default, first) and not torch.allclose(first, last)
    with pytest.raises(UsageError, match="--alignment-layer 2"):
        model.decoder.set_alignment_layer(2)
