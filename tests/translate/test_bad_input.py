"""Each bad input gives one clear UsageError (or a warning naming the line), never a traceback."""

from __future__ import annotations

import json
import pickle

import pytest
import torch

from nmtkit.errors import UsageError
from nmtkit.io.checkpoint import load_tensors, save_tensors
from tests.translate.translate_helpers import translate_file


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA present: nothing to refuse")
def test_cuda_device_without_cuda_is_a_clear_error(tmp_path, tiny_checkpoint):
    with pytest.raises(UsageError, match="CUDA is not available"):
        translate_file(tmp_path, [tiny_checkpoint], ["a"], device="cuda")


def test_missing_checkpoint(tmp_path):
    with pytest.raises(UsageError, match="checkpoint not found"):
        translate_file(tmp_path, [tmp_path / "nope.safetensors"], ["a"])


def test_truncated_checkpoint(tmp_path, checkpoint_copy):
    data = checkpoint_copy.read_bytes()
    checkpoint_copy.write_bytes(data[: len(data) // 2])
    with pytest.raises(UsageError, match=r"truncated|not a readable safetensors"):
        translate_file(tmp_path, [checkpoint_copy], ["a"])


def test_pickle_checkpoint_is_refused_not_loaded(tmp_path, checkpoint_copy):
    marker = tmp_path / "unpickled"

    class Boom:
        def __reduce__(self):
            return (marker.touch, ())

    checkpoint_copy.write_bytes(pickle.dumps(Boom(), protocol=4))
    with pytest.raises(UsageError, match="refusing a pickle"):
        translate_file(tmp_path, [checkpoint_copy], ["a"])
    assert not marker.exists()


def test_safetensors_file_that_is_not_nmtkit(tmp_path, checkpoint_copy):
    from safetensors.torch import save_file

    tensors, _ = load_tensors(checkpoint_copy)
    save_file(tensors, str(checkpoint_copy), metadata={"format": "pt"})
    with pytest.raises(UsageError, match="not an nmtkit checkpoint"):
        translate_file(tmp_path, [checkpoint_copy], ["a"])


def test_missing_tokenizer(tmp_path, checkpoint_copy):
    (checkpoint_copy.parent / "tokenizer.json").unlink()
    with pytest.raises(UsageError, match=r"no tokenizer\.json beside the checkpoint"):
        translate_file(tmp_path, [checkpoint_copy], ["a"])


def test_tokenizer_not_matching_checkpoint(tmp_path, checkpoint_copy):
    tensors, meta = load_tensors(checkpoint_copy)
    identity = json.loads(meta["tokenizer"])
    identity["src_sha256"] = identity["tgt_sha256"] = "0" * 64
    save_tensors(checkpoint_copy, tensors, {**meta, "tokenizer": json.dumps(identity)})
    with pytest.raises(UsageError, match="not the one this checkpoint was trained with"):
        translate_file(tmp_path, [checkpoint_copy], ["a"])


def test_invalid_utf8_is_replaced_with_a_warning_naming_the_line(tmp_path, tiny_checkpoint):
    data = b"a dog runs\n\xff\xfe broken\nthe end\n"
    logs: list[str] = []
    out = translate_file(tmp_path, [tiny_checkpoint], data, logs=logs, beam=2)
    assert len(out) == 3
    warnings = [m for m in logs if "invalid UTF-8" in m]
    assert len(warnings) == 1 and ":2:" in warnings[0]


def test_invalid_utf8_with_strict_is_an_error_and_writes_nothing(tmp_path, tiny_checkpoint):
    data = b"a dog runs\n\xff\xfe broken\nthe end\n"
    with pytest.raises(UsageError, match=r":2: invalid UTF-8"):
        translate_file(tmp_path, [tiny_checkpoint], data, strict=True, chunk_size=1)
    assert not (tmp_path / "out.hyp").exists()  # atomic output: nothing half-written


def test_overlong_line_is_truncated_with_a_warning(tmp_path, tiny_checkpoint, source_lines):
    logs: list[str] = []
    lines = ["a", source_lines[0]]
    out = translate_file(tmp_path, [tiny_checkpoint], lines, logs=logs, max_source_len=3)
    assert len(out) == 2
    warnings = [m for m in logs if "truncated" in m]
    assert len(warnings) == 1 and ":2:" in warnings[0]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"beam": 0}, "--beam must be >= 1"),
        ({"beam": 2, "nbest": 3}, "exceeds the beam size"),
        ({"greedy": True, "sampling": True}, "exclude each other"),
        ({"temperature": 0.0}, "--temperature must be > 0"),
        ({"alignment_words": True}, "needs --alignment"),
        ({"batch_size": 0}, "--batch-size must be >= 1"),
    ],
)
def test_bad_options_are_refused_before_loading(tmp_path, flags, message):
    with pytest.raises(UsageError, match=message):
        translate_file(tmp_path, [tmp_path / "never-read.safetensors"], ["a"], **flags)
