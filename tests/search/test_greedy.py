"""Greedy is beam 1, bit for bit, and equals a plain argmax loop."""

from __future__ import annotations

import torch

from nmtkit.data.specials import BOS_ID, EOS_ID, PAD_ID
from nmtkit.search.beam import BeamSearch
from nmtkit.search.config import SearchConfig
from nmtkit.search.driver import decode, make_strategy
from nmtkit.search.greedy import GreedySearch
from tests.search.search_fakes import FakeModel, make_batch, random_sentences


def argmax_loop(model, sentence, max_len):
    src, lengths = make_batch([sentence])
    state = model.init_state(model.encode(src, lengths))
    prev, out = BOS_ID, []
    for _ in range(max_len + 1):
        lp, state, _ = model.decode_step(torch.tensor([prev]), state)
        lp[0, [PAD_ID, BOS_ID]] = float("-inf")  # never generated
        prev = int(lp[0].argmax()) if len(out) < max_len else EOS_ID
        if prev == EOS_ID:
            break
        out.append(prev)
    return out


def test_beam_one_equals_greedy_exactly():
    model = FakeModel(vocab=20, seed=7)
    sentences = random_sentences(12, 20, seed=3)
    src, lengths = make_batch(sentences)
    greedy = decode(model, src, lengths, GreedySearch(lenpen=0.6))
    beam1 = decode(model, src, lengths, BeamSearch(beam_size=1, lenpen=0.6))
    assert [[(h.tokens, h.score, h.log_prob) for h in n] for n in greedy] == [
        [(h.tokens, h.score, h.log_prob) for h in n] for n in beam1
    ]


def test_greedy_equals_argmax_loop():
    model = FakeModel(vocab=20, seed=8)
    sentences = random_sentences(10, 20, seed=4)
    src, lengths = make_batch(sentences)
    hyps = decode(model, src, lengths, GreedySearch(max_len_a=1.0, max_len_b=3))
    for sentence, nbest in zip(sentences, hyps, strict=True):
        assert nbest[0].tokens == argmax_loop(model, sentence, len(sentence) + 3)


def test_config_picks_greedy_for_beam_one():
    assert isinstance(make_strategy(SearchConfig(greedy=True)), GreedySearch)
    assert isinstance(make_strategy(SearchConfig(beam=1)), GreedySearch)
    assert make_strategy(SearchConfig(beam=4)).K == 4
