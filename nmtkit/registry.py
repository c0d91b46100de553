"""Generic registries; they know nothing about NMT.

`Registry`: name → (class, typed config), one instance per component kind in `nmtkit.models`.
`ArchitectureRegistry`: name → a bundle of option values (fairseq's `--arch`), one instance,
`nmtkit.models.ARCHITECTURES`. These instances are the only module-level mutable state; flags,
help, `nmtkit models` and checkpoint rebuilds are all derived from their entries.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

from nmtkit.config import ConfigBase
from nmtkit.errors import UsageError

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Entry(Generic[T]):
    name: str
    cls: type[T]
    config_cls: type[ConfigBase]
    aliases: tuple[str, ...]
    help: str


class Registry(Generic[T]):
    """Components of one kind (e.g. "attention"), registered under a name plus aliases."""

    def __init__(self, kind: str, base: type[T]) -> None:
        self.kind = kind
        self.base = base
        self._entries: dict[str, Entry[T]] = {}
        self._aliases: dict[str, str] = {}
        self._implies: dict[str, dict[str, str]] = {}

    def register(
        self,
        name: str,
        *,
        config: type[ConfigBase],
        aliases: tuple[str, ...] = (),
        help: str = "",
    ) -> Callable[[type[T]], type[T]]:
        """Class decorator; refuses duplicates, wrong base classes and undocumented fields."""

        def decorate(cls: type[T]) -> type[T]:
            self._check(name, cls, config, aliases)
            doc = help or (cls.__doc__ or "").strip().split("\n")[0]
            self._entries[name] = Entry(name, cls, config, tuple(aliases), doc)
            for alias in aliases:
                self._aliases[alias] = name
            return cls

        return decorate

    def _check(self, name: str, cls: type, config: type, aliases: tuple[str, ...]) -> None:
        for key in (name, *aliases):
            if key in self._entries or key in self._aliases:
                raise ValueError(f"{self.kind} {key!r} is already registered")
        if not (isinstance(cls, type) and issubclass(cls, self.base)):
            raise TypeError(f"{self.kind} {name!r}: {cls!r} must subclass {self.base.__name__}")
        params = getattr(config, "__dataclass_params__", None)
        if not (isinstance(config, type) and issubclass(config, ConfigBase)) or not (
            params and params.frozen
        ):
            raise TypeError(f"{self.kind} {name!r}: config must be a frozen ConfigBase dataclass")
        for f in dataclasses.fields(config):
            if not f.metadata.get("help"):
                raise TypeError(f"{self.kind} {name!r}: field {f.name!r} needs help text")

    def alias(self, alias: str, target: str, *, implies: Mapping[str, str] | None = None) -> None:
        """Register `alias` for the registered `target`, after the fact.

        `implies` names components of other kinds that the alias stands for too, chosen
        wherever the user does not choose them: `ATTENTION.alias("bahdanau", "concat",
        implies={"decoder": "bahdanau"})` makes `--attention bahdanau` mean Bahdanau et al.'s
        model (additive scores queried by s_{t-1}), not the additive scorer in Luong's decoder.
        """
        if alias in self._entries or alias in self._aliases:
            raise ValueError(f"{self.kind} {alias!r} is already registered")
        if target not in self._entries:
            raise ValueError(f"{self.kind} alias {alias!r}: unknown target {target!r}")
        self._aliases[alias] = target
        if implies:
            self._implies[alias] = dict(implies)

    def aliases(self, name: str) -> list[str]:
        """Every alias of the registered `name`, those added by `alias` included."""
        return sorted(a for a, target in self._aliases.items() if target == name)

    def implied(self, name: str) -> dict[str, str]:
        """Other kinds' components that the alias `name` stands for ({} for plain names)."""
        return dict(self._implies.get(name, {}))

    def canonical(self, name: str) -> str:
        """The registered name for a name or alias; UsageError with suggestions if unknown."""
        if name in self._entries:
            return name
        if name in self._aliases:
            return self._aliases[name]
        valid = self.choices()
        close = difflib.get_close_matches(name, valid, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise UsageError(f"unknown {self.kind} {name!r}", fix=f"{hint}valid: {', '.join(valid)}")

    def entry(self, name: str) -> Entry[T]:
        return self._entries[self.canonical(name)]

    def build(self, name: str, config: ConfigBase, **deps: Any) -> T:
        return self.entry(name).cls(config, **deps)

    def names(self) -> list[str]:
        return sorted(self._entries)

    def choices(self) -> list[str]:
        """Names and aliases, for CLI choices."""
        return sorted([*self._entries, *self._aliases])

    def __iter__(self) -> Iterator[Entry[T]]:
        return iter(self._entries[n] for n in self.names())

    def __contains__(self, name: object) -> bool:
        return name in self._entries or name in self._aliases


@dataclasses.dataclass(frozen=True)
class Architecture:
    """A named bundle of option values: keys are `nmtkit train` flag names without dashes."""

    name: str
    help: str
    sets: Mapping[str, Any]


class ArchitectureRegistry:
    """Named architectures, as fairseq's `--arch`: `--arch NAME` applies a bundle of options
    (components and their settings, training options too), and any explicit flag or `--config`
    value still overrides it. Register one (in nmtkit, a `--user-dir` plugin or an entry point):

        from nmtkit.models import ARCHITECTURES

        ARCHITECTURES.register(
            "rnnsearch-big",
            help="RNNsearch at the paper's size (Bahdanau et al. 2015)",
            sets={"encoder": "rnn", "encoder-cell": "gru", "encoder-hidden-size": 1000,
                  "attention": "concat", "decoder": "bahdanau", "decoder-hidden-size": 1000},
        )

    Keys are checked against the flags when the architecture is used (so a plugin may name
    options of components registered after it); values as in a `--config` TOML file.
    """

    def __init__(self) -> None:
        self._entries: dict[str, Architecture] = {}

    def register(self, name: str, *, help: str, sets: Mapping[str, Any]) -> Architecture:
        if name in self._entries:
            raise ValueError(f"architecture {name!r} is already registered")
        if not help:
            raise TypeError(f"architecture {name!r} needs help text")
        values: dict[str, Any] = {}
        for key, value in sets.items():
            flag = str(key).replace("_", "-")
            if not flag or flag.startswith("-") or flag == "arch" or value is None:
                raise TypeError(f"architecture {name!r}: bad option {key!r} = {value!r}")
            values[flag] = value
        arch = Architecture(name, help, types.MappingProxyType(values))
        self._entries[name] = arch
        return arch

    def get(self, name: str) -> Architecture:
        """The architecture `name`; UsageError with suggestions if unknown."""
        if name not in self._entries:
            close = difflib.get_close_matches(name, self.names(), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise UsageError(f"unknown architecture {name!r}",
                             fix=f"{hint}valid: {', '.join(self.names())}")  # fmt: skip
        return self._entries[name]

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __iter__(self) -> Iterator[Architecture]:
        return iter(self._entries[n] for n in self.names())

    def __contains__(self, name: object) -> bool:
        return name in self._entries
