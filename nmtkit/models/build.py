"""ModelConfig → Seq2Seq: the one place that wires components, and refuses bad combinations.

Order matters: `check_model_config` validates names, every component's options and the size
contracts between them (scorer `check` classmethods) before any tensor is allocated, so a
bad flag costs milliseconds and gives one clear line.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from torch import nn

from nmtkit.config import ConfigBase, option
from nmtkit.errors import UsageError
from nmtkit.io.checkpoint import check_tensors, json_field, load_weights, read_metadata
from nmtkit.models import ATTENTION, DECODERS, ENCODERS
from nmtkit.models.base import Scorer, ScorerFactory
from nmtkit.models.embeddings import Embeddings, Generator
from nmtkit.models.seq2seq import Seq2Seq
from nmtkit.registry import Registry

MIN_VOCAB = 4  # pad, unk, bos, eos


@dataclasses.dataclass(frozen=True, kw_only=True)
class ModelConfig(ConfigBase):
    encoder: str = option("rnn", help="encoder name (see `nmtkit models`)")
    attention: str = option(
        "auto",
        help="attention scorer name (ignored by `plain`); auto: the decoder's own default (dot "
        "for the RNN decoders; multihead over the Transformer decoder's heads and model size)",
    )
    decoder: str = option("luong", help="decoder name")
    encoder_options: dict[str, Any] = option({}, help="options of the chosen encoder")
    attention_options: dict[str, Any] = option({}, help="options of the chosen scorer")
    decoder_options: dict[str, Any] = option({}, help="options of the chosen decoder")
    src_vocab_size: int = option(0, help="source vocabulary size (set from the data directory)")
    tgt_vocab_size: int = option(0, help="target vocabulary size (set from the data directory)")
    emb_size: int = option(256, help="embedding size E (source and target)")
    emb_dropout: float = option(0.2, help="dropout on source and target embeddings")
    share_embeddings: bool = option(
        True,
        help="one embedding table for source and target; needs a joint vocabulary (with "
        "separate vocabularies it is turned off, and the stored config says so)",
    )
    tie_embeddings: bool = option(
        True, help="the output projection reuses the target embedding matrix"
    )


@dataclasses.dataclass(frozen=True)
class Parts:
    """A resolved ModelConfig: canonical names and the components' typed configs."""

    encoder: ConfigBase
    attention: ConfigBase
    decoder: ConfigBase


def _component(
    registry: Registry, name: str, options: dict[str, Any], source: str
) -> tuple[str, ConfigBase]:
    canonical = registry.canonical(name)
    config_cls = registry.entry(canonical).config_cls
    return canonical, config_cls.from_dict(dict(options), source=f"{source} ({registry.kind})")


AUTO_ATTENTION = "auto"


def resolve(cfg: ModelConfig, *, source: str = "model config") -> tuple[ModelConfig, Parts]:
    """Canonical names and complete option dicts (every field, defaults filled in), so the
    config stored in a checkpoint rebuilds the same model even if defaults change later.

    Attention "auto" becomes the decoder's default scorer, with the options the decoder derives
    from its own config (the Transformer's heads and model size) under the user's."""
    enc_name, enc = _component(ENCODERS, cfg.encoder, cfg.encoder_options, source)
    dec_name, dec = _component(DECODERS, cfg.decoder, cfg.decoder_options, source)
    att_name, att_options = cfg.attention, cfg.attention_options
    if att_name == AUTO_ATTENTION:
        dec_cls = DECODERS.entry(dec_name).cls
        att_name = dec_cls.default_attention
        att_options = {**dec_cls.attention_defaults(dec, emb_size=cfg.emb_size), **att_options}
    att_name, att = _component(ATTENTION, att_name, att_options, source)
    resolved = cfg.replace(
        encoder=enc_name,
        attention=att_name,
        decoder=dec_name,
        encoder_options=enc.to_dict(),
        attention_options=att.to_dict(),
        decoder_options=dec.to_dict(),
    )
    return resolved, Parts(encoder=enc, attention=att, decoder=dec)


def _refuse(reason: str | None, source: str, fix: str | None = None) -> None:
    if reason:
        raise UsageError(reason, file=source, fix=fix)


