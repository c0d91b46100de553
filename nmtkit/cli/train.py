"""`nmtkit train`: flags generated from the registries and TrainConfig → training.run.

Architecture flags: `--encoder/--attention/--decoder NAME` plus each component's own options as
`--encoder-*`, `--attention-*`, `--decoder-*` (from their config dataclasses), model-wide options
(`--emb-size`, `--tie-embeddings`, ...) from ModelConfig, and training options from TrainConfig.
Precedence: dataclass defaults < `--config FILE.toml` < flags; with `--resume`, the run's own
options (from its trainer state) come between the defaults and the TOML file.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import typer

HELP = (
    "Train an attention-based seq2seq model on a preprocessed data directory.\n\n"
    "Any encoder x attention x decoder combination is a flag away; see `nmtkit models`."
)
MODEL_FIXED = (
    "encoder",
    "attention",
    "decoder",
    "encoder_options",
    "attention_options",
    "decoder_options",
    "src_vocab_size",
    "tgt_vocab_size",
)


def _flag_groups() -> dict[str, Any]:
    from nmtkit.cli.options import config_flags, registry_flags
    from nmtkit.models import ATTENTION, DECODERS, ENCODERS
    from nmtkit.models.build import ModelConfig
    from nmtkit.training.config import TrainConfig

    return {
        "model": config_flags(ModelConfig, group="model", skip=MODEL_FIXED),
        "encoder": registry_flags(ENCODERS),
        "attention": registry_flags(ATTENTION),
        "decoder": registry_flags(DECODERS),
        "train": config_flags(TrainConfig, group="train"),
    }


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
    from nmtkit.models import ATTENTION, DECODERS, ENCODERS
    from nmtkit.models.build import ModelConfig

    groups = _flag_groups()
    defaults = ModelConfig()

    def train(
        data_dir: Path = typer.Argument(..., help="Data directory written by `nmtkit preprocess`."),
        save_dir: Path = typer.Option(..., "--save-dir", help="Where checkpoints and logs go."),
        encoder: str | None = typer.Option(
            None,
            "--encoder",
            help=f"Encoder: {', '.join(ENCODERS.choices())} (default: {defaults.encoder}).",
            rich_help_panel="Architecture",
        ),
        attention: str | None = typer.Option(
            None,
            "--attention",
            help=f"Attention scorer: {', '.join(ATTENTION.choices())} "
            f"(default: {defaults.attention}).",
            rich_help_panel="Architecture",
        ),
        decoder: str | None = typer.Option(
            None,
            "--decoder",
            help=f"Decoder: {', '.join(DECODERS.choices())} (default: {defaults.decoder}).",
            rich_help_panel="Architecture",
        ),
        cell: str | None = typer.Option(
            None,
            "--cell",
            help="Shorthand: RNN cell (gru|lstm) for encoder and decoder.",
            rich_help_panel="Architecture",
        ),
        config: Path | None = typer.Option(
            None, "--config", help="TOML file of options (flags override it)."
        ),
        resume: bool = typer.Option(
            False,
            "--resume",
            help="Continue from checkpoint_last, with the run's own options unless flags or "
            "--config override them.",
        ),
        force: bool = typer.Option(
            False, "--force", help="Overwrite a save dir holding another run."
        ),
        user_dir: list[str] = typer.Option(
            [], "--user-dir", help="Import a module registering extra components."
        ),
        **kwargs: Any,
    ) -> None:
        run_train(
            data_dir=data_dir,
            save_dir=save_dir,
            selectors={
                "encoder": encoder,
                "attention": attention,
                "decoder": decoder,
                "cell": cell,
            },
            config=config,
            resume=resume,
            force=force,
            flags=kwargs,
            groups=groups,
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


def resolve_configs(
    *,
    selectors: dict[str, str | None],
    toml: dict[str, Any],
    toml_path: str,
    flags: dict[str, Any],
    groups: dict[str, Any],
    src_vocab: int,
    tgt_vocab: int,
    joint: bool = True,
) -> tuple[Any, Any]:
    """(ModelConfig, TrainConfig) from defaults < TOML < flags; refuses misplaced options.

    Shared source/target embeddings are the default; with separate vocabularies (`preprocess
    --separate`) the model turns them off, and an explicit --share-embeddings is refused.
    """
    from nmtkit.cli.options import collect, component_options
    from nmtkit.errors import UsageError
    from nmtkit.models import ATTENTION, DECODERS, ENCODERS
    from nmtkit.models.build import ModelConfig, check_model_config
    from nmtkit.training.config import TrainConfig

    registries = {"encoder": ENCODERS, "attention": ATTENTION, "decoder": DECODERS}
    toml = dict(toml)
    names: dict[str, str] = {}
    defaults = {f.name: f.default for f in dataclasses.fields(ModelConfig)}
    for kind in registries:
        chosen = selectors.get(kind) or toml.pop(kind, None) or defaults[kind]
        names[kind] = registries[kind].canonical(str(chosen))
    cell = selectors.get("cell") or toml.pop("cell", None)
    all_specs = [s for specs in groups.values() for s in specs]
    given = collect(all_specs, flags, toml, toml_path)
    if cell is not None:
        for kind in ("encoder", "decoder"):
            entry = registries[kind].entry(names[kind])
            if "cell" in {f.name for f in dataclasses.fields(entry.config_cls)}:
                given.setdefault(kind, {}).setdefault("cell", cell)
    options = {
        f"{kind}_options": component_options(reg, names[kind], given.get(kind, {}), groups[kind])
        for kind, reg in registries.items()
    }
    model_given = given.get("model", {})
    if not joint and model_given.get("share_embeddings"):
        raise UsageError(
            "--share-embeddings needs a joint source/target vocabulary",
            fix="preprocess with --joint, or drop --share-embeddings",
        )
    model_cfg = ModelConfig.from_dict(
        {
            **model_given,
            **names,
            **options,
            "src_vocab_size": src_vocab,
            "tgt_vocab_size": tgt_vocab,
        },
        source=toml_path,
    )
    check_model_config(model_cfg, joint_vocab=joint)
    train_cfg = TrainConfig.from_dict(given.get("train", {}), source=toml_path)
    return model_cfg, train_cfg


def stored_run_options(
    save_dir: Path, selectors: dict[str, str | None], toml: dict[str, Any], groups: dict[str, Any]
) -> dict[str, Any]:
    """For --resume: the options of the run in save_dir, keyed as in a TOML config, so that
    `nmtkit train DATA --save-dir DIR --resume` continues the run without repeating its flags.

    Read from the trainer state, the file that resume restores and checks the architecture
    against. Options of a component that the command line or TOML replaces are left out (and
    the run's cells where the --cell shorthand is given), so that the architecture check names
    the field that differs instead of a flag being refused for a component nobody asked for.
    No trainer state: nothing (training refuses the resume with its own message).
    """
    from nmtkit.errors import UsageError
    from nmtkit.io.checkpoint import json_field, read_metadata
    from nmtkit.models import ATTENTION, DECODERS, ENCODERS
    from nmtkit.training.state import STATE_FILE

    path = save_dir / STATE_FILE
    if not path.is_file():
        return {}
    progress = json_field(read_metadata(path), "progress", path)
    model, train = (
        progress.get(key) if isinstance(progress, dict) else None
        for key in ("model_config", "train_config")
    )
    if not (isinstance(model, dict) and isinstance(train, dict)):
        raise UsageError("trainer state holds no model/training config", file=path,
                         fix="resume a run written by `nmtkit train`, or pass --force")  # fmt: skip
    keys = {(s.group, s.field): s.flag[2:] for specs in groups.values() for s in specs}
    out: dict[str, Any] = {}
    cell_given = selectors.get("cell") or toml.get("cell")
    for kind, registry in (("encoder", ENCODERS), ("attention", ATTENTION), ("decoder", DECODERS)):
        chosen = selectors.get(kind) or toml.get(kind)
        if chosen is not None and registry.canonical(str(chosen)) != model.get(kind):
            continue
        out[kind] = model.get(kind)
        options = model.get(f"{kind}_options")
        for field, value in (options if isinstance(options, dict) else {}).items():
            if (kind, field) in keys and not (field == "cell" and cell_given):
                out[keys[kind, field]] = value
    for group, values in (("model", model), ("train", train)):
        out.update({keys[group, f]: v for f, v in values.items() if (group, f) in keys})
    return {key: value for key, value in out.items() if value is not None}  # TOML has no None


def run_train(
    *,
    data_dir: Path,
    save_dir: Path,
    selectors: dict[str, str | None],
    config: Path | None,
    resume: bool,
    force: bool,
    flags: dict[str, Any],
    groups: dict[str, Any],
) -> None:
    from nmtkit.cli.console import stderr_console
    from nmtkit.cli.options import read_toml
    from nmtkit.data.manifest import Manifest
    from nmtkit.training import run

    manifest = Manifest.load(data_dir)
    toml = read_toml(config) if config is not None else {}
    if resume:
        toml = {**stored_run_options(save_dir, selectors, toml, groups), **toml}
    model_cfg, train_cfg = resolve_configs(
        selectors=selectors,
        toml=toml,
        toml_path=str(config or "command line"),
        flags=flags,
        groups=groups,
        src_vocab=manifest.src_vocab_size,
        tgt_vocab=manifest.tgt_vocab_size,
        joint=manifest.joint,
    )
    run(
        data_dir=data_dir,
        save_dir=save_dir,
        model_config=model_cfg,
        train_config=train_cfg,
        resume=resume,
        force=force,
        console=stderr_console(),
    )
