"""`nmtkit train`: flags generated from the registries and TrainConfig → training.run.

Architecture flags: `--arch NAME` (a named bundle), `--encoder/--attention/--decoder NAME` plus
each component's own options as `--encoder-*`, `--attention-*`, `--decoder-*` (from their config
dataclasses), model-wide options (`--emb-size`, ...) from ModelConfig, and training options from
TrainConfig. How they combine with `--config` and `--resume`: nmtkit.training.options.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

HELP = (
    "Train an attention-based seq2seq model on a preprocessed data directory.\n\n"
    "Any encoder x attention x decoder combination is a flag away, and named architectures "
    "(--arch) bundle them; see `nmtkit models`."
)


def register(app: typer.Typer, *, full: bool = True) -> None:
    """Register `train`; with full=False only a light stub (keeps other commands' start-up fast)."""
    if not full:

        @app.command(
            "train",
            help=HELP,
            context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
        )
        def train_stub(ctx: typer.Context) -> None:  # pragma: no cover - replaced when invoked
            raise typer.Exit(2)

        return
    _register_full(app)


def _register_full(app: typer.Typer) -> None:
    from nmtkit.cli.options import with_flags
    from nmtkit.models import ARCHITECTURES, ATTENTION, DECODERS, ENCODERS
    from nmtkit.models.build import ModelConfig
    from nmtkit.training.options import option_groups

    groups = option_groups()
    specs = [spec for group in groups.values() for spec in group]
    defaults = ModelConfig()

    def train(
        data_dir: Path = typer.Argument(..., help="Data directory written by `nmtkit preprocess`."),
        save_dir: Path = typer.Option(..., "--save-dir", help="Where checkpoints and logs go."),
        arch: str | None = _architecture_option(
            "--arch",
            f"Named architecture: {', '.join(ARCHITECTURES.names())}. It sets components "
            "and options; flags and --config override it (see `nmtkit models`).",
        ),
        encoder: str | None = _architecture_option(
            "--encoder",
            f"Encoder: {', '.join(ENCODERS.choices())} (default: {defaults.encoder})."
            f"{_implications(ENCODERS)}",
        ),
        attention: str | None = _architecture_option(
            "--attention",
            f"Attention scorer: {', '.join(ATTENTION.choices())} "
            f"(default: {defaults.attention}, the decoder's own: dot for RNN decoders, "
            f"multihead for transformer).{_implications(ATTENTION)}",
        ),
        decoder: str | None = _architecture_option(
            "--decoder",
            f"Decoder: {', '.join(DECODERS.choices())} (default: {defaults.decoder})."
            f"{_implications(DECODERS)}",
        ),
        cell: str | None = _architecture_option(
            "--cell", "Shorthand: RNN cell (gru|lstm) for encoder and decoder."
        ),
        config: Path | None = typer.Option(
            None,
            "--config",
            help="TOML file of options, keyed by flag name without the dashes (`arch = NAME` "
            "too); flags override it.",
        ),
        resume: bool = typer.Option(
            False,
            "--resume",
            help="Continue the run in --save-dir with its own options: rerun the original "
            "command plus --resume. Training options may change; the architecture may not.",
        ),
        force: bool = typer.Option(
            False, "--force", help="Overwrite a save dir holding another run."
        ),
        user_dir: list[str] = typer.Option(
            [], "--user-dir", help="Import a module registering extra components."
        ),
        **kwargs: Any,
    ) -> None:
        selectors = {"encoder": encoder, "attention": attention, "decoder": decoder, "cell": cell}
        flags = {spec.flag[2:]: kwargs.get(spec.param) for spec in specs}
        run_train(
            data_dir=data_dir,
            save_dir=save_dir,
            flags={k: v for k, v in {**selectors, **flags}.items() if v is not None},
            config=config,
            arch=arch,
            resume=resume,
            force=force,
        )

    panels = [
        ("Model", groups["model"]),
        ("Encoder options", groups["encoder"]),
        ("Attention options", groups["attention"]),
        ("Decoder options", groups["decoder"]),
        ("Training", groups["train"]),
    ]
    with_flags(train, panels)
    app.command("train", help=HELP)(train)


def _architecture_option(flag: str, help: str) -> Any:
    """A component selector or shorthand, shown in the help's "Architecture" panel."""
    return typer.Option(None, flag, help=help, rich_help_panel="Architecture")


def _implications(registry: Any) -> str:
    """" bahdanau = concat + the bahdanau decoder (unless given)." for aliases that imply more."""
    words = [
        f"{alias} = {entry.name} + the "
        + " and the ".join(f"{name} {kind}" for kind, name in registry.implied(alias).items())
        for entry in registry for alias in registry.aliases(entry.name) if registry.implied(alias)
    ]  # fmt: skip
    return f" {'; '.join(words)} (unless given)." if words else ""


def run_train(
    *,
    data_dir: Path,
    save_dir: Path,
    flags: dict[str, Any],
    config: Path | None = None,
    arch: str | None = None,
    resume: bool = False,
    force: bool = False,
) -> None:
    """Resolve the options (training.options), then train. `flags`: what the command line set,
    keyed by flag name without dashes."""
    from nmtkit.cli.console import stderr_console
    from nmtkit.data.manifest import Manifest
    from nmtkit.training import run
    from nmtkit.training.options import resolve_options

    manifest = Manifest.load(data_dir)
    resolved = resolve_options(
        flags=flags, config=config, arch=arch, resume_from=save_dir if resume else None,
        src_vocab=manifest.src_vocab_size, tgt_vocab=manifest.tgt_vocab_size,
        joint=manifest.joint,
    )  # fmt: skip
    run(
        data_dir=data_dir,
        save_dir=save_dir,
        model_config=resolved.model,
        train_config=resolved.train,
        resume=resume,
        force=force,
        console=stderr_console(),
        arch=resolved.arch,
        notes=resolved.notes,
    )
