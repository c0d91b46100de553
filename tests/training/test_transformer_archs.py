"""The named Transformer architectures resolve and build the models their sources describe."""

from __future__ import annotations

import pytest

from nmtkit.models.build import build_model, skip_init
from nmtkit.training.options import resolve_options

# name: (layers, d, heads, ffn, norm, decoder)
PUBLISHED = {
    "transformer-tiny": (3, 256, 4, 1024, "pre", "transformer"),
    "transformer-multi30k": (4, 128, 4, 256, "pre", "transformer"),
    "transformer-base": (6, 512, 8, 2048, "post", "transformer"),
    "transformer-iwslt": (6, 512, 4, 1024, "post", "transformer"),
    "transformer-rnn": (3, 256, 4, 1024, "pre", "bahdanau"),
}


def build(arch: str, flags: dict | None = None):
    resolved = resolve_options(flags=flags or {}, arch=arch, src_vocab=64, tgt_vocab=64)
    with skip_init():
        return build_model(resolved.model), resolved


@pytest.mark.parametrize("arch", sorted(PUBLISHED))
def test_transformer_arch_builds_its_published_sizes(arch):
    layers, size, heads, ffn, norm, decoder = PUBLISHED[arch]
    model, resolved = build(arch)
    encoder = model.encoder
    assert len(encoder.layers) == layers and encoder.output_size == size
    first = encoder.layers[0]
    assert first.self_attn.heads == heads and first.ffn.inner.out_features == ffn
    assert (encoder.final_norm is not None) == (norm == "pre")
    assert model.config.decoder == decoder
    if decoder == "transformer":
        cross = model.decoder.layers[0].cross_attn
        assert len(model.decoder.layers) == layers and model.config.attention == "multihead"
        assert cross.heads == heads and cross.heads * cross.head_size == size
        assert model.generator.out.weight is model.embeddings.tgt.weight  # tied
    schedule = "cosine" if arch == "transformer-multi30k" else "inverse-sqrt"
    assert resolved.train.lr_schedule == schedule
    assert resolved.train.label_smoothing == 0.1


def test_the_multi30k_recipe_is_the_measured_one():
    """The recipe of benchmarks/README.md's 60-minute row, flag for flag."""
    model, resolved = build("transformer-multi30k")
    train, layer = resolved.train, model.encoder.layers[0]
    assert (train.lr, train.warmup_steps, train.max_tokens) == (5e-3, 1500, 4096)
    assert train.keep_last == 5
    assert train.max_epochs == 200  # --max-time, when given, is the budget the cosine spans
    assert (train.optimizer, train.clip_norm) == ("adam", 1.0)
    assert layer.attn_block.dropout.p == 0.3 and layer.self_attn.dropout_p == 0.1
    assert layer.ffn.dropout.p == 0.1 and model.config.share_embeddings


def test_flags_override_a_transformer_arch_and_auto_attention_follows():
    model, _ = build("transformer-tiny", {"decoder-heads": 8, "decoder-layers": 2})
    assert len(model.decoder.layers) == 2
    assert model.decoder.layers[0].cross_attn.heads == 8
    assert model.config.attention_options == {"heads": 8, "size": 256}
