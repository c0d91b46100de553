"""Model scoring: printed log-probs equal the model's own per-token log-probs, summed."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from nmtkit.data.specials import BOS_ID, EOS_ID
from nmtkit.errors import UsageError

N_PAIRS = 9


@pytest.fixture(scope="module", params=[("bahdanau", "gru"), ("luong", "lstm")])
def saved_model(request, tmp_path_factory, tiny_data_dir: Path):
    """A tiny untrained model saved like training saves it, tokenizer copied beside it."""
    from nmtkit.data.tokenizer import Tokenizer
    from nmtkit.io.checkpoint import save_model
    from nmtkit.models.build import ModelConfig, build_model

    decoder, cell = request.param
    tok = Tokenizer.load(tiny_data_dir)
    cfg = ModelConfig(
        decoder=decoder,
        attention="concat" if decoder == "bahdanau" else "general",
        encoder_options={"cell": cell, "hidden_size": 8, "layers": 1, "dropout": 0.0},
        decoder_options={"cell": cell, "hidden_size": 12, "layers": 1, "dropout": 0.0},
        attention_options={"size": 6} if decoder == "bahdanau" else {},
        src_vocab_size=tok.src_vocab_size,
        tgt_vocab_size=tok.tgt_vocab_size,
        emb_size=10,
        emb_dropout=0.0,
    )
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    save_dir = tmp_path_factory.mktemp("save")
    path = save_dir / "checkpoint_best.safetensors"
    meta = {
        "model_config": model.config.to_json(),
        "tokenizer": json.dumps(tok.identity()),
        "train_config": "{}",
        "step": "0",
        "epoch": "0",
    }
    save_model(path, model, meta)
    tok.copy_to(save_dir)
    return path, model, tok


@pytest.fixture(scope="module")
def pairs(tiny_corpus_dir: Path, tmp_path_factory):
    """Source/target files with varied lengths, an empty target and a unicode line."""
    src = (tiny_corpus_dir / "test_2016_flickr.en").read_text(encoding="utf-8").splitlines()
    tgt = (tiny_corpus_dir / "test_2016_flickr.de").read_text(encoding="utf-8").splitlines()
    src, tgt = [*src[: N_PAIRS - 2], "", "A café"], [*tgt[: N_PAIRS - 2], "Ein Mann.", ""]
    d = tmp_path_factory.mktemp("pairs")
    (d / "src.txt").write_text("\n".join(src) + "\n", encoding="utf-8")
    (d / "tgt.txt").write_text("\n".join(tgt) + "\n", encoding="utf-8")
    return d / "src.txt", d / "tgt.txt", src, tgt


def direct_logprobs(model, tok, src_lines, tgt_lines) -> list[tuple[float, int]]:
    """One sentence at a time, no batching: Σ log_softmax(logits)[y_t] over pieces + EOS."""
    out = []
    for s_ids, t_ids in zip(tok.encode_src(src_lines), tok.encode_tgt(tgt_lines), strict=True):
        src = torch.tensor([[*s_ids, EOS_ID]])
        tgt_in = torch.tensor([[BOS_ID, *t_ids]])
        tgt_out = torch.tensor([[*t_ids, EOS_ID]])
        with torch.no_grad():
            logits, _ = model(src, torch.tensor([src.shape[1]]), tgt_in)
        lp = torch.log_softmax(logits.double(), -1).gather(-1, tgt_out.unsqueeze(-1)).sum()
        out.append((float(lp), len(t_ids) + 1))
    return out


@pytest.fixture(scope="module")
def direct(saved_model, pairs) -> list[tuple[float, int]]:
    _, model, tok = saved_model
    return direct_logprobs(model, tok, pairs[2], pairs[3])


def test_json_logprobs_equal_direct_computation(saved_model, pairs, direct, score):
    path, *_ = saved_model
    src, tgt, *_ = pairs
    result = score("-c", path, "--src", src, "--tgt", tgt, "--batch-size", "4", "--json")
    assert result.exit_code == 0, (result.output, result.exception)
    payload = json.loads(result.stdout)
    want = direct
    got = payload["sentences"]
    assert len(got) == N_PAIRS
    for g, (lp, n) in zip(got, want, strict=True):
        assert g["length"] == n
        assert g["logprob"] == pytest.approx(lp, abs=1e-4)
        assert g["avg_logprob"] == pytest.approx(lp / n, abs=1e-4)
    total_lp, total_n = sum(lp for lp, _ in want), sum(n for _, n in want)
    assert payload["tokens"] == total_n
    assert payload["perplexity"] == pytest.approx(math.exp(-total_lp / total_n), rel=1e-5)


def test_tsv_lines_in_input_order_and_summary_on_stderr(saved_model, pairs, direct, score):
    path, *_ = saved_model
    src, tgt, *_ = pairs
    result = score("-c", path, "--src", src, "--tgt", tgt, "--batch-size", "3")
    assert result.exit_code == 0, (result.output, result.exception)
    lines = result.stdout.splitlines()
    assert len(lines) == N_PAIRS  # line-aligned with the input: nothing else on stdout
    for line, (lp, n) in zip(lines, direct, strict=True):
        total, avg, length = line.split("\t")
        assert float(total) == pytest.approx(lp, abs=1e-3)
        assert float(avg) == pytest.approx(lp / n, abs=1e-3)
        assert int(length) == n
    assert "perplexity" in result.stderr and f"{N_PAIRS} sentences" in result.stderr


def test_one_padded_batch_equals_unbatched_scores(saved_model, pairs, direct):
    """Padding (all pairs in one batch) changes nothing: packed encoder, masked attention."""
    from nmtkit.scoring.model import score_ids

    _, model, tok = saved_model
    _, _, src_lines, tgt_lines = pairs
    src_ids, tgt_ids = tok.encode_src(src_lines), tok.encode_tgt(tgt_lines)
    got = score_ids(model, src_ids, tgt_ids, batch_size=N_PAIRS)
    want = torch.tensor([lp for lp, _ in direct], dtype=torch.float64)
    torch.testing.assert_close(got.logprobs, want, atol=1e-5, rtol=1e-6)  # float32 sums
    assert got.lengths.tolist() == [n for _, n in direct]


def test_bf16_close_to_fp32(saved_model, pairs, direct, score_json):
    path, *_ = saved_model
    src, tgt, *_ = pairs
    bf16 = score_json(
        "-c", path, "--src", src, "--tgt", tgt, "--precision", "bf16", "--device", "cpu"
    )
    for b, (lp, _) in zip(bf16["sentences"], direct, strict=True):
        assert b["logprob"] == pytest.approx(lp, rel=0.05, abs=0.5)


def test_misaligned_pairs_and_missing_tokenizer_are_usage_errors(
    saved_model, pairs, score, tmp_path
):
    path, *_ = saved_model
    src, tgt, src_lines, _ = pairs
    short = tmp_path / "short.txt"
    short.write_text("a\n", encoding="utf-8")
    result = score("-c", path, "--src", src, "--tgt", short)
    assert isinstance(result.exception, UsageError) and result.stdout == ""
    assert f"{len(src_lines)} source lines but 1 target" in result.exception.message
    lonely = tmp_path / "lonely" / path.name
    lonely.parent.mkdir()
    lonely.write_bytes(path.read_bytes())
    result = score("-c", lonely, "--src", src, "--tgt", tgt)
    assert isinstance(result.exception, UsageError) and "tokenizer" in str(result.exception)
    result = score("-c", tmp_path / "none.safetensors", "--src", src, "--tgt", tgt)
    assert isinstance(result.exception, UsageError) and "not found" in str(result.exception)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA error")
@pytest.mark.parametrize("device", ["cuda:0", "tpu-please"])
def test_unavailable_device_is_a_usage_error(saved_model, pairs, score, device):
    path, *_ = saved_model
    src, tgt, *_ = pairs
    result = score("-c", path, "--src", src, "--tgt", tgt, "--device", device)
    assert isinstance(result.exception, UsageError) and "--device" in str(result.exception)
    assert result.stdout == ""
