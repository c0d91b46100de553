"""`nmtkit models`: every registered component with its options, and every named architecture
with what it sets, from the registries alone."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import typer


def describe() -> list[dict[str, Any]]:
    """One record per component (kind, name, aliases, what aliases imply, help, options with
    flag/type/default/help), then one per architecture (kind "arch": help, what it sets, and
    the model it resolves to in words), then one per combination (kind "combination")."""
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
            aliases = registry.aliases(entry.name)
            rows.append(
                {
                    "kind": registry.kind,
                    "name": entry.name,
                    "aliases": aliases,
                    "implies": {a: registry.implied(a) for a in aliases if registry.implied(a)},
                    "help": entry.help,
                    "options": options,
                }
            )
    return rows + describe_architectures() + describe_combinations()


def describe_combinations() -> list[dict[str, Any]]:
    """Every encoder x scorer x decoder with default options: buildable, or the one-line reason
    (a scorer whose sizes do not fit the decoder's query and the encoder's states)."""
    from nmtkit.models import ATTENTION, DECODERS, ENCODERS
    from nmtkit.models.build import combination_reason

    rows = []
    for enc in ENCODERS.names():
        for dec in DECODERS.names():
            scorers = ATTENTION.names() if DECODERS.entry(dec).cls.uses_attention else ["-"]
            for att in scorers:
                reason = combination_reason(enc, "auto" if att == "-" else att, dec)
                row = {"encoder": enc, "attention": att, "decoder": dec}
                rows.append({"kind": "combination", **row, "valid": not reason, "reason": reason})
    return rows


def render_combinations(rows: list[dict[str, Any]]) -> Any:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="valid combinations (default options; ✗ = refused, with the reason)",
                  show_lines=True)  # fmt: skip
    for col in ("encoder", "decoder", "scorers"):
        table.add_column(col, overflow="fold")
    pairs: dict[tuple[str, str], list[str]] = {}
    for r in rows:
        mark = "✓" if r["valid"] else f"✗ ({escape(r['reason'])})"
        pairs.setdefault((r["encoder"], r["decoder"]), []).append(f"{r['attention']} {mark}")
    for (enc, dec), cells in pairs.items():
        table.add_row(enc, dec, "\n".join(cells))
    return table


def describe_architectures() -> list[dict[str, Any]]:
    from nmtkit.errors import UsageError
    from nmtkit.models import ARCHITECTURES
    from nmtkit.models.build import MIN_VOCAB, describe_model
    from nmtkit.training.options import resolve_options

    rows = []
    for arch in ARCHITECTURES:
        try:
            resolved = resolve_options(
                flags={}, arch=arch.name, src_vocab=MIN_VOCAB, tgt_vocab=MIN_VOCAB
            )
            model = describe_model(resolved.model)
        except UsageError as exc:  # a plugin's architecture naming options nobody registered
            model = f"invalid: {exc}"
        rows.append(
            {"kind": "arch", "name": arch.name, "help": arch.help, "sets": dict(arch.sets),
             "model": model}
        )  # fmt: skip
    return rows


def _fmt_default(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def _aliases_cell(row: dict[str, Any]) -> str:
    implied = row.get("implies", {})

    def words(alias: str) -> str:
        extra = ", ".join(f"{name} {kind}" for kind, name in implied.get(alias, {}).items())
        return f"{alias} (+ {extra})" if extra else alias

    return ", ".join(words(a) for a in row["aliases"])


def render_table(rows: list[dict[str, Any]]) -> None:
    from rich.markup import escape
    from rich.table import Table

    from nmtkit.cli.console import stdout_console
    from nmtkit.training.options import flag_words

    table = Table(title="nmtkit components", show_lines=True)
    for col in ("kind", "name", "aliases", "options (default)"):
        table.add_column(col, overflow="fold")
    for row in (r for r in rows if r["kind"] not in ("arch", "combination")):
        opts = "\n".join(
            f"{o['flag']} {'|'.join(map(str, o['choices'])) if o['choices'] else o['type']}"
            f" ({_fmt_default(o['default'])})"
            for o in row["options"]
        )
        table.add_row(
            row["kind"],
            f"{row['name']}\n[dim]{escape(row['help'])}[/dim]",
            _aliases_cell(row),
            opts or "-",
        )
    archs = Table(title="nmtkit architectures (--arch NAME; flags override)", show_lines=True)
    for col in ("name", "model", "sets"):
        archs.add_column(col, overflow="fold")
    for row in (r for r in rows if r["kind"] == "arch"):
        sets = "\n".join(flag_words(k, v) for k, v in row["sets"].items())
        archs.add_row(f"{row['name']}\n[dim]{escape(row['help'])}[/dim]",
                      escape(row["model"]), sets or "-")  # fmt: skip
    console = stdout_console()
    console.print(table)
    console.print(archs)
    console.print(render_combinations([r for r in rows if r["kind"] == "combination"]))


def register(app: typer.Typer) -> None:
    @app.command(
        "models",
        help="List registered encoders, attention scorers, decoders and named architectures.",
    )
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
