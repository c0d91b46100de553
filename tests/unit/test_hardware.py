"""Hardware helpers: device/precision choice; the CPU matmul caches are bounded, unless the user
chose their sizes."""

from __future__ import annotations

import os

import pytest
import torch

from nmtkit.errors import UsageError
from nmtkit.hardware import (
    IDEEP_CACHE_ENTRIES,
    IDEEP_CACHE_ENV,
    ONEDNN_CACHE_ENTRIES,
    ONEDNN_CACHE_ENV,
    Machine,
    bound_onednn_cache,
    cpu_has_native_bf16,
    select_device,
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


# select_device: the one device/precision choice of train, translate and `score -c`. A Machine
# describes what CUDA devices exist, so CUDA machines are tested here without one.
GPU2 = Machine(cuda_bf16=(True, False), cuda_current=0, cpu_bf16=False)  # an A100 and a T4
CPU_ONLY = Machine(cuda_bf16=(), cpu_bf16=True)


@pytest.mark.parametrize(
    ("machine", "device", "precision", "want"),
    [
        (GPU2, "auto", "auto", ("cuda", "bf16")),
        (GPU2, "cuda:1", "auto", ("cuda:1", "fp32")),  # that device has no native bf16
        (GPU2, "cuda:0", "auto", ("cuda:0", "bf16")),
        (Machine(cuda_bf16=(True, False), cuda_current=1), "cuda", "auto", ("cuda", "fp32")),
        (GPU2, "cpu", "auto", ("cpu", "fp32")),
        (GPU2, "auto", "fp16", ("cuda", "fp16")),  # an explicit precision is kept
        (CPU_ONLY, "auto", "auto", ("cpu", "bf16")),
        (CPU_ONLY, "cpu", "fp32", ("cpu", "fp32")),
    ],
)
def test_select_device_picks_device_and_matching_precision(machine, device, precision, want):
    chosen, prec = select_device(device, precision, machine)
    assert (str(chosen), prec) == want


@pytest.mark.parametrize(
    ("machine", "device", "needle"),
    [
        (CPU_ONLY, "cuda", "CUDA is not available"),
        (CPU_ONLY, "cuda:0", "CUDA is not available"),
        (GPU2, "cuda:2", "sees 2 CUDA device(s)"),
        (GPU2, "gpu", "invalid --device 'gpu'"),
        (GPU2, "cuda:x", "invalid --device 'cuda:x'"),
        (GPU2, "meta", "invalid --device 'meta'"),
    ],
)
def test_select_device_refuses_what_this_machine_cannot_run(machine, device, needle):
    with pytest.raises(UsageError) as info:
        select_device(device, "auto", machine)
    assert needle in info.value.message


def test_auto_resolves_to_this_machines_cpu_and_its_native_precision():
    """Here (no CUDA) `auto` is the CPU, through the same detection that finds CUDA elsewhere."""
    if torch.cuda.is_available():  # pragma: no cover - CI machines have no GPU
        pytest.skip("this machine has CUDA")
    device, precision = select_device("auto", "auto")
    assert device == torch.device("cpu")
    assert precision == ("bf16" if cpu_has_native_bf16() else "fp32")
