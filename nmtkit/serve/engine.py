"""Engine: the loaded Translator(s) and the text handling shared with `nmtkit translate`.

Encoding (clean_line, sentencepiece, --max-source-len), search (Translator.start through
search.driver.steps) and detokenization (pipeline.Formatter) are the translate command's own
code; this module only picks a search variant per request and writes results as JSON objects.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from nmtkit.search.config import SearchConfig
from nmtkit.search.hypothesis import Hypothesis
from nmtkit.serve.schema import TranslateRequest
from nmtkit.translate.options import TranslateConfig


@dataclasses.dataclass(frozen=True)
class SearchKey:
    """What sentences sharing a batch must agree on: beam, n-best, whether attention is kept."""

    beam: int | None
    nbest: int
    attention: bool


def request_key(request: TranslateRequest) -> SearchKey:
    return SearchKey(request.beam, request.nbest, request.alignment or request.attention)


class Engine:
    """Model(s), tokenizer and one Translator per search variant (all sharing the model)."""

    def __init__(self, translator: Any, checkpoints: Sequence[str | Path]) -> None:
        self.base = translator
        self.checkpoints = [Path(c) for c in checkpoints]
        self._variants: dict[SearchKey, Any] = {}
        self._lock = threading.Lock()
        self.info = model_info(translator, self.checkpoints)
        self.workers = translator.workers  # decoding threads, read before the server sets 1

    @classmethod
    def load(
        cls, checkpoints: Sequence[str], search: SearchConfig, options: TranslateConfig
    ) -> Engine:
        from nmtkit.translate.translator import Translator

        return cls(Translator.load(checkpoints, search, options), checkpoints)

    def search_for(self, key: SearchKey) -> SearchConfig:
        search = self.base.search
        if key.beam is not None:
            search = search.replace(beam=key.beam, greedy=False)
        return search.replace(nbest=key.nbest)

    def translator(self, key: SearchKey) -> Any:
        """The Translator for one search variant (built once; a strategy object is cheap)."""
        from nmtkit.translate.translator import Translator

        with self._lock:
            found = self._variants.get(key)
            if found is None:
                base = self.base
                options = base.options.replace(alignment=base.options.alignment or key.attention)
                found = Translator(base.model, base.tokenizer, self.search_for(key), options,
                                   base.device)
                self._variants[key] = found
            return found

    def encode(self, lines: Sequence[str], warn: Callable[[str], None]) -> list[list[int]]:
        return self.base.encode(lines, warn=warn)

    def start(self, key: SearchKey, src_ids: list[list[int]]) -> Any:
        """One batch (non-empty lines, longest first) through translate's search code, as a
        BatchRun the batcher decodes a step at a time."""
        return self.translator(key).start(src_ids)

    def render(
        self, request: TranslateRequest, lines: list[str], src_ids: list[list[int]],
        hyps: list[list[Hypothesis]],
    ) -> list[dict[str, Any]]:
        """One JSON object per line, in request order."""
        from nmtkit.translate.pipeline import Formatter
        from nmtkit.translate.translator import Translation

        key = request_key(request)
        formatter = Formatter(self.base, self.search_for(key), self.base.options, None)
        results = [Translation(x, h) for x, h in zip(src_ids, hyps, strict=True)]
        best = [r.hyps[0] if r.hyps else None for r in results]
        texts = formatter.texts(best, results, lines)
        out = []
        for i, (r, text) in enumerate(zip(results, texts, strict=True)):
            item: dict[str, Any] = {"text": text, "score": _score(best[i])}
            if request.nbest:
                item["nbest"] = self._nbest(formatter, r, lines[i], request)
            if request.alignment:
                item["alignment"] = _alignment(r.src_ids, best[i])
            if request.attention:
                item["attention"] = self._attention(r.src_ids, best[i])
            out.append(item)
        return out

    def _nbest(
        self, formatter: Any, r: Any, line: str, request: TranslateRequest
    ) -> list[dict[str, Any]]:
        hyps = r.hyps[: request.nbest]
        if not hyps:  # an empty line: one empty hypothesis, as translate prints
            empty: dict[str, Any] = {"text": "", "score": 0.0}
            return [empty | {"alignment": []}] if request.alignment else [empty]
        texts = formatter.texts(hyps, [r] * len(hyps), [line] * len(hyps))
        out = []
        for h, text in zip(hyps, texts, strict=True):
            entry: dict[str, Any] = {"text": text, "score": _score(h)}
            if request.alignment:
                entry["alignment"] = _alignment(r.src_ids, h)
            out.append(entry)
        return out

    def _attention(self, src_ids: list[int], h: Hypothesis | None) -> dict[str, Any]:
        """Pieces with </s> (rows: target, columns: source), weights rounded to 4 decimals."""
        from nmtkit.translate.alignment import attention_record

        tok = self.base.tokenizer
        tgt = tok.tgt_pieces(h.tokens) if h is not None else []
        attention = None if h is None else h.attention
        record = attention_record(0, tok.src_pieces(src_ids), tgt, attention)
        return {"source_pieces": record["source"], "target_pieces": record["target"],
                "weights": record["attention"]}


def _score(h: Hypothesis | None) -> float:
    return 0.0 if h is None else round(float(h.score), 6)


def _alignment(src_ids: list[int], h: Hypothesis | None) -> list[list[int]]:
    """[source piece, target piece] pairs, sorted as Pharaoh output is (target, then source)."""
    from nmtkit.translate.alignment import hard_alignment

    if h is None:
        return []
    pairs = hard_alignment(h.attention, len(src_ids), len(h.tokens))
    return [[s, t] for s, t in sorted(set(pairs), key=lambda p: (p[1], p[0]))]


def sha256_prefix(path: Path, size: int = 16) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:size]


def model_info(translator: Any, checkpoints: list[Path]) -> dict[str, Any]:
    """What GET /v1/model reports: checkpoints (identity, architecture), tokenizer, options."""
    import json

    from nmtkit.io.checkpoint import read_metadata

    entries = []
    for path in checkpoints:
        meta = read_metadata(path)
        entries.append({
            "path": str(path),
            "sha256": sha256_prefix(path),
            "step": int(meta.get("step", "0") or 0),
            "epoch": int(meta.get("epoch", "0") or 0),
            "architecture": json.loads(meta.get("model_config", "{}")),
        })
    return {
        "checkpoints": entries,
        "ensemble": len(entries) > 1,
        "tokenizer": translator.tokenizer.identity(),
        "device": str(translator.device),
        "search": translator.search.to_dict(),
        "options": {k: v for k, v in translator.options.to_dict().items()
                    if k in SERVE_TRANSLATE_OPTIONS},
    }


# The TranslateConfig fields that mean something to a server (the rest are file/stream options).
SERVE_TRANSLATE_OPTIONS = (
    "batch_size", "max_tokens", "precision", "device", "threads", "parallel_batches",
    "max_source_len", "replace_unk",
)
