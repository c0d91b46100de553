"""Translator: checkpoints + tokenizer + search, turning a chunk of source lines into hypotheses.

Lines are tokenized, sorted by length into batches (little padding), decoded, and put back in
input order. Empty lines are never sent to the model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from nmtkit.errors import UsageError
from nmtkit.search.config import SearchConfig
from nmtkit.search.hypothesis import Hypothesis
from nmtkit.translate.options import TranslateConfig


@dataclasses.dataclass(frozen=True)
class Translation:
    """The result for one input line: its source piece ids (after truncation) and hypotheses."""

    src_ids: list[int]
    hyps: list[Hypothesis]


def load_model(path: Path, device: str, precision: str) -> Any:
    """model_from_checkpoint, with weights in bf16/fp16 for those precisions.

    Casting the weights once saves autocast re-casting them at every decoder step. Building
    under a low-precision default dtype makes the parameters low-precision from birth, so
    start-up pays no fp32 initialisation plus cast.
    """
    from nmtkit.models.build import model_from_checkpoint

    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    if dtype is None:
        return model_from_checkpoint(path, device=device)[0]
    default = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        model = model_from_checkpoint(path, device=device)[0]
    finally:
        torch.set_default_dtype(default)
    return model.to(dtype)  # no-op for parameters already in dtype


class Translator:
    """Loaded model(s) and tokenizer; `translate(lines)` handles one chunk."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        search: SearchConfig,
        options: TranslateConfig,
        device: torch.device,
    ) -> None:
        from nmtkit.search.driver import make_strategy

        self.model = model
        self.tokenizer = tokenizer
        self.search = search
        self.options = options
        self.device = device
        self.strategy = make_strategy(
            search, keep_attention=options.needs_attention, device=str(device)
        )

    @classmethod
    def load(
        cls, checkpoints: Sequence[str | Path], search: SearchConfig, options: TranslateConfig
    ) -> Translator:
        """Read and verify every checkpoint (tokenizer first: cheap), then build the model(s)."""
        from nmtkit.checkpoint_tokenizer import tokenizer_for
        from nmtkit.hardware import bound_onednn_cache, select_device
        from nmtkit.search.ensemble import Ensemble

        if not checkpoints:
            raise UsageError("no checkpoint given", fix="pass -c CHECKPOINT (repeat for ensembles)")
        if options.threads:
            torch.set_num_threads(options.threads)
        bound_onednn_cache()
        device, precision = select_device(options.device, options.precision)
        options = options.replace(precision=precision)
        paths = [Path(c) for c in checkpoints]
        tok = tokenizer_for(paths)
        models = [load_model(p, str(device), options.precision) for p in paths]
        if options.alignment_layer is not None:
            for m in models:
                m.decoder.set_alignment_layer(options.alignment_layer)
        for path, m in zip(paths, models, strict=True):
            if m.config.tgt_vocab_size != tok.tgt_vocab_size:
                raise UsageError("model and tokenizer vocabulary sizes differ", file=path)
        model = models[0] if len(models) == 1 else Ensemble(models)
        return cls(model, tok, search, options, device)

    def translate(
        self, lines: Sequence[str], *, first_line: int = 1, warn: Callable[[str], None] = print
    ) -> list[Translation]:
        """Hypotheses for each line (in order); empty lines get none."""
        ids = self.encode(lines, first_line=first_line, warn=warn)
        hyps: list[list[Hypothesis]] = [[] for _ in ids]
        for batch in self.batches(ids):
            for i, h in zip(batch, self.decode_batch([ids[i] for i in batch]), strict=True):
                hyps[i] = h
        return [Translation(x, h) for x, h in zip(ids, hyps, strict=True)]

    def encode(
        self, lines: Sequence[str], *, first_line: int = 1, warn: Callable[[str], None] = print
    ) -> list[list[int]]:
        """Source piece ids per line (cleaned like preprocess), cut to --max-source-len."""
        ids = self.tokenizer.encode_src(list(lines))
        limit = self.options.max_source_len
        for i, x in enumerate(ids):
            if len(x) > limit:
                warn(f"{first_line + i}: {len(x)} pieces, truncated to {limit} (--max-source-len)")
                ids[i] = x[:limit]
        return ids

    def batches(self, ids: list[list[int]]) -> Iterator[list[int]]:
        """Indices of non-empty lines, longest first, cut by --batch-size and --max-tokens."""
        order = sorted((i for i, x in enumerate(ids) if x), key=lambda i: -len(ids[i]))
        size, max_tokens = self.options.batch_size, self.options.max_tokens
        batch: list[int] = []
        for i in order:
            width = len(ids[batch[0]]) + 1 if batch else len(ids[i]) + 1  # longest comes first
            too_many = max_tokens and (len(batch) + 1) * width > max_tokens
            if batch and (len(batch) == size or too_many):
                yield batch
                batch = []
            batch.append(i)
        if batch:
            yield batch

    def attention_heads(self, src_ids: list[int], tokens: list[int]) -> Tensor | None:
        """Every layer's and head's cross-attention (L, H, T+1, S+1) of one output (with the
        EOS row and column, as search's weights), or None (RNN decoders, ensembles)."""
        from nmtkit.data.specials import BOS_ID, EOS_ID
        from nmtkit.training.precision import autocast

        if not hasattr(self.model, "attention_heads"):
            return None
        src = torch.tensor([[*src_ids, EOS_ID]], device=self.device)
        tgt_in = torch.tensor([[BOS_ID, *tokens]], device=self.device)
        lengths = torch.tensor([src.size(1)], device=self.device)
        with torch.inference_mode(), autocast(self.options.precision, self.device):
            heads = self.model.attention_heads(src, lengths, tgt_in)
        return None if heads is None else heads[0].float().cpu()

    def decode_batch(self, src_ids: list[list[int]]) -> list[list[Hypothesis]]:
        from nmtkit.data.collate import collate
        from nmtkit.search.driver import decode
        from nmtkit.training.precision import autocast

        batch = collate([torch.tensor(x) for x in src_ids], None, list(range(len(src_ids))))
        src, lengths = batch.src.to(self.device), batch.src_lengths.to(self.device)
        with torch.inference_mode(), autocast(self.options.precision, self.device):
            return decode(self.model, src, lengths, self.strategy)
