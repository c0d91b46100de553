"""Batches decoded side by side (--parallel-batches) give exactly what one at a time gives."""

from __future__ import annotations

from pathlib import Path

import torch

from nmtkit.search.config import SearchConfig
from nmtkit.translate.options import TranslateConfig
from nmtkit.translate.translator import Translator

LINES = [
    "A man in an orange hat starring at something.",
    "",
    "Two dogs play in the snow.",
    "A little girl climbs into a wooden playhouse.",
    "People are walking down the street next to a building.",
    "A woman",
    "Three men on horses during a race.",
] * 3


def translations(checkpoint: Path, **options: object) -> list[tuple]:
    config = TranslateConfig(precision="fp32", device="cpu", batch_size=2, alignment=True,
                             **options)  # fmt: skip
    tr = Translator.load([str(checkpoint)], SearchConfig(beam=3, nbest=2), config)
    out = []
    for r in tr.translate(LINES, warn=lambda m: None):
        out.append(tuple((h.tokens, round(h.score, 5), h.attention.shape) for h in r.hyps))
    return out


def test_parallel_batches_equal_one_batch_at_a_time_and_restore_torch_threads(fixture_ckpt):
    threads = torch.get_num_threads()
    try:  # one torch thread for both, so the arithmetic is the same to the last bit
        alone = translations(fixture_ckpt, threads=1, parallel_batches=1)
        side_by_side = translations(fixture_ckpt, threads=1, parallel_batches=3)
        assert torch.get_num_threads() == 1  # restored after the side-by-side decoding
    finally:
        torch.set_num_threads(threads)
    assert side_by_side == alone
    assert alone[1] == () and len(alone) == len(LINES)


def test_workers_default_to_torch_threads_on_cpu_and_to_one_for_sampling(fixture_ckpt):
    tr = Translator.load([str(fixture_ckpt)], SearchConfig(), TranslateConfig(device="cpu"))
    assert tr.workers == torch.get_num_threads()
    sampling = Translator(tr.model, tr.tokenizer, SearchConfig(sampling=True), tr.options,
                          tr.device)  # fmt: skip
    assert sampling.workers == 1
