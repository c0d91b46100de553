"""safetensors checkpoints: weights plus JSON metadata; pickle is refused, never loaded.

A model checkpoint's metadata (all values are strings, as safetensors requires) holds:
  nmtkit.format   FORMAT_VERSION
  nmtkit.version  package version that wrote it
  model_config    JSON ModelConfig (enough to rebuild the exact model)
  train_config    JSON resolved training config
  tokenizer       JSON tokenizer identity (file names and sha256 hashes, special ids)
  step, epoch     progress when written
  arch            the named architecture (`--arch`) the run used, if any
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from torch import Tensor, nn

from nmtkit import __version__
from nmtkit.errors import UsageError
from nmtkit.io.atomic import atomic_write_with

FORMAT_VERSION = "1"
FORMAT_KEY = "nmtkit.format"
_PICKLE_MAGIC = (b"\x80", b"PK\x03\x04")  # raw pickle protocol 2+, torch.save zip archive


def _check_file(path: Path) -> None:
    if not path.is_file():
        raise UsageError("checkpoint not found", file=path, fix="check the path")
    with open(path, "rb") as f:
        head = f.read(9)
    if len(head) < 9:
        raise UsageError("checkpoint is truncated or empty", file=path)
    # safetensors: an 8-byte little-endian header length, then the JSON header's "{". Only a
    # file without that shape is tested for pickle (a header length can start with 0x80).
    if head[8:9] != b"{" and head.startswith(_PICKLE_MAGIC):
        raise UsageError(
            "refusing a pickle/torch.save file: nmtkit loads only safetensors checkpoints",
            file=path,
            fix="convert it with safetensors or use a checkpoint written by nmtkit",
        )


def read_metadata(path: str | Path) -> dict[str, str]:
    """Metadata of an nmtkit safetensors file; clear errors for anything else."""
    from safetensors import safe_open

    path = Path(path)
    _check_file(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
    except Exception as exc:  # safetensors raises several types for corrupt headers
        raise UsageError(
            f"not a readable safetensors file ({type(exc).__name__}: {exc})",
            file=path,
            fix="the file may be truncated; use an earlier checkpoint",
        ) from None
    if FORMAT_KEY not in meta:
        raise UsageError("safetensors file is not an nmtkit checkpoint (no format key)", file=path)
    if meta[FORMAT_KEY] != FORMAT_VERSION:
        raise UsageError(
            f"checkpoint format {meta[FORMAT_KEY]} is not supported (this nmtkit reads "
            f"{FORMAT_VERSION})",
            file=path,
            fix="use the nmtkit version that wrote it",
        )
    return meta


def json_field(meta: dict[str, str], key: str, path: str | Path) -> Any:
    """Decode one JSON metadata value, naming the file and key if it is missing or broken."""
    try:
        return json.loads(meta[key])
    except (KeyError, json.JSONDecodeError):
        raise UsageError(
            f"checkpoint metadata field {key!r} missing or corrupt", file=path
        ) from None


def save_model(path: str | Path, model: nn.Module, metadata: dict[str, str]) -> None:
    """Atomically write a model's weights (shared/tied tensors handled) with metadata."""
    from safetensors.torch import save_model as st_save_model

    meta = {FORMAT_KEY: FORMAT_VERSION, "nmtkit.version": __version__, **metadata}
    atomic_write_with(path, lambda tmp: st_save_model(model, str(tmp), metadata=meta))


def load_weights(path: str | Path, model: nn.Module, device: str = "cpu") -> None:
    """Load weights into an already built model; every parameter must match exactly."""
    from safetensors.torch import load_model as st_load_model

    read_metadata(path)
    try:
        missing, unexpected = st_load_model(model, str(path), strict=False, device=device)
    except Exception as exc:
        raise UsageError(f"cannot load weights ({exc})", file=path) from None
    if missing or unexpected:
        raise UsageError(
            f"weights do not match the architecture (missing {sorted(missing)[:3]}, "
            f"unexpected {sorted(unexpected)[:3]})",
            file=path,
        )


def save_tensors(path: str | Path, tensors: dict[str, Tensor], metadata: dict[str, str]) -> None:
    """Atomically write plain tensors (trainer state, averaged weights) with metadata."""
    from safetensors.torch import save_file

    meta = {FORMAT_KEY: FORMAT_VERSION, "nmtkit.version": __version__, **metadata}
    tensors = {k: v.contiguous() for k, v in tensors.items()}
    atomic_write_with(path, lambda tmp: save_file(tensors, str(tmp), metadata=meta))


def load_tensors(path: str | Path, device: str = "cpu") -> tuple[dict[str, Tensor], dict[str, str]]:
    """All tensors and metadata of an nmtkit safetensors file."""
    from safetensors.torch import load_file

    meta = read_metadata(path)
    try:
        return load_file(str(path), device=device), meta
    except Exception as exc:
        raise UsageError(f"cannot read tensors ({exc})", file=path) from None
