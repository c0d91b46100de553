"""Tiny model/batch factories for the model tests (small sizes keep every test well under 1 s)."""

from __future__ import annotations

from typing import Any

import torch

from nmtkit.data.specials import EOS_ID, PAD_ID
from nmtkit.models.build import ModelConfig, build_model
from nmtkit.models.seq2seq import Seq2Seq

SRC_V, TGT_V = 23, 19
TRANSFORMER_OPTS = {
    "layers": 2, "heads": 2, "ffn_size": 12, "dropout": 0.0, "attention_dropout": 0.0,
}  # fmt: skip


def tiny_config(
    encoder: str = "rnn",
    attention: str = "concat",
    decoder: str = "bahdanau",
    *,
    cell: str = "gru",
    enc: dict[str, Any] | None = None,
    att: dict[str, Any] | None = None,
    dec: dict[str, Any] | None = None,
    **model: Any,
) -> ModelConfig:
    """Sizes chosen so encoder output (2·6 = 12; Transformer 8) differs from the decoder size
    (10) and from the embedding size (7)."""
    enc_opts = {"cell": cell, "hidden_size": 6, "layers": 2, "dropout": 0.0}
    if encoder == "transformer":
        enc_opts = {**TRANSFORMER_OPTS, "model_size": 8}
    dec_opts = {"cell": cell, "hidden_size": 10, "layers": 2, "dropout": 0.0}
    if decoder == "transformer":
        dec_opts = {**TRANSFORMER_OPTS, "model_size": 10}
    enc_opts.update(enc or {})
    dec_opts.update(dec or {})
    att_opts = dict(att or {})
    if attention in ("dot", "scaled-dot"):
        att_opts.setdefault("project", True)
    if attention in ("concat", "multihead"):
        att_opts.setdefault("size", 8)
    if attention == "multihead":
        att_opts.setdefault("heads", 2)
    base = {"src_vocab_size": SRC_V, "tgt_vocab_size": TGT_V, "emb_size": 7, "emb_dropout": 0.0}
    return ModelConfig(
        encoder=encoder, attention=attention, decoder=decoder, encoder_options=enc_opts,
        attention_options=att_opts, decoder_options=dec_opts, **{**base, **model},
    )


def build(*args: Any, seed: int = 0, **kwargs: Any) -> Seq2Seq:
    """A tiny model (eval mode, seeded) from `tiny_config` arguments."""
    torch.manual_seed(seed)
    return build_model(tiny_config(*args, **kwargs)).eval()


def make_batch(
    lengths: list[int], tgt_len: int = 5, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """src (B, S) = random pieces + EOS, PAD after; lengths (B,); tgt_in (B, T)."""
    gen = torch.Generator().manual_seed(seed)
    batch, max_len = len(lengths), max(lengths)
    src = torch.full((batch, max_len), PAD_ID, dtype=torch.long)
    for i, n in enumerate(lengths):
        src[i, : n - 1] = torch.randint(4, SRC_V, (n - 1,), generator=gen)
        src[i, n - 1] = EOS_ID
    tgt = torch.randint(4, TGT_V, (batch, tgt_len), generator=gen)
    return src, torch.tensor(lengths), tgt


def decoder_variants() -> list[tuple[str, dict[str, Any]]]:
    """Every registered decoder (luong by default without input feeding: its fused path), plus
    luong with input feeding (its step loop)."""
    from nmtkit.models import DECODERS

    variants: list[tuple[str, dict[str, Any]]] = [(name, {}) for name in DECODERS.names()]
    if "luong" in DECODERS:
        variants.append(("luong", {"input_feeding": True}))
    return variants


def variant_id(variant: tuple[str, dict[str, Any]]) -> str:
    name, opts = variant
    return name + "".join(f"-{k}={v}" for k, v in opts.items())


def step_loop_log_probs(model: Seq2Seq, src, lengths, tgt_in) -> tuple[torch.Tensor, torch.Tensor]:
    """init_state + decode_step over the reference tokens → log-probs (B, T, V), weights."""
    state = model.init_state(model.encode(src, lengths))
    log_probs, weights = [], []
    for t in range(tgt_in.size(1)):
        lp, state, w = model.decode_step(tgt_in[:, t], state)
        log_probs.append(lp)
        weights.append(w)
    return torch.stack(log_probs, 1), torch.stack(weights, 1)
