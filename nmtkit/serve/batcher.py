"""Dynamic batching: sentences of concurrent requests decoded together in one worker thread.

Requests become Jobs (their non-empty lines, longest first). The worker waits until the queue
holds a full batch or the oldest sentence has waited `wait_s`, then fills one batch round-robin
over the jobs that share a search variant (SearchKey): one sentence from each job in turn, up to
the sentence and padded-token budgets. So a 1,000-line request is decoded in budget-sized
chunks interleaved with everyone else's sentences, and cannot starve a one-line request. The
batch is sorted longest first and decoded by `decode` (the translate command's search), outside
the lock, so the event loop only ever waits for the lock, never for the model.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
import time
import traceback
from collections.abc import Callable, Hashable
from typing import Any

Decode = Callable[[Hashable, list[list[int]]], list[Any]]


@dataclasses.dataclass(eq=False)
class Job:
    """One request's sentences; `on_done(job)` runs in the worker thread once all are decoded."""

    key: Hashable
    src_ids: list[list[int]]  # per request line, [] for empty lines
    on_done: Callable[[Job], None]
    results: list[list[Any]] = dataclasses.field(init=False)
    order: list[int] = dataclasses.field(init=False)  # non-empty line indices, longest first
    next: int = 0  # position in `order` of the next sentence to batch
    pending: int = 0
    arrival: float = dataclasses.field(default_factory=time.monotonic)
    cancelled: bool = False
    error: BaseException | None = None

    def __post_init__(self) -> None:
        self.results = [[] for _ in self.src_ids]
        self.order = sorted((i for i, x in enumerate(self.src_ids) if x),
                            key=lambda i: -len(self.src_ids[i]))
        self.pending = len(self.order)

    @property
    def left(self) -> int:
        return len(self.order) - self.next


class Batcher:
    """The queue in front of the model; `start()` runs the worker, `stop()` drains and joins it."""

    def __init__(
        self, decode: Decode, *, max_sentences: int, max_tokens: int, wait_s: float,
        on_batch: Callable[[int], None] = lambda n: None,
    ) -> None:
        self.decode = decode
        self.max_sentences, self.max_tokens, self.wait_s = max_sentences, max_tokens, wait_s
        self.on_batch = on_batch
        self._cond = threading.Condition()
        self._jobs: list[Job] = []  # jobs with sentences not yet batched, in arrival order
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="nmtkit-decode", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Finish every queued sentence, then end the worker."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join()

    def submit(self, job: Job) -> None:
        if job.pending == 0:
            job.on_done(job)
            return
        with self._cond:
            if self._stopping:
                raise RuntimeError("the batcher is stopping")
            self._jobs.append(job)
            self._cond.notify_all()

    def cancel(self, job: Job) -> int:
        """Drop a job's sentences not yet batched; returns how many were dropped."""
        with self._cond:
            job.cancelled = True
            if job in self._jobs:
                self._jobs.remove(job)
            return job.left

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._jobs and not self._stopping:
                    self._cond.wait()
                if not self._jobs:
                    return
                deadline = self._jobs[0].arrival + self.wait_s
                while not self._full() and (remaining := deadline - time.monotonic()) > 0:
                    self._cond.wait(remaining)
                    if not self._jobs:
                        break
                batch = self._take() if self._jobs else []
            if batch:
                self._decode(batch)

    def _full(self) -> bool:
        key = self._jobs[0].key
        left = sum(j.left for j in self._jobs if j.key == key)
        return left >= self.max_sentences

    def _take(self) -> list[tuple[Job, int]]:
        """One batch: round-robin over the oldest job's variant, within both budgets."""
        key = self._jobs[0].key
        jobs = [j for j in self._jobs if j.key == key]
        batch: list[tuple[Job, int]] = []
        width = 0
        growing = True
        while growing and len(batch) < self.max_sentences:
            growing = False
            for job in jobs:
                if job.left == 0 or len(batch) == self.max_sentences:
                    continue
                i = job.order[job.next]
                w = max(width, len(job.src_ids[i]) + 1)  # + EOS
                if batch and self.max_tokens and (len(batch) + 1) * w > self.max_tokens:
                    continue
                batch.append((job, i))
                job.next += 1
                width, growing = w, True
        self._jobs = [j for j in self._jobs if j.left > 0]
        batch.sort(key=lambda item: -len(item[0].src_ids[item[1]]))
        return batch

    def _decode(self, batch: list[tuple[Job, int]]) -> None:
        key = batch[0][0].key
        self.on_batch(len(batch))
        try:
            hyps = self.decode(key, [job.src_ids[i] for job, i in batch])
        except Exception as exc:  # a failed batch fails its requests, never the server
            traceback.print_exc(file=sys.stderr)
            self._fail({job for job, _ in batch}, exc)
            return
        for (job, i), h in zip(batch, hyps, strict=True):
            job.results[i] = h
            job.pending -= 1
            if job.pending == 0 and not job.cancelled and job.error is None:
                job.on_done(job)

    def _fail(self, jobs: set[Job], exc: BaseException) -> None:
        with self._cond:
            for job in jobs:
                if job in self._jobs:
                    self._jobs.remove(job)
        for job in jobs:
            if job.error is None and not job.cancelled:
                job.error = exc
                job.on_done(job)
