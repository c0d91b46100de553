"""A named architecture added from outside nmtkit (see nmtkit.registry.ArchitectureRegistry).

    nmtkit models --user-dir examples/plugins/rnnsearch_arch.py
    nmtkit train DATA --save-dir D --user-dir examples/plugins/rnnsearch_arch.py \
        --arch rnnsearch-small [--decoder-hidden-size 512 ...]

An architecture is a bundle of `nmtkit train` options, keyed by flag name without the dashes;
flags and `--config` still override each of them.
"""

from __future__ import annotations

from nmtkit.models import ARCHITECTURES

ARCHITECTURES.register(
    "rnnsearch-small",
    help="RNNsearch (Bahdanau et al. 2015) at half nmtkit's sizes, for small corpora",
    sets={
        "encoder": "rnn", "encoder-cell": "gru", "encoder-hidden-size": 128,
        "attention": "concat", "attention-size": 128,
        "decoder": "bahdanau", "decoder-cell": "gru", "decoder-hidden-size": 256,
        "emb-size": 128,
    },
)  # fmt: skip
