"""`nmtkit models`: every registered component with its options, from the registries alone."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import typer


def describe() -> list[dict[str, Any]]:
    """One record per component: kind, name, aliases, help, options with flag/type/default/help."""
    from nmtkit.config import literal_choices, strip_optional
    from nmtkit.models import ATTENTION, DECODERS, ENCODERS

    rows = []
    for registry in (ENCODERS, ATTENTION, DECODERS):
        for entry in registry:
            hints = entry.config_cls.field_types()
            options = []
            for f in dataclasses.fields(entry.config_cls):
                inner = strip_optional(hints[f.name])[0]
                choices = literal_choices(inner)
                options.append(
                    {
                        "flag": f"--{registry.kind}-{f.name.replace('_', '-')}",
                        "type": "choice" if choices else getattr(inner, "__name__", str(inner)),
                        "choices": list(choices) if choices else None,
                        "default": f.default,
                        "help": f.metadata.get("help", ""),
                    }
                )
            rows.append(
                {
                    "kind": registry.kind,
                    "name": entry.name,
                    "aliases": list(entry.aliases),
                    "help": entry.help,
                    "options": options,
                }
            )
    return rows


def _fmt_default(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def render_table(rows: list[dict[str, Any]]) -> None:
    from rich.markup import escape
    from rich.table import Table

    from nmtkit.cli.console import stdout_console

    table = Table(title="nmtkit components", show_lines=True)
    for col in ("kind", "name", "aliases", "options (default)"):
        table.add_column(col, overflow="fold")
    for row in rows:
        opts = "\n".join(
            f"{o['flag']} {'|'.join(map(str, o['choices'])) if o['choices'] else o['type']}"
            f" ({_fmt_default(o['default'])})"
            for o in row["options"]
        )
        table.add_row(
            row["kind"],
            f"{row['name']}\n[dim]{escape(row['help'])}[/dim]",
            ", ".join(row["aliases"]),
            opts or "-",
        )
    stdout_console().print(table)


def register(app: typer.Typer) -> None:
    @app.command("models", help="List registered encoders, attention scorers and decoders.")
    def models(
        as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
        user_dir: list[str] = typer.Option(
            [], "--user-dir", help="Import a module registering extra components first."
        ),
    ) -> None:
        rows = describe()
        if as_json:
            typer.echo(json.dumps(rows, indent=2))
        else:
            render_table(rows)
