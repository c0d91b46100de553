"""`nmtkit train`'s options, resolved: which model and training configs a command line means.

Every source of options is a *layer*, a flat dict keyed by flag name without dashes
(`encoder-cell`, `lr`), as in a `--config` TOML file. Layers, lowest first:

  the run's own options (only with --resume, read from its trainer state)
  --arch NAME (or `arch = "NAME"` in the TOML file): a named bundle, see `nmtkit models`
  --config FILE.toml
  flags

and under them the dataclass defaults. The highest layer that sets a key wins, with two rules:
- an option applies only to a chosen component that has it: when a higher layer replaces a
  component, the --arch's options that the new one lacks are dropped (`--arch luong --decoder
  bahdanau` keeps luong's cell and sizes, drops input feeding); written on the command line or
  in the TOML file, such an option is an error;
- with --resume, a value given for the architecture must equal the run's: a differing one is
  refused, naming the flag and both values. Training options (budgets, rates) may change.

Aliases and shorthands are expanded inside their own layer, and each expansion is reported in
`Resolved.notes`: `--attention bahdanau → concat scorer + bahdanau decoder`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nmtkit.config import coerce
from nmtkit.errors import UsageError

if TYPE_CHECKING:
    from nmtkit.models.build import ModelConfig
    from nmtkit.training.config import TrainConfig

SELECTORS = ("encoder", "attention", "decoder")
NOUNS = {"encoder": "encoder", "attention": "scorer", "decoder": "decoder"}
CELL = "cell"  # shorthand: the RNN cell of encoder and decoder
MODEL_FIXED = (
    "encoder", "attention", "decoder", "encoder_options", "attention_options",
    "decoder_options", "src_vocab_size", "tgt_vocab_size",
)  # fmt: skip
RUN, ARCH, FILE, FLAGS = "run", "arch", "file", "flags"
AUTO_ATTENTION = "auto"  # models.build.AUTO_ATTENTION (not imported here: no torch at flag time)
CHANGE_RUN = "drop it or give the run's value to continue the run; --force or another " \
    "--save-dir starts a new one"  # fmt: skip


def option_groups() -> dict[str, Any]:
    """FlagSpecs of every option of `nmtkit train`, by group (model, encoder, attention,
    decoder, train): the key space of every layer, and the CLI's flags."""
    from nmtkit.flags import config_flags, registry_flags
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


@dataclasses.dataclass(frozen=True, kw_only=True)
class Resolved:
    model: ModelConfig
    train: TrainConfig
    arch: str | None  # the named architecture used, recorded in checkpoints
    notes: tuple[str, ...]  # alias, shorthand, --arch and --resume resolutions, for the log


@dataclasses.dataclass
class Layer:
    kind: str  # RUN, ARCH, FILE, FLAGS
    name: str  # "--arch luong", "run.toml", "command line", the trainer state's path
    values: dict[str, Any]
    said: dict[str, str] = dataclasses.field(default_factory=dict)  # key → how it was given

    @property
    def explicit(self) -> bool:
        return self.kind in (FILE, FLAGS)

    def spell(self, key: str) -> str:
        """How this layer gave `key`, in the user's words: `--attention dot`,
        `attention = "dot" (run.toml)`, `--arch luong (decoder luong)`."""
        if key in self.said:
            return self.said[key]
        value = self.values[key]
        if self.kind == FLAGS:
            return flag_words(key, value)
        if self.kind == FILE:
            return f"{key} = {value!r} ({self.name})"
        if self.kind == ARCH:
            return f"{self.name} ({flag_words(key, value)[2:]})"
        return f"the run's {flag_words(key, value)}"


