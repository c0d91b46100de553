import dataclasses

import pytest
from torch import nn

from nmtkit.config import ConfigBase, option
from nmtkit.errors import UsageError
from nmtkit.registry import Registry


class Base(nn.Module):
    pass


@dataclasses.dataclass(frozen=True, kw_only=True)
class ToyConfig(ConfigBase):
    size: int = option(4, help="Size.")
    kind: str = option("a", help="Kind.")


def make_registry() -> Registry:
    reg: Registry = Registry("toy", Base)

    @reg.register("alpha", config=ToyConfig, aliases=("a", "first"))
    class Alpha(Base):
        """The first toy."""

        def __init__(self, config: ToyConfig, *, width: int) -> None:
            super().__init__()
            self.config, self.width = config, width

    return reg


def test_registry_resolves_names_and_aliases_and_builds():
    reg = make_registry()
    assert reg.names() == ["alpha"]
    assert reg.choices() == ["a", "alpha", "first"]
    assert reg.canonical("first") == "alpha"
    assert reg.entry("a").help == "The first toy."
    built = reg.build("a", ToyConfig(size=7), width=3)
    assert (built.config.size, built.width) == (7, 3)
    assert "first" in reg and "beta" not in reg


def test_registry_refuses_duplicate_name_and_alias():
    reg = make_registry()
    with pytest.raises(ValueError, match="already registered"):
        reg.register("alpha", config=ToyConfig)(type("B", (Base,), {}))
    with pytest.raises(ValueError, match="'first' is already registered"):
        reg.register("beta", config=ToyConfig, aliases=("first",))(type("B", (Base,), {}))


def test_registry_refuses_wrong_base_class():
    reg = make_registry()
    with pytest.raises(TypeError, match="must subclass Base"):
        reg.register("beta", config=ToyConfig)(type("B", (nn.Module,), {}))


def test_registry_refuses_field_without_help_and_non_config_class():
    reg = make_registry()

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class NoHelp(ConfigBase):
        size: int = 3

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class NotAConfig:
        size: int = option(3, help="x")

    with pytest.raises(TypeError, match="needs help text"):
        reg.register("beta", config=NoHelp)(type("B", (Base,), {}))
    with pytest.raises(TypeError, match="frozen"):
        reg.register("gamma", config=NotAConfig)(type("C", (Base,), {}))


def test_unknown_name_suggests_closest():
    reg = make_registry()
    with pytest.raises(UsageError, match="did you mean 'alpha'"):
        reg.canonical("alpah")


def test_alias_added_later_resolves_lists_and_carries_its_implications():
    reg = make_registry()
    reg.alias("paper", "alpha", implies={"decoder": "beta"})
    assert reg.canonical("paper") == "alpha" and "paper" in reg.choices()
    assert reg.aliases("alpha") == ["a", "first", "paper"]
    assert reg.implied("paper") == {"decoder": "beta"} and reg.implied("a") == {}
    with pytest.raises(ValueError, match="'paper' is already registered"):
        reg.alias("paper", "alpha")
    with pytest.raises(ValueError, match="unknown target 'omega'"):
        reg.alias("other", "omega")


def test_architecture_registry_normalises_keys_and_refuses_bad_entries():
    from nmtkit.registry import ArchitectureRegistry

    archs = ArchitectureRegistry()
    arch = archs.register("small", help="Small.", sets={"emb_size": 8, "encoder-cell": "gru"})
    assert dict(arch.sets) == {"emb-size": 8, "encoder-cell": "gru"}
    assert archs.names() == ["small"] and "small" in archs and archs.get("small") is arch
    with pytest.raises(TypeError):
        arch.sets["emb-size"] = 9  # type: ignore[index]  (read-only)
    with pytest.raises(ValueError, match="already registered"):
        archs.register("small", help="Again.", sets={})
    with pytest.raises(TypeError, match="needs help text"):
        archs.register("bare", help="", sets={})
    for bad in ({"arch": "small"}, {"--lr": 1.0}, {"lr": None}):
        with pytest.raises(TypeError, match="bad option"):
            archs.register("bad", help="Bad.", sets=bad)
    with pytest.raises(UsageError, match=r"unknown architecture 'smal'.*did you mean 'small'"):
        archs.get("smal")
