"""Small pieces of the trainer: loss, schedules, config validation, state round trip."""

from __future__ import annotations

import math
import random

import pytest
import torch
import torch.nn.functional as F

from nmtkit.errors import UsageError
from nmtkit.models.embeddings import Generator
from nmtkit.training import TrainConfig
from nmtkit.training import loss as loss_module
from nmtkit.training.config import parse_duration
from nmtkit.training.loss import label_smoothed_loss, model_loss, projected_loss
from nmtkit.training.optim import LRSchedule, build_optimizer
from nmtkit.training.state import (
    optimizer_tensors,
    restore_optimizer,
    restore_rng,
    rng_tensors,
)
from nmtkit.training.teacher_forcing import teacher_forcing_at


@pytest.mark.parametrize("eps", [0.0, 0.1, 0.3])
def test_loss_equals_torch_cross_entropy_ignoring_padding(eps: float) -> None:
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 5, 11, generator=gen).bfloat16()
    target = torch.randint(1, 11, (3, 5), generator=gen)
    target[0, 3:] = 0
    target[2, 1:] = 0
    loss, nll = label_smoothed_loss(logits, target, smoothing=eps)
    ref = F.cross_entropy(logits.float().view(-1, 11), target.view(-1), ignore_index=0,
                          label_smoothing=eps, reduction="sum")  # fmt: skip
    ref_nll = F.cross_entropy(logits.float().view(-1, 11), target.view(-1), ignore_index=0,
                              reduction="sum")  # fmt: skip
    assert loss.dtype == torch.float32
    torch.testing.assert_close(loss, ref)
    torch.testing.assert_close(nll, ref_nll)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("eps", [0.0, 0.2])
def test_loss_gradient_equals_torch_cross_entropy(dtype: torch.dtype, eps: float) -> None:
    gen = torch.Generator().manual_seed(1)
    base = (torch.randn(2, 4, 9, generator=gen) * 3).to(dtype)
    target = torch.randint(1, 9, (2, 4), generator=gen)
    target[1, 2:] = 0
    ours = base.clone().requires_grad_()
    ref = base.clone().requires_grad_()
    loss, _ = label_smoothed_loss(ours, target, smoothing=eps)
    (loss * 0.5).backward()
    ref_loss = F.cross_entropy(ref.float().view(-1, 9), target.view(-1), ignore_index=0,
                               label_smoothing=eps, reduction="sum")  # fmt: skip
    (ref_loss * 0.5).backward()
    assert ours.grad.dtype == dtype
    torch.testing.assert_close(ours.grad.float(), ref.grad.float())
    assert torch.all(ours.grad[1, 2:] == 0)  # padding rows get no gradient


def _generator_case(tied: bool, in_size: int, seed: int = 2):
    """A generator (untied, or tied with a pre-projection when in_size != 16) and padded data."""
    torch.manual_seed(seed)
    emb = torch.nn.Embedding(50, 16)
    gen = Generator(in_size=in_size, vocab_size=50, tie_to=emb if tied else None)
    features = torch.randn(3, 7, in_size)
    target = torch.randint(1, 50, (3, 7))
    target[0, 4:] = 0
    target[2, 2:] = 0
    return gen, features, target