def flag_words(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return f"--{key}" if value else f"--no-{key}"
    return f"--{key} {'unset' if value is None else value}"


def value_words(key: str, value: Any) -> str:
    return flag_words(key, value) if isinstance(value, bool) else str(value)


def resolve_options(
    *,
    flags: dict[str, Any],
    config: Path | None = None,
    arch: str | None = None,
    resume_from: Path | None = None,
    src_vocab: int,
    tgt_vocab: int,
    joint: bool = True,
) -> Resolved:
    """(ModelConfig, TrainConfig, arch, notes) for `nmtkit train`.

    flags: what the command line set, keyed by flag name without dashes (selectors and `cell`
    included; None for "not given" is left out by the caller). resume_from: the save dir of a
    run to continue. Shared embeddings are turned off for separate vocabularies (`preprocess
    --separate`); an explicit --share-embeddings is refused there.
    """
    from nmtkit.models.build import ModelConfig, check_model_config
    from nmtkit.training.config import TrainConfig

    groups = option_groups()
    table = {s.flag[2:]: s for specs in groups.values() for s in specs}
    layers, arch = _layers(flags, config, arch, resume_from, table)
    notes: list[str] = []
    names = _expand_selectors(layers, notes)
    chosen_names = effective_names(names)
    for layer in layers:
        _expand_cell(layer, chosen_names, notes)
    run = layers[0] if layers[0].kind == RUN else None
    if run is not None:  # other components first: their options' errors would hide that
        chosen = {k: lay for lay in layers for k in SELECTORS if k in lay.values}  # top wins
        _check_same_run(run, {k: chosen_names[k] for k in chosen}, chosen, table)
    merged, source = _merge(layers, chosen_names, table)
    if run is not None:  # compared as built: attention "auto" is the scorer it stands for
        built = {**merged, **{k: chosen_names[k] for k in SELECTORS if k in merged}}
        _check_same_run(run, built, source, table)
        notes.append(_resume_note(run, built, source))
    arch_layer = next((layer for layer in layers if layer.kind == ARCH), None)
    if arch_layer is not None:
        notes.append(_arch_note(arch_layer, source))
    given: dict[str, dict[str, Any]] = {}
    for key, value in merged.items():
        if key not in SELECTORS:
            given.setdefault(table[key].group, {})[table[key].field] = value
    share = "share-embeddings"
    if not joint and merged.get(share) and source[share].explicit:
        raise UsageError("--share-embeddings needs a joint source/target vocabulary",
                         fix="preprocess with --joint, or drop --share-embeddings")  # fmt: skip
    model = ModelConfig.from_dict(
        {**given.get("model", {}), **names, "src_vocab_size": src_vocab,
         "tgt_vocab_size": tgt_vocab,
         **{f"{kind}_options": given.get(kind, {}) for kind in SELECTORS}},
        source="command line",
    )  # fmt: skip
    check_model_config(model, joint_vocab=joint)
    train = TrainConfig.from_dict(given.get("train", {}), source="command line")
    return Resolved(model=model, train=train, arch=arch, notes=tuple(notes))


def _layers(
    flags: dict[str, Any], config: Path | None, arch: str | None, resume_from: Path | None,
    table: dict[str, Any],
) -> tuple[list[Layer], str | None]:  # fmt: skip
    """The layers, lowest first, each checked (known keys, typed values), and the arch name."""
    from nmtkit.flags import read_toml
    from nmtkit.models import ARCHITECTURES

    layers: list[Layer] = []
    run_arch = None
    if resume_from is not None:
        stored = stored_run_options(resume_from, table)
        if stored is not None:
            layers.append(stored[0])
            run_arch = stored[1]
    toml = read_toml(config) if config is not None else {}
    arch = arch or toml.pop("arch", None)
    if arch is not None:
        sets = dict(ARCHITECTURES.get(str(arch)).sets)
        layers.append(Layer(ARCH, f"--arch {arch}", sets))
    if config is not None:
        layers.append(Layer(FILE, str(config), toml))
    layers.append(Layer(FLAGS, "command line", dict(flags)))
    for layer in layers:
        _check_layer(layer, table)
    return layers, arch if arch is not None else run_arch


def _check_layer(layer: Layer, table: dict[str, Any]) -> None:
    unknown = ", ".join(sorted(set(layer.values) - {*table, *SELECTORS, CELL}))
    if unknown and layer.kind == ARCH:
        raise UsageError(
            f"{layer.name} sets unknown option(s) {unknown}",
            fix="an architecture names `nmtkit train` flags without the dashes; is the plugin "
            "of its components loaded (--user-dir)?",
        )
    if unknown:
        raise UsageError(
            f"unknown option(s) {unknown}",
            file=layer.name,
            fix="use the flag names of `nmtkit train --help` without the dashes",
        )
    for key, value in layer.values.items():
        spec = table.get(key)
        if spec is None:
            if not isinstance(value, str):
                raise UsageError(f"{key} expects a name, got {value!r}", file=layer.name)
            continue
        layer.values[key] = coerce(value, spec.type, name=key, source=layer.name)


def _expand_selectors(layers: list[Layer], notes: list[str]) -> dict[str, str]:
    """Canonical component names in every layer (aliases and what they imply resolved inside
    their layer); returns the chosen names."""
    from nmtkit.models import ATTENTION, DECODERS, ENCODERS
    from nmtkit.models.build import ModelConfig

    registries = {"encoder": ENCODERS, "attention": ATTENTION, "decoder": DECODERS}
    events = []
    for layer in layers:
        spelled = {kind: str(layer.values[kind]) for kind in SELECTORS if kind in layer.values}
        for kind, word in spelled.items():
            layer.said[kind] = layer.spell(kind)
            if kind == "attention" and word == AUTO_ATTENTION:
                continue  # the decoder's own default scorer, decided once the decoder is known
            try:
                layer.values[kind] = registries[kind].canonical(word)
            except UsageError as exc:
                fix = "pass the --user-dir that registers it" if layer.kind == RUN else exc.fix
                raise UsageError(exc.message, file=None if layer.kind == FLAGS else layer.name,
                                 fix=fix) from None  # fmt: skip
        for kind, word in spelled.items():
            if kind == "attention" and word == AUTO_ATTENTION:
                continue
            implied = registries[kind].implied(word)
            for other, target in implied.items():
                if other not in spelled:
                    layer.values[other] = target
                    layer.said[other] = f"{layer.spell(kind)} (implies {other} {target})"
            if implied or layer.values[kind] != word:
                events.append((layer, kind, implied))
    defaults = ModelConfig()
    names = {kind: getattr(defaults, kind) for kind in SELECTORS}
    for layer in layers:
        names.update({kind: layer.values[kind] for kind in SELECTORS if kind in layer.values})
    for layer, kind, implied in events:
        text = f"{layer.spell(kind)} → {layer.values[kind]} {NOUNS[kind]}"
        for other, target in implied.items():
            if names[other] == target:
                text += f" + {target} {NOUNS[other]}"
            else:
                text += f" (with the {names[other]} {NOUNS[other]} given)"
        notes.append(text)
    return names


def effective_names(names: dict[str, str]) -> dict[str, str]:
    """Attention "auto" as the scorer it stands for (the decoder's default), for deciding which
    options apply; the model config keeps "auto" so the decoder's sizes fill its defaults."""
    from nmtkit.models import DECODERS

    if names["attention"] != AUTO_ATTENTION:
        return names
    return {**names, "attention": DECODERS.entry(names["decoder"]).cls.default_attention}


def _expand_cell(layer: Layer, names: dict[str, str], notes: list[str]) -> None:
    """`cell` → `encoder-cell` and `decoder-cell` (where the chosen components have a cell),
    unless the layer sets those itself."""
    from nmtkit.models import DECODERS, ENCODERS

    if CELL not in layer.values:
        return
    said = layer.spell(CELL)
    value = layer.values.pop(CELL)
    filled = []
    for kind, registry in (("encoder", ENCODERS), ("decoder", DECODERS)):
        fields = {f.name for f in registry.entry(names[kind]).config_cls.fields()}
        key = f"{kind}-cell"
        if CELL in fields and key not in layer.values:
            layer.values[key] = value
            layer.said[key] = said
            filled.append(f"{key} {value}")
    notes.append(f"{said} → {', '.join(filled) or 'nothing (no component has a cell)'}")


def _merge(
    layers: list[Layer], names: dict[str, str], table: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Layer]]:
    """The highest layer's value per key; options that the chosen component lacks are dropped
    from an --arch (or the run), refused from the command line or the TOML file."""
    merged: dict[str, Any] = {}
    source: dict[str, Layer] = {}
    for layer in reversed(layers):
        for key, value in layer.values.items():
            if key in merged:
                continue
            spec = table.get(key)
            if spec is not None and spec.group in SELECTORS:
                kind = spec.group
                if names[kind] not in spec.owners:
                    if not layer.explicit:
                        continue  # an --arch's option of a component replaced above
                    raise UsageError(
                        f"{layer.spell(key)} applies to {kind} {', '.join(spec.owners)}, "
                        f"not {names[kind]}",
                        fix=f"drop it or choose --{kind} {spec.owners[0]}",
                    )
            merged[key] = value
            source[key] = layer
    return merged, source


