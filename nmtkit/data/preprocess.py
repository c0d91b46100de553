"""`nmtkit preprocess`: train sentencepiece, filter, binarize, write a data directory atomically.

Flow: check inputs (missing files, languages) → scan valid/test (line counts, UTF-8) → when
training a tokenizer, stream train once into cleaned text files and train sentencepiece on them →
encode every split in chunks (optionally in worker processes) into growing typed arrays → write
``{split}.safetensors``, ``tokenizer.json``, ``manifest.json``. All of it happens in a temporary
directory renamed into place at the end (`atomic_dir`), so any error leaves no output behind.

Memory grows with the token count only (4 bytes per token while encoding, 2 on disk for vocabs up
to 64k): lines are never held in a Python list beyond one chunk.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

from nmtkit import __version__
from nmtkit.data import specials
from nmtkit.data.binarized import token_typecode
from nmtkit.data.encoding import ChunkEncoder, encode_chunk
from nmtkit.data.manifest import FORMAT_VERSION, SHARDED_VERSION, Manifest, SplitStats
from nmtkit.data.preprocess_config import PreprocessConfig
from nmtkit.data.shard_writer import ShardWriter
from nmtkit.data.spm_layout import to_nmtkit_layout
from nmtkit.data.textio import decode_line, find_corpus_file, read_pair_chunks
from nmtkit.data.tokenizer import SPECIALS, Tokenizer, train_spm
from nmtkit.errors import UsageError
from nmtkit.io.atomic import atomic_dir

INVALID_FIX = "re-encode the file as UTF-8 (e.g. iconv -f latin1 -t utf-8) or pass --skip-invalid"




class Progress(Protocol):
    """What the CLI's progress bar implements; preprocess itself never prints."""

    def start(self, description: str, total: int) -> None: ...
    def update(self, completed: int) -> None: ...
    def stop(self) -> None: ...


class NullProgress:
    def start(self, description: str, total: int) -> None:
        pass

    def update(self, completed: int) -> None:
        pass

    def stop(self) -> None:
        pass


@dataclasses.dataclass(frozen=True)
class SplitFiles:
    name: str
    src: Path
    tgt: Path


def run(cfg: PreprocessConfig, progress: Progress | None = None) -> Manifest:
    """Preprocess per `cfg`; returns the written Manifest (directory = cfg.out)."""
    progress = progress or NullProgress()
    check_config(cfg)
    if cfg.append:
        from nmtkit.data.append import append

        return append(cfg, progress)
    splits = resolve_splits(cfg)
    out = Path(cfg.out)
    with atomic_dir(out, force=cfg.force) as tmp:
        if cfg.spm_model is None:
            for split in splits[1:]:
                scan(split, cfg, progress)
        tok, source = make_tokenizer(cfg, splits[0], tmp, progress)
        stats: dict[str, SplitStats] = {}
        with mapper(cfg.workers) as pmap:
            for split in splits:
                stats[split.name] = binarize(split, cfg, tok, tmp, pmap, progress)
        manifest = build_manifest(cfg, tok, stats, source)
        manifest.save(tmp)
        open_permissions(tmp)
    return dataclasses.replace(manifest, directory=out)


def open_permissions(directory: Path) -> None:
    """Temp files are created 0600/0700; give the finished data dir the usual umask modes."""
    umask = os.umask(0)
    os.umask(umask)
    directory.chmod(0o777 & ~umask)
    for path in directory.iterdir():
        path.chmod(0o666 & ~umask)


