"""Flag specs: typed config fields as command-line options, without any CLI library.

Every option is declared once, as a ConfigBase field with a default and help. This module names
each field's flag (kind-prefixed for registry components: `--decoder-cell`), reads `--config`
TOML tables and collects what the user set, grouped by component kind. nmtkit/cli/options.py
turns the specs into typer parameters; nmtkit/training/options.py layers them (defaults < run <
--arch < --config < flags).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import tomllib

from nmtkit.config import ConfigBase, literal_choices, strip_optional
from nmtkit.errors import UsageError
from nmtkit.registry import Registry


@dataclasses.dataclass(frozen=True)
class FlagSpec:
    """One generated flag: where its value goes, and which components it applies to."""

    param: str  # python identifier typer passes back
    flag: str  # "--decoder-input-feeding"
    field: str  # config field name
    group: str  # "train", "model", "encoder", "attention", "decoder"
    type: Any
    help: str
    default: Any
    owners: tuple[str, ...] = ()  # component names defining this field
    short: str | None = None  # one-letter alias: "s" → -s
    negation: str | None = None  # off spelling of a bool flag: "separate" → --joint/--separate
    required: bool = False
    hidden: bool = False

    @classmethod
    def of(cls, f: dataclasses.Field, tp: Any, *, flag: str, param: str, group: str,
           owners: tuple[str, ...] = ()) -> FlagSpec:  # fmt: skip
        """The flag of config field `f` (help and spelling from its option() metadata)."""
        meta = f.metadata
        return cls(
            param=param, flag=flag, field=f.name, group=group, type=tp,
            help=meta.get("help", ""), default=f.default, owners=owners,
            short=meta.get("short"), negation=meta.get("negation"),
            required=meta.get("required", False), hidden=meta.get("hidden", False),
        )  # fmt: skip


def _flag_name(prefix: str, field: str) -> str:
    stem = field.replace("_", "-")
    return f"--{prefix}-{stem}" if prefix else f"--{stem}"


def config_flags(
    config_cls: type[ConfigBase], *, group: str, skip: Iterable[str] = ()
) -> list[FlagSpec]:
    """Unprefixed flags for a single config class (training options, model-wide options)."""
    hints = config_cls.field_types()
    return [
        FlagSpec.of(
            f, hints[f.name], flag=_flag_name("", f.name), param=f"{group}__{f.name}", group=group
        )
        for f in dataclasses.fields(config_cls)
        if f.name not in skip
    ]


def registry_flags(registry: Registry) -> list[FlagSpec]:
    """Prefixed flags for every field of every component of one kind.

    A field shared by several components (e.g. `cell`) becomes one flag; components that declare the
    same field name with a different type are refused, since one flag cannot mean two things.
    """
    merged: dict[str, FlagSpec] = {}
    for entry in registry:
        hints = entry.config_cls.field_types()
        for f in dataclasses.fields(entry.config_cls):
            spec = merged.get(f.name)
            if spec is None:
                merged[f.name] = FlagSpec.of(
                    f, hints[f.name], flag=_flag_name(registry.kind, f.name),
                    param=f"{registry.kind}__{f.name}", group=registry.kind, owners=(entry.name,),
                )  # fmt: skip
            elif spec.type != hints[f.name]:
                raise TypeError(
                    f"{registry.kind} {entry.name!r} field {f.name!r} has type {hints[f.name]}, "
                    f"but {spec.owners} declare {spec.type}; rename one of them"
                )
            else:
                merged[f.name] = dataclasses.replace(spec, owners=(*spec.owners, entry.name))
    return list(merged.values())


def check_choice(spec: FlagSpec, value: Any, source: str) -> None:
    choices = literal_choices(strip_optional(spec.type)[0])
    if choices is not None and value not in choices:
        raise UsageError(
            f"invalid value {value!r} for {spec.flag}",
            file=source,
            fix=f"choose from {', '.join(map(str, choices))}",
        )


def read_toml(path: Path) -> dict[str, Any]:
    """A flat TOML table of options; keys may use '-' or '_'."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise UsageError("config file not found", file=path) from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"invalid TOML: {exc}", file=path) from None
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):  # [encoder] cell = "lstm" → encoder-cell
            for sub, v in value.items():
                flat[f"{key}-{sub}".replace("_", "-")] = v
        else:
            flat[key.replace("_", "-")] = value
    return flat


def collect(
    specs: list[FlagSpec], kwargs: dict[str, Any], toml: dict[str, Any], toml_path: str
) -> dict[str, dict[str, Any]]:
    """Values the user set (TOML first, flags override), grouped by spec.group → field."""
    by_flag = {s.flag[2:]: s for s in specs}
    unknown = sorted(set(toml) - set(by_flag))
    if unknown:
        raise UsageError(
            f"unknown option(s) in config: {', '.join(unknown)}",
            file=toml_path,
            fix="use the flag names of `nmtkit train --help` without the dashes",
        )
    out: dict[str, dict[str, Any]] = {}
    for key, value in toml.items():
        spec = by_flag[key]
        check_choice(spec, value, toml_path)
        out.setdefault(spec.group, {})[spec.field] = value
    for spec in specs:
        value = kwargs.get(spec.param)
        if value is not None:
            out.setdefault(spec.group, {})[spec.field] = value
    return out


def configs_from_flags(
    kwargs: dict[str, Any], specs: list[FlagSpec], configs: dict[str, type[ConfigBase]]
) -> dict[str, Any]:
    """One config per group (spec.group → its class) from the flags given; defaults elsewhere."""
    given = collect(specs, kwargs, {}, "command line")
    return {
        group: cls.from_dict(given.get(group, {}), source="command line")
        for group, cls in configs.items()
    }
