"""Small pieces of the trainer: loss, schedules, config validation, state round trip."""

from __future__ import annotations

import math
import random

import pytest
import torch
import torch.nn.functional as F

from nmtkit.errors import UsageError
from nmtkit.training import TrainConfig
from nmtkit.training.config import parse_duration
from nmtkit.training.loss import label_smoothed_loss
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
    plateau = LRSchedule(
        TrainConfig(lr=1.0, lr_schedule="plateau", lr_patience=1, warmup_steps=0)
    )
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
