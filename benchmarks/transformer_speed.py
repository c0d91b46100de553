"""Transformer vs the RNN default, in one process and one run: training target tokens/s (fp32
and bf16) and beam-5 translation sentences/s.

Training: the real Trainer (built as `nmtkit train` builds it) runs --updates updates per
configuration on joint-8k-BPE Multi30k; throughput counts the target tokens of the updates after
the first two (warm-up). Translation: `search.driver.decode` with beam 5 over the first
--sentences test sentences, batches of 64, bf16 autocast. The models are untrained, so the
search runs to its length limit (a * source + b) on both: the same number of steps for each
model, not realistic output lengths. For whole-command figures on trained models use
translate_speed.py --checkpoint.

    .venv/bin/python benchmarks/transformer_speed.py --work /tmp/nmtbench-transformer
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_speed import corpus_dir, preprocess


def model_configs(vocab: dict[str, int]) -> dict[str, Any]:
    from nmtkit.models.build import ModelConfig

    tiny = ModelConfig(
        encoder="transformer", attention="auto", decoder="transformer", emb_size=256,
        emb_dropout=0.0, **vocab,
        encoder_options={"layers": 3, "heads": 4, "ffn_size": 1024},
        decoder_options={"layers": 3, "heads": 4, "ffn_size": 1024},
    )  # fmt: skip
    return {"transformer-tiny": tiny, "rnn default": ModelConfig(**vocab)}


def trainer(model_cfg: Any, data: Path, save: Path, precision: str, max_tokens: int) -> Any:
    import torch
    from rich.console import Console

    from nmtkit.data.manifest import Manifest
    from nmtkit.data.tokenizer import Tokenizer
    from nmtkit.training import TrainConfig
    from nmtkit.training.data import TrainData
    from nmtkit.training.display import Display
    from nmtkit.training.distributed import DistInfo
    from nmtkit.training.run import _build

    cfg = TrainConfig(precision=precision, max_tokens=max_tokens, lr=1e-3, warmup_steps=100,
                      lr_schedule="inverse-sqrt", device="cpu")  # fmt: skip
    tokenizer = Tokenizer.load(data)
    train_data = TrainData(Manifest.load(data), tokenizer, cfg, DistInfo())
    return _build(model_cfg, cfg, train_data, tokenizer, torch.device("cpu"), DistInfo(),
                  Display(Console(), enabled=False), save, None)  # fmt: skip


def train_rate(model_cfg: Any, data: Path, work: Path, precision: str, args: Any) -> float:
    """Target tokens/s over updates 3..N of the real Trainer."""
    tr = trainer(model_cfg, data, work / "save", precision, args.max_tokens)
    groups = tr.data.epoch_groups(0)
    for group in groups[:2]:
        tr._update(group)
    tokens, start = 0, time.perf_counter()
    for group in groups[2 : 2 + args.updates]:
        tr._update(group)
        tokens += sum(tr.data.batch(ids).num_tgt_tokens for ids in group)
    return tokens / (time.perf_counter() - start)


def translate_rate(model_cfg: Any, data: Path, args: Any) -> float:
    """Beam-5 sentences/s of search.driver.decode (bf16) on the first test sentences."""
    import torch

    from nmtkit.data.specials import EOS_ID, PAD_ID
    from nmtkit.data.tokenizer import Tokenizer
    from nmtkit.models.build import build_model
    from nmtkit.search.beam import BeamSearch
    from nmtkit.search.driver import decode

    tok = Tokenizer.load(data)
    lines = (work_src(args)).read_text(encoding="utf-8").splitlines()[: args.sentences]
    ids = [[*pieces[:100], EOS_ID] for pieces in tok.encode_src(lines)]
    model = build_model(model_cfg).eval()
    start = time.perf_counter()
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        for i in range(0, len(ids), 64):
            chunk = ids[i : i + 64]
            lengths = torch.tensor([len(s) for s in chunk])
            src = torch.full((len(chunk), int(lengths.max())), PAD_ID)
            for row, s in enumerate(chunk):
                src[row, : len(s)] = torch.tensor(s)
            decode(model, src, lengths, BeamSearch(beam_size=5, nbest=1, lenpen=0.6,
                                                   max_len_a=1.2, max_len_b=5))  # fmt: skip
    return len(ids) / (time.perf_counter() - start)


def work_src(args: Any) -> Path:
    import gzip

    src = args.work / "test_2016_flickr.en"
    if not src.is_file():
        with gzip.open(corpus_dir() / "test_2016_flickr.en.gz", "rb") as f:
            src.write_bytes(f.read())
    return src


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=None, help="reuse data/ here across runs")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--updates", type=int, default=10, help="timed updates per config")
    parser.add_argument("--max-tokens", type=int, default=2048, help="token batch size")
    parser.add_argument("--sentences", type=int, default=256, help="test sentences to translate")
    args = parser.parse_args()
    import torch

    from nmtkit.data.tokenizer import Tokenizer
    from nmtkit.hardware import bound_onednn_cache

    bound_onednn_cache()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    args.work = args.work or Path(tempfile.mkdtemp(prefix="nmtkit-transformer-speed-"))
    args.work.mkdir(parents=True, exist_ok=True)
    data = preprocess(args.work)
    tok = Tokenizer.load(data)
    vocab = {"src_vocab_size": tok.src_vocab_size, "tgt_vocab_size": tok.tgt_vocab_size}
    print(f"threads={args.threads} max_tokens={args.max_tokens} updates={args.updates} "
          f"sentences={args.sentences} load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"{'model':<18}{'fp32 tok/s':>12}{'bf16 tok/s':>12}{'beam-5 sent/s':>15}")
    for name, cfg in model_configs(vocab).items():
        fp32 = train_rate(cfg, data, args.work, "fp32", args)
        bf16 = train_rate(cfg, data, args.work, "bf16", args)
        sent = translate_rate(cfg, data, args)
        print(f"{name:<18}{fp32:>12.0f}{bf16:>12.0f}{sent:>15.1f}", flush=True)


if __name__ == "__main__":
    main()
