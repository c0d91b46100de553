"""Batches decoded a step at a time and in turn (the server's batcher) give exactly what each
batch gives decoded alone, and every sentence is reported once, the step it finishes, with its
final hypotheses."""

from __future__ import annotations

import pytest
import torch

from nmtkit.search.config import SearchConfig
from nmtkit.translate.options import TranslateConfig
from nmtkit.translate.translator import Translator
from tests.models.models_testlib import SRC_V, build

FAMILIES = [("transformer", "multihead", "transformer"), ("rnn", "concat", "bahdanau")]


def sentences(n: int, seed: int) -> list[list[int]]:
    gen = torch.Generator().manual_seed(seed)
    lengths = torch.randint(2, 9, (n,), generator=gen).tolist()
    return [torch.randint(4, SRC_V, (k,), generator=gen).tolist() for k in lengths]


@pytest.mark.parametrize("beam", [1, 4])
@pytest.mark.parametrize("family", FAMILIES, ids=[f[2] for f in FAMILIES])
def test_batches_stepped_in_turn_equal_each_batch_decoded_alone(family, beam):
    model = build(*family)
    search = SearchConfig(beam=beam, nbest=min(2, beam), max_len_a=1.0, max_len_b=2)
    options = TranslateConfig(precision="fp32", device="cpu", alignment=True)
    tr = Translator(model, None, search, options, torch.device("cpu"))
    batches = [sentences(5, seed=1), sentences(3, seed=2), sentences(4, seed=3)]
    alone = [tr.decode_batch(b) for b in batches]
    runs = [tr.start(b) for b in batches]
    got: list[dict[int, list]] = [{} for _ in batches]
    finished_at: list[int] = []
    while not all(r.done for r in runs):
        for i, run in enumerate(runs):
            if run.done:
                continue
            for pos, hyps in run.step():
                assert pos not in got[i]  # reported once
                got[i][pos] = hyps
                finished_at.append(run.strategy.step)
    for want, have in zip(alone, got, strict=True):
        assert sorted(have) == list(range(len(want)))
        for pos, hyps in have.items():
            assert [(h.tokens, h.score) for h in hyps] == [(h.tokens, h.score) for h in want[pos]]
            for h, w in zip(hyps, want[pos], strict=True):
                torch.testing.assert_close(h.attention, w.attention)
    assert len(set(finished_at)) > 1  # sentences were answered at different steps
