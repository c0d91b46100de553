"""manifest.json: what a data directory holds, so readers never have to guess or parse text.

Written last by preprocess (inside the temporary directory, or replaced atomically by
`preprocess --append`), so a data dir with a manifest is a complete one, and shard files it does
not list are ignored. `Manifest.load` refuses a missing, unreadable or newer-format manifest.

Format versions: 1 has one file per split (`file`); 2 adds `shards`, the list of a split's files
with their pair counts. Version 2 is written only when some split has more than one shard, so a
directory that older nmtkit can read correctly still says 1 (see docs/data-format.md).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from nmtkit.errors import UsageError

MANIFEST_FILE = "manifest.json"
FORMAT_VERSION = 1  # what preprocess writes while every split is one file (compat fixtures)
SHARDED_VERSION = 2  # written when a split has several shards (fixture: tests/fixtures/sharded_v2)
NEWEST_VERSION = SHARDED_VERSION  # the newest this nmtkit reads


def _required(field: dataclasses.Field) -> bool:
    """A field without a default: older manifests must have it too."""
    missing = dataclasses.MISSING
    return field.default is missing and field.default_factory is missing


@dataclasses.dataclass(frozen=True, kw_only=True)
class SplitStats:
    """Counts for one split. `read` lines were read; `dropped` maps a reason to a count."""

    file: str
    sources: list[str]
    read: int
    sentences: int
    src_tokens: int
    tgt_tokens: int
    src_unk: int
    tgt_unk: int
    src_max_len: int
    tgt_max_len: int
    dropped: dict[str, int]
    invalid_replaced: int = 0
    # Shard files in order, each {"file": name, "sentences": pairs}; empty means one file, `file`.
    shards: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    @property
    def files(self) -> list[str]:
        """The split's shard files, in pair order."""
        return [s["file"] for s in self.shards] if self.shards else [self.file]

    @property
    def src_mean_len(self) -> float:
        return self.src_tokens / self.sentences if self.sentences else 0.0

    @property
    def tgt_mean_len(self) -> float:
        return self.tgt_tokens / self.sentences if self.sentences else 0.0

    @property
    def unk_rate(self) -> float:
        """Fraction of (src + tgt) pieces that are <unk>."""
        total = self.src_tokens + self.tgt_tokens
        return (self.src_unk + self.tgt_unk) / total if total else 0.0


@dataclasses.dataclass(frozen=True, kw_only=True)
class Manifest:
    """The parsed manifest.json of a data directory (`directory` is where it was read from)."""

    format_version: int
    nmtkit_version: str
    src_lang: str
    tgt_lang: str
    joint: bool
    src_vocab_size: int
    tgt_vocab_size: int
    specials: dict[str, Any]
    tokenizer: dict[str, Any]
    filters: dict[str, Any]
    splits: dict[str, SplitStats]
    # How the tokenizer came about: trained (sentences sampled of those available) or reused
    # (--spm-model path and that model's original pad/unk/bos/eos ids). Empty in old manifests.
    tokenizer_source: dict[str, Any] = dataclasses.field(default_factory=dict)
    directory: Path | None = dataclasses.field(default=None, compare=False)

    def split_path(self, name: str) -> Path:
        """Path of a split's .safetensors; a UsageError listing the splits if it is unknown."""
        if name not in self.splits:
            raise UsageError(
                f"no split named {name!r} in this data directory",
                file=self.directory,
                fix=f"available: {', '.join(self.splits)}",
            )
        base = self.directory if self.directory is not None else Path(".")
        return base / self.splits[name].file

    def split_paths(self, name: str) -> list[Path]:
        """Paths of all shard files of a split, in pair order."""
        first = self.split_path(name)  # the check and its error message
        return [first.parent / f for f in self.splits[name].files]

    @property
    def test_splits(self) -> list[str]:
        return [name for name in self.splits if name not in ("train", "valid")]

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out.pop("directory")
        return out

    def save(self, directory: str | Path) -> Path:
        from nmtkit.io.atomic import atomic_open

        path = Path(directory) / MANIFEST_FILE
        with atomic_open(path) as f:  # readers see the old manifest or the new one, never half
            f.write(json.dumps(self.to_dict(), indent=2) + "\n")
        return path

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, directory: Path | None = None) -> Manifest:
        values = {f.name: data[f.name] for f in dataclasses.fields(cls)
                  if f.name != "directory" and (f.name in data or _required(f))}
        values["splits"] = {k: SplitStats(**v) for k, v in data["splits"].items()}
        return cls(**values, directory=directory)

    @classmethod
    def load(cls, data_dir: str | Path) -> Manifest:
        data_dir = Path(data_dir)
        path = data_dir / MANIFEST_FILE
        if not path.is_file():
            raise UsageError(
                "not an nmtkit data directory (no manifest.json)",
                file=data_dir,
                fix="run `nmtkit preprocess --out DIR ...` first",
            )
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            version = int(data["format_version"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UsageError(f"unreadable manifest ({exc})", file=path) from None
        if version > NEWEST_VERSION:
            raise UsageError(
                f"data format version {version} is newer than this nmtkit reads ({NEWEST_VERSION})",
                file=path,
                fix="upgrade nmtkit or re-run preprocess with this version",
            )
        try:
            return cls.from_dict(data, directory=data_dir)
        except (KeyError, TypeError) as exc:
            raise UsageError(f"incomplete manifest ({exc})", file=path) from None
