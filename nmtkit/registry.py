"""A generic name → (class, typed config) registry; knows nothing about NMT.

One instance per component kind lives in `nmtkit.models` (the only module-level mutable state).
Everything else (flags, help, `nmtkit models`, checkpoint rebuild) is derived from its entries.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Iterator
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
