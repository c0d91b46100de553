"""Typed, frozen configs: each option is declared once, with default and help, as a dataclass field.

Flags (cli/options.py), validation, `nmtkit models`, and checkpoint metadata all read these fields,
so an option's default lives in exactly one place.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from typing import Any, ClassVar, Literal, TypeVar, get_args, get_origin

from nmtkit.errors import UsageError

C = TypeVar("C", bound="ConfigBase")


def option(default: Any, *, help: str, short: str | None = None, negation: str | None = None,
           required: bool = False, hidden: bool = False) -> Any:  # fmt: skip
    """A config field with its help text, plus how its flag is spelled (read by cli/options.py).

    `short`: a one-letter alias (`-s`). `negation`: the off spelling of a bool flag (`separate` for
    `--joint/--separate`; default `--no-NAME`). `required`: the command refuses to run without
    it. `hidden`: left out of `--help` (tuning knobs for tests and benchmarks).
    """
    meta = {
        "help": help, "short": short, "negation": negation, "required": required, "hidden": hidden
    }
    if isinstance(default, (list, dict, set)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConfigBase:
    """Base for every component and training config: frozen, keyword-only, JSON round-trip.

    `renamed` maps a field's former names to its name now: `from_dict` reads the old names, so
    checkpoints and trainer states written before a rename keep loading.
    """

    renamed: ClassVar[dict[str, str]] = {}

    @classmethod
    def fields(cls) -> list[dataclasses.Field]:
        return list(dataclasses.fields(cls))

    @classmethod
    def field_types(cls) -> dict[str, Any]:
        return typing.get_type_hints(cls)

    @classmethod
    def from_dict(cls: type[C], values: dict[str, Any], *, source: str = "config") -> C:
        """Build from a plain dict; unknown keys and ill-typed values are errors, never dropped."""
        values = cls.upgrade(values, source=source)
        names = {f.name for f in cls.fields()}
        unknown = sorted(set(values) - names)
        if unknown:
            raise UsageError(
                f"unknown option(s) {', '.join(unknown)} for {cls.__name__}",
                file=source,
                fix=f"valid options: {', '.join(sorted(names))}",
            )
        types_ = cls.field_types()
        checked = {k: coerce(v, types_[k], name=k, source=source) for k, v in values.items()}
        return cls(**checked)

    @classmethod
    def upgrade(cls, values: dict[str, Any], *, source: str = "config") -> dict[str, Any]:
        """`values` with former field names (`renamed`) replaced by today's."""
        out = dict(values)
        for old, new in cls.renamed.items():
            if old in out:
                if new in out:
                    raise UsageError(
                        f"both {old} and {new} given for {cls.__name__}", file=source,
                        fix=f"{old} is the former name of {new}: keep one",
                    )  # fmt: skip
                out[new] = out.pop(old)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in self.fields()}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    def replace(self: C, **changes: Any) -> C:
        return dataclasses.replace(self, **changes)


def literal_choices(tp: Any) -> tuple[Any, ...] | None:
    """The allowed values of a Literal[...] type, else None."""
    return get_args(tp) if get_origin(tp) is Literal else None


def strip_optional(tp: Any) -> tuple[Any, bool]:
    """(inner type, True) for `X | None`, else (tp, False)."""
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(get_args(tp)) == 2:
            return args[0], True
    return tp, False


def coerce(value: Any, tp: Any, *, name: str, source: str) -> Any:
    """Check (and gently convert, e.g. int → float) a value against a field type."""
    inner, optional = strip_optional(tp)
    if value is None:
        if optional:
            return None
        raise UsageError(f"option {name} may not be empty", file=source)
    choices = literal_choices(inner)
    if choices is not None:
        if value not in choices:
            raise UsageError(
                f"invalid value {value!r} for {name}",
                file=source,
                fix=f"choose from {', '.join(map(str, choices))}",
            )
        return value
    if inner is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if inner in (int, float, str, bool) and not (
        isinstance(value, inner) and not (inner is int and isinstance(value, bool))
    ):
        raise UsageError(f"option {name} expects {inner.__name__}, got {value!r}", file=source)
    if get_origin(inner) in (list, tuple) and not isinstance(value, (list, tuple)):
        raise UsageError(f"option {name} expects a list, got {value!r}", file=source)
    return value
