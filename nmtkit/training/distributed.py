"""torch.distributed for `torchrun`: init from the environment, rank-0 guards, all-reduce helpers.

Gradients are all-reduced by hand in one flat buffer rather than through the DDP wrapper: one
collective per update, no `no_sync` juggling for --update-freq, and parameters a component does
not use in a step (their grad is None) are simply zeros. The token count of the update rides in
the same buffer, so the loss is normalised by the *global* number of target tokens and N ranks
give the same update as one process with the same global batch.
"""

from __future__ import annotations

import dataclasses
import os

import torch
import torch.distributed as dist
from torch import Tensor


@dataclasses.dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def init_from_env(device_type: str) -> DistInfo:
    """Join the process group torchrun describes in the environment (gloo on CPU, nccl on CUDA)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    rank = int(os.environ["RANK"])
    local = int(os.environ.get("LOCAL_RANK", rank))
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device_type == "cuda" else "gloo")
    if device_type == "cuda":
        torch.cuda.set_device(local)
    return DistInfo(rank=rank, world_size=world, local_rank=local)


def shutdown(info: DistInfo) -> None:
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()


def all_agree(info: DistInfo, ok: bool, device: torch.device) -> bool:
    """True only if every rank passes ok=True (used to fail all ranks together, never hang)."""
    if not info.enabled:
        return ok
    flag = torch.tensor([1 if ok else 0], device=device)
    dist.all_reduce(flag, op=dist.ReduceOp.MIN)
    return bool(flag.item())


def sync_clock(
    info: DistInfo, seconds: float, flag: bool, device: torch.device
) -> tuple[float, bool]:
    """The ranks' largest clock, and whether any rank set the flag (a stop request seen by one
    rank stops all). One small all-reduce per update, only when distributed."""
    if not info.enabled:
        return seconds, flag
    t = torch.tensor([seconds, 1.0 if flag else 0.0], dtype=torch.float64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    clock, any_flag = t.tolist()
    return clock, bool(any_flag)


def broadcast_params(info: DistInfo, params: list[Tensor]) -> None:
    """Give every rank rank 0's weights."""
    if info.enabled:
        for p in params:
            dist.broadcast(p.data, src=0)


def all_reduce_grads(info: DistInfo, params: list[Tensor], local_tokens: int) -> None:
    """grads := sum over ranks of (local mean grad * local tokens) / global tokens.

    Each rank's grads are means over its own tokens (the loss was divided by local_tokens).
    """
    if not info.enabled:
        return
    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
    flat = torch.cat([g.reshape(-1) for g in grads] + [grads[0].new_ones(1)])  # (P + 1,)
    flat.mul_(local_tokens)
    dist.all_reduce(flat)
    flat = flat[:-1] / flat[-1]
    offset = 0
    for p in params:
        n = p.numel()
        p.grad = flat[offset : offset + n].view_as(p)
        offset += n


def sum_across(info: DistInfo, values: Tensor) -> Tensor:
    """All-reduce (sum) a small tensor of statistics; identity in a single process."""
    if info.enabled:
        values = values.clone()
        dist.all_reduce(values)
    return values


def broadcast_tensor(info: DistInfo, value: Tensor) -> Tensor:
    """Rank 0's value on every rank."""
    if info.enabled:
        value = value.clone()
        dist.broadcast(value, src=0)
    return value