def check_config(cfg: PreprocessConfig) -> None:
    """Refuse inconsistent options before touching any file."""
    def bad(msg: str, fix: str) -> UsageError:
        return UsageError(msg, fix=fix)

    if not cfg.source_lang or not cfg.target_lang:
        raise bad("--source-lang and --target-lang are required", "e.g. -s en -t de")
    if cfg.source_lang == cfg.target_lang:
        raise bad("source and target language are the same", "pass two different suffixes")
    if not cfg.train or not cfg.out:
        raise bad("--train and --out are required", "e.g. --train data/train --out data-bin")
    if cfg.model_type not in ("unigram", "bpe"):
        raise bad(f"unknown --model-type {cfg.model_type!r}", "choose unigram or bpe")
    if cfg.vocab_size < 8:
        raise bad(f"--vocab-size {cfg.vocab_size} is too small", "use at least 8")
    if not 0.0 < cfg.character_coverage <= 1.0:
        raise bad("--character-coverage must be in (0, 1]", "e.g. 1.0, or 0.9995 for CJK")
    if cfg.workers < 1 or cfg.chunk_size < 1 or cfg.shard_size < 1:
        raise bad("--workers, --chunk-size and --shard-size must be >= 1", "e.g. --workers 2")
    if cfg.input_sentence_size < 0 or cfg.input_char_limit < 0:
        raise bad("--input-sentence-size and --input-char-limit must be >= 0", "0 = no limit")
    if cfg.max_len < 0 or (cfg.max_len_ratio and cfg.max_len_ratio < 1.0):
        raise bad("--max-len must be >= 0 and --max-len-ratio 0 or >= 1", "0 turns a filter off")


def resolve_splits(cfg: PreprocessConfig) -> list[SplitFiles]:
    """train, valid, tests with their files; missing files and duplicate names are errors."""
    named = [("train", cfg.train)]
    if cfg.valid:
        named.append(("valid", cfg.valid))
    named += [(Path(p).name, p) for p in cfg.test]
    seen: set[str] = set()
    out = []
    for name, prefix in named:
        if name in seen:
            raise UsageError(
                f"two splits would both be named {name!r}",
                file=prefix,
                fix="test splits are named by the prefix's basename; rename one",
            )
        seen.add(name)
        src = find_corpus_file(prefix, cfg.source_lang)
        tgt = find_corpus_file(prefix, cfg.target_lang)
        out.append(SplitFiles(name, src, tgt))
    return out


def invalid_error(split: SplitFiles, line: int, side: str) -> UsageError:
    path = split.src if side == "src" else split.tgt
    return UsageError("invalid UTF-8", file=path, line=line, fix=INVALID_FIX)


def scan(
    split: SplitFiles,
    cfg: PreprocessConfig,
    progress: Progress,
    sinks: tuple[Any, Any] | None = None,
) -> tuple[int, int]:
    """Read a split once: line counts and UTF-8 checked; cleaned pairs written to `sinks`.

    Returns the pairs and characters written (valid UTF-8 pairs only)."""
    written = chars = 0
    progress.start(f"reading {split.name}", split.src.stat().st_size)
    chunks = read_pair_chunks(split.src, split.tgt, cfg.chunk_size)
    if sinks is not None and split.src.stat().st_size == 0:
        raise UsageError("training corpus is empty", file=split.src)
    for first, src_raw, tgt_raw, pos in chunks:
        for k, (s_raw, t_raw) in enumerate(zip(src_raw, tgt_raw, strict=True)):
            s, t = decode_line(s_raw), decode_line(t_raw)
            if s is None or t is None:
                if not cfg.skip_invalid:
                    raise invalid_error(split, first + k, "src" if s is None else "tgt")
                continue
            if sinks is not None:
                sinks[0].write(s + "\n")
                sinks[1].write(t + "\n")
                written += 1
                chars += len(s) + len(t)
        progress.update(pos)
    progress.stop()
    return written, chars


