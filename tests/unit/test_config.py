import dataclasses
from typing import Literal

import pytest

from nmtkit.config import ConfigBase, option
from nmtkit.errors import UsageError


@dataclasses.dataclass(frozen=True, kw_only=True)
class Cfg(ConfigBase):
    cell: Literal["gru", "lstm"] = option("gru", help="Cell.")
    layers: int = option(1, help="Layers.")
    dropout: float = option(0.1, help="Dropout.")
    bidirectional: bool = option(True, help="Both directions.")
    max_time: str | None = option(None, help="Budget.")


def test_from_dict_round_trips_and_converts_int_to_float():
    cfg = Cfg.from_dict({"cell": "lstm", "layers": 2, "dropout": 0})
    assert cfg == Cfg(cell="lstm", layers=2, dropout=0.0)
    assert isinstance(cfg.dropout, float)
    assert Cfg.from_dict(cfg.to_dict()) == cfg
    assert '"cell": "lstm"' in cfg.to_json()


def test_from_dict_rejects_unknown_keys_naming_them_and_source():
    with pytest.raises(UsageError) as err:
        Cfg.from_dict({"cel": "gru"}, source="ckpt.safetensors")
    assert "cel" in str(err.value) and "ckpt.safetensors" in str(err.value)


@pytest.mark.parametrize(
    ("values", "needle"),
    [
        ({"cell": "rnn"}, "choose from gru, lstm"),
        ({"layers": "2"}, "expects int"),
        ({"layers": True}, "expects int"),
        ({"bidirectional": 1}, "expects bool"),
        ({"layers": None}, "may not be empty"),
    ],
)
def test_from_dict_rejects_ill_typed_values(values, needle):
    with pytest.raises(UsageError, match=needle):
        Cfg.from_dict(values)


def test_optional_field_accepts_none():
    assert Cfg.from_dict({"max_time": None}).max_time is None
