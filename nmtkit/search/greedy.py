"""Greedy decoding: the K = 1 case of beam search.

Running the very same arithmetic (one row, top-2 candidates, EOS finishes the sentence) makes
`--greedy` and `--beam 1` give bit-identical output, which the tests check.
"""

from __future__ import annotations

from nmtkit.search.beam import BeamSearch


class GreedySearch(BeamSearch):
    """Pick the most likely piece at every step; stop each sentence at its first EOS."""

    def __init__(
        self,
        *,
        lenpen: float = 0.0,
        min_len: int = 0,
        max_len_a: float = 1.5,
        max_len_b: int = 10,
        keep_attention: bool = False,
    ) -> None:
        super().__init__(
            beam_size=1,
            lenpen=lenpen,
            min_len=min_len,
            max_len_a=max_len_a,
            max_len_b=max_len_b,
            keep_attention=keep_attention,
        )
