"""Sentencepiece wrapper: training with nmtkit's fixed special ids, encode/decode, identity.

A data directory (and a save dir) holds ``tokenizer.json`` naming the model file(s) and their
sha256, so a checkpoint can tell whether it is being used with the tokenizer it was trained with.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import sentencepiece as spm

from nmtkit.data import specials
from nmtkit.data.textio import clean_line
from nmtkit.errors import UsageError
from nmtkit.io.atomic import atomic_open, atomic_write_with

TOKENIZER_FILE = "tokenizer.json"
SPECIALS = {
    "pad": [specials.PAD, specials.PAD_ID],
    "unk": [specials.UNK, specials.UNK_ID],
    "bos": [specials.BOS, specials.BOS_ID],
    "eos": [specials.EOS, specials.EOS_ID],
}
ModelType = Literal["unigram", "bpe"]


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def train_spm(
    inputs: Sequence[Path],
    model_prefix: Path,
    *,
    vocab_size: int,
    model_type: ModelType = "unigram",
    character_coverage: float = 1.0,
    input_sentence_size: int = 0,
    num_threads: int = 1,
) -> Path:
    """Train a sentencepiece model with pad/unk/bos/eos = 0/1/2/3; returns the .model path.

    Sentencepiece's "Vocabulary size is too high" error is turned into a UsageError that keeps
    its suggested maximum, so the user knows which --vocab-size will work.
    """
    args: dict[str, Any] = dict(
        input=",".join(str(p) for p in inputs),
        model_prefix=str(model_prefix),
        vocab_size=vocab_size,
        model_type=model_type,
        character_coverage=character_coverage,
        input_sentence_size=input_sentence_size,
        shuffle_input_sentence=True,
        pad_id=specials.PAD_ID,
        unk_id=specials.UNK_ID,
        bos_id=specials.BOS_ID,
        eos_id=specials.EOS_ID,
        pad_piece=specials.PAD,
        unk_piece=specials.UNK,
        bos_piece=specials.BOS,
        eos_piece=specials.EOS,
        num_threads=num_threads,
        max_sentence_length=1 << 16,
        train_extremely_large_corpus=False,
    )
    spm.set_min_log_level(2)  # its INFO lines would flood the terminal; errors still raise
    try:
        spm.SentencePieceTrainer.train(**args)
    except RuntimeError as exc:
        raise _vocab_error(str(exc), vocab_size, inputs) from None
    finally:
        spm.set_min_log_level(0)  # sentencepiece's default
    return Path(f"{model_prefix}.model")


def _vocab_error(message: str, vocab_size: int, inputs: Sequence[Path]) -> UsageError:
    """Sentencepiece's RuntimeError → a plain message that says which --vocab-size works."""
    file = inputs[0] if len(inputs) == 1 else None
    too_high = re.search(r"Vocabulary size too high.*<=\s*(\d+)", message)
    if too_high:
        return UsageError(
            f"--vocab-size {vocab_size} is larger than this corpus allows",
            file=file,
            fix=f"use --vocab-size {too_high.group(1)} or less",
        )
    too_low = re.search(r"required_chars\.?\s*(\d+)\s*vs\s*(\d+)", message)
    if too_low:
        return UsageError(
            f"--vocab-size {vocab_size} is smaller than the {too_low.group(2)} characters to cover",
            file=file,
            fix=f"use --vocab-size above {too_low.group(2)} or lower --character-coverage",
        )
    text = message.strip().splitlines()[0] if message.strip() else "unknown error"
    text = re.sub(r"^.*?\.cc\(\d+\) \[.*?\]\s*", "", text)  # drop the C++ assertion prefix
    return UsageError(f"sentencepiece training failed: {text}", file=file)


def load_processor(path: Path) -> spm.SentencePieceProcessor:
    """Load a .model and check it uses nmtkit's special ids (else ids would be misread)."""
    if not path.is_file():
        raise UsageError("sentencepiece model not found", file=path)
    try:
        sp = spm.SentencePieceProcessor(model_file=str(path))
    except (RuntimeError, OSError) as exc:
        raise UsageError(f"not a sentencepiece model: {exc}", file=path) from None
    ids = (sp.pad_id(), sp.unk_id(), sp.bos_id(), sp.eos_id())
    want = (specials.PAD_ID, specials.UNK_ID, specials.BOS_ID, specials.EOS_ID)
    if ids != want:
        raise UsageError(
            f"sentencepiece model has special ids pad/unk/bos/eos={ids}, nmtkit needs {want}",
            file=path,
            fix="train it with pad_id=0 unk_id=1 bos_id=2 eos_id=3 or let preprocess train one",
        )
    return sp


