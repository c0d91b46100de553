"""Start-up shortcuts must not change results."""

from __future__ import annotations

import pytest
from torch import nn

from nmtkit.models.build import SKIPPED_INITS, skip_init


def test_skip_init_restores_the_initialisers_even_after_an_error() -> None:
    before = {name: getattr(nn.init, name) for name in SKIPPED_INITS}
    with pytest.raises(RuntimeError), skip_init():
        layer = nn.Linear(3, 4)
        assert nn.init.uniform_ is not before["uniform_"]
        raise RuntimeError
    assert {name: getattr(nn.init, name) for name in SKIPPED_INITS} == before
    assert layer.weight.shape == (4, 3)
