"""Source/target embeddings (optionally one shared table) and the generator (optionally tied)."""

from __future__ import annotations

from torch import Tensor, nn

from nmtkit.data.specials import PAD_ID


def make_embedding(vocab_size: int, emb_size: int) -> nn.Embedding:
    """N(0, E^-1/2) init so a tied generator starts with O(1) logits; the pad row stays zero."""
    emb = nn.Embedding(vocab_size, emb_size, padding_idx=PAD_ID)
    nn.init.normal_(emb.weight, std=emb_size**-0.5)
    emb.weight.data[PAD_ID].zero_()
    return emb


class Embeddings(nn.Module):
    """Source and target tables; with `shared` both names point to one module (joint vocab)."""

    def __init__(
        self, *, src_vocab_size: int, tgt_vocab_size: int, emb_size: int, dropout: float,
        shared: bool,
    ) -> None:
        super().__init__()
        self.tgt = make_embedding(tgt_vocab_size, emb_size)
        self.src = self.tgt if shared else make_embedding(src_vocab_size, emb_size)
        self.dropout = nn.Dropout(dropout)

    def embed_src(self, src: Tensor) -> Tensor:
        return self.dropout(self.src(src))  # (B, S, E)

    def embed_tgt(self, tgt: Tensor) -> Tensor:
        return self.dropout(self.tgt(tgt))  # (B, T, E) or (N, E)


class Generator(nn.Module):
    """Features → vocabulary logits. Tied: the output matrix is the target embedding table, with
    a linear projection first when the decoder's feature size differs from the embedding size."""

    def __init__(
        self, *, in_size: int, vocab_size: int, tie_to: nn.Embedding | None = None
    ) -> None:
        super().__init__()
        emb_size = in_size if tie_to is None else tie_to.embedding_dim
        self.pre = nn.Linear(in_size, emb_size) if in_size != emb_size else None
        self.out = nn.Linear(emb_size, vocab_size)
        if tie_to is not None:
            self.out.weight = tie_to.weight

    def forward(self, features: Tensor) -> Tensor:
        """features (…, Ho) → logits (…, V)."""
        if self.pre is not None:
            features = self.pre(features)
        return self.out(features)
