"""Attention heatmaps (optional: needs matplotlib, the `plot` extra)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import Tensor

from nmtkit.errors import UsageError


def require_matplotlib() -> Any:
    """The pyplot module on a non-interactive backend, or a clear error saying how to get it."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError(
            "--plot-attention needs matplotlib, which is not installed",
            fix="pip install 'nmtkit[plot]' (or pip install matplotlib)",
        ) from None
    return plt


def plot_attention(
    path: Path, attention: Tensor, src_labels: list[str], tgt_labels: list[str]
) -> None:
    """One heatmap: rows are output pieces, columns source pieces; labels on both axes."""
    plt = require_matplotlib()
    rows, cols = len(tgt_labels), len(src_labels)
    fig, ax = plt.subplots(figsize=(max(4.0, 0.4 * cols + 1.5), max(3.0, 0.35 * rows + 1.5)))
    try:
        ax.imshow(attention[:rows, :cols].float().numpy(), cmap="Greys", vmin=0.0, vmax=1.0)
        ax.set_xticks(range(cols))
        ax.set_xticklabels(src_labels, rotation=90)
        ax.set_yticks(range(rows))
        ax.set_yticklabels(tgt_labels)
        ax.set_xlabel("source")
        ax.set_ylabel("output")
        fig.tight_layout()
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)
