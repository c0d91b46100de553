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
        self.model = model
        self.tokenizer = tokenizer
        self.search = search
        self.options = options
        self.device = device
        self.strategy = self.new_strategy()

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
        batches = list(self.batches(ids))
        found = self.decode_all([[ids[i] for i in batch] for batch in batches])
        for batch, batch_hyps in zip(batches, found, strict=True):
            for i, h in zip(batch, batch_hyps, strict=True):
                hyps[i] = h
        return [Translation(x, h) for x, h in zip(ids, hyps, strict=True)]

    @property
    def workers(self) -> int:
        """Batches decoded at once: on CPU one per torch thread unless --parallel-batches says
        otherwise; one elsewhere, and for sampling (one seeded generator, used in order)."""
        if self.device.type != "cpu" or self.search.sampling:
            return 1
        return self.options.parallel_batches or torch.get_num_threads()

    def decode_all(self, batches: list[list[list[int]]]) -> list[list[list[Hypothesis]]]:
        """Each batch's hypotheses, in order. With several workers the batches are decoded side
        by side, each worker a thread of its own with one torch thread and its own strategy;
        the results are the same as one at a time."""
        workers = min(self.workers, len(batches))
        if workers < 2:
            return [self.decode_batch(b) for b in batches]
        from concurrent.futures import ThreadPoolExecutor

        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # new threads take torch's setting when they start
        try:
            with ThreadPoolExecutor(workers, thread_name_prefix="nmtkit-decode") as pool:
                return list(pool.map(lambda b: self.decode_batch(b, self.new_strategy()), batches))
        finally:
            torch.set_num_threads(threads)

    def new_strategy(self) -> Any:
        """A search strategy of this translator's settings, for one batch at a time."""
        from nmtkit.search.driver import make_strategy

        return make_strategy(
            self.search, keep_attention=self.options.needs_attention, device=str(self.device)
        )

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

    def decode_batch(
        self, src_ids: list[list[int]], strategy: Any = None
    ) -> list[list[Hypothesis]]:
        from nmtkit.search.driver import decode

        src, lengths = self.collate(src_ids)
        with self.inference():
            return decode(self.model, src, lengths, strategy or self.strategy)

    def start(self, src_ids: list[list[int]]) -> BatchRun:
        """A batch to decode step by step, beside others (the server's batcher)."""
        return BatchRun(self, src_ids)

    def collate(self, src_ids: list[list[int]]) -> tuple[Tensor, Tensor]:
        """src (B, S) with EOS and padding, lengths (B,), on the device."""
        from nmtkit.data.collate import collate

        batch = collate([torch.tensor(x) for x in src_ids], None, list(range(len(src_ids))))
        return batch.src.to(self.device), batch.src_lengths.to(self.device)

    def inference(self) -> contextlib.ExitStack:
        """Inference mode and this translator's precision, for every model call."""
        from nmtkit.training.precision import autocast

        stack = contextlib.ExitStack()
        stack.enter_context(torch.inference_mode())
        stack.enter_context(autocast(self.options.precision, self.device))
        return stack


class BatchRun:
    """One batch through search.driver.steps, a decoder step per `step()`, with its own
    strategy (so several can run in turn); each step returns the sentences it finished."""

    def __init__(self, translator: Translator, src_ids: list[list[int]]) -> None:
        from nmtkit.search.driver import steps

        self.translator = translator
        self.strategy = translator.new_strategy()
        src, lengths = translator.collate(src_ids)
        self._steps = steps(translator.model, src, lengths, self.strategy)
        self.done = False

    def step(self) -> list[tuple[int, list[Hypothesis]]]:
        """(position in the batch, hypotheses best first) of the sentences this step finished."""
        with self.translator.inference():
            next(self._steps)
            self.done = self.strategy.done
            finished = self.strategy.finished_now
            if finished is None:
                return []
            hyps = self.strategy.hypotheses(finished)
            return list(zip(finished.tolist(), hyps, strict=True))
