import dataclasses
from typing import Literal

import pytest
import typer
from torch import nn
from typer.testing import CliRunner

from nmtkit.cli.options import with_flags
from nmtkit.config import ConfigBase, option
from nmtkit.errors import UsageError
from nmtkit.flags import collect, config_flags, read_toml, registry_flags
from nmtkit.registry import Registry


class Part(nn.Module):
    pass


@dataclasses.dataclass(frozen=True, kw_only=True)
class LuongLike(ConfigBase):
    cell: Literal["gru", "lstm"] = option("gru", help="RNN cell.")
    input_feeding: bool = option(True, help="Feed attentional state back.")


@dataclasses.dataclass(frozen=True, kw_only=True)
class PlainLike(ConfigBase):
    cell: Literal["gru", "lstm"] = option("gru", help="RNN cell.")


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainLike(ConfigBase):
    lr: float = option(1e-3, help="Learning rate.")
    max_steps: int | None = option(None, help="Step budget.")


def decoders() -> Registry:
    reg: Registry = Registry("decoder", Part)
    reg.register("luong", config=LuongLike)(type("L", (Part,), {}))
    reg.register("plain", config=PlainLike)(type("P", (Part,), {}))
    return reg


def test_shared_field_becomes_one_flag_with_all_owners():
    specs = {s.flag: s for s in registry_flags(decoders())}
    assert set(specs) == {"--decoder-cell", "--decoder-input-feeding"}
    assert specs["--decoder-cell"].owners == ("luong", "plain")
    assert specs["--decoder-input-feeding"].owners == ("luong",)


def test_conflicting_field_types_are_refused():
    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Other(ConfigBase):
        cell: int = option(1, help="Not a cell name.")

    reg = decoders()
    reg.register("odd", config=Other)(type("O", (Part,), {}))
    with pytest.raises(TypeError, match="field 'cell'"):
        registry_flags(reg)


def run_cli(args: list[str]) -> tuple[int, dict]:
    seen: dict = {}
    specs = registry_flags(decoders()) + config_flags(TrainLike, group="train")

    def cmd(**kwargs) -> None:
        seen.update(collect(specs, kwargs, {}, "flags"))

    app = typer.Typer()
    app.command()(with_flags(cmd, [("Options", specs)]))
    app.command("other")(lambda: None)
    result = CliRunner().invoke(app, ["cmd", *args])
    return result.exit_code, seen


def test_generated_flags_parse_into_groups_and_unset_flags_stay_unset():
    code, seen = run_cli(["--decoder-cell", "lstm", "--no-decoder-input-feeding", "--lr", "0.5"])
    assert code == 0
    assert seen == {"decoder": {"cell": "lstm", "input_feeding": False}, "train": {"lr": 0.5}}
    code, seen = run_cli([])
    assert code == 0 and seen == {}


def test_literal_flag_refuses_bad_choice():
    code, _ = run_cli(["--decoder-cell", "rnn"])
    assert code == 2


def test_flags_override_toml_and_unknown_toml_keys_fail(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('lr = 0.1\nmax_steps = 5\n[decoder]\ncell = "lstm"\n')
    toml = read_toml(path)
    specs = registry_flags(decoders()) + config_flags(TrainLike, group="train")
    got = collect(specs, {"train__lr": 0.2}, toml, str(path))
    assert got == {"train": {"lr": 0.2, "max_steps": 5}, "decoder": {"cell": "lstm"}}
    path.write_text("learning_rate = 0.1\n")
    with pytest.raises(UsageError, match="learning-rate"):
        collect(specs, {}, read_toml(path), str(path))


def test_bad_toml_is_a_usage_error(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("lr = = 1")
    with pytest.raises(UsageError, match="invalid TOML"):
        read_toml(path)
    with pytest.raises(UsageError, match="not found"):
        read_toml(tmp_path / "missing.toml")
