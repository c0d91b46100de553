"""Flag specs → typer options: the only flag factory.

nmtkit/flags.py turns each typed config field into a FlagSpec; this module turns FlagSpecs into
typer parameters on a command's signature. Flags default to None so we can tell "not given"
from "given the default value".
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any, Optional

import typer

from nmtkit.config import strip_optional
from nmtkit.flags import FlagSpec


def _show_default(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def _typer_param(spec: FlagSpec, panel: str | None) -> inspect.Parameter:
    inner, _ = strip_optional(spec.type)
    help_text = spec.help
    if not spec.required and spec.default not in (dataclasses.MISSING, None):
        help_text += f" (default: {_show_default(spec.default)})"
    if spec.owners:
        help_text += f" (for: {', '.join(spec.owners)})"
    decls = [spec.flag]
    if inner is bool:
        decls = [f"{spec.flag}/--{spec.negation or 'no-' + spec.flag[2:]}"]
    if spec.short:
        decls.append(f"-{spec.short}")
    from rich.markup import escape  # help texts hold formulas like [c; h]: not markup

    option = typer.Option(
        ... if spec.required else None, *decls, help=escape(help_text), rich_help_panel=panel,
        show_default=False, hidden=spec.hidden,
    )  # fmt: skip
    annotation = Optional[inner]  # noqa: UP045  (typer needs a real typing object here)
    return inspect.Parameter(
        spec.param, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=annotation
    )


def with_flags(
    func: Callable[..., Any], groups: list[tuple[str | None, list[FlagSpec]]]
) -> Callable[..., Any]:
    """Append generated keyword-only parameters to `func`'s signature (and annotations).

    typer reads both `inspect.signature` and `get_type_hints`, so both are set. A `**kwargs`
    parameter of `func` is dropped from the signature: the generated flags arrive through it.
    """
    sig = inspect.signature(func)
    var_kw = [p.name for p in sig.parameters.values() if p.kind is inspect.Parameter.VAR_KEYWORD]
    params = [p for p in sig.parameters.values() if p.name not in var_kw]
    annotations = {k: v for k, v in getattr(func, "__annotations__", {}).items() if k not in var_kw}
    for panel, specs in groups:
        for spec in specs:
            p = _typer_param(spec, panel)
            params.append(p)
            annotations[p.name] = p.annotation
    func.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    func.__annotations__ = annotations
    return func
