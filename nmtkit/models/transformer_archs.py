"""Named Transformer architectures (`nmtkit train --arch transformer-tiny`, ...).

Sizes as published; the recipes' rates and schedules as their sources train them, in nmtkit's
flags. Explicit flags and `--config` values override every key.
"""

from __future__ import annotations

from typing import Any

from nmtkit.models import ARCHITECTURES


def both_sides(**options: Any) -> dict[str, Any]:
    """The same Transformer options for encoder and decoder, as flag names."""
    out = {"encoder": "transformer", "decoder": "transformer", "attention": "auto"}
    for key, value in options.items():
        flag = key.replace("_", "-")
        out[f"encoder-{flag}"] = value
        out[f"decoder-{flag}"] = value
    return out


INVERSE_SQRT = {"optimizer": "adam", "lr-schedule": "inverse-sqrt", "label-smoothing": 0.1,
                "clip-norm": 1.0}  # fmt: skip

TINY = dict(layers=3, heads=4, ffn_size=1024, dropout=0.1, attention_dropout=0.1,
            activation_dropout=0.1)  # fmt: skip

ARCHITECTURES.register(
    "transformer-tiny",
    help="Transformer for Multi30k on a 2-core CPU: 3+3 layers, d 256, 4 heads, ffn 1024, "
    "pre-norm, shared+tied embeddings, dropout 0.1 (the sizes of the issue's fairseq anchor), "
    "Adam 1e-3, inverse-sqrt warm-up 1000, label smoothing 0.1, batches of 64",
    sets={
        **both_sides(**TINY), "emb-size": 256, "emb-dropout": 0.0,
        "share-embeddings": True, "tie-embeddings": True,
        **INVERSE_SQRT, "lr": 1e-3, "warmup-steps": 1000, "batch-size": 64,
    },
)  # fmt: skip

ARCHITECTURES.register(
    "transformer-multi30k",
    help="small-data Transformer recipe: 4+4 layers, d 128, 4 heads, ffn 256, pre-norm, "
    "shared+tied embeddings, dropout 0.3 (attention and activation 0.1), Adam 5e-3 with "
    "warm-up 1500 then cosine to 0 over the budget (--max-time, else 200 epochs), label "
    "smoothing 0.1, 4096-token batches, the last 5 step checkpoints averaged",
    sets={
        **both_sides(layers=4, heads=4, ffn_size=256, dropout=0.3, attention_dropout=0.1,
                     activation_dropout=0.1),
        "emb-size": 128, "emb-dropout": 0.0, "share-embeddings": True, "tie-embeddings": True,
        **INVERSE_SQRT, "lr-schedule": "cosine", "lr": 5e-3, "warmup-steps": 1500,
        "max-tokens": 4096, "keep-last": 5, "max-epochs": 200,
    },
)  # fmt: skip

ARCHITECTURES.register(
    "transformer-base",
    help="Transformer base (Vaswani et al. 2017): 6+6 layers, d 512, 8 heads, ffn 2048, "
    "post-norm, dropout 0.1, shared+tied embeddings; Adam 7e-4, inverse-sqrt warm-up 4000, "
    "label smoothing 0.1, 4096-token batches (the paper: 25k; raise --update-freq)",
    sets={
        **both_sides(layers=6, heads=8, ffn_size=2048, dropout=0.1, attention_dropout=0.0,
                     activation_dropout=0.0, norm="post"),
        "emb-size": 512, "emb-dropout": 0.0, "share-embeddings": True, "tie-embeddings": True,
        **INVERSE_SQRT, "lr": 7e-4, "warmup-steps": 4000, "max-tokens": 4096,
    },
)  # fmt: skip

ARCHITECTURES.register(
    "transformer-iwslt",
    help="fairseq's transformer_iwslt_de_en: 6+6 layers, d 512, 4 heads, ffn 1024, dropout "
    "0.3, tied decoder embeddings; AdamW 5e-4 (weight decay 1e-4), inverse-sqrt warm-up 4000, "
    "label smoothing 0.1, 4096-token batches (fairseq's IWSLT recipe)",
    sets={
        **both_sides(layers=6, heads=4, ffn_size=1024, dropout=0.3, attention_dropout=0.0,
                     activation_dropout=0.0, norm="post"),
        "emb-size": 512, "emb-dropout": 0.0, "tie-embeddings": True,
        **INVERSE_SQRT, "optimizer": "adamw", "weight-decay": 1e-4, "lr": 5e-4,
        "warmup-steps": 4000, "max-tokens": 4096,
    },
)  # fmt: skip

ARCHITECTURES.register(
    "transformer-rnn",
    help="hybrid: the transformer-tiny encoder (3 layers, d 256) under a bahdanau GRU 512 "
    "decoder with concat (additive) attention; Adam 1e-3, inverse-sqrt warm-up 1000",
    sets={
        "encoder": "transformer",
        **{f"encoder-{k.replace('_', '-')}": v for k, v in TINY.items()},
        "attention": "concat", "decoder": "bahdanau", "decoder-cell": "gru",
        "decoder-layers": 1, "decoder-hidden-size": 512, "decoder-dropout": 0.2,
        "emb-size": 256, "emb-dropout": 0.0, **INVERSE_SQRT, "lr": 1e-3,
        "warmup-steps": 1000, "batch-size": 64,
    },
)  # fmt: skip
