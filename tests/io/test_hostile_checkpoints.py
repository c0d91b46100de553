"""A checkpoint is data from a stranger: every damaged or hostile variant of a real checkpoint
gives one line naming the file and what is wrong, reads no tensor data when the header or
metadata is already wrong, allocates nothing a config merely asks for, and never runs code."""

from __future__ import annotations

import json
import struct
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from nmtkit.errors import UsageError

SOURCE = (Path(__file__).resolve().parent.parent / "fixtures" / "compat" / "v0.1.0" / "models"
          / "gru_bahdanau_concat.safetensors")  # fmt: skip
RAW = SOURCE.read_bytes()
HEADER_LEN = struct.unpack("<Q", RAW[:8])[0]
HEADER = json.loads(RAW[8 : 8 + HEADER_LEN])
DATA = RAW[8 + HEADER_LEN :]
TENSORS = load_file(str(SOURCE))
with safe_open(str(SOURCE), "pt") as _f:
    META: dict[str, str] = _f.metadata()
MODEL_CONFIG = json.loads(META["model_config"])
FIRST = sorted(TENSORS)[0]


def raw(data: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(data)


def header(h: dict) -> Callable[[Path], None]:
    text = json.dumps(h).encode()
    return raw(struct.pack("<Q", len(text)) + text + DATA)


def resave(tensors: dict | None = None, **meta: str) -> Callable[[Path], None]:
    return lambda path: save_file(tensors or TENSORS, str(path), metadata={**META, **meta})


def config(**changes: object) -> Callable[[Path], None]:
    return resave(model_config=json.dumps({**MODEL_CONFIG, **changes}))


def tensor(value: torch.Tensor | None, name: str = FIRST) -> Callable[[Path], None]:
    tensors = {k: v for k, v in TENSORS.items() if k != name}
    return resave(tensors if value is None else {**tensors, name: value})


# (case, writer, words the one-line error must contain, metadata-level: no tensor data read)
CASES = [
    ("huge header length", raw(struct.pack("<Q", 2**62) + b"{}"), "header too large", True),
    ("header past the end", raw(struct.pack("<Q", 10**6) + RAW[8:2000]), "header", True),
    ("truncated data", raw(RAW[:-1000]), "not a readable safetensors file", True),
    ("empty file", raw(b""), "truncated or empty", True),
    ("non-object JSON", raw(struct.pack("<Q", 5) + b"[1,2]"), "invalid JSON", True),
    ("broken JSON", raw(struct.pack("<Q", 5) + b"{abc}"), "invalid JSON", True),
    ("metadata value not a string",
     header({**HEADER, "__metadata__": {**HEADER["__metadata__"], "step": 3}}), "expected a string",
     True),
    ("model_config not an object", resave(model_config="[]"), "'model_config' is not an object",
     True),
    ("model_config not JSON", resave(model_config="{"), "'model_config' missing or corrupt", True),
    ("model_config wrong type", config(emb_size="big"), "emb_size expects int", True),
    ("model_config unknown field", config(colour="red"), "unknown option(s) colour", True),
    ("unknown encoder", config(encoder="evil_encoder"), "encoder 'evil_encoder' is not a "
     "registered component", True),
    ("unknown scorer that looks like code", config(attention="os:system"),
     "attention 'os:system' is not a registered component", True),
    ("unknown decoder", config(decoder="__import__('os')"), "--user-dir", True),
    ("unknown format version", resave(**{"nmtkit.format": "99"}), "format 99 is not supported",
     True),
    ("huge vocabulary in the config", config(src_vocab_size=10**12),
     "the model needs float32 [1000000000000, 16]", True),
    ("shape mismatch", tensor(torch.zeros(3, 3)), f"tensor {FIRST!r} is float32 [3, 3]", True),
    ("float16 tensor", tensor(TENSORS[FIRST].half()), f"tensor {FIRST!r} is float16", True),
    ("integer tensor", tensor(TENSORS[FIRST].long()), f"tensor {FIRST!r} is int64", True),
    ("missing tensor", tensor(None), f"missing [{FIRST!r}]", False),
    ("extra tensor", resave({**TENSORS, "evil.weight": torch.zeros(2)}),
     "unexpected tensor 'evil.weight'", True),
    ("NaN weights", tensor(torch.full_like(TENSORS[FIRST], float("nan"))), "NaN or infinite",
     False),
    ("inf weights", tensor(torch.full_like(TENSORS[FIRST], float("inf"))), "NaN or infinite",
     False),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "write", "words", "header_only"), CASES, ids=[c[0] for c in CASES]
)
def test_damaged_checkpoint_is_one_line_naming_the_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str, write, words: str, header_only: bool
) -> None:
    from nmtkit.models import build

    path = tmp_path / "hostile.safetensors"
    write(path)
    if header_only:  # refused from the header and metadata alone: no tensor data is loaded
        monkeypatch.setattr(build, "load_weights", lambda *a, **k: pytest.fail("data read"))
    modules = set(sys.modules)
    with pytest.raises(UsageError) as info:
        build.model_from_checkpoint(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(path)), message
    assert words in message, message
    assert not {m for m in set(sys.modules) - modules if "evil" in m or m == "os:system"}


def test_the_undamaged_source_loads() -> None:
    from nmtkit.models.build import model_from_checkpoint

    model, _ = model_from_checkpoint(SOURCE)
    assert sum(p.numel() for p in model.parameters()) > 0


def test_unknown_component_through_the_cli_names_user_dir(tmp_path: Path) -> None:
    import shutil
    import subprocess

    save = tmp_path / "model"
    save.mkdir()
    for name in ("spm.model", "tokenizer.json"):
        shutil.copy(SOURCE.parent.parent / "data" / name, save / name)
    config(decoder="my_plugin_decoder")(save / "ckpt.safetensors")
    done = subprocess.run(
        [sys.executable, "-m", "nmtkit", "translate", "-c", str(save / "ckpt.safetensors")],
        input="A man.\n", capture_output=True, text=True, check=False,
    )  # fmt: skip
    errors = [line for line in done.stderr.splitlines() if "error" in line]
    assert done.returncode == 2 and len(errors) == 1, done.stderr
    assert "decoder 'my_plugin_decoder'" in errors[0] and "--user-dir" in errors[0]
    assert done.stdout == ""
