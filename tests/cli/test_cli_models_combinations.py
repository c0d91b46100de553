"""`nmtkit models` lists which encoder x scorer x decoder combinations build, and why not."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from nmtkit.cli import build_app
from nmtkit.models import ATTENTION, DECODERS, ENCODERS


def test_models_json_lists_every_combination_with_its_refusal_reason():
    result = CliRunner().invoke(build_app(["models"]), ["models", "--json"])
    assert result.exit_code == 0, result.output
    rows = [r for r in json.loads(result.output) if r["kind"] == "combination"]
    pairs = {(r["encoder"], r["decoder"]) for r in rows}
    assert pairs == {(e, d) for e in ENCODERS.names() for d in DECODERS.names()}
    combo = {(r["encoder"], r["attention"], r["decoder"]): r for r in rows}
    assert combo["transformer", "multihead", "transformer"]["valid"]
    assert combo["rnn", "concat", "transformer"]["valid"]
    refused = combo["rnn", "dot", "transformer"]  # 2x256 RNN states, d 256 queries
    assert not refused["valid"] and "--attention-project" in refused["reason"]
    assert all(r["valid"] for r in rows if r["attention"] == "concat")
    assert len(rows) == sum(
        len(ATTENTION.names()) if DECODERS.entry(d).cls.uses_attention else 1
        for d in DECODERS.names()
    ) * len(ENCODERS.names())
