"""How `nmtkit train` resolves its options (nmtkit.training.options): defaults < --arch <
--config < flags, aliases and shorthands expanded and reported, misplaced options refused."""

import dataclasses
from pathlib import Path

import pytest

from nmtkit.errors import UsageError
from nmtkit.models import ARCHITECTURES
from nmtkit.models.build import ModelConfig, check_model_config
from nmtkit.training.options import resolve_options


def resolve(flags=None, *, toml: Path | None = None, arch=None, joint=True):
    resolved = resolve_options(flags=flags or {}, config=toml, arch=arch, src_vocab=100,
                               tgt_vocab=100 if joint else 120, joint=joint)  # fmt: skip
    return resolved


def write_toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "run.toml"
    path.write_text(text)
    return path


def test_defaults_come_from_the_dataclasses():
    r = resolve()
    model, train = r.model, r.train
    defaults = ModelConfig()
    assert (model.encoder, model.attention, model.decoder) == (
        defaults.encoder, defaults.attention, defaults.decoder)
    assert (model.src_vocab_size, model.tgt_vocab_size) == (100, 100)
    assert model.emb_size == defaults.emb_size
    assert dataclasses.asdict(train) == dataclasses.asdict(type(train)())
    assert r.arch is None and r.notes == ()


def test_aliases_resolve_are_reported_and_component_flags_land_in_their_options():
    r = resolve({"attention": "bilinear", "decoder": "luong", "decoder-input-feeding": False,
                 "emb-size": 64})  # fmt: skip
    assert (r.model.attention, r.model.decoder) == ("general", "luong")
    assert r.model.decoder_options == {"input_feeding": False}
    assert r.model.emb_size == 64
    assert r.notes == ("--attention bilinear → general scorer",)


def test_attention_bahdanau_alone_picks_the_bahdanau_decoder_and_says_so():
    r = resolve({"attention": "bahdanau"})
    assert (r.model.attention, r.model.decoder) == ("concat", "bahdanau")
    assert r.notes == ("--attention bahdanau → concat scorer + bahdanau decoder",)


def test_attention_bahdanau_leaves_an_explicit_decoder_alone():
    r = resolve({"attention": "bahdanau", "decoder": "luong"})
    assert (r.model.attention, r.model.decoder) == ("concat", "luong")
    assert r.notes == ("--attention bahdanau → concat scorer (with the luong decoder given)",)


def test_cell_shorthand_fills_both_sides_unless_prefixed():
    r = resolve({"cell": "lstm", "decoder-cell": "gru"})
    assert r.model.encoder_options["cell"] == "lstm"
    assert r.model.decoder_options["cell"] == "gru"
    assert r.notes == ("--cell lstm → encoder-cell lstm",)


def test_flag_of_another_decoder_is_refused_naming_its_owner():
    match = "--no-decoder-input-feeding applies to decoder luong, not bahdanau"
    with pytest.raises(UsageError, match=match):
        resolve({"decoder": "bahdanau", "decoder-input-feeding": False})


def test_toml_sets_options_and_flags_override_it(tmp_path: Path):
    toml = write_toml(tmp_path, 'decoder = "luong"\ndecoder-input-feeding = false\nlr = 0.01\n')
    r = resolve({"lr": 0.02}, toml=toml)
    assert r.model.decoder == "luong" and r.model.decoder_options == {"input_feeding": False}
    assert r.train.lr == 0.02


def test_unknown_toml_key_names_the_file(tmp_path: Path):
    toml = write_toml(tmp_path, "attention_sise = 3\n")
    with pytest.raises(UsageError, match=r"run.toml: unknown option\(s\) attention-sise"):
        resolve(toml=toml)


def test_unknown_component_name_lists_valid_ones():
    with pytest.raises(UsageError, match=r"unknown attention 'dott'.*did you mean 'dot'"):
        resolve({"attention": "dott"})


def test_separate_vocabularies_turn_shared_embeddings_off_unless_asked():
    model = resolve(joint=False).model
    assert check_model_config(model, joint_vocab=False).share_embeddings is False
    assert resolve(joint=True).model.share_embeddings is ModelConfig().share_embeddings
    with pytest.raises(UsageError, match="joint"):
        resolve({"share-embeddings": True}, joint=False)


@pytest.mark.parametrize("name", ARCHITECTURES.names())
def test_every_architecture_resolves_to_exactly_what_it_sets(name: str):
    r = resolve(arch=name)
    assert r.arch == name
    for key, value in ARCHITECTURES.get(name).sets.items():
        assert _lookup(r, key) == value, key


