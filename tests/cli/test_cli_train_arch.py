"""`nmtkit train` builds what its architecture words promise, and says so: `--attention bahdanau`
alone, `--arch` with overrides, an architecture registered by a `--user-dir` plugin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nmtkit.cli import main
from nmtkit.io.checkpoint import read_metadata
from nmtkit.models.build import model_from_checkpoint
from nmtkit.models.decoders.bahdanau import BahdanauDecoder

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "examples" / "plugins" / "rnnsearch_arch.py"
QUICK = ["--max-steps", "1", "--max-epochs", "0", "--batch-size", "16", "--threads", "1",
         "--device", "cpu", "--precision", "fp32"]  # fmt: skip


def nmtkit(argv: list, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def train(data: Path, save: Path, capsys: pytest.CaptureFixture[str], *flags: str) -> str:
    """`nmtkit train DATA --save-dir SAVE FLAGS` for one quick update; returns stderr."""
    code, _, err = nmtkit(["train", data, "--save-dir", save, *flags, *QUICK], capsys)
    assert code == 0, err
    return err


def test_attention_bahdanau_alone_builds_bahdanaus_model_and_says_so(
    tiny_data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    save = tmp_path / "save"
    err = train(tiny_data_dir, save, capsys, "--attention", "bahdanau", "--emb-size", "16",
                "--encoder-hidden-size", "16", "--decoder-hidden-size", "16")  # fmt: skip
    assert "--attention bahdanau → concat scorer + bahdanau decoder" in err
    assert ("model: rnn encoder (bi-LSTM 1x16) → concat scorer (additive, A=256) → bahdanau "
            "decoder (LSTM 1x16, attends with s_{t-1}, context into the cell)") in err
    model, meta = model_from_checkpoint(save / "checkpoint_last.safetensors")
    assert isinstance(model.decoder, BahdanauDecoder)
    assert type(model.decoder.scorer).__name__ == "ConcatScorer"
    assert "arch" not in meta


def test_arch_with_overrides(
    tiny_data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    save = tmp_path / "save"
    err = train(tiny_data_dir, save, capsys, "--arch", "luong", "--attention", "dot",
                "--encoder-hidden-size", "16", "--decoder-hidden-size", "16", "--emb-size", "16")
    meta = read_metadata(save / "checkpoint_last.safetensors")
    model = json.loads(meta["model_config"])
    assert meta["arch"] == "luong"
    assert (model["attention"], model["decoder"]) == ("dot", "luong")  # flag over the arch
    assert model["decoder_options"]["input_feeding"] is True  # from the arch
    assert model["encoder_options"]["reverse_source"] is True  # from the arch
    assert model["encoder_options"]["hidden_size"] == 16  # flag over the arch
    assert "--arch luong: 12 option(s)" in err and "given otherwise: attention, " in err
    assert ("model: rnn encoder (LSTM 2x16, reversed source) → dot scorer → luong decoder "
            "(LSTM 2x16, attends with h_t, input feeding)") in err


def test_plugin_registers_an_architecture_listed_and_trained(
    tiny_data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = nmtkit(["models", "--json", "--user-dir", PLUGIN], capsys)
    assert code == 0, err
    row = next(r for r in json.loads(out) if r["name"] == "rnnsearch-small")
    assert row["kind"] == "arch" and row["sets"]["decoder-hidden-size"] == 256
    assert row["model"].startswith("rnn encoder (bi-GRU 1x128) → concat scorer")
    save = tmp_path / "save"
    train(tiny_data_dir, save, capsys, "--user-dir", str(PLUGIN), "--arch", "rnnsearch-small",
          "--decoder-hidden-size", "32")  # fmt: skip
    meta = read_metadata(save / "checkpoint_last.safetensors")
    model = json.loads(meta["model_config"])
    assert meta["arch"] == "rnnsearch-small" and model["emb_size"] == 128
    assert model["decoder_options"]["hidden_size"] == 32
