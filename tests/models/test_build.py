"""ModelConfig checks (one-line refusals), resolution, tying/sharing, checkpoint round trip."""

from __future__ import annotations

import json

import pytest
import torch

from nmtkit.errors import UsageError
from nmtkit.io.checkpoint import save_model
from nmtkit.models import ATTENTION, DECODERS, ENCODERS
from nmtkit.models.build import ModelConfig, build_model, check_model_config, model_from_checkpoint
from tests.models.models_testlib import SRC_V, TGT_V, make_batch, tiny_config


def refusal(cfg: ModelConfig, **kwargs) -> str:
    with pytest.raises(UsageError) as err:
        check_model_config(cfg, **kwargs)
    message = str(err.value)
    assert "\n" not in message
    return message


def test_default_config_is_the_measured_recipe_and_resolves_every_option():
    resolved = check_model_config(ModelConfig(src_vocab_size=8000, tgt_vocab_size=8000))
    assert (resolved.encoder, resolved.attention, resolved.decoder) == ("rnn", "dot", "luong")
    assert resolved.encoder_options["bidirectional"] is True
    assert resolved.encoder_options["hidden_size"] == 256
    # dot needs decoder hidden == encoder output (2 x 256); input feeding off = fused path
    assert resolved.decoder_options["hidden_size"] == 512
    assert resolved.decoder_options["input_feeding"] is False
    # LSTM over GRU: +0.7 and +1.6 validation BLEU on two seeds (examples/multi30k/README.md)
    assert resolved.encoder_options["cell"] == resolved.decoder_options["cell"] == "lstm"
    for registry, options in (
        (ENCODERS, resolved.encoder_options),
        (ATTENTION, resolved.attention_options),
        (DECODERS, resolved.decoder_options),
    ):
        name = getattr(resolved, registry.kind)
        assert set(options) == {f.name for f in registry.entry(name).config_cls.fields()}


def test_aliases_are_stored_as_canonical_names():
    resolved = check_model_config(tiny_config(attention="additive"))
    assert resolved.attention == "concat"


def test_every_config_field_has_help_and_default():
    import dataclasses

    for registry in (ENCODERS, ATTENTION, DECODERS):
        for entry in registry:
            for f in entry.config_cls.fields():
                assert f.metadata.get("help"), (entry.name, f.name)
                has_default = f.default is not dataclasses.MISSING
                assert has_default or f.default_factory is not dataclasses.MISSING
    for f in ModelConfig.fields():
        assert f.metadata.get("help"), f.name


def test_refuses_unknown_component_with_suggestion():
    assert "did you mean 'concat'" in refusal(tiny_config(attention="concta"))


def test_refuses_unknown_option_naming_it():
    assert "hiden_size" in refusal(tiny_config(dec={"hiden_size": 3}))


def test_refuses_invalid_choice():
    assert "gru, lstm" in refusal(tiny_config(cell="rnn"))


def test_refuses_dot_with_unequal_sizes_naming_the_fix():
    message = refusal(tiny_config(attention="dot", att={"project": False}))
    assert "dot" in message and "12" in message and "10" in message
    assert "--attention-project" in message
    equal = tiny_config(attention="dot", att={"project": False}, dec={"hidden_size": 12})
    check_model_config(equal)


def test_share_embeddings_turns_off_without_joint_vocabulary():
    assert check_model_config(tiny_config(share_embeddings=True)).share_embeddings is False
    same = tiny_config(share_embeddings=True, tgt_vocab_size=SRC_V)
    assert check_model_config(same, joint_vocab=False).share_embeddings is False
    assert check_model_config(same, joint_vocab=True).share_embeddings is True
    model = build_model(tiny_config(share_embeddings=True))
    assert model.config.share_embeddings is False  # stored as built: rebuilds agree


def test_refuses_plain_decoder_with_zero_bridge():
    assert "never see the source" in refusal(tiny_config(decoder="plain", dec={"bridge": "zeros"}))


def test_refuses_bad_sizes_and_missing_vocab():
    assert "vocabulary" in refusal(ModelConfig())
    assert "multiple" in refusal(tiny_config(attention="multihead", att={"heads": 3}))
    assert "layers" in refusal(tiny_config(enc={"layers": 0}))


@pytest.mark.parametrize(("decoder", "projects"), [("bahdanau", False), ("luong", True)])
def test_shared_embeddings_are_one_table_and_tied_generator_reuses_it(decoder, projects):
    cfg = tiny_config(decoder=decoder, share_embeddings=True, tie_embeddings=True,
                      tgt_vocab_size=SRC_V)
    model = build_model(cfg, joint_vocab=True)
    assert model.embeddings.src is model.embeddings.tgt
    assert model.generator.out.weight is model.embeddings.tgt.weight
    # bahdanau's deep output has the embedding size (7); luong's h~ has Hd = 10 → projection
    assert (model.generator.pre is not None) == projects


@pytest.mark.parametrize("decoder", ["bahdanau", "luong", "plain"])
def test_checkpoint_round_trip_gives_identical_outputs(tmp_path, decoder):
    torch.manual_seed(0)
    cfg = tiny_config(decoder=decoder, tie_embeddings=True, share_embeddings=True,
                      tgt_vocab_size=SRC_V)
    model = build_model(cfg, joint_vocab=True).eval()
    path = tmp_path / "model.safetensors"
    save_model(path, model, {"model_config": model.config.to_json(), "step": "3"})
    loaded, meta = model_from_checkpoint(path)
    assert meta["step"] == "3" and not loaded.training
    assert json.loads(meta["model_config"]) == model.config.to_dict()
    assert loaded.generator.out.weight is loaded.embeddings.tgt.weight
    src, lengths, tgt = make_batch([5, 3])
    with torch.no_grad():
        expected = model(src, lengths, tgt)
        actual = loaded(src, lengths, tgt)
    assert torch.equal(expected[0], actual[0]) and torch.equal(expected[1], actual[1])


def test_checkpoint_with_unknown_option_is_refused_naming_the_file(tmp_path):
    model = build_model(tiny_config())
    cfg = model.config.to_dict()
    cfg["decoder_options"] = {**cfg["decoder_options"], "mystery": 1}
    path = tmp_path / "bad.safetensors"
    save_model(path, model, {"model_config": json.dumps(cfg)})
    with pytest.raises(UsageError, match="mystery") as err:
        model_from_checkpoint(path)
    assert "bad.safetensors" in str(err.value)


def test_generator_output_size_matches_vocab():
    model = build_model(tiny_config())
    src, lengths, tgt = make_batch([4])
    assert model(src, lengths, tgt)[0].shape[-1] == TGT_V
