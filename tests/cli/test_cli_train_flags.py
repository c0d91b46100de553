"""Train flags are generated from the registries and configs; check the resolution rules."""

import dataclasses

import pytest
from typer.testing import CliRunner

from nmtkit.cli import build_app
from nmtkit.cli.train import _flag_groups, resolve_configs
from nmtkit.errors import UsageError
from nmtkit.models import ATTENTION, DECODERS, ENCODERS
from nmtkit.models.build import ModelConfig, check_model_config


def resolve(selectors=None, flags=None, toml=None, joint=True):
    vocab = 100 if joint else 120
    return resolve_configs(
        selectors=selectors or {}, toml=toml or {}, toml_path="cfg.toml", flags=flags or {},
        groups=_flag_groups(), src_vocab=100, tgt_vocab=vocab, joint=joint,
    )


def test_defaults_come_from_the_dataclasses():
    model, train = resolve()
    defaults = ModelConfig()
    assert (model.encoder, model.attention, model.decoder) == (
        defaults.encoder, defaults.attention, defaults.decoder)
    assert (model.src_vocab_size, model.tgt_vocab_size) == (100, 100)
    assert model.emb_size == defaults.emb_size
    assert dataclasses.asdict(train) == dataclasses.asdict(type(train)())


def test_aliases_resolve_and_component_flags_land_in_their_options():
    model, _ = resolve(
        selectors={"attention": "bilinear", "decoder": "luong"},
        flags={"decoder__input_feeding": False, "model__emb_size": 64},
    )
    assert (model.attention, model.decoder) == ("general", "luong")
    assert model.decoder_options == {"input_feeding": False}
    assert model.emb_size == 64


def test_cell_shorthand_fills_both_sides_unless_prefixed():
    model, _ = resolve(selectors={"cell": "lstm"}, flags={"decoder__cell": "gru"})
    assert model.encoder_options["cell"] == "lstm"
    assert model.decoder_options["cell"] == "gru"


def test_flag_of_another_decoder_is_refused_naming_its_owner():
    with pytest.raises(UsageError, match="--decoder-input-feeding applies to decoder luong"):
        resolve(selectors={"decoder": "bahdanau"}, flags={"decoder__input_feeding": False})


def test_toml_sets_options_and_flags_override_it():
    model, train = resolve(
        toml={"decoder": "luong", "decoder-input-feeding": False, "lr": 0.01},
        flags={"train__lr": 0.02},
    )
    assert model.decoder == "luong" and model.decoder_options == {"input_feeding": False}
    assert train.lr == 0.02


def test_unknown_component_name_lists_valid_ones():
    with pytest.raises(UsageError, match=r"unknown attention 'dott'.*did you mean 'dot'"):
        resolve(selectors={"attention": "dott"})


def test_train_help_lists_every_component_option():
    result = CliRunner().invoke(build_app(["train"]), ["train", "--help"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    for registry in (ENCODERS, ATTENTION, DECODERS):
        for entry in registry:
            for f in dataclasses.fields(entry.config_cls):
                flag = f"--{registry.kind}-{f.name.replace('_', '-')}"
                assert flag in result.output, flag
    assert "(default: " in result.output


def test_separate_vocabularies_turn_shared_embeddings_off_unless_asked():
    model, _ = resolve(joint=False)
    assert check_model_config(model, joint_vocab=False).share_embeddings is False
    assert resolve(joint=True)[0].share_embeddings is ModelConfig().share_embeddings
    with pytest.raises(UsageError, match="joint"):
        resolve(joint=False, flags={"model__share_embeddings": True})
