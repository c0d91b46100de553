"""A finished translation candidate, as handed from search to the pipeline."""

from __future__ import annotations

import dataclasses

from torch import Tensor


@dataclasses.dataclass(frozen=True)
class Hypothesis:
    """One finished hypothesis of one source sentence.

    `tokens` are target piece ids without BOS/EOS. `log_prob` is the model's summed log-probability
    of tokens + EOS; `score` is what search ranked by (log_prob / length penalty, see penalties.py).
    `attention` (len(tokens) + 1, S) holds the weights of every output step (the last row is EOS)
    over the real source positions (pieces + EOS), or None when attention was not kept.
    """

    tokens: list[int]
    score: float
    log_prob: float
    attention: Tensor | None = None
