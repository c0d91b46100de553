#!/usr/bin/env python3
"""Write a compatibility fixture of this release: tests/fixtures/compat/<release>/.

A fixture is a tiny data directory (data/) and trained checkpoints (models/, one per architecture)
made with the real `nmtkit` commands, plus what this release computes from them (greedy and
beam translations, model scores).
tests/compat/test_fixtures.py loads every fixture with the current code and requires the same
results: see docs/compatibility.md for the policy. Never regenerate an existing fixture to make
that test pass; add a new one (and a converter, `nmtkit upgrade`, if the old one cannot load).

    .venv/bin/python scripts/make_compat_fixture.py            # tests/fixtures/compat/v<version>
    .venv/bin/python scripts/make_compat_fixture.py --out DIR  # somewhere else

Takes a few minutes on 2 cores; the result is about 450 KB (the sentencepiece model with its
normalisation table is 240 KB of it, so it is stored once, in data/: a save dir holds byte-copies
of the data dir's tokenizer files, which the test puts beside each checkpoint as training does).
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "examples" / "multi30k" / "data"
SIZES = {"train": 300, "val": 20}
N_PROBE = 12  # test sentences translated and scored
# Two architectures so both decoder families' weights and step code are pinned.
MODELS = {
    "gru_bahdanau_concat": [
        "--encoder-cell", "gru", "--decoder", "bahdanau", "--attention", "concat",
        "--decoder-cell", "gru",
    ],
    "lstm_luong_general": [
        "--encoder-cell", "lstm", "--decoder", "luong", "--attention", "general",
        "--decoder-cell", "lstm",
    ],
}
SIZE_FLAGS = [
    "--emb-size", "16", "--encoder-hidden-size", "16", "--encoder-layers", "1",
    "--decoder-hidden-size", "16", "--decoder-layers", "1",
]
TRAIN_FLAGS = [
    "--max-steps", "300", "--max-epochs", "0", "--batch-size", "20", "--lr", "0.01",
    "--warmup-steps", "0", "--keep-last", "0", "--log-every", "50", "--seed", "1",
    "--precision", "fp32", "--device", "cpu", "--threads", "1",
]
SEARCH = {"greedy": ["--greedy"], "beam": ["--beam", "4", "--lenpen", "0.6"]}


def nmtkit(*args: str, stdin: str | None = None) -> str:
    cmd = [sys.executable, "-m", "nmtkit", *args]
    done = subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{done.stderr}")
    return done.stdout


def head(name: str, n: int, skip: int = 0) -> list[str]:
    with gzip.open(CORPUS / f"{name}.gz", "rt", encoding="utf-8") as f:
        lines = [line.rstrip("\n") for line in f]
    return lines[skip : skip + n]


def data_facts(data: Path) -> dict[str, object]:
    """What the data dir holds, read back through the current readers."""
    from nmtkit.data.binarized import Split
    from nmtkit.data.manifest import Manifest

    manifest = Manifest.load(data)
    train = Split.open(manifest.split_path("train"))
    return {
        "train_sentences": len(train),
        "train_first_pairs": [[train.src(i).tolist(), train.tgt(i).tolist()] for i in range(3)],
    }


def make(out: Path) -> None:
    from nmtkit import __version__
    from nmtkit.data.manifest import FORMAT_VERSION as DATA_FORMAT
    from nmtkit.io.checkpoint import FORMAT_VERSION as CHECKPOINT_FORMAT

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for split, n in SIZES.items():
            for lang in ("en", "de"):
                (tmp / f"{split}.{lang}").write_text(
                    "\n".join(head(f"{split}.{lang}", n)) + "\n", encoding="utf-8"
                )
        data = out / "data"
        nmtkit("preprocess", "-s", "en", "-t", "de", "--train", str(tmp / "train"),
               "--valid", str(tmp / "val"), "--out", str(data), "--vocab-size", "200",
               "--force")  # fmt: skip
        src = head("test_2016_flickr.en", N_PROBE)
        tgt = head("test_2016_flickr.de", N_PROBE)
        (out / "source.txt").write_text("\n".join(src) + "\n", encoding="utf-8")
        (out / "target.txt").write_text("\n".join(tgt) + "\n", encoding="utf-8")
        expected: dict[str, object] = {
            "nmtkit_version": __version__,
            "checkpoint_format": CHECKPOINT_FORMAT,
            "data_format": DATA_FORMAT,
            "search": {k: " ".join(v) for k, v in SEARCH.items()},
            "models": {},
        }
        expected["data"] = data_facts(data)
        models = out / "models"
        models.mkdir()
        for name, arch in MODELS.items():
            save = tmp / f"save_{name}"
            nmtkit("train", str(data), "--save-dir", str(save), *arch, *SIZE_FLAGS, *TRAIN_FLAGS)
            ckpt = models / f"{name}.safetensors"
            shutil.copy(save / "checkpoint_last.safetensors", ckpt)
            # Translate from the save dir: checkpoint + the tokenizer files training copied there.
            in_save = str(save / "checkpoint_last.safetensors")
            result: dict[str, object] = {
                mode: nmtkit("translate", "-c", in_save, *flags, stdin="\n".join(src) + "\n")
                .splitlines()
                for mode, flags in SEARCH.items()
            }
            scores = json.loads(nmtkit("score", "-c", in_save, "--src", str(out / "source.txt"),
                                       "--tgt", str(out / "target.txt"), "--json"))  # fmt: skip
            result["logprobs"] = [s["logprob"] for s in scores["sentences"]]
            result["lengths"] = [s["length"] for s in scores["sentences"]]
            expected["models"][name] = result  # type: ignore[index]
        text = json.dumps(expected, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
        (out / "expected.json").write_text(text, encoding="utf-8")


def main() -> None:
    from nmtkit import __version__

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--force", action="store_true", help="replace an existing fixture")
    args = parser.parse_args()
    out = args.out or REPO / "tests" / "fixtures" / "compat" / f"v{__version__}"
    if out.exists():
        if not args.force:
            sys.exit(f"{out} exists: a released fixture is never regenerated (see "
                     "docs/compatibility.md); pass --force only for an unreleased one")  # fmt: skip
        shutil.rmtree(out)
    out.mkdir(parents=True)
    make(out)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"wrote {out} ({size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
