"""`preprocess --spm-model` with models trained elsewhere (other special-id layouts)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sentencepiece as spm

from nmtkit.data.binarized import Split
from nmtkit.data.manifest import Manifest
from nmtkit.data.preprocess import PreprocessConfig, run
from nmtkit.data.spm_layout import NMTKIT_IDS, special_ids, to_nmtkit_layout
from nmtkit.data.tokenizer import Tokenizer
from nmtkit.errors import UsageError
from tests.training.conftest import tiny_model_config, train
from tests.translate.translate_helpers import translate_file

LAYOUTS = {
    "sentencepiece defaults": {},  # pad -1, unk 0, bos 1, eos 2
    "reversed": {"pad_id": 3, "unk_id": 2, "bos_id": 1, "eos_id": 0},
    "no bos/eos": {"bos_id": -1, "eos_id": -1},
}


def train_foreign(corpus: Path, prefix: Path, *, model_type: str = "unigram", **ids: int) -> Path:
    """A model trained the way other toolkits do: sentencepiece's defaults unless `ids`."""
    spm.SentencePieceTrainer.train(
        input=f"{corpus}/train.en,{corpus}/train.de", model_prefix=str(prefix), vocab_size=300,
        model_type=model_type, minloglevel=2, **ids,
    )  # fmt: skip
    return Path(f"{prefix}.model")


@pytest.mark.parametrize("model_type", ["unigram", "bpe"])
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_relayout_keeps_segmentation_and_moves_specials(
    tiny_corpus_dir: Path, tmp_path: Path, layout: str, model_type: str
) -> None:
    path = train_foreign(tiny_corpus_dir, tmp_path / "foreign", model_type=model_type,
                         **LAYOUTS[layout])  # fmt: skip
    original = spm.SentencePieceProcessor(model_file=str(path))
    assert special_ids(original) != NMTKIT_IDS
    assert to_nmtkit_layout(path, tmp_path / "new.model") == special_ids(original)
    new = spm.SentencePieceProcessor(model_file=str(tmp_path / "new.model"))
    assert special_ids(new) == NMTKIT_IDS
    lines = (tiny_corpus_dir / "val.de").read_text(encoding="utf-8").splitlines()
    lines.append("unseen ÆØÅ 漢字 text")
    # The same pieces, and every ordinary piece keeps its string and score under its new id.
    assert new.encode(lines, out_type=str) == original.encode(lines, out_type=str)
    assert new.decode(new.encode(lines)) == original.decode(original.encode(lines))
    specials = {i for i in special_ids(original) if i >= 0}
    ordinary = [i for i in range(original.get_piece_size()) if i not in specials]
    assert [new.id_to_piece(4 + k) for k in range(len(ordinary))] == [
        original.id_to_piece(i) for i in ordinary
    ]
    assert [new.get_score(4 + k) for k in range(len(ordinary))] == [
        original.get_score(i) for i in ordinary
    ]


def test_preprocess_reuses_a_model_with_sentencepiece_defaults(
    tiny_corpus_dir: Path, tmp_path: Path
) -> None:
    path = train_foreign(tiny_corpus_dir, tmp_path / "foreign")
    out = tmp_path / "data"
    run(PreprocessConfig(source_lang="en", target_lang="de", train=str(tiny_corpus_dir / "train"),
                         valid=str(tiny_corpus_dir / "val"), out=str(out), spm_model=str(path)))
    manifest = Manifest.load(out)
    assert manifest.src_vocab_size == 301  # <pad> added
    original = spm.SentencePieceProcessor(model_file=str(path))
    tok = Tokenizer.load(out)
    valid = Split.open(out / "valid.safetensors")
    src_lines = (tiny_corpus_dir / "val.en").read_text(encoding="utf-8").splitlines()
    pieces = [tok.src_pieces(valid.src(i).tolist()) for i in range(len(valid))]
    want = [[original.id_to_piece(i) for i in ids] for ids in original.encode(src_lines)]
    assert pieces == want
    assert manifest.tokenizer_source["special_ids"] == list(special_ids(original))

    # Train a few steps and translate with it: the checkpoint carries the rewritten model.
    model = tiny_model_config(src_vocab_size=301, tgt_vocab_size=301)
    train(out, tmp_path / "run", model_config=model, max_steps=3, keep_last=0)
    hyps = translate_file(tmp_path, [tmp_path / "run" / "checkpoint_last.safetensors"],
                          src_lines[:5], beam=2, max_len_b=5)  # fmt: skip
    assert len(hyps) == 5


def test_unreadable_spm_model_is_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.model"
    bad.write_bytes(b"not a model")
    with pytest.raises(UsageError, match="not a sentencepiece model"):
        to_nmtkit_layout(bad, tmp_path / "out.model")
