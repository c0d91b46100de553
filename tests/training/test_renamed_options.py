"""A renamed option keeps old checkpoints and runs loading: `attention_size` (0.1.0, flag
`--attention-attention-size`) is now `size` (`--attention-size`) of the concat and multihead
scorers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nmtkit.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]
OLD_CHECKPOINT = ROOT / "tests/fixtures/compat/v0.1.0/models/gru_bahdanau_concat.safetensors"


def test_scorer_configs_read_the_former_field_name():
    from nmtkit.models import ATTENTION

    for name in ("concat", "multihead"):
        config_cls = ATTENTION.entry(name).config_cls
        assert config_cls.from_dict({"attention_size": 8}).size == 8
        with pytest.raises(UsageError, match="former name of size"):
            config_cls.from_dict({"attention_size": 8, "size": 16})


def test_flag_reads_attention_size():
    from nmtkit.flags import registry_flags
    from nmtkit.models import ATTENTION

    flags = {spec.flag for spec in registry_flags(ATTENTION)}
    assert "--attention-size" in flags and "--attention-attention-size" not in flags


def test_a_0_1_0_checkpoint_with_the_old_field_name_loads_with_it(tmp_path):
    """The stored 0.1.0 checkpoint says attention_size; it loads, and its scorer has that size."""
    from nmtkit.io.checkpoint import read_metadata
    from nmtkit.models.build import model_from_checkpoint

    stored = json.loads(read_metadata(OLD_CHECKPOINT)["model_config"])
    assert stored["attention_options"] == {"attention_size": 256}  # the fixture is really old
    model, _ = model_from_checkpoint(OLD_CHECKPOINT)
    assert model.config.attention_options == {"size": 256}
    assert model.decoder.scorer.v.in_features == 256


def _rename_back(path: Path, key: str) -> None:
    """Rewrite a file's stored model config as 0.1.0 wrote it (attention_size)."""
    from nmtkit.io.checkpoint import load_tensors, save_tensors

    tensors, meta = load_tensors(path)
    meta = {k: v for k, v in meta.items() if not k.startswith("nmtkit.")}
    record = json.loads(meta[key])
    config = record["model_config"] if key == "progress" else record
    options = config["attention_options"]
    options["attention_size"] = options.pop("size")
    meta[key] = json.dumps(record)
    save_tensors(path, tensors, meta)


@pytest.mark.slow
def test_resume_of_a_run_stored_with_the_old_field_name(tiny_data_dir, tmp_path):
    """`--resume` reads the run's options (trainer state) and checks the architecture against
    them: both understand the former name, through the real CLI."""
    from nmtkit.io.checkpoint import read_metadata
    from nmtkit.training.state import STATE_FILE

    save = tmp_path / "run"
    tiny = ["--emb-size", "16", "--encoder-hidden-size", "8", "--decoder-hidden-size", "16",
            "--encoder-layers", "1", "--decoder-layers", "1", "--attention", "concat",
            "--decoder", "bahdanau", "--attention-size", "12", "--batch-size", "64",
            "--device", "cpu", "--precision", "fp32", "--threads", "1"]  # fmt: skip
    cmd = [sys.executable, "-m", "nmtkit", "train", str(tiny_data_dir), "--save-dir", str(save)]
    first = subprocess.run([*cmd, *tiny, "--max-steps", "1"], capture_output=True, text=True,
                           timeout=300)  # fmt: skip
    assert first.returncode == 0, first.stderr
    _rename_back(save / STATE_FILE, "progress")
    _rename_back(save / "checkpoint_last.safetensors", "model_config")
    resumed = subprocess.run([*cmd, "--resume", "--max-steps", "2"], capture_output=True,
                             text=True, timeout=300)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    meta = read_metadata(save / "checkpoint_last.safetensors")
    assert meta["step"] == "2"
    assert json.loads(meta["model_config"])["attention_options"] == {"size": 12}