def _is_model_key(key: str, table: dict[str, Any]) -> bool:
    return key in SELECTORS or table[key].group != "train"


def _check_same_run(
    run: Layer, merged: dict[str, Any], source: dict[str, Layer], table: dict[str, Any]
) -> None:
    """--resume: an architecture value given again must be the run's."""
    keys = [k for k in SELECTORS if k in merged] + [
        k for k in merged if k not in SELECTORS and _is_model_key(k, table)
    ]
    for key in keys:
        layer = source[key]
        if layer is run or key not in run.values or merged[key] == run.values[key]:
            continue
        raise UsageError(
            f"--resume: {layer.spell(key)} differs from the run's "
            f"{value_words(key, run.values[key])}",
            fix=CHANGE_RUN,
        )


def _resume_note(run: Layer, merged: dict[str, Any], source: dict[str, Layer]) -> str:
    changed = [
        f"{key} {run.values[key]} → {value}" for key, value in merged.items()
        if source[key] is not run and key in run.values and value != run.values[key]
    ]  # fmt: skip
    tail = f"; changed: {', '.join(changed)}" if changed else ""
    return f"--resume: the run's options from {run.name}{tail}"


def _arch_note(arch: Layer, source: dict[str, Layer]) -> str:
    overridden = sorted(k for k in arch.values if source.get(k) is not arch)
    tail = f"; given otherwise: {', '.join(overridden)}" if overridden else ""
    return f"{arch.name}: {len(arch.values)} option(s) (see `nmtkit models`){tail}"


