"""`nmtkit train ... --resume` through the real CLI: the original command plus --resume works;
omitted flags keep the run's options; a repeated architecture value must equal the run's, and a
differing one is refused in one line naming the flag and both values."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from nmtkit.cli import main
from nmtkit.io.checkpoint import FORMAT_KEY, FORMAT_VERSION, read_metadata
from nmtkit.training.state import STATE_FILE

TINY = [
    "--batch-size", "32", "--threads", "1", "--device", "cpu", "--precision", "fp32",
    "--warmup-steps", "0", "--lr", "0.01", "--log-every", "1", "--max-epochs", "0",
    "--emb-size", "16", "--encoder-hidden-size", "16", "--attention-size", "16",
    "--decoder-hidden-size", "24", "--cell", "gru",
]  # fmt: skip


def nmtkit(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run the CLI in-process; (exit code, stderr)."""
    with pytest.raises(SystemExit) as info:
        main([str(a) for a in argv])
    _, err = capsys.readouterr()
    return int(info.value.code or 0), err


def stored(save: Path) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    meta = read_metadata(save / "checkpoint_last.safetensors")
    return json.loads(meta["model_config"]), json.loads(meta["train_config"]), meta


def train_steps(save: Path) -> list[int]:
    lines = (save / "metrics.jsonl").read_text().splitlines()
    return [r["step"] for r in map(json.loads, lines) if r["kind"] == "train"]


def refused(code: int, err: str, *needles: str) -> None:
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("nmtkit: error: "), err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert "config" not in lines[0].replace("--config", ""), lines[0]


