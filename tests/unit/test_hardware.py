"""Hardware helpers: the CPU matmul caches are bounded, unless the user chose their sizes."""

from __future__ import annotations

import os

import pytest

from nmtkit.hardware import (
    IDEEP_CACHE_ENTRIES,
    IDEEP_CACHE_ENV,
    ONEDNN_CACHE_ENTRIES,
    ONEDNN_CACHE_ENV,
    bound_onednn_cache,
)


def test_bound_onednn_cache_sets_both_caches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ONEDNN_CACHE_ENV, raising=False)
    monkeypatch.delenv(IDEEP_CACHE_ENV, raising=False)
    bound_onednn_cache()
    assert os.environ[ONEDNN_CACHE_ENV] == str(ONEDNN_CACHE_ENTRIES) == "64"
    assert os.environ[IDEEP_CACHE_ENV] == str(IDEEP_CACHE_ENTRIES) == "16"


def test_bound_onednn_cache_keeps_the_users_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ONEDNN_CACHE_ENV, "1024")
    monkeypatch.setenv(IDEEP_CACHE_ENV, "1")
    bound_onednn_cache()
    assert (os.environ[ONEDNN_CACHE_ENV], os.environ[IDEEP_CACHE_ENV]) == ("1024", "1")
