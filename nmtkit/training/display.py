"""What the user sees: a rich live line on a terminal, plain log lines otherwise; JSONL metrics.

Only rank 0 builds a real Display; other ranks get `enabled=False` and print nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.live import Live
from rich.text import Text


def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def train_line(m: dict[str, Any]) -> str:
    return (
        f"epoch {m['epoch']} | step {m['step']} | loss {m['loss']:.3f} | ppl {m['ppl']:.2f} | "
        f"lr {m['lr']:.3g} | tf {m['teacher_forcing']:.2f} | {m['tgt_tok_s']:.0f} tgt tok/s | "
        f"elapsed {fmt_time(m['elapsed'])} | eta {fmt_time(m.get('eta'))}"
    )


def valid_line(m: dict[str, Any]) -> str:
    best = " *best*" if m.get("best") else ""
    bleu = f" | bleu {m['bleu']:.2f}" if m.get("bleu") is not None else ""
    return (
        f"valid | epoch {m['epoch']} | step {m['step']} | loss {m['loss']:.3f} | "
        f"ppl {m['ppl']:.2f}{bleu}{best}"
    )


class Display:
    """Live status on a terminal (refreshed at log time), plain lines otherwise."""

    def __init__(self, console: Console, *, enabled: bool) -> None:
        self.console = console
        self.enabled = enabled
        self.live: Live | None = None

    def __enter__(self) -> Display:
        if self.enabled and self.console.is_terminal:
            self.live = Live(Text("starting…"), console=self.console, refresh_per_second=4)
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(None, None, None)
            self.live = None

    def message(self, text: str, style: str | None = None) -> None:
        if self.enabled:
            self.console.print(text, style=style, markup=False, highlight=False, soft_wrap=True)

    def train(self, metrics: dict[str, Any]) -> None:
        if not self.enabled:
            return
        if self.live is not None:
            self.live.update(Text(train_line(metrics), style="bold"))
        else:
            self.message(train_line(metrics))

    def valid(self, metrics: dict[str, Any]) -> None:
        self.message(valid_line(metrics), style="green" if metrics.get("best") else None)


class MetricsLog:
    """Appends one JSON object per event to SAVE/metrics.jsonl; TensorBoard too if installed.

    The TensorBoard writer is created at the first write, not at start-up: importing it costs
    seconds, and the first update should come quickly.
    """

    def __init__(self, path: Path | None, tensorboard_dir: Path | None) -> None:
        self.path = path
        self.tb_dir = tensorboard_dir
        self.tb: Any = None
        self.file: IO[str] | None = None

    def write(self, kind: str, metrics: dict[str, Any]) -> None:
        if self.path is None:
            return
        if self.file is None:
            self.file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self.file.write(json.dumps({"kind": kind, **metrics}, sort_keys=True) + "\n")
        self.file.flush()
        self._tensorboard(kind, metrics)

    def _tensorboard(self, kind: str, metrics: dict[str, Any]) -> None:
        if self.tb_dir is None:
            return
        if self.tb is None:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                self.tb_dir = None
                return
            self.tb = SummaryWriter(str(self.tb_dir))
        for key, value in metrics.items():
            if isinstance(value, (int, float)) and key not in ("step", "epoch"):
                self.tb.add_scalar(f"{kind}/{key}", value, metrics["step"])

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None
        if self.tb is not None:
            self.tb.close()
            self.tb = None
