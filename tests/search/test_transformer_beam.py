"""Beam search over a tiny Transformer (KV caches reordered every step) finds the exhaustive
optimum when the beam can hold every prefix."""

from __future__ import annotations

import pytest
import torch

from nmtkit.models.build import build_model
from tests.models.models_testlib import tiny_config
from tests.search.search_fakes import random_sentences
from tests.search.test_beam import exhaustive_best, run_beam


@pytest.fixture(autouse=True)
def _single_thread():
    """Tiny tensors: one thread is faster and immune to oversubscription on a shared CPU."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize(("encoder", "seed"), [("transformer", 0), ("rnn", 2)])
def test_beam_of_vocab_size_matches_exhaustive_search_on_a_transformer(encoder, seed):
    vocab, max_len = 5, 2
    torch.manual_seed(seed)
    cfg = tiny_config(encoder, "multihead", "transformer", src_vocab_size=vocab,
                      tgt_vocab_size=vocab)  # fmt: skip
    model = build_model(cfg).eval()
    with torch.no_grad():  # sharper distributions: the optimum is not a near-tie
        model.generator.out.weight.mul_(4.0)
    sentences = random_sentences(3, vocab, seed, max_len=5)
    hyps = run_beam(model, sentences, beam_size=vocab, lenpen=0.0, max_len_a=0.0, max_len_b=max_len)
    for sentence, nbest in zip(sentences, hyps, strict=True):
        with torch.inference_mode():
            tokens, score = exhaustive_best(model, sentence, max_len=max_len, vocab=vocab)
        assert nbest[0].tokens == tokens
        assert nbest[0].log_prob == pytest.approx(score, abs=1e-5)
