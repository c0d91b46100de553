"""The one decoding loop, shared by every strategy and by single models and ensembles.

encode once → init_state → expand to N = B·K rows (repeat_interleave) → loop:
decode_step → strategy.advance → state.reorder(strategy.reorder_index), until every sentence is
finished. Finished sentences leave the batch (the strategy shrinks its index), so the model never
computes them again.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

import torch
from torch import Tensor

from nmtkit.search.config import SearchConfig
from nmtkit.search.hypothesis import Hypothesis
from nmtkit.search.strategy import Search


class Decodable(Protocol):
    """What search needs from a model (Seq2Seq and Ensemble both provide it)."""

    def encode(self, src: Tensor, src_lengths: Tensor) -> Any: ...

    def init_state(self, enc: Any) -> Any: ...

    def decode_step(self, prev_tokens: Tensor, state: Any) -> tuple[Tensor, Any, Tensor]:
        """(N,) → fresh log_probs (N, V) float32 (search may modify them), state, weights."""
        ...


def make_strategy(
    cfg: SearchConfig, *, keep_attention: bool = False, device: str = "cpu"
) -> Search:
    """The strategy object for a config (a fresh one per batch is not needed: start() resets)."""
    from nmtkit.search.beam import BeamSearch
    from nmtkit.search.greedy import GreedySearch
    from nmtkit.search.sampling import SamplingSearch

    common = dict(
        lenpen=cfg.lenpen,
        min_len=cfg.min_len,
        max_len_a=cfg.max_len_a,
        max_len_b=cfg.max_len_b,
        keep_attention=keep_attention,
    )
    if cfg.sampling:
        generator = torch.Generator(device=device).manual_seed(cfg.seed)
        return SamplingSearch(
            num_samples=cfg.beam_size,
            temperature=cfg.temperature,
            topk=cfg.topk,
            generator=generator,
            **common,
        )
    if cfg.beam_size == 1:
        return GreedySearch(**common)
    return BeamSearch(beam_size=cfg.beam_size, nbest=max(cfg.nbest, 1), **common)


def decode(
    model: Decodable, src: Tensor, src_lengths: Tensor, strategy: Search
) -> list[list[Hypothesis]]:
    """Translate one batch: src (B, S) pieces + EOS, PAD-padded; src_lengths (B,) with EOS.

    Returns, per sentence in batch order, its finished hypotheses best first.
    """
    for _ in steps(model, src, src_lengths, strategy):
        pass
    return strategy.finalize()


def steps(model: Decodable, src: Tensor, src_lengths: Tensor, strategy: Search) -> Iterator[None]:
    """The decoding loop of `decode`, suspended after every decoder step: a caller may run
    several batches in turn (the server does) and read `strategy.finished_now` between steps.
    Run each step under the caller's inference and precision settings."""
    state = model.init_state(model.encode(src, src_lengths))
    expand = strategy.start(src_lengths, src.size(1))  # (N,)
    K = strategy.K
    # Step 0: the K rows of a sentence are identical, so run it on B rows and expand after.
    log_probs, state, weights = model.decode_step(strategy.last_tokens[::K], state)
    if K > 1:
        log_probs = log_probs.repeat_interleave(K, 0)  # (N, V)
        weights = weights.repeat_interleave(K, 0)  # (N, S)
    strategy.advance(log_probs, weights)
    yield
    if strategy.done:
        return
    if K > 1 or strategy.reorder_index is not None:
        index = strategy.reorder_index
        state = state.reorder(expand if index is None else expand.index_select(0, index))
    while not strategy.done:
        log_probs, state, weights = model.decode_step(strategy.last_tokens, state)
        strategy.advance(log_probs, weights)
        if strategy.reorder_index is not None and not strategy.done:
            state = reorder(state, strategy.reorder_index, strategy.memory_index)
        yield


def reorder(state: Any, index: Tensor, memory_index: Tensor | None) -> Any:
    """state.reorder(index), without copying the encoder memory when it cannot change.

    The K rows of a sentence share identical memory (encoder states, projected keys), and beam
    reordering only permutes rows within a sentence; so memory needs selecting only when
    sentences leave the batch (memory_index set). Copying (N, S, He + A) every step would
    otherwise cost as much as a good part of the decoder step itself. The state's own class
    does the work (search never looks inside a state).
    """
    return state.reorder(index, keep_memory=memory_index is None)
