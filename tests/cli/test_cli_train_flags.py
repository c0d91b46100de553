"""Train flags are generated from the registries and configs."""

import dataclasses

from typer.testing import CliRunner

from nmtkit.cli import build_app
from nmtkit.models import ARCHITECTURES, ATTENTION, DECODERS, ENCODERS


def test_train_help_lists_every_component_option_and_architecture():
    result = CliRunner().invoke(build_app(["train"]), ["train", "--help"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    for registry in (ENCODERS, ATTENTION, DECODERS):
        for entry in registry:
            for f in dataclasses.fields(entry.config_cls):
                flag = f"--{registry.kind}-{f.name.replace('_', '-')}"
                assert flag in result.output, flag
    assert "(default: " in result.output
    assert "--arch" in result.output
    for name in ARCHITECTURES.names():
        assert name in result.output
