"""Sampling: seeded, scored with the model's own log-probs, top-k respected."""

from __future__ import annotations

import pytest
import torch

from nmtkit.search.config import SearchConfig
from nmtkit.search.driver import decode, make_strategy
from nmtkit.search.greedy import GreedySearch
from tests.search.search_fakes import FakeModel, force_score, make_batch, random_sentences


def sample(model, sentences, **cfg):
    src, lengths = make_batch(sentences)
    strategy = make_strategy(SearchConfig(sampling=True, **cfg))
    return decode(model, src, lengths, strategy)


def as_tokens(hyps):
    return [[h.tokens for h in n] for n in hyps]


def test_sampling_is_reproducible_with_a_seed_and_varies_without():
    model = FakeModel(vocab=30, seed=1, scale=1.0)
    sentences = random_sentences(6, 30, seed=2)
    a = sample(model, sentences, nbest=4, seed=11)
    b = sample(model, sentences, nbest=4, seed=11)
    c = sample(model, sentences, nbest=4, seed=12)
    assert as_tokens(a) == as_tokens(b)
    assert as_tokens(a) != as_tokens(c)
    assert all(len(n) == 4 for n in a)


def test_sample_scores_are_model_log_probs_and_sorted():
    model = FakeModel(vocab=30, seed=1, scale=1.0)
    sentences = random_sentences(4, 30, seed=3)
    hyps = sample(model, sentences, nbest=3, temperature=1.5, lenpen=0.0)
    for sentence, nbest in zip(sentences, hyps, strict=True):
        assert [h.score for h in nbest] == sorted((h.score for h in nbest), reverse=True)
        for h in nbest:
            assert h.log_prob == pytest.approx(force_score(model, sentence, h.tokens), abs=1e-5)


def test_topk_one_is_greedy():
    model = FakeModel(vocab=30, seed=4)
    sentences = random_sentences(6, 30, seed=5)
    src, lengths = make_batch(sentences)
    greedy = decode(model, src, lengths, GreedySearch(lenpen=0.6))
    sampled = sample(model, sentences, nbest=2, topk=1, temperature=0.7)
    for g, s in zip(greedy, sampled, strict=True):
        assert [h.tokens for h in s] == [g[0].tokens, g[0].tokens]


def test_topk_restricts_choices_to_the_k_best():
    model = FakeModel(vocab=30, seed=6, scale=0.5)
    sentences = random_sentences(3, 30, seed=7)
    hyps = sample(model, sentences, nbest=5, topk=3, seed=3)
    src, lengths = make_batch(sentences)
    for i, nbest in enumerate(hyps):
        for h in nbest:  # re-run the model along each sample and check each pick's rank
            state = model.init_state(model.encode(src[i : i + 1], lengths[i : i + 1]))
            prev = torch.tensor([2])
            forced_end = len(h.tokens) == int(1.5 * len(sentences[i]) + 10)  # max length
            for tok in h.tokens if forced_end else [*h.tokens, 3]:
                lp, state, _ = model.decode_step(prev, state)
                lp[0, [0, 2]] = float("-inf")
                assert tok in lp[0].topk(3).indices.tolist()
                prev = torch.tensor([tok])
