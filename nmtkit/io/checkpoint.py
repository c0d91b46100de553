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
_DTYPES = {"F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16",
           "I64": "int64", "I32": "int32", "I16": "int16", "I8": "int8", "U8": "uint8",
           "BOOL": "bool"}  # safetensors dtype names → torch attribute names
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
            fix="the file is truncated, damaged or not a checkpoint; use an earlier checkpoint",
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


def check_tensors(path: str | Path, model: nn.Module) -> None:
    """Compare the file's tensor names, shapes and dtypes (read from its header only, no data)
    with `model`'s, which may live on the meta device; one line naming the first mismatch."""
    import torch
    from safetensors import safe_open

    expected = model.state_dict()
    with safe_open(str(path), framework="pt") as f:
        for name in sorted(f.keys()):
            if name not in expected:
                raise UsageError(f"weights do not match the architecture: unexpected tensor "
                                 f"{name!r}", file=path)  # fmt: skip
            info = f.get_slice(name)
            shape, want = list(info.get_shape()), expected[name]
            dtype = getattr(torch, _DTYPES.get(info.get_dtype(), ""), info.get_dtype())
            # Floating-point weights are stored in float32 whatever precision the model runs in
            # (translate may build it in bf16 and cast on load); other tensors as they are.
            need = torch.float32 if want.is_floating_point() else want.dtype
            if shape != list(want.shape) or dtype != need:
                raise UsageError(
                    f"weights do not match the architecture: tensor {name!r} is "
                    f"{str(dtype).removeprefix('torch.')} {shape}, the model needs "
                    f"{str(need).removeprefix('torch.')} {list(want.shape)}",
                    file=path,
                )


def check_finite(path: str | Path, model: nn.Module) -> None:
    """Refuse NaN/inf weights: such a model translates to garbage without any other sign."""
    import torch

    for name, tensor in model.state_dict().items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise UsageError(
                f"tensor {name!r} holds NaN or infinite values",
                file=path,
                fix="the run had diverged when this was written; use an earlier checkpoint",
            )


def load_weights(path: str | Path, model: nn.Module, device: str = "cpu") -> None:
    """Load weights into an already built model; every parameter must match exactly (names,
    shapes, dtypes) and be finite."""
    from safetensors.torch import load_model as st_load_model

    read_metadata(path)
    check_tensors(path, model)
    try:
        missing, unexpected = st_load_model(model, str(path), strict=False, device=device)
    except Exception as exc:
        message = " ".join(str(exc).split())  # torch's message spans lines
        raise UsageError(f"cannot load weights ({message})", file=path) from None
    if missing or unexpected:
        raise UsageError(
            f"weights do not match the architecture (missing {sorted(missing)[:3]}, "
            f"unexpected {sorted(unexpected)[:3]})",
            file=path,
        )
    check_finite(path, model)


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
