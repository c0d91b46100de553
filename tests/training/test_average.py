"""`nmtkit average`: the result is the element-wise mean and loads as a model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from nmtkit.cli import build_app
from nmtkit.errors import UsageError
from nmtkit.io.checkpoint import load_tensors, read_metadata
from nmtkit.models.build import model_from_checkpoint
from nmtkit.training.average import average_checkpoints
from tests.training.conftest import tiny_model_config, train


@pytest.fixture(scope="module")
def run_dir(tiny_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    save = tmp_path_factory.mktemp("avg") / "save"
    # tied embeddings: the averaged file must keep safetensors' shared-tensor layout
    train(tiny_data_dir, save, model_config=tiny_model_config(tie_embeddings=True),
          max_steps=4, validate_every=2, keep_last=2, lr=1e-2)  # fmt: skip
    return save


def test_average_cli_writes_mean_of_tensors(run_dir: Path, tmp_path: Path) -> None:
    a, b = run_dir / "checkpoint_step2.safetensors", run_dir / "checkpoint_step4.safetensors"
    out = tmp_path / "avg.safetensors"
    result = CliRunner().invoke(build_app(), ["average", str(a), str(b), "-o", str(out)])
    assert result.exit_code == 0, result.output
    ta, _ = load_tensors(a)
    tb, _ = load_tensors(b)
    avg, _ = load_tensors(out)
    assert avg.keys() == ta.keys()
    assert any(not torch.equal(ta[k], tb[k]) for k in ta)
    for k in ta:
        torch.testing.assert_close(avg[k], (ta[k] + tb[k]) / 2, rtol=0, atol=1e-7)
    model, meta = model_from_checkpoint(out)
    assert meta["model_config"] == read_metadata(b)["model_config"]
    assert (tmp_path / "tokenizer.json").is_file()  # self-contained for translate
    assert model.generator.out.weight is model.embeddings.tgt.weight


def test_average_refuses_different_architectures(
    run_dir: Path, tiny_data_dir: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    train(tiny_data_dir, other, model_config=tiny_model_config(emb_size=8), max_steps=1)
    with pytest.raises(UsageError, match="different architecture"):
        average_checkpoints(
            [run_dir / "checkpoint_last.safetensors", other / "checkpoint_last.safetensors"],
            tmp_path / "x.safetensors",
        )
    with pytest.raises(UsageError, match="at least two"):
        average_checkpoints([run_dir / "checkpoint_last.safetensors"], tmp_path / "x.safetensors")


def test_checkpoint_avg_at_the_end_is_the_mean_of_the_kept_checkpoints(
    tiny_data_dir: Path, tmp_path: Path
) -> None:
    save = tmp_path / "save"
    out = train(tiny_data_dir, save, max_steps=6, validate_every=2, keep_last=2, lr=1e-2)
    assert "averaged 2 step checkpoints into checkpoint_avg.safetensors" in out
    kept = sorted(p.name for p in save.glob("checkpoint_step*.safetensors"))
    assert kept == ["checkpoint_step4.safetensors", "checkpoint_step6.safetensors"]
    four, _ = load_tensors(save / kept[0])
    six, _ = load_tensors(save / kept[1])
    avg, _ = load_tensors(save / "checkpoint_avg.safetensors")
    assert avg.keys() == four.keys()
    for name in avg:  # computed here independently: float64 mean, cast to float32
        mean = ((four[name].double() + six[name].double()) / 2).to(four[name].dtype)
        assert torch.equal(avg[name], mean), name
    assert not torch.equal(avg[name], six[name])  # not a copy of the last one
    model_from_checkpoint(save / "checkpoint_avg.safetensors")
