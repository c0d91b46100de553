"""Padding changes nothing: a sentence in a padded batch scores as it does alone."""

from __future__ import annotations

import pytest
import torch

from nmtkit.data.specials import EOS_ID, PAD_ID
from nmtkit.models import ATTENTION
from nmtkit.models.encoders.rnn import RNNConfig, RNNEncoder, gather_time, reversal_index
from tests.models.models_testlib import build, decoder_variants, make_batch, variant_id


@pytest.mark.parametrize("attention", ATTENTION.names())
@pytest.mark.parametrize("decoder", decoder_variants(), ids=variant_id)
@pytest.mark.parametrize("reverse", [False, True])
def test_sentence_in_padded_batch_scores_as_alone(attention, decoder, reverse):
    name, opts = decoder
    model = build("rnn", attention, name, dec=opts, enc={"reverse_source": reverse})
    src, lengths, tgt = make_batch([9, 3, 6], tgt_len=5, seed=2)
    with torch.no_grad():
        logits, weights = model(src, lengths, tgt)
        alone, alone_w = model(src[1:2, :3], lengths[1:2], tgt[1:2])
    torch.testing.assert_close(
        logits[1:2].log_softmax(-1), alone.log_softmax(-1), atol=1e-5, rtol=1e-5
    )
    torch.testing.assert_close(weights[1:2, :, :3], alone_w, atol=1e-6, rtol=1e-5)
    assert (weights[1, :, 3:] == 0).all()


@pytest.mark.parametrize("decoder", decoder_variants(), ids=variant_id)
def test_model_attention_sums_to_one_over_real_positions(decoder):
    name, opts = decoder
    model = build("rnn", "concat", name, dec=opts)
    src, lengths, tgt = make_batch([7, 2, 4], tgt_len=3)
    with torch.no_grad():
        _, weights = model(src, lengths, tgt)
    real = torch.arange(7)[None, :] < lengths[:, None]  # (B, S)
    assert (weights.masked_select(~real[:, None, :]) == 0).all()
    if name != "plain":
        torch.testing.assert_close(weights.sum(-1), torch.ones(3, 3))
    else:
        assert (weights == 0).all()


def test_reversal_index_reverses_pieces_only():
    index = reversal_index(torch.tensor([5, 3, 1]), 6)
    assert index.tolist() == [
        [3, 2, 1, 0, 4, 5],  # pieces 0..3 reversed, EOS (4) stays last, pad (5) untouched
        [1, 0, 2, 3, 4, 5],
        [0, 1, 2, 3, 4, 5],  # EOS only
    ]


def test_reverse_source_equals_encoding_the_manually_reversed_source():
    torch.manual_seed(0)
    cfg = RNNConfig(hidden_size=5, layers=2, dropout=0.0)
    forward_enc = RNNEncoder(cfg, emb_size=3).eval()
    reversing_enc = RNNEncoder(cfg.replace(reverse_source=True), emb_size=3).eval()
    reversing_enc.load_state_dict(forward_enc.state_dict())
    src = torch.tensor([[5, 6, 7, 8, EOS_ID], [9, 10, EOS_ID, PAD_ID, PAD_ID]])
    lengths = torch.tensor([5, 3])
    manual = torch.tensor([[8, 7, 6, 5, EOS_ID], [10, 9, EOS_ID, PAD_ID, PAD_ID]])
    emb = torch.nn.Embedding(20, 3)
    with torch.no_grad():
        out = reversing_enc(emb(src), lengths)
        ref = forward_enc(emb(manual), lengths)
    index = reversal_index(lengths, 5)
    # states come back in original order: position s holds the state of token src[s]
    torch.testing.assert_close(out.states, gather_time(ref.states, index))
    torch.testing.assert_close(out.final, ref.final)
    assert (out.states[1, 3:] == 0).all()
    assert out.pad_mask.tolist() == [[False] * 5, [False, False, False, True, True]]
