"""Beam search properties on a tiny deterministic model (no training, no data)."""

from __future__ import annotations

import itertools

import pytest
import torch

from nmtkit.data.specials import BOS_ID, EOS_ID, PAD_ID
from nmtkit.search.beam import BeamSearch
from nmtkit.search.driver import decode
from nmtkit.search.penalties import length_penalty
from tests.search.search_fakes import FakeModel, force_score, make_batch, random_sentences


def run_beam(model, sentences, **kw):
    src, lengths = make_batch(sentences)
    with torch.inference_mode():
        return decode(model, src, lengths, BeamSearch(**kw))


def exhaustive_best(model, sentence, *, max_len, vocab):
    """Best (tokens, score) over every output of at most max_len pieces (PAD/BOS excluded)."""
    allowed = [t for t in range(vocab) if t not in (PAD_ID, BOS_ID, EOS_ID)]
    best = (None, float("-inf"))
    for n in range(max_len + 1):
        for target in itertools.product(allowed, repeat=n):
            score = force_score(model, sentence, list(target))
            if score > best[1]:
                best = (list(target), score)
    return best


@pytest.mark.parametrize("seed", range(6))
def test_beam_of_vocab_size_matches_exhaustive_search(seed):
    # V = 5: generable pieces UNK and 4 (+ EOS). With K = V and outputs of <= 2 pieces the beam
    # can hold every prefix, so beam search must find the exhaustive optimum exactly.
    vocab, max_len = 5, 2
    model = FakeModel(vocab=vocab, seed=seed, scale=2.0, eos_bias=0.0)
    sentences = random_sentences(4, vocab, seed, max_len=5)
    hyps = run_beam(model, sentences, beam_size=vocab, lenpen=0.0, max_len_a=0.0, max_len_b=max_len)
    for sentence, nbest in zip(sentences, hyps, strict=True):
        tokens, score = exhaustive_best(model, sentence, max_len=max_len, vocab=vocab)
        assert nbest[0].tokens == tokens
        assert nbest[0].log_prob == pytest.approx(score, abs=1e-5)


@pytest.mark.parametrize("lenpen", [0.0, 0.6, 1.0])
def test_nbest_sorted_and_scores_equal_model_log_probs(lenpen):
    model = FakeModel(vocab=12, seed=3)
    sentences = random_sentences(5, 12, seed=1)
    hyps = run_beam(model, sentences, beam_size=4, lenpen=lenpen)
    for sentence, nbest in zip(sentences, hyps, strict=True):
        assert len(nbest) == 4
        scores = [h.score for h in nbest]
        assert scores == sorted(scores, reverse=True)
        assert len({tuple(h.tokens) for h in nbest}) == 4  # distinct hypotheses
        for h in nbest:
            reference = force_score(model, sentence, h.tokens)
            assert h.log_prob == pytest.approx(reference, abs=1e-5)
            lp = length_penalty(len(h.tokens) + 1, lenpen)
            assert h.score == pytest.approx(reference / lp, abs=1e-5)


def test_batch_size_does_not_change_outputs():
    model = FakeModel(vocab=16, seed=5)
    sentences = random_sentences(9, 16, seed=2)
    together = run_beam(model, sentences, beam_size=3, lenpen=0.6)
    for sentence, hyps in zip(sentences, together, strict=True):
        alone = run_beam(model, [sentence], beam_size=3, lenpen=0.6)[0]
        assert [h.tokens for h in alone] == [h.tokens for h in hyps]
        assert [h.score for h in alone] == pytest.approx([h.score for h in hyps], abs=1e-5)