def make_tokenizer(
    cfg: PreprocessConfig, train: SplitFiles, tmp: Path, progress: Progress
) -> tuple[Tokenizer, dict[str, Any]]:
    """Reuse --spm-model or train sentencepiece on a sample of the cleaned train text.

    Files go into `tmp`. Returns the tokenizer and how it came about (manifest
    `tokenizer_source`): sentencepiece itself draws a shuffled sample of
    --input-sentence-size sentences (reservoir sampling while it reads), so its memory is bounded
    by the sample, not the corpus.
    """
    if cfg.spm_model is not None:
        tok, source = reuse_tokenizer(Path(cfg.spm_model), tmp)
    else:
        src_txt, tgt_txt = tmp / ".spm_input.src", tmp / ".spm_input.tgt"
        with open(src_txt, "w", encoding="utf-8") as fs, open(tgt_txt, "w", encoding="utf-8") as ft:
            pairs, chars = scan(train, cfg, progress, sinks=(fs, ft))
        available = pairs if not cfg.joint else 2 * pairs  # per model: one side, or both
        sample = sample_size(cfg, available, chars / max(1, 2 * pairs))
        source = {"trained": True, "input_sentence_size": cfg.input_sentence_size,
                  "input_char_limit": cfg.input_char_limit, "sentences_sampled": sample,
                  "sentences_available": available}  # fmt: skip
        progress.start(f"training sentencepiece on {sample:,} of {available:,} sentences", 0)
        train_args = dict(
            vocab_size=cfg.vocab_size,
            model_type=cfg.model_type,
            character_coverage=cfg.character_coverage,
            input_sentence_size=sample if sample < available else 0,
            num_threads=os.cpu_count() or 1,
        )
        try:
            if cfg.joint:
                model = train_spm_side([src_txt, tgt_txt], tmp / "spm", train.src, train_args)
                tok = Tokenizer(model, model, joint=True)
            else:
                src_prefix = tmp / f"spm.{cfg.source_lang}"
                tgt_prefix = tmp / f"spm.{cfg.target_lang}"
                src_m = train_spm_side([src_txt], src_prefix, train.src, train_args)
                tgt_m = train_spm_side([tgt_txt], tgt_prefix, train.tgt, train_args)
                tok = Tokenizer(src_m, tgt_m, joint=False)
        finally:
            src_txt.unlink(missing_ok=True)
            tgt_txt.unlink(missing_ok=True)
            progress.stop()
        for vocab in tmp.glob("spm*.vocab"):  # sentencepiece's human-readable dump; unused
            vocab.unlink()
    tok.copy_to(tmp)
    return Tokenizer.load(tmp), source


def sample_size(cfg: PreprocessConfig, available: int, mean_chars: float) -> int:
    """Sentences sentencepiece samples: --input-sentence-size, also capped by --input-char-limit
    at the corpus's mean sentence length, at least 1,000 (or all there are)."""
    sample = min(cfg.input_sentence_size or available, available)
    if cfg.input_char_limit and mean_chars > 0:
        sample = min(sample, max(1000, int(cfg.input_char_limit / mean_chars)))
    return min(sample, available)


def train_spm_side(inputs: list[Path], prefix: Path, blame: Path, args: dict[str, Any]) -> Path:
    """train_spm whose errors name the user's corpus file, not our temporary input file."""
    try:
        return train_spm(inputs, prefix, **args)
    except UsageError as exc:
        raise UsageError(exc.message, file=blame, fix=exc.fix) from None


def reuse_tokenizer(path: Path, tmp: Path) -> tuple[Tokenizer, dict[str, Any]]:
    """A data/save dir with tokenizer.json, or a single joint .model file of any special-id
    layout; returns the tokenizer and its manifest record (`tokenizer_source`)."""
    if path.is_dir():
        return Tokenizer.load(path), {"spm_model": str(path)}
    # A model trained elsewhere: its special ids are moved to nmtkit's (spm_layout).
    ids = to_nmtkit_layout(path, tmp / "spm.model")
    tok = Tokenizer(tmp / "spm.model", tmp / "spm.model", joint=True)
    return tok, {"spm_model": str(path), "special_ids": list(ids)}


@contextlib.contextmanager
def mapper(workers: int) -> Iterator[Callable[[Callable, Iterable], Iterator]]:
    """An ordered map: in-process for 1 worker, else a fork pool with a bounded window."""
    if workers <= 1:
        yield map
        return
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with multiprocessing.get_context(method).Pool(workers) as pool:
        yield functools.partial(windowed_map, pool, window=2 * workers)


def windowed_map(pool: Any, fn: Callable, jobs: Iterable, *, window: int) -> Iterator:
    """pool.imap would read all input ahead; this keeps at most `window` chunks in flight."""
    pending: deque = deque()
    for job in jobs:
        pending.append(pool.apply_async(fn, (job,)))
        if len(pending) >= window:
            yield pending.popleft().get()
    while pending:
        yield pending.popleft().get()


