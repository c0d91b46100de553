"""Continuous batching (search/continuous.py): batches that join a running search between steps
decode exactly as each would alone (tokens, scores, attention), for every decoder family, the
scorers whose state is shaped differently, Transformer positions (sinusoidal and learned),
beam and greedy, and ensembles across families; each sentence is reported once."""

from __future__ import annotations

import pytest
import torch

from nmtkit.search.config import SearchConfig
from nmtkit.search.ensemble import Ensemble
from nmtkit.translate.options import TranslateConfig
from nmtkit.translate.translator import StreamRun, Translator
from tests.models.models_testlib import SRC_V, build

MODELS = {
    "transformer": ("transformer", "multihead", "transformer"),
    "transformer-learned": ("transformer", "multihead", "transformer"),
    "transformer-concat": ("transformer", "concat", "transformer"),
    "rnn-transformer": ("rnn", "multihead", "transformer"),
    "bahdanau": ("rnn", "concat", "bahdanau"),
    "luong-feed-location": ("rnn", "location", "luong"),
    "plain-lstm": ("rnn", "concat", "plain"),
}
OPTIONS = {
    "transformer-learned": {"dec": {"positions": "learned"}},
    "luong-feed-location": {"dec": {"input_feeding": True}},
    "plain-lstm": {"cell": "lstm"},
}
#: (steps to run before this batch joins, batch size, seed): the second batch has the longest
#: source (memories widen), the third the shortest.
ARRIVALS = [(0, 4, 1), (2, 3, 2), (3, 2, 3), (0, 1, 4)]


def sentences(n: int, seed: int, low: int = 2, high: int = 9) -> list[list[int]]:
    gen = torch.Generator().manual_seed(seed)
    lengths = torch.randint(low, high, (n,), generator=gen).tolist()
    return [torch.randint(4, SRC_V, (k,), generator=gen).tolist() for k in lengths]


def batches() -> list[list[list[int]]]:
    out = [sentences(n, seed) for _, n, seed in ARRIVALS]
    out[1] = sentences(3, seed=2, low=11, high=14)
    return out


def run_joined(tr: Translator, arrivals: list[tuple[int, list[list[int]]]]) -> dict[int, list]:
    """Join each batch after its number of steps; positions → hypotheses."""
    run = StreamRun(tr)
    got: dict[int, list] = {}
    for wait, batch in arrivals:
        for _ in range(wait):
            if not run.done:
                collect(run, got)
        assert run.join(batch) is not None
    while not run.done:
        collect(run, got)
    return got


def collect(run: StreamRun, got: dict[int, list]) -> None:
    for pos, hyps in run.step():
        assert pos not in got  # reported once
        got[pos] = hyps
    if not run.done:  # memories are as wide as the widest batch still decoding, no wider
        assert memory_width(run.search.state) == max(c.width for c in run.search.cohorts)


def memory_width(state) -> int:
    if hasattr(state, "states"):  # an ensemble: every member the same
        widths = {memory_width(s) for s in state.states}
        assert len(widths) == 1
        return widths.pop()
    memory = state.cross[0] if hasattr(state, "cross") else state.memory
    return memory.pad_mask.size(1)


def assert_same(have: list, want: list) -> None:
    assert [h.tokens for h in have] == [h.tokens for h in want]
    scores = [h.score for h in have], [h.score for h in want]
    torch.testing.assert_close(*scores, rtol=1e-5, atol=1e-5)
    for h, w in zip(have, want, strict=True):
        torch.testing.assert_close(h.attention, w.attention, atol=1e-5, rtol=1e-4)


def translator(model, beam: int, max_len_a: float = 1.0) -> Translator:
    search = SearchConfig(beam=beam, nbest=min(2, beam), max_len_a=max_len_a, max_len_b=3)
    options = TranslateConfig(precision="fp32", device="cpu", alignment=True)
    return Translator(model, None, search, options, torch.device("cpu"))


@pytest.mark.parametrize("beam", [1, 4])
@pytest.mark.parametrize("name", list(MODELS))
def test_joined_batches_decode_as_each_alone(name, beam):
    tr = translator(build(*MODELS[name], **OPTIONS.get(name, {})), beam)
    data = batches()
    alone = [hyp for b in data for hyp in tr.decode_batch(b)]
    got = run_joined(tr, [(wait, b) for (wait, _, _), b in zip(ARRIVALS, data, strict=True)])
    assert sorted(got) == list(range(len(alone)))
    for pos, want in enumerate(alone):
        assert_same(got[pos], want)


@pytest.mark.parametrize("name", list(MODELS))
def test_memories_narrow_once_the_widest_batch_left(name):
    """Outputs of at most 3 pieces: the wide first batch leaves before the narrow one that
    joined it, and the memories shrink back to the narrow width (checked in `collect`)."""
    tr = translator(build(*MODELS[name], **OPTIONS.get(name, {})), beam=3, max_len_a=0.0)
    wide, narrow = sentences(3, seed=7, low=11, high=14), sentences(2, seed=8, high=4)
    alone = tr.decode_batch(wide) + tr.decode_batch(narrow)
    run = StreamRun(tr)
    got: dict[int, list] = {}
    run.join(wide)
    collect(run, got)
    collect(run, got)
    run.join(narrow)
    widths = []
    while not run.done:
        collect(run, got)
        widths.append(None if run.done else memory_width(run.search.state))
    assert max(len(x) for x in narrow) + 1 in widths  # narrowed before the end
    for pos, want in enumerate(alone):
        assert_same(got[pos], want)


def test_ensemble_across_families_joins():
    models = [build(*MODELS["transformer"]), build(*MODELS["bahdanau"], seed=1)]
    tr = translator(Ensemble(models), beam=3)
    data = batches()
    alone = [hyp for b in data for hyp in tr.decode_batch(b)]
    got = run_joined(tr, [(2, b) for b in data])
    for pos, want in enumerate(alone):
        assert_same(got[pos], want)


def test_cache_is_compacted_once_the_oldest_batch_left():
    """The first batch finishes early and the later one runs on: the cache then drops the
    slots that only the first batch used."""
    tr = translator(build(*MODELS["transformer"]), beam=2)
    run = StreamRun(tr)
    run.join(sentences(2, seed=5, low=2, high=3))  # short: max length 1·2 + 3 = 5 pieces
    for _ in range(3):
        run.step()
    run.join(sentences(2, seed=6, low=12, high=13))
    lengths = []
    while not run.done:
        run.step()
        if not run.done:
            lengths.append(run.search.state.steps)
    assert run.search.state is None
    # Before the first batch left, slots = its steps so far; after, only the second's own.
    assert min(lengths) < max(lengths[:3])
