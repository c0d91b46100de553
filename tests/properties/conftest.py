"""Hypothesis profiles: `ci` (default) keeps the property tests to seconds; `fuzz` is for long
runs (scripts/fuzz_text.py sets it through NMTKIT_HYPOTHESIS_PROFILE)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow],
           "derandomize": False}  # fmt: skip
settings.register_profile("ci", max_examples=12, **_COMMON)
settings.register_profile(
    "fuzz", max_examples=int(os.environ.get("NMTKIT_FUZZ_EXAMPLES", "400")), **_COMMON
)
settings.load_profile(os.environ.get("NMTKIT_HYPOTHESIS_PROFILE", "ci"))

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "compat" / "v0.1.0"


@pytest.fixture(scope="session")
def fixture_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The compatibility fixture's trained GRU model beside its tokenizer (read-only)."""
    save = tmp_path_factory.mktemp("fuzz_model")
    for name in ("spm.model", "tokenizer.json"):
        shutil.copy(FIXTURE / "data" / name, save / name)
    shutil.copy(FIXTURE / "models" / "gru_bahdanau_concat.safetensors", save / "ckpt.safetensors")
    return save / "ckpt.safetensors"
