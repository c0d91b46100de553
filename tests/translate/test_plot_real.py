"""--plot-attention with the real matplotlib (the dev extra installs it): one PNG per non-empty
line, a real PNG whose pixel size follows the figure-size rule in nmtkit/translate/plot.py."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from tests.translate.translate_helpers import translate_file

pytest.importorskip("matplotlib")


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", path
    return struct.unpack(">II", data[16:24])


def test_attention_plot_is_a_png_of_the_expected_size(tmp_path, tiny_checkpoint, source_lines):
    import matplotlib.image

    plots, attn = tmp_path / "plots", tmp_path / "attention.json"
    lines = [source_lines[0], "", source_lines[1]]
    translate_file(tmp_path, [tiny_checkpoint], lines, beam=2, max_len_b=6,
                   plot_attention=str(plots), attention_json=str(attn))  # fmt: skip
    assert sorted(p.name for p in plots.iterdir()) == ["000000.png", "000002.png"]
    records = {r["id"]: r for r in json.loads(attn.read_text(encoding="utf-8"))}
    for sent_id in (0, 2):
        path = plots / f"{sent_id:06d}.png"
        cols, rows = len(records[sent_id]["source"]), len(records[sent_id]["target"])
        inches = (max(4.0, 0.4 * cols + 1.5), max(3.0, 0.35 * rows + 1.5))  # plot.py's rule
        assert png_size(path) == (round(inches[0] * 100), round(inches[1] * 100))  # dpi 100
        pixels = matplotlib.image.imread(path)  # decodes: a whole, valid image
        assert pixels.shape[:2] == png_size(path)[::-1]
        assert (pixels[..., :3] < 0.5).any() and (pixels[..., :3] > 0.9).any()  # drawn on