class Tokenizer:
    """Source and target sentencepiece processors (the same object when the vocab is joint)."""

    def __init__(self, src_model: Path, tgt_model: Path, *, joint: bool) -> None:
        self.src_model = Path(src_model)
        self.tgt_model = Path(tgt_model)
        self.joint = joint
        self._src = load_processor(self.src_model)
        self._tgt = self._src if joint else load_processor(self.tgt_model)
        self.src_sha256 = sha256_file(self.src_model)
        self.tgt_sha256 = self.src_sha256 if joint else sha256_file(self.tgt_model)

    # -- files -------------------------------------------------------------------------------
    @classmethod
    def load(cls, directory: str | Path) -> Tokenizer:
        """Read DIR/tokenizer.json and its model file(s); hashes must match what it records."""
        directory = Path(directory)
        path = directory / TOKENIZER_FILE
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
            src, tgt, joint = info["src_model"], info["tgt_model"], bool(info["joint"])
        except FileNotFoundError:
            raise UsageError(
                "no tokenizer.json here", file=directory, fix="run `nmtkit preprocess` first"
            ) from None
        except (ValueError, KeyError, TypeError) as exc:
            raise UsageError(f"invalid tokenizer.json ({exc})", file=path) from None
        tok = cls(directory / src, directory / tgt, joint=joint)
        for side, want, got in (("src", info.get("src_sha256"), tok.src_sha256),
                                ("tgt", info.get("tgt_sha256"), tok.tgt_sha256)):
            if want is not None and want != got:
                raise UsageError(
                    f"{side} sentencepiece model does not match the sha256 in tokenizer.json",
                    file=directory / (src if side == "src" else tgt),
                    fix="the model file was replaced; re-run preprocess",
                )
        return tok

    def to_json(self) -> dict[str, Any]:
        """The tokenizer.json content (model names relative to its directory)."""
        return {
            "joint": self.joint,
            "src_model": self.src_model.name,
            "tgt_model": self.tgt_model.name,
            "src_sha256": self.src_sha256,
            "tgt_sha256": self.tgt_sha256,
            "specials": SPECIALS,
        }

    def copy_to(self, directory: str | Path) -> None:
        """Copy model file(s) and write tokenizer.json into `directory` (made if missing)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for model in {self.src_model, self.tgt_model}:
            if model.resolve() != (directory / model.name).resolve():
                # atomic: a run killed mid-copy must not leave a truncated model in a save dir
                target = directory / model.name
                atomic_write_with(target, lambda tmp, m=model: shutil.copyfile(m, tmp))
        text = json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n"
        with atomic_open(directory / TOKENIZER_FILE) as out:
            out.write(text)

    def identity(self) -> dict[str, Any]:
        """What a checkpoint stores to recognise its tokenizer later (JSON-able)."""
        return {
            "joint": self.joint,
            "src_sha256": self.src_sha256,
            "tgt_sha256": self.tgt_sha256,
            "src_vocab_size": self.src_vocab_size,
            "tgt_vocab_size": self.tgt_vocab_size,
            "specials": SPECIALS,
        }

    def matches(self, identity: dict[str, Any]) -> bool:
        """True if `identity` (from a checkpoint) describes this tokenizer."""
        mine = self.identity()
        return all(identity.get(k) == mine[k] for k in ("src_sha256", "tgt_sha256"))

    # -- text --------------------------------------------------------------------------------
    @property
    def src_vocab_size(self) -> int:
        return self._src.get_piece_size()

    @property
    def tgt_vocab_size(self) -> int:
        return self._tgt.get_piece_size()

    def encode_src(self, lines: Sequence[str]) -> list[list[int]]:
        """Piece ids per line, no specials. Lines are cleaned like preprocess cleans them."""
        return self._src.encode([clean_line(x) for x in lines], out_type=int)

    def encode_tgt(self, lines: Sequence[str]) -> list[list[int]]:
        return self._tgt.encode([clean_line(x) for x in lines], out_type=int)

    def decode_src(self, ids: Sequence[Sequence[int]]) -> list[str]:
        return self._src.decode([list(map(int, x)) for x in ids])

    def decode_tgt(self, ids: Sequence[Sequence[int]]) -> list[str]:
        """Text per id list; pad/bos/eos (control symbols) decode to nothing."""
        return self._tgt.decode([list(map(int, x)) for x in ids])

    def src_pieces(self, ids: Sequence[int]) -> list[str]:
        return self._src.id_to_piece([int(i) for i in ids])

    def tgt_pieces(self, ids: Sequence[int]) -> list[str]:
        return self._tgt.id_to_piece([int(i) for i in ids])

    def normalize_src(self, line: str) -> str:
        """The text that encode→decode gives back when no piece is <unk> (NFKC, spaces)."""
        return _readable(self._src.normalize(clean_line(line)))

    def normalize_tgt(self, line: str) -> str:
        return _readable(self._tgt.normalize(clean_line(line)))


def _readable(normalized: str) -> str:
    """Sentencepiece's normalized form uses U+2581 for spaces and a leading dummy space."""
    return normalized.replace("\u2581", " ").strip(" ")