def test_min_and_max_length_are_respected():
    model = FakeModel(vocab=12, seed=1, eos_bias=4.0)  # EOS very likely: short outputs
    sentences = random_sentences(6, 12, seed=4)
    hyps = run_beam(model, sentences, beam_size=3, min_len=3, max_len_a=0.0, max_len_b=5)
    for nbest in hyps:
        assert all(3 <= len(h.tokens) <= 5 for h in nbest)
    model = FakeModel(vocab=12, seed=1, eos_bias=-30.0)  # EOS never chosen freely
    hyps = run_beam(model, sentences, beam_size=3, max_len_a=1.0, max_len_b=1)
    for sentence, nbest in zip(sentences, hyps, strict=True):
        assert [len(h.tokens) for h in nbest] == [len(sentence) + 1] * 3  # forced EOS at max


def test_generated_tokens_exclude_pad_and_bos():
    model = FakeModel(vocab=8, seed=2)
    model.bias[PAD_ID] = model.bias[BOS_ID] = 50.0  # the model loves them; search must not
    hyps = run_beam(model, random_sentences(4, 8, seed=0), beam_size=3)
    for nbest in hyps:
        for h in nbest:
            assert PAD_ID not in h.tokens and BOS_ID not in h.tokens and EOS_ID not in h.tokens


def test_attention_kept_per_output_step():
    model = FakeModel(vocab=12, seed=3)
    sentences = random_sentences(3, 12, seed=6)
    hyps = run_beam(model, sentences, beam_size=2, keep_attention=True)
    for sentence, nbest in zip(sentences, hyps, strict=True):
        for h in nbest:
            assert h.attention.shape == (len(h.tokens) + 1, len(sentence) + 1)
            torch.testing.assert_close(h.attention.sum(1), torch.ones(len(h.tokens) + 1))


def test_finished_sentences_leave_the_batch():
    model = FakeModel(vocab=12, seed=3)
    rows_seen: list[int] = []
    step = model.decode_step

    def counting_step(prev, state):
        rows_seen.append(prev.size(0))
        return step(prev, state)

    model.decode_step = counting_step
    sentences = [[5], [6, 7, 8, 9, 10, 11, 5, 6, 7]]
    run_beam(model, sentences, beam_size=2, max_len_a=1.0, max_len_b=0)
    assert rows_seen[0] == 2  # step 0 runs once per sentence: its K rows would be identical
    assert rows_seen[1] == 4 and rows_seen[-1] == 2  # the short sentence stopped early
    assert rows_seen[1:] == sorted(rows_seen[1:], reverse=True)


def test_memory_is_not_copied_yet_results_equal_a_full_reorder(monkeypatch):
    import nmtkit.search.driver as driver

    model = FakeModel(vocab=16, seed=9)
    sentences = random_sentences(8, 16, seed=8)
    fast = run_beam(model, sentences, beam_size=3, lenpen=0.6, keep_attention=True)
    monkeypatch.setattr(driver, "reorder", lambda state, index, memory_index: state.reorder(index))
    full = run_beam(model, sentences, beam_size=3, lenpen=0.6, keep_attention=True)
    assert [[(h.tokens, h.score) for h in n] for n in fast] == [
        [(h.tokens, h.score) for h in n] for n in full
    ]


@pytest.mark.parametrize("lenpen", [0.0, 0.6])
def test_stopping_hopeless_sentences_keeps_the_best_hypothesis(lenpen):
    model = FakeModel(vocab=16, seed=4, eos_bias=1.0)
    sentences = random_sentences(12, 16, seed=9)
    steps = {}
    results = {}
    for nbest in (1, 4):
        calls = []
        step = model.decode_step

        def counting_step(prev, state, calls=calls, step=step):
            calls.append(prev.size(0))
            return step(prev, state)

        model.decode_step = counting_step
        results[nbest] = run_beam(model, sentences, beam_size=4, lenpen=lenpen, nbest=nbest)
        model.decode_step = step
        steps[nbest] = sum(calls)
    for pruned, full in zip(results[1], results[4], strict=True):
        assert (pruned[0].tokens, pruned[0].score) == (full[0].tokens, full[0].score)
    assert steps[1] < steps[4]  # fewer rows decoded