def _lookup(r, key: str):
    for kind in ("encoder", "attention", "decoder"):
        if key == kind:
            return getattr(r.model, kind)
        if key.startswith(f"{kind}-"):
            return getattr(r.model, f"{kind}_options")[key[len(kind) + 1:].replace("-", "_")]
    field = key.replace("-", "_")
    return getattr(r.model if hasattr(r.model, field) else r.train, field)


def test_arch_then_flags_override_it():
    r = resolve({"decoder-hidden-size": 128, "lr": 0.5}, arch="rnn-base")
    assert (r.model.attention, r.model.decoder) == ("concat", "bahdanau")
    assert r.model.encoder_options["cell"] == "gru"
    assert r.model.decoder_options["hidden_size"] == 128 and r.train.lr == 0.5
    assert r.train.batch_size == 64  # from the arch
    assert any("--arch rnn-base" in n and "decoder-hidden-size, lr" in n for n in r.notes)


def test_arch_options_that_a_replacing_component_lacks_are_dropped():
    r = resolve({"decoder": "bahdanau"}, arch="luong")  # luong sets --decoder-input-feeding
    assert r.model.decoder == "bahdanau" and "input_feeding" not in r.model.decoder_options
    assert r.model.decoder_options["layers"] == 2  # the arch's, valid for bahdanau too


def test_cell_shorthand_overrides_an_arch(tmp_path: Path):
    r = resolve({"cell": "lstm"}, arch="bahdanau")
    assert r.model.encoder_options["cell"] == r.model.decoder_options["cell"] == "lstm"


def test_arch_in_the_toml_file_and_unknown_arch(tmp_path: Path):
    r = resolve(toml=write_toml(tmp_path, 'arch = "luong"\nlr = 0.01\n'))
    assert (r.arch, r.model.attention, r.train.lr) == ("luong", "general", 0.01)
    with pytest.raises(UsageError, match=r"unknown architecture 'luongg'.*did you mean 'luong'"):
        resolve(arch="luongg")


def test_an_architecture_naming_unknown_options_is_refused_naming_them(monkeypatch):
    from nmtkit.registry import Architecture

    broken = Architecture("broken", "Names a plugin's option.", {"encoder-depth": 3})
    monkeypatch.setitem(ARCHITECTURES._entries, "broken", broken)
    with pytest.raises(UsageError, match=r"--arch broken sets unknown option\(s\) encoder-depth"):
        resolve(arch="broken")


def test_describe_model_words_come_from_each_component():
    from nmtkit.models.build import describe_model

    r = resolve({"attention": "multihead", "attention-heads": 2, "cell": "gru",
                 "encoder-reverse-source": True, "decoder": "plain"})  # fmt: skip
    assert describe_model(r.model) == (
        "rnn encoder (bi-GRU 1x256, reversed source) → plain decoder (GRU 1x512, no attention)")
    r = resolve({"attention": "multihead", "attention-heads": 2})
    assert describe_model(r.model) == ("rnn encoder (bi-LSTM 1x256) → multihead scorer (2 heads, "
                                       "A=256) → luong decoder (LSTM 1x512, attends with h_t)")


@pytest.mark.parametrize("name", ARCHITECTURES.names())
def test_every_architecture_resumes_with_its_own_command(name: str, tmp_path: Path):
    """The run's stored config is the built (resolved) one: `--attention auto` stored as the
    scorer it stood for, every option filled in; the same --arch must still match it."""
    import json

    import torch
    from safetensors.torch import save_file

    from nmtkit.io.checkpoint import FORMAT_KEY, FORMAT_VERSION
    from nmtkit.training.state import STATE_FILE

    first = resolve(arch=name)
    built = check_model_config(first.model, joint_vocab=True)
    progress = {"model_config": built.to_dict(), "train_config": first.train.to_dict(),
                "arch": name}  # fmt: skip
    meta = {FORMAT_KEY: FORMAT_VERSION, "progress": json.dumps(progress)}
    save_file({"x": torch.zeros(1)}, str(tmp_path / STATE_FILE), metadata=meta)
    again = resolve_options(flags={"max-steps": 9}, arch=name, resume_from=tmp_path,
                            src_vocab=100, tgt_vocab=100)  # fmt: skip
    assert check_model_config(again.model, joint_vocab=True) == built
    assert again.train.max_steps == 9 and again.arch == name
    assert not any("changed" in n and "max-steps" not in n for n in again.notes), again.notes
