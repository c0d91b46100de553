"""`nmtkit score`: sacrebleu metrics for translations, or model log-probs for sentence pairs.

Thin: every option is a field of a config in nmtkit/scoring/config.py or of PluginConfig
(nmtkit/plugins.py), turned into flags by the one flag factory (cli/options.py); this module only
sorts them into help panels and sends the configs to nmtkit.scoring.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from nmtkit.cli.console import stdout_console
from nmtkit.errors import UsageError
from nmtkit.plugins import PluginConfig, load_user_dirs
from nmtkit.scoring.config import (
    MetricsConfig,
    MetricsFilesConfig,
    ModelFilesConfig,
    ModelScoreConfig,
    ScoreOutputConfig,
)

HELP = (
    "Score translations with BLEU/chrF/TER (exactly as sacrebleu), or sentence pairs with a "
    "model (-c CHECKPOINT --src SRC --tgt TGT: log-probs and perplexity)."
)
CONFIGS: dict[str, Any] = {
    "files": MetricsFilesConfig,
    "metrics": MetricsConfig,
    "model_files": ModelFilesConfig,
    "model": ModelScoreConfig,
    "output": ScoreOutputConfig,
    "plugins": PluginConfig,
}
# Help panels, by field name; fields of no panel go to the default one.
PANELS = {
    "Metrics (sacrebleu)": ("ref", "hyp", "metrics", "tokenize", "lowercase", "chrf_word_order",
                            "width", "sentence"),
    "Confidence and significance": ("confidence", "confidence_n", "paired_bs", "paired_ar",
                                    "paired_n"),
    "Model scoring (-c)": ("checkpoint", "src", "tgt", "batch_size", "precision", "device",
                           "user_dir"),
}  # fmt: skip


def _flags() -> list[Any]:
    from nmtkit.flags import config_flags

    skip = {"metrics": ("paired",)}  # set by --paired-bs/--paired-ar
    return [
        spec
        for group, cls in CONFIGS.items()
        for spec in config_flags(cls, group=group, skip=skip.get(group, ()))
    ]


def _panels(specs: list[Any]) -> list[tuple[str | None, list[Any]]]:
    placed = {field: panel for panel, fields in PANELS.items() for field in fields}
    order: list[str | None] = [*PANELS, None]
    return [(panel, [s for s in specs if placed.get(s.field) == panel]) for panel in order]


def register(app: typer.Typer) -> None:
    from nmtkit.cli.options import with_flags
    from nmtkit.flags import configs_from_flags

    specs = _flags()

    def score(
        hyp_files: list[Path] = typer.Argument(
            None, help="Hypothesis files, one system each (stdin when none).", show_default=False
        ),
        **kwargs: Any,
    ) -> None:
        configs = configs_from_flags(kwargs, specs, CONFIGS)
        if configs["model_files"].given():
            score_model(bool(hyp_files), configs)
        else:
            score_metrics(list(hyp_files or []), configs)

    with_flags(score, _panels(specs))
    app.command("score", help=HELP, no_args_is_help=False)(score)


def score_model(hyps_given: bool, configs: dict[str, Any]) -> None:
    """-c CHECKPOINT --src SRC --tgt TGT: per-pair log-probs (metric options are refused)."""
    files: MetricsFilesConfig = configs["files"]
    metrics_given = (hyps_given or files.ref or files.hyp or files.sentence or files.paired_bs
                     or files.paired_ar or configs["metrics"].confidence)  # fmt: skip
    if metrics_given:
        raise UsageError(
            "model scoring (-c/--src/--tgt) cannot be combined with metric options "
            "(--ref/--hyp/--sentence/--confidence/--paired-*)",
            fix="run two separate commands",
        )
    checkpoint, src, tgt = configs["model_files"].paths()  # what is missing, before any load
    load_user_dirs(configs["plugins"].user_dir)
    from nmtkit.scoring.model import run_model_scoring

    run_model_scoring(checkpoint, src, tgt, configs["model"], as_json=configs["output"].json,
                      out=sys.stdout, log=sys.stderr)  # fmt: skip


def score_metrics(hyp_files: list[Path], configs: dict[str, Any]) -> None:
    """Hypotheses (arguments, --hyp or stdin) against --ref: sacrebleu metrics and tests."""
    from nmtkit.scoring.run import RunRequest, run_metrics

    files: MetricsFilesConfig = configs["files"]
    cfg = configs["metrics"].replace(paired=files.paired())
    request = RunRequest(
        refs=[Path(r) for r in files.ref],
        hyps=[*hyp_files, *(Path(h) for h in files.hyp)],
        sentence=files.sentence,
        paired_requested=files.paired_bs or files.paired_ar,
        as_json=configs["output"].json,
    )
    run_metrics(cfg, request, stdout_console())