@pytest.mark.parametrize("chunk_rows", [1, 4, 100])
@pytest.mark.parametrize(("tied", "in_size"), [(False, 16), (True, 16), (True, 24)])
def test_projected_loss_equals_generator_then_loss(
    tied: bool, in_size: int, chunk_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fused projection + loss (chunked, padding dropped) = logits first, then the loss: values
    and gradients of the features and of every generator parameter, in float32."""
    monkeypatch.setattr(loss_module, "CHUNK_ELEMENTS", 50 * chunk_rows)
    gen, base, target = _generator_case(tied, in_size)
    results, grads = [], []
    for fused in (True, False):
        gen.zero_grad()
        features = base.clone().requires_grad_()
        if fused:
            loss, nll = projected_loss(features, gen, target, smoothing=0.1, num_tokens=13)
        else:
            loss, nll = label_smoothed_loss(gen(features), target, smoothing=0.1)
        (loss * 0.5).backward()
        results.append((loss.detach(), nll))
        grads.append([features.grad] + [p.grad for p in gen.parameters()])
    torch.testing.assert_close(results[0], results[1], rtol=1e-6, atol=1e-5)
    for ours, ref in zip(*grads, strict=True):
        assert ours.dtype == ref.dtype == torch.float32
        torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-6)
    assert torch.all(grads[0][0][2, 2:] == 0)  # padding features get no gradient


def test_projected_loss_under_bf16_autocast_and_without_grad(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """bf16 matmuls (autocast on CPU) stay close to float32; float32 parameter gradients; under
    no_grad (validation) the same values, and nothing is kept for a backward."""
    gen, base, target = _generator_case(False, 16)
    features = base.clone().requires_grad_()
    ref, _ = projected_loss(features, gen, target, smoothing=0.1)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss, nll = projected_loss(features, gen, target, smoothing=0.1)
    loss.backward()
    assert loss.dtype == torch.float32 and gen.out.weight.grad.dtype == torch.float32
    torch.testing.assert_close(loss.detach(), ref.detach(), rtol=2e-2, atol=0)
    made = []
    real_grads = loss_module._ProjectionGrads
    monkeypatch.setattr(
        loss_module, "_ProjectionGrads", lambda *a: made.append(1) or real_grads(*a)
    )
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        again, again_nll = projected_loss(base, gen, target, smoothing=0.1)
    assert not again.requires_grad and made == []  # no gradients computed under no_grad
    projected_loss(base.requires_grad_(), gen, target, smoothing=0.1)
    assert made == [1]
    torch.testing.assert_close((again, again_nll), (loss.detach(), nll))


@pytest.mark.parametrize("teacher_forcing", [1.0, 0.0])
def test_model_loss_equals_loss_of_the_model_logits(teacher_forcing: float) -> None:
    """model_loss picks the fused path under teacher forcing and the logits path under
    scheduled sampling; both equal the loss of model(...)'s logits."""
    from nmtkit.data.collate import Batch
    from tests.models.models_testlib import build, make_batch

    model = build("rnn", "dot", "luong", cell="lstm")
    src, lengths, tgt = make_batch([4, 6, 3], tgt_len=5)
    tgt_out = tgt.clone()
    tgt_out[2, 3:] = 0
    batch = Batch(src=src, src_lengths=lengths, tgt_in=tgt, tgt_out=tgt_out, ids=torch.arange(3),
                  num_tgt_tokens=13)  # fmt: skip
    torch.manual_seed(5)
    loss, nll = model_loss(model, batch, smoothing=0.1, teacher_forcing=teacher_forcing)
    torch.manual_seed(5)
    logits, _ = model(src, lengths, tgt, teacher_forcing=teacher_forcing)
    ref, ref_nll = label_smoothed_loss(logits, tgt_out, smoothing=0.1)
    torch.testing.assert_close((loss, nll), (ref, ref_nll), rtol=1e-6, atol=1e-5)


def test_teacher_forcing_schedules() -> None:
    def at(kind: str, step: int) -> float:
        cfg = TrainConfig(teacher_forcing=1.0, teacher_forcing_min=0.2,
                          teacher_forcing_schedule=kind, teacher_forcing_steps=100)  # fmt: skip
        return teacher_forcing_at(cfg, step)

    assert [at("constant", s) for s in (0, 1000)] == [1.0, 1.0]
    assert [at("linear", s) for s in (0, 50, 100, 500)] == pytest.approx([1.0, 0.6, 0.2, 0.2])
    assert [at("exponential", s) for s in (0, 100, 200)] == pytest.approx([1.0, 0.6, 0.4])
    assert at("inverse-sigmoid", 100) == pytest.approx(0.6)
    assert at("inverse-sigmoid", 0) > 0.999 and at("inverse-sigmoid", 10**6) == pytest.approx(0.2)
    decays = [at("inverse-sigmoid", s) for s in range(0, 300, 10)]
    assert decays == sorted(decays, reverse=True)


def test_lr_schedules() -> None:
    inv = LRSchedule(TrainConfig(lr=1.0, lr_schedule="inverse-sqrt", warmup_steps=4))
    assert [inv.lr_at(s) for s in (0, 3, 15)] == pytest.approx([0.25, 1.0, 0.5])
    cos = LRSchedule(TrainConfig(lr=1.0, lr_schedule="cosine", lr_min=0.1, warmup_steps=0))
    assert [cos.lr_at(9, f) for f in (0.0, 0.5, 1.0)] == pytest.approx([1.0, 0.55, 0.1])
    plateau = LRSchedule(TrainConfig(lr=1.0, lr_schedule="plateau", lr_patience=1, warmup_steps=0))
    for value in (5.0, 6.0, 6.0):  # loss: one better, then two worse → decay once
        plateau.on_validation(value, higher_is_better=False)
    assert plateau.lr_at(0) == 0.5
    state = plateau.state_dict()
    again = LRSchedule(TrainConfig(lr=1.0, lr_schedule="plateau", warmup_steps=0))
    again.load_state_dict(state)
    assert again.lr_at(0) == 0.5


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90), ("90s", 90), ("12m", 720), ("1h30m", 5400), ("0", 0)]
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "bad",
    [{"max_time": "12 minutes"}, {"update_freq": 0}, {"teacher_forcing": 1.5},
     {"max_tokens": 0, "batch_size": 0}, {"label_smoothing": 1.0}, {"lr": 0.0}],
)  # fmt: skip
def test_config_rejects_bad_values(bad: dict) -> None:
    with pytest.raises(UsageError):
        TrainConfig(**bad)