def check_model_config(
    cfg: ModelConfig, *, joint_vocab: bool | None = None, source: str = "model config"
) -> ModelConfig:
    """Raise UsageError for an invalid model; return the resolved config. Allocates nothing.

    joint_vocab: whether source and target share one tokenizer (None = unknown; then equal
    vocabulary sizes are required for --share-embeddings).
    """
    resolved, parts = resolve(cfg, source=source)
    if cfg.src_vocab_size < MIN_VOCAB or cfg.tgt_vocab_size < MIN_VOCAB:
        _refuse(f"vocabulary sizes must be >= {MIN_VOCAB} (got {cfg.src_vocab_size}, "
                f"{cfg.tgt_vocab_size})", source)
    if cfg.emb_size < 1 or not 0.0 <= cfg.emb_dropout < 1.0:
        _refuse("emb size must be >= 1 and emb dropout in [0, 1)", source)
    if cfg.share_embeddings and (
        joint_vocab is False or cfg.src_vocab_size != cfg.tgt_vocab_size
    ):
        resolved = resolved.replace(share_embeddings=False)  # stored, so rebuilds agree
    enc_cls = ENCODERS.entry(resolved.encoder).cls
    dec_cls = DECODERS.entry(resolved.decoder).cls
    _refuse(enc_cls.check(parts.encoder, emb_size=cfg.emb_size), source)
    out_size, final_size = enc_cls.sizes(parts.encoder, emb_size=cfg.emb_size)
    _refuse(dec_cls.check(parts.decoder, emb_size=cfg.emb_size, enc_output_size=out_size,
                          enc_final_size=final_size), source)
    if dec_cls.uses_attention:
        query_size = dec_cls.query_size(parts.decoder, emb_size=cfg.emb_size)
        reason = ATTENTION.entry(resolved.attention).cls.check(
            parts.attention, query_size=query_size, key_size=out_size
        )
        if reason:
            _refuse(f"attention {resolved.attention!r} with decoder {resolved.decoder!r}: "
                    f"{reason}", source)
    elif getattr(parts.decoder, "bridge", None) == "zeros":
        _refuse(f"decoder {resolved.decoder!r} has no attention: with --decoder-bridge zeros it "
                "would never see the source", source, fix="use --decoder-bridge linear-tanh")
    return resolved


def describe_model(cfg: ModelConfig) -> str:
    """The architecture in words, each component describing itself (`Described.describe`):
    "rnn encoder (bi-LSTM 1x256) → dot scorer → luong decoder (LSTM 1x512, attends with h_t)"."""
    resolved, parts = resolve(cfg)

    def words(registry: Registry, name: str, config: ConfigBase, noun: str) -> str:
        detail = registry.entry(name).cls.describe(config)
        return f"{name} {noun}" + (f" ({detail})" if detail else "")

    chain = [words(ENCODERS, resolved.encoder, parts.encoder, "encoder")]
    if DECODERS.entry(resolved.decoder).cls.uses_attention:
        chain.append(words(ATTENTION, resolved.attention, parts.attention, "scorer"))
    chain.append(words(DECODERS, resolved.decoder, parts.decoder, "decoder"))
    return " → ".join(chain)


def combination_reason(encoder: str, attention: str, decoder: str) -> str | None:
    """Why encoder x attention x decoder cannot be built with every option at its default (None:
    it can): the table of valid combinations in `nmtkit models`. Allocates nothing."""
    cfg = ModelConfig(encoder=encoder, attention=attention, decoder=decoder,
                      src_vocab_size=MIN_VOCAB, tgt_vocab_size=MIN_VOCAB)  # fmt: skip
    try:
        check_model_config(cfg)
    except UsageError as exc:
        return exc.message.split(": ", 1)[-1] if exc.message.startswith("attention") \
            else exc.message  # fmt: skip
    return None


