"""Checkpoint files: pickle is refused, any safetensors header length is accepted."""

import pickle

import pytest
import torch

from nmtkit.errors import UsageError
from nmtkit.io.checkpoint import load_tensors, read_metadata, save_tensors


def test_header_length_starting_with_pickle_byte_is_still_safetensors(tmp_path):
    # Grow the metadata until the 8-byte header length's low byte is 0x80, the pickle opcode.
    path = tmp_path / "ckpt.safetensors"
    for pad in range(300):
        save_tensors(path, {"w": torch.ones(2)}, {"pad": "x" * pad})
        if path.read_bytes()[0] == 0x80:
            break
    assert path.read_bytes()[0] == 0x80
    tensors, meta = load_tensors(path)
    assert torch.equal(tensors["w"], torch.ones(2)) and set(meta["pad"]) <= {"x"}


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_pickle_files_are_refused_without_unpickling(tmp_path, protocol):
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"w": [1, 2]}, protocol=protocol))
    with pytest.raises(UsageError, match="refusing a pickle"):
        read_metadata(path)


def test_torch_save_zip_is_refused(tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(1)}, path)
    with pytest.raises(UsageError, match="refusing a pickle"):
        read_metadata(path)


def test_truncated_file_is_a_usage_error(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    save_tensors(path, {"w": torch.ones(64)}, {})
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(UsageError):
        read_metadata(path)