def stored_run_options(save_dir: Path, table: dict[str, Any]) -> tuple[Layer, str | None] | None:
    """For --resume: the options of the run in save_dir as a layer (and its --arch name), read
    from the trainer state, the file that resume restores and checks the architecture against.
    No trainer state: None (training refuses the resume with its own message)."""
    from nmtkit.io.checkpoint import json_field, read_metadata
    from nmtkit.training.state import STATE_FILE

    path = save_dir / STATE_FILE
    if not path.is_file():
        return None
    progress = json_field(read_metadata(path), "progress", path)
    model, train = (
        progress.get(key) if isinstance(progress, dict) else None
        for key in ("model_config", "train_config")
    )
    if not (isinstance(model, dict) and isinstance(train, dict)):
        raise UsageError("trainer state holds no record of the run's options", file=path,
                         fix="resume a run written by `nmtkit train`, or pass --force")  # fmt: skip
    from nmtkit.models.build import upgrade_model_config

    model = upgrade_model_config(model)  # options under today's field names
    keys = {(s.group, s.field): key for key, s in table.items()}
    values: dict[str, Any] = {kind: model[kind] for kind in SELECTORS if kind in model}
    for kind in SELECTORS:
        options = model.get(f"{kind}_options")
        for field, value in (options if isinstance(options, dict) else {}).items():
            if (kind, field) in keys:
                values[keys[kind, field]] = value
    for group, stored in (("model", model), ("train", train)):
        values.update({keys[group, f]: v for f, v in stored.items() if (group, f) in keys})
    arch = progress.get("arch")
    return Layer(RUN, str(path), values), arch if isinstance(arch, str) else None
