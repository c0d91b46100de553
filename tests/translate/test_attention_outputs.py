"""--alignment, --alignment-words, --attention-json, --plot-attention, --replace-unk."""

from __future__ import annotations

import json
import re
import sys
import types

import pytest
import torch

from nmtkit.errors import UsageError
from nmtkit.translate.alignment import hard_alignment, pharaoh, replace_unk, word_index
from tests.translate.translate_helpers import translate_file

PAIR = re.compile(r"^(\d+-\d+( \d+-\d+)*)?$")


def test_hard_alignment_is_argmax_of_attention_without_eos():
    attention = torch.tensor(
        [[0.1, 0.7, 0.2], [0.6, 0.3, 0.1], [0.0, 0.1, 0.9]]  # 2 pieces + EOS row, 2 src + EOS
    )
    assert hard_alignment(attention, src_len=2, tgt_len=2) == [(1, 0), (0, 1)]
    assert pharaoh([(1, 0), (0, 1)]) == "1-0 0-1"


def test_word_alignment_merges_pieces_of_a_word():
    assert word_index(["▁a", "b", "▁c", "▁d", "e"]) == [0, 0, 1, 2, 2]
    pairs = [(0, 0), (1, 0), (2, 1), (4, 2)]
    assert pharaoh(pairs, ["▁a", "b", "▁c", "▁d", "e"], ["▁x", "▁y", "z"]) == "0-0 1-1 2-1"


def test_replace_unk_copies_most_attended_source_piece():
    attention = torch.tensor([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.0, 0.0, 1.0]])
    assert replace_unk(["▁Hallo", "<unk>"], attention, ["▁Hello", "Ω"]) == ["▁Hallo", "Ω"]


def test_alignment_column_indexes_real_pieces(tmp_path, tiny_checkpoint, source_lines):
    lines = [*source_lines[:4], ""]
    out = translate_file(tmp_path, [tiny_checkpoint], lines, beam=2, alignment=True)
    assert len(out) == len(lines)
    for line, row in zip(lines, out, strict=True):
        text, align = row.split("\t")
        assert PAIR.match(align)
        if not line:
            assert text == "" and align == ""
            continue
        pairs = [tuple(map(int, p.split("-"))) for p in align.split()]
        assert sorted({t for _, t in pairs}) == list(range(len({t for _, t in pairs})))
        words = translate_file(
            tmp_path,
            [tiny_checkpoint],
            [line],
            beam=2,
            alignment=True,
            alignment_words=True,
            name="w",
        )[0].split("\t")[1]
        src_words = len(line.split())
        assert all(int(p.split("-")[0]) < src_words for p in words.split())


def test_attention_json_has_one_record_per_line(tmp_path, tiny_checkpoint, source_lines):
    lines = [source_lines[0], "", source_lines[1]]
    path = tmp_path / "attn.json"
    translate_file(tmp_path, [tiny_checkpoint], lines, beam=2, attention_json=str(path))
    records = json.loads(path.read_text(encoding="utf-8"))
    assert [r["id"] for r in records] == [0, 1, 2]
    assert records[1]["attention"] == []
    for r in (records[0], records[2]):
        matrix = torch.tensor(r["attention"])
        assert matrix.shape == (len(r["target"]), len(r["source"]))
        assert r["source"][-1] == "</s>" and r["target"][-1] == "</s>"
        torch.testing.assert_close(matrix.sum(1), torch.ones(len(r["target"])), atol=1e-3, rtol=0)


def test_plot_attention_without_matplotlib_is_a_clear_error(tmp_path, tiny_checkpoint, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails as if not installed
    with pytest.raises(UsageError, match=r"needs matplotlib.*nmtkit\[plot\]"):
        translate_file(tmp_path, [tiny_checkpoint], ["a dog"], plot_attention=str(tmp_path))


def test_plot_attention_writes_one_png_per_sentence(
    tmp_path, tiny_checkpoint, source_lines, monkeypatch
):
    calls = []

    class FakeAxes:
        def __getattr__(self, name):
            return lambda *a, **k: calls.append((name, a))

    class FakeFigure:
        def tight_layout(self):
            pass

        def savefig(self, path, dpi):
            path.write_bytes(b"\x89PNG fake")

    pyplot = types.SimpleNamespace(
        subplots=lambda figsize: (FakeFigure(), FakeAxes()), close=lambda fig: None
    )
    matplotlib = types.SimpleNamespace(use=lambda backend: None, pyplot=pyplot)
    monkeypatch.setitem(sys.modules, "matplotlib", matplotlib)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", pyplot)
    plots = tmp_path / "plots"
    lines = [source_lines[0], "", source_lines[1]]
    translate_file(tmp_path, [tiny_checkpoint], lines, beam=2, plot_attention=str(plots))
    assert sorted(p.name for p in plots.iterdir()) == ["000000.png", "000002.png"]
    labels = [a[0] for name, a in calls if name == "set_xticklabels"]
    assert labels[0][-1] == "</s>" and len(labels) == 2


def test_replace_unk_end_to_end(tmp_path, tiny_checkpoint, tiny_data_dir):
    from nmtkit.io.checkpoint import load_tensors, save_tensors
    from tests.translate.conftest import save_checkpoint

    unk_ckpt = save_checkpoint(tmp_path, tiny_data_dir, seed=0, name="unk.safetensors")
    tensors, meta = load_tensors(unk_ckpt)
    tensors["generator.out.bias"][1] += 100.0  # always <unk>
    save_tensors(unk_ckpt, tensors, meta)
    line = "A man sells hats."
    plain = translate_file(tmp_path, [unk_ckpt], [line], beam=2, max_len_a=0.0, max_len_b=3)
    assert plain[0].count("\u2047") == 3  # sentencepiece renders <unk> as ⁇
    fixed = translate_file(
        tmp_path, [unk_ckpt], [line], beam=2, max_len_a=0.0, max_len_b=3, replace_unk=True
    )
    assert "\u2047" not in fixed[0] and fixed[0]
    assert set(fixed[0]) <= set(line)  # every output piece was copied from the source