def binarize(
    split: SplitFiles, cfg: PreprocessConfig, tok: Tokenizer, directory: Path, pmap: Callable,
    progress: Progress, *, first_index: int = 0,
) -> SplitStats:
    """Encode one split chunk by chunk and stream it into shard files in `directory`."""
    is_train = split.name == "train"
    policy = "report" if not cfg.skip_invalid else ("drop" if is_train else "replace")
    enc = ChunkEncoder(
        src_model=str(tok.src_model), tgt_model=str(tok.tgt_model), filter=is_train,
        max_len=cfg.max_len, max_len_ratio=cfg.max_len_ratio, invalid=policy,
        src_typecode=token_typecode(tok.src_vocab_size),
        tgt_typecode=token_typecode(tok.tgt_vocab_size),
    )
    writer = ShardWriter(
        directory, split.name, first_index=first_index, shard_size=cfg.shard_size,
        src_vocab_size=tok.src_vocab_size, tgt_vocab_size=tok.tgt_vocab_size,
        src_typecode=enc.src_typecode, tgt_typecode=enc.tgt_typecode,
    )  # fmt: skip
    counter = [0]

    def jobs() -> Iterator[tuple[int, list[bytes], list[bytes]]]:
        for first, src_raw, tgt_raw, pos in read_pair_chunks(split.src, split.tgt, cfg.chunk_size):
            counter[0] += len(src_raw)
            yield first, src_raw, tgt_raw
            progress.update(pos)

    progress.start(f"encoding {split.name}", split.src.stat().st_size)
    for res in pmap(functools.partial(encode_chunk, enc), jobs()):
        if res.first_invalid is not None and policy == "report":
            raise invalid_error(split, *res.first_invalid)
        writer.add(res)
    progress.stop()
    t = writer.totals
    if is_train and not t["sentences"]:
        reasons = ", ".join(f"{k} {v}" for k, v in t["dropped"].items() if v) or "empty files"
        raise UsageError(
            f"no training pairs left out of {counter[0]} ({reasons})",
            file=split.src,
            fix="check the files, or relax --max-len / --max-len-ratio",
        )
    shards = writer.close()
    return SplitStats(
        file=shards[0]["file"], sources=[str(split.src), str(split.tgt)], read=counter[0],
        sentences=t["sentences"], src_tokens=t["src_tokens"], tgt_tokens=t["tgt_tokens"],
        src_unk=t["src_unk"], tgt_unk=t["tgt_unk"], src_max_len=t["src_max_len"],
        tgt_max_len=t["tgt_max_len"], dropped=dict(t["dropped"]) if is_train else {},
        invalid_replaced=t["replaced"], shards=shards,
    )  # fmt: skip


def format_version(splits: dict[str, SplitStats]) -> int:
    """1 while every split is one file (older nmtkit reads it), else the sharded version."""
    return SHARDED_VERSION if any(len(s.files) > 1 for s in splits.values()) else FORMAT_VERSION


def build_manifest(
    cfg: PreprocessConfig, tok: Tokenizer, stats: dict[str, SplitStats], source: dict[str, Any]
) -> Manifest:
    return Manifest(
        format_version=format_version(stats),
        nmtkit_version=__version__,
        src_lang=cfg.source_lang,
        tgt_lang=cfg.target_lang,
        joint=tok.joint,
        src_vocab_size=tok.src_vocab_size,
        tgt_vocab_size=tok.tgt_vocab_size,
        specials={"pad": specials.PAD_ID, "unk": specials.UNK_ID,
                  "bos": specials.BOS_ID, "eos": specials.EOS_ID, "pieces": SPECIALS},
        tokenizer=tok.to_json(),
        filters={"max_len": cfg.max_len, "max_len_ratio": cfg.max_len_ratio,
                 "skip_invalid": cfg.skip_invalid, "train_only": True},
        splits=stats,
        tokenizer_source=source,
    )
