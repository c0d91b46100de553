"""Ensembles average log-probs; a model ensembled with itself is the model."""

from __future__ import annotations

import torch

from nmtkit.search.beam import BeamSearch
from nmtkit.search.driver import decode
from nmtkit.search.ensemble import Ensemble
from tests.search.search_fakes import FakeModel, make_batch, random_sentences


def test_ensemble_with_itself_equals_single_model():
    model = FakeModel(vocab=16, seed=2)
    src, lengths = make_batch(random_sentences(7, 16, seed=1))
    single = decode(model, src, lengths, BeamSearch(beam_size=3, keep_attention=True))
    pair = Ensemble([model, model])
    double = decode(pair, src, lengths, BeamSearch(beam_size=3, keep_attention=True))
    for a, b in zip(single, double, strict=True):
        assert [(h.tokens, h.score) for h in a] == [(h.tokens, h.score) for h in b]
        for ha, hb in zip(a, b, strict=True):
            torch.testing.assert_close(ha.attention, hb.attention, rtol=0, atol=0)


def test_ensemble_step_is_mean_of_member_log_probs():
    a, b = FakeModel(vocab=16, seed=2), FakeModel(vocab=16, seed=3)
    src, lengths = make_batch(random_sentences(3, 16, seed=1))
    ens = Ensemble([a, b])
    state = ens.init_state(ens.encode(src, lengths))
    prev = torch.full((3,), 2)
    lp, _, w = ens.decode_step(prev, state)
    lpa, _, wa = a.decode_step(prev, a.init_state(a.encode(src, lengths)))
    lpb, _, wb = b.decode_step(prev, b.init_state(b.encode(src, lengths)))
    torch.testing.assert_close(lp, (lpa + lpb) / 2)
    torch.testing.assert_close(w, (wa + wb) / 2)