def test_config_round_trips_and_has_help_for_every_field() -> None:
    cfg = TrainConfig(optimizer="sgd", max_time="1h")
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    assert all(f.metadata["help"] for f in TrainConfig.fields())
    with pytest.raises(UsageError, match="choose from"):
        TrainConfig.from_dict({"optimizer": "adagrad"})


@pytest.mark.parametrize("name", ["adam", "adamw", "sgd"])
def test_optimizer_state_round_trip(name: str) -> None:
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    opt = build_optimizer(TrainConfig(optimizer=name), list(model.parameters()),
                          torch.device("cpu"))  # fmt: skip
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    tensors, meta = optimizer_tensors(opt)
    fresh = build_optimizer(TrainConfig(optimizer=name), list(model.parameters()),
                            torch.device("cpu"))  # fmt: skip
    restore_optimizer(fresh, tensors, meta)
    a, b = opt.state_dict()["state"], fresh.state_dict()["state"]
    assert a.keys() == b.keys()
    for pid in a:
        for key, value in a[pid].items():
            assert torch.equal(value, b[pid][key])


def test_rng_round_trip() -> None:
    tensors, meta = rng_tensors()
    first = (random.random(), torch.rand(3))
    restore_rng(tensors, meta)
    second = (random.random(), torch.rand(3))
    assert first[0] == second[0] and torch.equal(first[1], second[1])
    assert math.isfinite(first[0])


def test_budget_fraction_is_the_binding_budget() -> None:
    from nmtkit.training.trainer import Budget, Progress

    cfg = TrainConfig(max_steps=100, max_time="10m", max_epochs=4)
    budget = Budget(cfg, start=0.0, seconds_before=60.0, elapsed=60.0)
    # steps 20/100, time 60/600, epochs (1 + 5/10)/4: the epochs bind
    assert budget.fraction(Progress(step=20, epoch=1, epoch_update=5), 10) == pytest.approx(0.375)
    budget.tick(300.0)  # now time binds
    assert budget.fraction(Progress(step=20), 10) == pytest.approx(0.5)
    assert not budget.time_up()
    budget.tick(600.0)
    assert budget.time_up() and budget.fraction(Progress(step=20), 10) == 1.0


def test_cosine_needs_a_budget() -> None:
    with pytest.raises(UsageError, match="cosine"):
        TrainConfig(lr_schedule="cosine", max_epochs=0)
    TrainConfig(lr_schedule="cosine", max_epochs=0, max_time="12m")