def build_model(
    cfg: ModelConfig, *, joint_vocab: bool | None = None, source: str = "model config"
) -> Seq2Seq:
    """Check, then build. `model.config` is the resolved config (store that in checkpoints)."""
    resolved = check_model_config(cfg, joint_vocab=joint_vocab, source=source)
    _, parts = resolve(resolved, source=source)
    enc_entry = ENCODERS.entry(resolved.encoder)
    encoder = enc_entry.cls(parts.encoder, emb_size=cfg.emb_size)
    dec_cls = DECODERS.entry(resolved.decoder).cls
    scorer: Scorer | ScorerFactory | None = None
    if dec_cls.uses_attention:
        factory = functools.partial(
            ATTENTION.build,
            resolved.attention,
            parts.attention,
            query_size=dec_cls.query_size(parts.decoder, emb_size=cfg.emb_size),
            key_size=encoder.output_size,
        )
        scorer = factory if dec_cls.scorer_factory else factory()
    decoder = dec_cls(
        parts.decoder,
        emb_size=cfg.emb_size,
        enc_output_size=encoder.output_size,
        enc_final_size=encoder.final_size,
        scorer=scorer,
    )
    embeddings = Embeddings(
        src_vocab_size=cfg.src_vocab_size,
        tgt_vocab_size=cfg.tgt_vocab_size,
        emb_size=cfg.emb_size,
        dropout=cfg.emb_dropout,
        shared=resolved.share_embeddings,
    )
    generator = Generator(
        in_size=decoder.output_size,
        vocab_size=cfg.tgt_vocab_size,
        tie_to=embeddings.tgt if cfg.tie_embeddings else None,
    )
    return Seq2Seq(
        resolved, embeddings=embeddings, encoder=encoder, decoder=decoder, generator=generator
    )


def upgrade_model_config(values: dict[str, Any]) -> dict[str, Any]:
    """A stored model config (checkpoint, trainer state) with its components' options under
    today's field names (each config's `renamed`), for code that reads the options by name."""
    out = dict(values)
    for registry in (ENCODERS, ATTENTION, DECODERS):
        name, options = out.get(registry.kind), out.get(f"{registry.kind}_options")
        if isinstance(name, str) and name in registry and isinstance(options, dict):
            out[f"{registry.kind}_options"] = registry.entry(name).config_cls.upgrade(options)
    return out


def model_from_checkpoint(
    path: str | Path, device: str = "cpu"
) -> tuple[Seq2Seq, dict[str, str]]:
    """Rebuild the exact model from a checkpoint's "model_config" metadata and load its weights.

    Returns (model in eval mode on `device`, the checkpoint's metadata).
    """
    meta = read_metadata(path)
    values = json_field(meta, "model_config", path)
    if not isinstance(values, dict):
        raise UsageError("checkpoint metadata field 'model_config' is not an object", file=path)
    check_components(values, Path(path))
    cfg = ModelConfig.from_dict(values, source=str(path))
    # Shapes only: a hostile config cannot make us allocate. No initialiser runs either: on
    # meta tensors they go through torch's Python reference kernels, whose first use imports
    # torch._dynamo (about a second of start-up).
    with torch.device("meta"), skip_init():
        check_tensors(path, build_model(cfg, source=str(path)))
    with skip_init():
        model = build_model(cfg, source=str(path)).to(device)
    load_weights(path, model, device=device)  # every parameter, or an error
    return model.eval(), meta


def check_components(values: dict[str, Any], path: Path) -> None:
    """A checkpoint naming a component this process does not know: say which, and that a
    plugin's component needs its --user-dir (which imports, so runs, the plugin's code)."""
    for kind, registry in (("encoder", ENCODERS), ("attention", ATTENTION),
                           ("decoder", DECODERS)):  # fmt: skip
        name = values.get(kind)
        if isinstance(name, str) and ((name == "auto" and kind == "attention") or name in registry):
            continue
        raise UsageError(
            f"the checkpoint's {kind} {name!r} is not a registered component (known: "
            f"{', '.join(registry.names())})",
            file=path,
            fix="if a plugin provides it, pass --user-dir with the plugin's directory "
            "(that runs its code: use only code you trust)",
        )


SKIPPED_INITS = (
    "uniform_", "normal_", "trunc_normal_", "kaiming_uniform_", "kaiming_normal_",
    "xavier_uniform_", "xavier_normal_", "orthogonal_", "zeros_", "ones_", "constant_",
)  # fmt: skip


@contextlib.contextmanager
def skip_init() -> Iterator[None]:
    """Make torch.nn.init's initialisers no-ops while building a model that is loaded next.

    Random initialisation is wasted work there, and a large part of translate's model
    start-up. The same trick as transformers' `no_init_weights`; not thread-safe, as it
    swaps module attributes for the duration of the build.
    """
    saved = {name: getattr(nn.init, name) for name in SKIPPED_INITS}

    def keep(tensor: Any, *args: Any, **kwargs: Any) -> Any:
        return tensor

    for name in SKIPPED_INITS:
        setattr(nn.init, name, keep)
    try:
        yield
    finally:
        for name, fn in saved.items():
            setattr(nn.init, name, fn)
