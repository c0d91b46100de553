"""Translator: checkpoints + tokenizer + search, turning a chunk of source lines into hypotheses.

Lines are tokenized, sorted by length into batches (little padding), decoded, and put back in
input order. Empty lines are never sent to the model.
"""

from __future__ import annotations

import contextlib
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


def resolve_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError(f"--device {device}: CUDA is not available", fix="use --device cpu")
    return device


def precision_context(device: str, precision: str) -> contextlib.AbstractContextManager:
    """Autocast for bf16/fp16 (matmuls in low precision; softmax/log-probs stay float32)."""
    if precision == "fp32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=torch.device(device).type, dtype=dtype)


def load_tokenizer(checkpoint: Path, meta: dict[str, str]) -> Any:
    """The tokenizer stored beside the checkpoint, verified against the checkpoint's record."""
    from nmtkit.data.tokenizer import TOKENIZER_FILE, Tokenizer
    from nmtkit.io.checkpoint import json_field

    directory = checkpoint.parent
    if not (directory / TOKENIZER_FILE).is_file():
        raise UsageError(
            f"no {TOKENIZER_FILE} beside the checkpoint",
            file=directory,
            fix="translate needs the tokenizer that `nmtkit train` copies into the save dir; "
            "copy tokenizer.json and the spm model(s) from the data dir",
        )
    tok = Tokenizer.load(directory)
    check_tokenizer(tok, json_field(meta, "tokenizer", checkpoint), checkpoint)
    return tok


def check_tokenizer(tok: Any, identity: Any, checkpoint: Path) -> None:
    if not isinstance(identity, dict) or not tok.matches(identity):
        raise UsageError(
            f"the tokenizer in {checkpoint.parent} is not the one this checkpoint was trained with",
            file=checkpoint,
            fix="put the training data dir's tokenizer.json and spm model(s) beside it",
        )


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
        device: str,
    ) -> None:
        from nmtkit.search.driver import make_strategy

        self.model = model
        self.tokenizer = tokenizer
        self.search = search
        self.options = options
        self.device = device
        self.strategy = make_strategy(search, keep_attention=options.needs_attention, device=device)

    @classmethod
    def load(
        cls, checkpoints: Sequence[str | Path], search: SearchConfig, options: TranslateConfig
    ) -> Translator:
        """Read and verify every checkpoint (tokenizer first: cheap), then build the model(s)."""
        from nmtkit.hardware import bound_onednn_cache, resolve_precision
        from nmtkit.io.checkpoint import json_field, read_metadata
        from nmtkit.search.ensemble import Ensemble

        if not checkpoints:
            raise UsageError("no checkpoint given", fix="pass -c CHECKPOINT (repeat for ensembles)")
        if options.threads:
            torch.set_num_threads(options.threads)
        bound_onednn_cache()
        device = resolve_device(options.device)
        options = options.replace(
            precision=resolve_precision(options.precision, torch.device(device)))
        paths = [Path(c) for c in checkpoints]
        tok = load_tokenizer(paths[0], read_metadata(paths[0]))
        for path in paths[1:]:
            check_tokenizer(tok, json_field(read_metadata(path), "tokenizer", path), path)
        models = [load_model(p, device, options.precision) for p in paths]
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

        if not hasattr(self.model, "attention_heads"):
            return None
        src = torch.tensor([[*src_ids, EOS_ID]], device=self.device)
        tgt_in = torch.tensor([[BOS_ID, *tokens]], device=self.device)
        lengths = torch.tensor([src.size(1)], device=self.device)
        with torch.inference_mode(), precision_context(self.device, self.options.precision):
            heads = self.model.attention_heads(src, lengths, tgt_in)
        return None if heads is None else heads[0].float().cpu()

    def decode_batch(self, src_ids: list[list[int]]) -> list[list[Hypothesis]]:
        from nmtkit.data.collate import collate
        from nmtkit.search.driver import decode

        batch = collate([torch.tensor(x) for x in src_ids], None, list(range(len(src_ids))))
        src, lengths = batch.src.to(self.device), batch.src_lengths.to(self.device)
        with torch.inference_mode(), precision_context(self.device, self.options.precision):
            return decode(self.model, src, lengths, self.strategy)
