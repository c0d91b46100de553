"""Built-in named architectures (`nmtkit train --arch NAME`) and cross-component aliases.

An architecture is a bundle of option values, keyed by flag name without dashes (as in a
`--config` TOML file); explicit flags and `--config` values override it. See
`nmtkit.registry.ArchitectureRegistry` for registering one from a plugin.
"""

from __future__ import annotations

from nmtkit.models import ARCHITECTURES, ATTENTION

# `--attention bahdanau` means Bahdanau et al.'s attention: additive scores queried by the
# previous decoder state s_{t-1}, the context fed into the cell. That is the concat scorer in
# the bahdanau decoder, which the alias therefore also picks unless --decoder is given.
ATTENTION.alias("bahdanau", "concat", implies={"decoder": "bahdanau"})

ARCHITECTURES.register(
    "default",
    help="nmtkit's defaults: every option at its documented default (sets nothing)",
    sets={},
)

ARCHITECTURES.register(
    "bahdanau",
    help="RNNsearch (Bahdanau et al. 2015): bi-GRU encoder, additive (concat) scorer queried "
    "by s_{t-1}, bahdanau decoder with the context fed into the GRU; nmtkit's sizes (the paper: "
    "620/1000)",
    sets={
        "encoder": "rnn", "encoder-cell": "gru", "encoder-layers": 1,
        "encoder-bidirectional": True, "attention": "concat", "decoder": "bahdanau",
        "decoder-cell": "gru", "decoder-layers": 1,
    },
)  # fmt: skip

ARCHITECTURES.register(
    "luong",
    help="Luong, Pham & Manning 2015 (global attention): stacked unidirectional LSTMs over the "
    "reversed source, general scorer queried by h_t, luong decoder with input feeding; 2x512 "
    "(the paper: 4x1000)",
    sets={
        "encoder": "rnn", "encoder-cell": "lstm", "encoder-layers": 2,
        "encoder-bidirectional": False, "encoder-hidden-size": 512,
        "encoder-reverse-source": True, "attention": "general", "decoder": "luong",
        "decoder-cell": "lstm", "decoder-layers": 2, "decoder-hidden-size": 512,
        "decoder-input-feeding": True,
    },
)  # fmt: skip

ARCHITECTURES.register(
    "rnn-base",
    help="the reference model of benchmarks/ (train_speed.py): bi-GRU 256 encoder, concat "
    "scorer, bahdanau GRU 512 decoder, Adam 1e-3 at a constant rate, batches of 64 sentences",
    sets={
        "encoder": "rnn", "encoder-cell": "gru", "encoder-layers": 1,
        "encoder-hidden-size": 256, "encoder-bidirectional": True, "encoder-dropout": 0.2,
        "attention": "concat", "decoder": "bahdanau", "decoder-cell": "gru",
        "decoder-layers": 1, "decoder-hidden-size": 512, "decoder-dropout": 0.2,
        "emb-size": 256, "emb-dropout": 0.2,
        "batch-size": 64, "optimizer": "adam", "lr": 1e-3, "clip-norm": 1.0,
        "lr-schedule": "constant", "warmup-steps": 0,
    },
)  # fmt: skip
