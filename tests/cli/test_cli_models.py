import json

from typer.testing import CliRunner

from nmtkit.cli import build_app
from nmtkit.models import ARCHITECTURES, ATTENTION, DECODERS, ENCODERS


def test_models_json_lists_every_registered_component_with_defaults():
    result = CliRunner().invoke(build_app(["models"]), ["models", "--json"])
    assert result.exit_code == 0, result.output
    rows = [r for r in json.loads(result.output) if r["kind"] not in ("arch", "combination")]
    listed = {(r["kind"], r["name"]) for r in rows}
    expected = {(reg.kind, e.name) for reg in (ENCODERS, ATTENTION, DECODERS) for e in reg}
    assert listed == expected
    general = next(r for r in rows if r["name"] == "general")
    assert set(general["aliases"]) == {"bilinear", "multiplicative"}
    concat = next(r for r in rows if r["name"] == "concat")
    assert concat["implies"] == {"bahdanau": {"decoder": "bahdanau"}}
    for row in rows:
        entry = {"encoder": ENCODERS, "attention": ATTENTION, "decoder": DECODERS}[
            row["kind"]].entry(row["name"])
        defaults = entry.config_cls()
        for opt in row["options"]:
            field = opt["flag"].split("-", 3)[-1].replace("-", "_")
            assert opt["default"] == getattr(defaults, field), opt["flag"]


def test_models_table_shows_names_and_flags():
    result = CliRunner().invoke(build_app(["models"]), ["models"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for name in ("rnn", "concat", "bahdanau"):
        assert name in result.output


def test_models_lists_every_architecture_with_what_it_sets():
    result = CliRunner().invoke(build_app(["models"]), ["models", "--json"])
    archs = {r["name"]: r for r in json.loads(result.output) if r["kind"] == "arch"}
    assert set(archs) == set(ARCHITECTURES.names()) >= {"default", "bahdanau", "luong", "rnn-base"}
    for name, row in archs.items():
        assert row["sets"] == dict(ARCHITECTURES.get(name).sets)
    assert archs["bahdanau"]["model"].startswith("rnn encoder (bi-GRU 1x256) → concat scorer")
    assert "bahdanau decoder (GRU 1x512, attends with s_{t-1}" in archs["bahdanau"]["model"]
    assert archs["default"]["sets"] == {}
    table = CliRunner().invoke(build_app(["models"]), ["models"], env={"COLUMNS": "200"})
    assert "--decoder-input-feeding" in table.output and "rnn-base" in table.output