@pytest.fixture(scope="module")
def original_run(tiny_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    save = tmp_path_factory.mktemp("original") / "save"
    with pytest.raises(SystemExit) as info:
        main([str(a) for a in ORIGINAL(tiny_data_dir, save)] + ["--max-steps", "2"])
    assert info.value.code in (0, None)
    return save


def ORIGINAL(data: Path, save: Path) -> list:
    return ["train", data, "--save-dir", save, "--attention", "bahdanau", *TINY]


@pytest.fixture()
def first_run(original_run: Path, tiny_data_dir: Path, tmp_path: Path) -> list:
    """The original command (attention bahdanau, sizes, max 2 steps), already run once."""
    shutil.copytree(original_run, tmp_path / "save")
    return ORIGINAL(tiny_data_dir, tmp_path / "save")


def test_resume_accepts_the_original_command_plus_resume(
    first_run: list, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = nmtkit([*first_run, "--max-steps", "4", "--resume"], capsys)
    assert code == 0, err
    save = tmp_path / "save"
    model, train, _ = stored(save)
    assert (model["attention"], model["decoder"]) == ("concat", "bahdanau")
    assert train["max_steps"] == 4  # budgets may change
    assert train_steps(save) == [1, 2, 3, 4]
    assert "changed: max-steps 2 → 4" in err


def test_resume_without_flags_continues_with_the_runs_options(
    first_run: list, tiny_data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    save = tmp_path / "save"
    code, err = nmtkit(["train", tiny_data_dir, "--save-dir", save, "--max-steps", "3",
                        "--resume"], capsys)  # fmt: skip
    assert code == 0, err
    model, train, _ = stored(save)
    assert (model["emb_size"], model["decoder_options"]["hidden_size"]) == (16, 24)
    assert model["encoder_options"]["cell"] == model["decoder_options"]["cell"] == "gru"
    assert (train["lr"], train["batch_size"], train["max_steps"]) == (0.01, 32, 3)
    assert train_steps(save) == [1, 2, 3]


@pytest.mark.parametrize(
    ("change", "needles"),
    [
        (["--attention", "dot"], ["--attention dot differs from the run's concat"]),
        (["--decoder", "luong"], ["--decoder luong differs from the run's bahdanau"]),
        (["--decoder-hidden-size", "32"], ["--decoder-hidden-size 32 differs from the run's 24"]),
        (["--cell", "lstm"], ["--cell lstm differs from the run's gru"]),
        (["--no-encoder-bidirectional"],
         ["--no-encoder-bidirectional differs from the run's --encoder-bidirectional"]),
    ],
)  # fmt: skip
def test_resume_refuses_a_different_architecture_value_naming_both(
    first_run: list, tmp_path: Path, capsys: pytest.CaptureFixture[str], change, needles
) -> None:
    before = (tmp_path / "save" / STATE_FILE).read_bytes()
    code, err = nmtkit([*first_run, *change, "--max-steps", "4", "--resume"], capsys)
    refused(code, err, "--resume: ", *needles)
    assert (tmp_path / "save" / STATE_FILE).read_bytes() == before


def test_resume_with_the_same_config_file_and_refusal_of_a_changed_one(
    tiny_data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    toml = tmp_path / "run.toml"
    toml.write_text('attention = "additive"\ndecoder = "bahdanau"\ncell = "gru"\n'
                    'attention-size = 16\ndecoder_hidden_size = 24\n'
                    '[encoder]\nhidden_size = 16\n')  # fmt: skip
    save = tmp_path / "save"
    command = ["train", tiny_data_dir, "--save-dir", save, "--config", toml, *TINY[:-8]]
    assert nmtkit([*command, "--max-steps", "1"], capsys)[0] == 0
    code, err = nmtkit([*command, "--max-steps", "2", "--resume"], capsys)
    assert code == 0, err
    assert train_steps(save) == [1, 2]
    toml.write_text('attention = "dot"\ndecoder = "bahdanau"\n')
    code, err = nmtkit([*command, "--max-steps", "3", "--resume"], capsys)
    refused(code, err, f"attention = 'dot' ({toml}) differs from the run's concat")


def test_resume_with_the_same_arch_and_refusal_of_another(
    tiny_data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    save = tmp_path / "save"
    command = ["train", tiny_data_dir, "--save-dir", save, "--arch", "bahdanau", *TINY[:-2]]
    assert nmtkit([*command, "--max-steps", "1"], capsys)[0] == 0
    code, err = nmtkit([*command, "--max-steps", "2", "--resume"], capsys)
    assert code == 0, err
    model, _, meta = stored(save)
    assert meta["arch"] == "bahdanau" and model["encoder_options"]["cell"] == "gru"
    code, err = nmtkit(["train", tiny_data_dir, "--save-dir", save, "--max-steps", "3",
                        "--resume"], capsys)  # fmt: skip
    assert code == 0, err
    assert stored(save)[2]["arch"] == "bahdanau"  # kept from the run
    code, err = nmtkit([*command, "--arch", "luong", "--max-steps", "4", "--resume"], capsys)
    refused(code, err, "--arch luong (attention general) differs from the run's concat")


def fake_run(save: Path, progress: Any) -> Path:
    """A save dir whose trainer state holds `progress` (and one tensor)."""
    import torch
    from safetensors.torch import save_file

    save.mkdir()
    meta = {FORMAT_KEY: FORMAT_VERSION, "progress": json.dumps(progress)}
    save_file({"x": torch.zeros(1)}, str(save / STATE_FILE), metadata=meta)
    return save


def test_resume_from_a_trainer_state_without_configs_is_refused(
    tiny_data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    save = fake_run(tmp_path / "save", {"model_config": [1, 2]})
    code, err = nmtkit(["train", tiny_data_dir, "--save-dir", save, "--resume"], capsys)
    refused(code, err, "trainer state holds no record of the run's options")


def test_resume_of_a_run_with_an_unloaded_plugin_component_says_how_to_load_it(
    tiny_data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = {"encoder": "rnn", "attention": "from-a-plugin", "decoder": "luong"}
    save = fake_run(tmp_path / "save", {"model_config": model, "train_config": {}})
    code, err = nmtkit(["train", tiny_data_dir, "--save-dir", save, "--resume"], capsys)
    refused(code, err, "unknown attention 'from-a-plugin'", "--user-dir", STATE_FILE)
