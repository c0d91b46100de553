"""Model registries: built-ins present; duplicates, wrong bases, undocumented fields refused."""

from __future__ import annotations

import dataclasses

import pytest

from nmtkit.config import ConfigBase, option
from nmtkit.errors import UsageError
from nmtkit.models import ATTENTION, DECODERS, ENCODERS
from nmtkit.models.attention.concat import ConcatConfig
from nmtkit.models.base import Decoder, Scorer
from nmtkit.registry import Registry


def test_builtin_components_are_registered():
    assert ENCODERS.names() == ["rnn", "transformer"]
    assert set(ATTENTION.names()) >= {
        "dot", "general", "concat", "scaled-dot", "location", "multihead"
    }
    assert set(DECODERS.names()) >= {"bahdanau", "luong", "plain", "transformer"}


@dataclasses.dataclass(frozen=True, kw_only=True)
class ToyConfig(ConfigBase):
    size: int = option(3, help="a size")


@dataclasses.dataclass(frozen=True, kw_only=True)
class UndocumentedConfig(ConfigBase):
    size: int = 3


class ToyScorer(Scorer):
    pass


def test_registering_a_duplicate_name_or_alias_is_refused():
    with pytest.raises(ValueError, match="already registered"):
        ATTENTION.register("concat", config=ToyConfig)(ToyScorer)
    with pytest.raises(ValueError, match="already registered"):
        ATTENTION.register("toy", config=ToyConfig, aliases=("mlp",))(ToyScorer)
    assert "toy" not in ATTENTION


def test_registering_the_wrong_base_class_is_refused():
    registry: Registry[Scorer] = Registry("attention", Scorer)
    with pytest.raises(TypeError, match="must subclass Scorer"):
        registry.register("toy", config=ToyConfig)(Decoder)


def test_registering_a_field_without_help_is_refused():
    registry: Registry[Scorer] = Registry("attention", Scorer)
    with pytest.raises(TypeError, match="needs help"):
        registry.register("toy", config=UndocumentedConfig)(ToyScorer)


def test_a_new_scorer_is_one_registration_away():
    registry: Registry[Scorer] = Registry("attention", Scorer)
    registry.register("toy", config=ToyConfig, aliases=("plaything",))(ToyScorer)
    assert registry.entry("plaything").cls is ToyScorer
    built = registry.build("toy", ToyConfig(), query_size=2, key_size=3)
    assert isinstance(built, ToyScorer) and built.key_size == 3


def test_unknown_name_is_a_usage_error_listing_choices():
    with pytest.raises(UsageError, match=r"valid:.*concat"):
        ATTENTION.entry("nope")
    assert ConcatConfig().size > 0
