"""manifest.json: what a data directory holds, so readers never have to guess or parse text.

Written last by preprocess (inside the temporary directory), so a data dir with a manifest is a
complete one. `Manifest.load` refuses a missing, unreadable or newer-format manifest.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from nmtkit.errors import UsageError

MANIFEST_FILE = "manifest.json"
FORMAT_VERSION = 1


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

    @property
    def test_splits(self) -> list[str]:
        return [name for name in self.splits if name not in ("train", "valid")]

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out.pop("directory")
        return out

    def save(self, directory: str | Path) -> Path:
        path = Path(directory) / MANIFEST_FILE
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
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
        if version > FORMAT_VERSION:
            raise UsageError(
                f"data format version {version} is newer than this nmtkit reads ({FORMAT_VERSION})",
                file=path,
                fix="upgrade nmtkit or re-run preprocess with this version",
            )
        try:
            return cls.from_dict(data, directory=data_dir)
        except (KeyError, TypeError) as exc:
            raise UsageError(f"incomplete manifest ({exc})", file=path) from None
