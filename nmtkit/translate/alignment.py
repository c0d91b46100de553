"""What attention can tell users: hard alignments, soft matrices, and unknown-word replacement.

Attention matrices come from search as (T + 1, S + 1): one row per output piece plus EOS, one
column per source piece plus EOS. The EOS row and column are kept for JSON/plots (they are real
model outputs) and ignored for alignments.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from nmtkit.data.specials import UNK

WORD_START = "\u2581"  # sentencepiece's "▁": a piece that begins a new word


def hard_alignment(attention: Tensor, src_len: int, tgt_len: int) -> list[tuple[int, int]]:
    """(src, tgt) piece pairs: each output piece aligns to its most attended source piece.

    attention (≥tgt_len, ≥src_len); EOS row/column excluded.
    """
    if src_len == 0 or tgt_len == 0:
        return []
    best = attention[:tgt_len, :src_len].argmax(dim=1).tolist()  # (T,)
    return [(s, t) for t, s in enumerate(best)]


def word_index(pieces: list[str]) -> list[int]:
    """Word number of each piece: a new word starts at a piece beginning with '▁'."""
    out, word = [], -1
    for i, piece in enumerate(pieces):
        if i == 0 or piece.startswith(WORD_START):
            word += 1
        out.append(word)
    return out


def pharaoh(
    pairs: list[tuple[int, int]],
    src_pieces: list[str] | None = None,
    tgt_pieces: list[str] | None = None,
) -> str:
    """'s-t s-t ...' sorted by target then source; with pieces given, indices become words."""
    if src_pieces is not None and tgt_pieces is not None:
        src_w, tgt_w = word_index(src_pieces), word_index(tgt_pieces)
        pairs = [(src_w[s], tgt_w[t]) for s, t in pairs]
    unique = sorted(set(pairs), key=lambda p: (p[1], p[0]))
    return " ".join(f"{s}-{t}" for s, t in unique)


def replace_unk(tgt_pieces: list[str], attention: Tensor, src_pieces: list[str]) -> list[str]:
    """Copy the most attended source piece (surface text) in place of every <unk> output."""
    if UNK not in tgt_pieces or not src_pieces:
        return tgt_pieces
    best = attention[: len(tgt_pieces), : len(src_pieces)].argmax(dim=1).tolist()
    return [src_pieces[best[t]] if p == UNK else p for t, p in enumerate(tgt_pieces)]


def attention_record(
    sent_id: int, src_pieces: list[str], tgt_pieces: list[str], attention: Tensor | None
) -> dict[str, Any]:
    """A JSON-able record: pieces (with </s>) and weights rounded to 4 decimals, rows = targets."""
    if attention is None:
        return {"id": sent_id, "source": [], "target": [], "attention": []}
    rows = [[round(x, 4) for x in row] for row in attention.float().tolist()]
    return {
        "id": sent_id,
        "source": [*src_pieces, "</s>"],
        "target": [*tgt_pieces, "</s>"],
        "attention": rows,
    }
