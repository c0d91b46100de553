"""Translate and model scoring through every decoder x every scorer (greedy and beam, fp32 and
bf16), including a source line longer than --max-source-len and than location attention's
max_source_len; and bf16 against fp32 on trained models."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from nmtkit.models import ATTENTION, DECODERS
from tests.models.models_testlib import tiny_config
from tests.translate.translate_helpers import translate_file

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "compat" / "v0.1.0"
COMBOS = [(d, a) for d in DECODERS.names() if d != "plain" for a in ATTENTION.names()]
COMBOS.append(("plain", "dot"))  # no attention: one entry
SHORT = ["A man in a blue shirt.", "", "Two dogs run through the snow."]
# ~700 pieces: truncated to --max-source-len 400, still longer than location's 256 positions.
LONG = " ".join(["A big brown dog runs and jumps over the red ball."] * 60)
SEARCH = {"max_len_a": 0.02, "max_len_b": 4, "max_source_len": 400}


def save_model(directory: Path, decoder: str, attention: str) -> Path:
    """An untrained tiny model of the combination, saved like training saves one."""
    from nmtkit.data.tokenizer import Tokenizer
    from nmtkit.io.checkpoint import save_model as save
    from nmtkit.models.build import build_model

    directory.mkdir()
    tok = Tokenizer.load(FIXTURE / "data")
    tok.copy_to(directory)
    config = tiny_config("rnn", attention, decoder, src_vocab_size=tok.src_vocab_size,
                         tgt_vocab_size=tok.tgt_vocab_size)  # fmt: skip
    torch.manual_seed(0)
    model = build_model(config).eval()
    meta = {"model_config": model.config.to_json(), "train_config": "{}",
            "tokenizer": json.dumps(tok.identity(), sort_keys=True), "step": "0", "epoch": "0"}
    path = directory / "checkpoint.safetensors"
    save(path, model, meta)
    return path


@pytest.mark.parametrize(("decoder", "attention"), COMBOS, ids=[f"{d}-{a}" for d, a in COMBOS])
def test_translate_and_score_every_decoder_and_scorer(
    tmp_path: Path, decoder: str, attention: str
) -> None:
    from nmtkit.scoring.model import load_model_and_tokenizer, score_ids

    checkpoint = save_model(tmp_path / "model", decoder, attention)
    lines = [*SHORT, LONG]
    logs: list[str] = []
    greedy = translate_file(tmp_path, [checkpoint], lines, greedy=True, logs=logs, **SEARCH)
    assert len(greedy) == len(lines) and greedy[1] == ""
    assert any("truncated" in m for m in logs)  # the long line, with a warning
    beam = translate_file(tmp_path, [checkpoint], lines, beam=3, nbest=2, **SEARCH)
    assert [int(line.split("\t")[0]) for line in beam] == [0, 0, 1, 2, 2, 3, 3]  # "" → one
    bf16 = translate_file(tmp_path, [checkpoint], lines, greedy=True, precision="bf16", **SEARCH)
    assert len(bf16) == len(lines)
    model, tok = load_model_and_tokenizer(checkpoint, torch.device("cpu"))
    src = tok.encode_src([SHORT[0], SHORT[2], LONG])
    src[2] = src[2][:300]  # longer than location's 256 positions; a short target keeps it cheap
    tgt = [ids[:12] for ids in src]
    scores = score_ids(model, src, tgt, batch_size=2)
    assert torch.isfinite(scores.logprobs).all() and (scores.logprobs < 0).all()
    alone = score_ids(model, src[2:], tgt[2:], batch_size=1)  # batching/padding-invariant
    torch.testing.assert_close(alone.logprobs[0], scores.logprobs[2], rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("model", ["gru_bahdanau_concat", "lstm_luong_general"])
def test_bf16_translates_like_fp32_for_a_clear_majority(tmp_path: Path, model: str) -> None:
    """Trained models (the compatibility fixtures): bf16 rounding changes a few near-ties."""
    save = tmp_path / "save"
    save.mkdir()
    shutil.copy(FIXTURE / "models" / f"{model}.safetensors", save / "checkpoint.safetensors")
    for name in ("spm.model", "tokenizer.json"):
        shutil.copy(FIXTURE / "data" / name, save / name)
    source = (FIXTURE / "source.txt").read_text(encoding="utf-8").splitlines()
    for flags in ({"greedy": True}, {"beam": 4})[: 2 if model.startswith("gru") else 1]:
        fp32 = translate_file(tmp_path, [save / "checkpoint.safetensors"], source, **flags)
        bf16 = translate_file(tmp_path, [save / "checkpoint.safetensors"], source,
                              precision="bf16", **flags)  # fmt: skip
        same = sum(a == b for a, b in zip(fp32, bf16, strict=True))
        print(f"{model} {flags}: bf16 == fp32 for {same}/{len(source)} sentences")
        assert same >= 0.75 * len(source), (model, flags, same)
