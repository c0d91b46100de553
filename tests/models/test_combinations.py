"""Every encoder x scorer x decoder x cell builds, trains (grads everywhere), has right shapes."""

from __future__ import annotations

import pytest
import torch

from nmtkit.models import ATTENTION, ENCODERS
from tests.models.models_testlib import (
    TGT_V,
    build,
    decoder_variants,
    make_batch,
    step_loop_log_probs,
    variant_id,
)

COMBOS = [
    (enc, att, dec)
    for enc in ENCODERS.names()
    for att in ATTENTION.names()
    for dec in decoder_variants()
]


@pytest.mark.parametrize("cell", ["gru", "lstm"])
@pytest.mark.parametrize(
    ("encoder", "attention", "decoder"),
    COMBOS,
    ids=[f"{e}-{a}-{variant_id(d)}" for e, a, d in COMBOS],
)
def test_combination_forward_backward_reaches_every_parameter(encoder, attention, decoder, cell):
    name, opts = decoder
    model = build(encoder, attention, name, cell=cell, dec=opts).train()
    src, lengths, tgt = make_batch([6, 4, 2], tgt_len=5)
    logits, weights = model(src, lengths, tgt)
    assert logits.shape == (3, 5, TGT_V)
    assert weights.shape == (3, 5, 6)
    assert torch.isfinite(logits).all()
    logits.log_softmax(-1)[..., 4:].sum().backward()
    dead = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert dead == []


@pytest.mark.parametrize("decoder", decoder_variants(), ids=variant_id)
@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_step_decoding_matches_teacher_forced_forward(decoder, cell):
    name, opts = decoder
    model = build("rnn", "concat", name, cell=cell, dec=opts)
    src, lengths, tgt = make_batch([7, 5, 3, 2], tgt_len=6, seed=1)
    with torch.no_grad():
        logits, weights = model(src, lengths, tgt)
        step_lp, step_w = step_loop_log_probs(model, src, lengths, tgt)
    torch.testing.assert_close(step_lp, logits.float().log_softmax(-1), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(step_w, weights.float(), atol=1e-6, rtol=1e-5)
    assert step_lp.dtype == torch.float32


@pytest.mark.parametrize("decoder", decoder_variants(), ids=variant_id)
def test_teacher_forcing_one_equals_fused_and_zero_feeds_predictions(decoder):
    name, opts = decoder
    model = build("rnn", "general", name, dec=opts)
    src, lengths, tgt = make_batch([5, 4], tgt_len=4)
    with torch.no_grad():
        fused, _ = model(src, lengths, tgt)
        state = model.init_state(model.encode(src, lengths))
        sampled, weights = model.sampled_forward(tgt, state, 1.0)
        free, _ = model(src, lengths, tgt, teacher_forcing=0.0)
    torch.testing.assert_close(sampled, fused, atol=1e-5, rtol=1e-5)
    assert free.shape == fused.shape and weights.shape == (2, 4, 5)
    # with teacher_forcing=0 step t+1 is fed argmax of step t: recompute that by hand
    state = model.init_state(model.encode(src, lengths))
    prev, manual = tgt[:, 0], []
    with torch.no_grad():
        for _ in range(tgt.size(1)):
            lp, state, _ = model.decode_step(prev, state)
            manual.append(lp)
            prev = lp.argmax(-1)
    torch.testing.assert_close(torch.stack(manual, 1), free.log_softmax(-1), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("decoder", decoder_variants(), ids=variant_id)
@pytest.mark.parametrize("attention", ATTENTION.names())
def test_forward_and_decode_step_under_bf16_autocast(decoder, attention):
    name, opts = decoder
    model = build("rnn", attention, name, cell="lstm" if attention == "dot" else "gru", dec=opts)
    src, lengths, tgt = make_batch([6, 3], tgt_len=4)
    ref, _ = model(src, lengths, tgt)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits, weights = model(src, lengths, tgt)
        lp, _, w = model.decode_step(tgt[:, 0], model.init_state(model.encode(src, lengths)))
    after, _ = model(src, lengths, tgt)
    assert torch.equal(after, ref)  # bf16 weight copies do not leak into float32 calls
    assert lp.dtype == torch.float32 and torch.isfinite(lp).all()
    assert weights.dtype == torch.float32
    assert (weights[1, :, 3:] == 0).all() and (w[1, 3:] == 0).all()
    torch.testing.assert_close(logits.float(), ref, atol=0.15, rtol=0.05)
