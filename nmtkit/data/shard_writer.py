"""Stream encoded chunks of a split into shard files of at most --shard-size pairs.

Memory is bounded by one shard (plus the chunks in flight), never a whole split: when the
pending pairs reach the shard size, exactly that many are written out (`write_split`, atomic) and
dropped from memory. A shard also closes early once it holds TOKEN_CAP pieces on a side, so
even a corpus of very long lines stays bounded. Token arrays hold the stored width (2 bytes per
piece for vocabularies up to 64k), so what is kept in memory is what goes to disk.
"""

from __future__ import annotations

from array import array
from pathlib import Path
from typing import Any

from nmtkit.data.binarized import write_split
from nmtkit.data.encoding import REASONS, ChunkResult

TOKEN_CAP = 1 << 26  # pieces per side and shard, whatever --shard-size says


def shard_file(split: str, index: int) -> str:
    """File name of shard `index` of `split`: the first keeps the unsharded name."""
    return f"{split}.safetensors" if index == 0 else f"{split}.{index:05d}.safetensors"


def _take(values: array, count: int) -> tuple[array, array]:
    """(first `count` items, the rest) of an array, as new arrays."""
    return values[:count], values[count:]


class ShardWriter:
    """Collects ChunkResults for one split and writes shard files into `directory`.

    Also keeps the split's running totals (counts, maxima, drop reasons) for the manifest.
    """

    def __init__(
        self, directory: Path, split: str, *, first_index: int, shard_size: int,
        src_vocab_size: int, tgt_vocab_size: int, src_typecode: str, tgt_typecode: str,
    ) -> None:  # fmt: skip
        self.directory = directory
        self.split = split
        self.index = first_index
        self.shard_size = shard_size
        self.vocab = (src_vocab_size, tgt_vocab_size)
        self.typecodes = (src_typecode, tgt_typecode)
        self.pending = self._empty()
        self.shards: list[dict[str, Any]] = []
        self.totals: dict[str, Any] = dict(
            sentences=0, src_tokens=0, tgt_tokens=0, src_unk=0, tgt_unk=0, src_max_len=0,
            tgt_max_len=0, replaced=0, dropped=dict.fromkeys(REASONS, 0),
        )  # fmt: skip

    def _empty(self) -> ChunkResult:
        return ChunkResult(src_tokens=array(self.typecodes[0]), src_lengths=array("I"),
                           tgt_tokens=array(self.typecodes[1]), tgt_lengths=array("I"))  # fmt: skip

    def add(self, res: ChunkResult) -> None:
        """Append a chunk; writes every shard that becomes full."""
        t = self.totals
        t["sentences"] += len(res.src_lengths)
        t["src_tokens"] += len(res.src_tokens)
        t["tgt_tokens"] += len(res.tgt_tokens)
        t["src_unk"] += res.src_unk
        t["tgt_unk"] += res.tgt_unk
        t["src_max_len"] = max(t["src_max_len"], max(res.src_lengths, default=0))
        t["tgt_max_len"] = max(t["tgt_max_len"], max(res.tgt_lengths, default=0))
        t["replaced"] += res.replaced
        for reason in REASONS:
            t["dropped"][reason] += res.dropped[reason]
        p = self.pending
        p.src_tokens.extend(res.src_tokens)
        p.src_lengths.extend(res.src_lengths)
        p.tgt_tokens.extend(res.tgt_tokens)
        p.tgt_lengths.extend(res.tgt_lengths)
        while len(p.src_lengths) >= self.shard_size:
            self._write(self.shard_size)
            p = self.pending
        if max(len(p.src_tokens), len(p.tgt_tokens)) >= TOKEN_CAP:
            self._write(len(p.src_lengths))

    def _write(self, count: int) -> None:
        """Write the first `count` pending pairs as the next shard."""
        p = self.pending
        src_len, rest_src_len = _take(p.src_lengths, count)
        tgt_len, rest_tgt_len = _take(p.tgt_lengths, count)
        src_tok, rest_src_tok = _take(p.src_tokens, sum(src_len))
        tgt_tok, rest_tgt_tok = _take(p.tgt_tokens, sum(tgt_len))
        self.pending = self._empty()  # drop the old buffers before writing
        del p
        name = shard_file(self.split, self.index)
        write_split(
            self.directory / name, src_tokens=src_tok, src_lengths=src_len, tgt_tokens=tgt_tok,
            tgt_lengths=tgt_len, src_vocab_size=self.vocab[0], tgt_vocab_size=self.vocab[1],
        )  # fmt: skip
        self.pending = ChunkResult(src_tokens=rest_src_tok, src_lengths=rest_src_len,
                                   tgt_tokens=rest_tgt_tok, tgt_lengths=rest_tgt_len)  # fmt: skip
        self.shards.append({"file": name, "sentences": count})
        self.index += 1

    def close(self) -> list[dict[str, Any]]:
        """Write what is pending (or one empty shard for an empty split); returns the shards."""
        if len(self.pending.src_lengths) or not self.shards:
            self._write(len(self.pending.src_lengths))
        return self.shards
