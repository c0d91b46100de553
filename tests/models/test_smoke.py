from __future__ import annotations

import torch

from tests.models.models_testlib import TGT_V, build, make_batch


def test_default_model_forward_shapes_and_backward():
    model = build().train()
    src, lengths, tgt = make_batch([6, 4, 2])
    logits, weights = model(src, lengths, tgt)
    assert logits.shape == (3, 5, TGT_V)
    assert weights.shape == (3, 5, 6)
    logits.logsumexp(-1).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    torch.testing.assert_close(weights.sum(-1), torch.ones(3, 5))
