"""The tokenizer beside a checkpoint, checked against its training record, for translate and score.

Every checkpoint records the identity (sha256 of its sentencepiece models) of the tokenizer that
`nmtkit train` copied into its save directory. A model fed pieces of another tokenizer produces
fluent nonsense, so a mismatch is an error, never a warning.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nmtkit.errors import UsageError

if TYPE_CHECKING:
    from nmtkit.data.tokenizer import Tokenizer


def recorded_identity(checkpoint: Path) -> Any:
    """The tokenizer identity stored in a checkpoint's metadata (not yet validated)."""
    from nmtkit.io.checkpoint import json_field, read_metadata

    return json_field(read_metadata(checkpoint), "tokenizer", checkpoint)


def tokenizer_for(checkpoints: Sequence[Path]) -> Tokenizer:
    """The tokenizer beside the first checkpoint, checked against every checkpoint's record.

    The first checkpoint's record must describe the tokenizer files beside it; the others (an
    ensemble) must record the same tokenizer as the first, since models that read different
    pieces cannot vote on one next piece.
    """
    from nmtkit.data.tokenizer import TOKENIZER_FILE, Tokenizer

    first = checkpoints[0]
    identity = recorded_identity(first)  # a missing or broken checkpoint is said first
    directory = first.parent
    if not (directory / TOKENIZER_FILE).is_file():
        raise UsageError(
            f"no {TOKENIZER_FILE} beside the checkpoint",
            file=directory,
            fix="a model needs the tokenizer that `nmtkit train` copies into the save dir; "
            "copy tokenizer.json and the spm model(s) from the data dir",
        )
    tok = Tokenizer.load(directory)
    if not _matches(tok, identity):
        raise UsageError(
            f"the tokenizer in {directory} is not the one this checkpoint was trained with",
            file=first,
            fix="put the training data dir's tokenizer.json and spm model(s) beside it",
        )
    for other in checkpoints[1:]:
        if not _matches(tok, recorded_identity(other)):
            raise UsageError(
                f"{first} and {other} were trained with different tokenizers; an ensemble "
                "needs models that share one",
                fix="ensemble checkpoints trained on data preprocessed with the same tokenizer",
            )
    return tok


def _matches(tok: Tokenizer, identity: Any) -> bool:
    return isinstance(identity, dict) and tok.matches(identity)
