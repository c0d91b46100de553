"""SearchConfig: every decoding option, declared once (flags, help and defaults come from here).

Kept free of torch imports so `nmtkit translate --help` starts instantly.
"""

from __future__ import annotations

import dataclasses

from nmtkit.config import ConfigBase, option
from nmtkit.errors import UsageError


@dataclasses.dataclass(frozen=True, kw_only=True)
class SearchConfig(ConfigBase):
    """How hypotheses are searched for; validated by `check()` before any model is loaded."""

    beam: int = option(5, help="Beam size K (1 = greedy).")
    greedy: bool = option(False, help="Greedy decoding (identical to --beam 1).")
    nbest: int = option(
        0, help="Output the N best hypotheses as 'id<TAB>score<TAB>text' lines (0: best only)."
    )
    lenpen: float = option(0.6, help="GNMT length penalty alpha (0 = raw log-prob sum).")
    min_len: int = option(0, help="Minimum number of target pieces before EOS is allowed.")
    max_len_a: float = option(1.5, help="Max target pieces = a * source pieces + b.")
    max_len_b: int = option(10, help="Max target pieces = a * source pieces + b.")
    sampling: bool = option(False, help="Sample instead of searching (--nbest samples each).")
    temperature: float = option(1.0, help="Sampling temperature (>0).")
    topk: int = option(0, help="Sample from the k most likely pieces only (0 = all).")
    seed: int = option(0, help="Random seed for --sampling.")

    @property
    def beam_size(self) -> int:
        """K actually used: 1 for greedy, nbest samples (at least 1) for sampling."""
        if self.sampling:
            return max(self.nbest, 1)
        return 1 if self.greedy else self.beam

    def check(self) -> None:
        """Refuse impossible combinations with one clear message (before loading anything)."""
        if self.beam < 1:
            raise UsageError(f"--beam must be >= 1, got {self.beam}")
        if self.nbest < 0:
            raise UsageError(f"--nbest must be >= 0, got {self.nbest}")
        if self.nbest > self.beam_size and not self.sampling:
            raise UsageError(
                f"--nbest {self.nbest} exceeds the beam size {self.beam_size}",
                fix="raise --beam or lower --nbest",
            )
        if self.greedy and self.sampling:
            raise UsageError("--greedy and --sampling exclude each other")
        if self.temperature <= 0:
            raise UsageError(f"--temperature must be > 0, got {self.temperature}")
        if self.topk < 0 or self.min_len < 0 or self.max_len_b < 0 or self.max_len_a < 0:
            raise UsageError("--topk, --min-len, --max-len-a and --max-len-b must be >= 0")
