"""Dynamic batching: concurrent requests' sentences decoded together, batches stepped in turn.

Requests become Jobs (their non-empty lines, longest first). A batch is filled round-robin over
the jobs that share a search variant (SearchKey): one sentence from each job in turn, up to the
sentence and padded-token budgets, so a 1,000-line request is decoded in budget-sized chunks
interleaved with everyone else's sentences and cannot starve a one-line request.

Batches are decoded step by step, several in turn (`max_runs`): every sentence is answered the
moment the search finishes it, not when its whole batch is done, and a new batch starts beside
the running ones, so a batch's last long sentences no longer hold the next requests back. With
nothing running, the worker waits until a full batch is queued or the oldest sentence has
waited `wait_s`; while batches run it never waits, and between two steps starts a new one from
what has been queued for `wait_s` once that is at least as many sentences as are still being
decoded (every batch pays a whole decoder step per step), or fills the free budget. The model
runs outside the lock, so the event loop only ever waits for the lock, never for the model.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
import time
import traceback
from collections.abc import Callable, Hashable
from typing import Any, Protocol


class Run(Protocol):
    """A batch being decoded: each `step()` advances it one decoder step."""

    done: bool

    def step(self) -> list[tuple[int, Any]]:
        """(position in the batch, result) of each sentence that this step finished."""
        ...


StartRun = Callable[[Hashable, list[list[int]]], Run]


@dataclasses.dataclass(eq=False)
class Job:
    """One request's sentences; `on_done(job)` runs in a worker thread once all are decoded.
    Workers change `results`, `pending` and `error` only under the batcher's lock."""

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


@dataclasses.dataclass(eq=False)
class Active:
    """A running batch: its Run and which job line each of its positions is."""

    run: Run
    items: list[tuple[Job, int]]
    live: int  # sentences not yet finished


class Batcher:
    """The queue in front of the model; `start()` runs the workers, `stop()` drains and joins
    them. Each worker thread steps its own running batches; all share the queue and the
    sentence budget."""

    def __init__(
        self, start_run: StartRun, *, max_sentences: int, max_tokens: int, wait_s: float,
        max_runs: int = 1, on_batch: Callable[[int], None] = lambda n: None,
    ) -> None:
        self.start_run = start_run
        self.max_sentences, self.max_tokens, self.wait_s = max_sentences, max_tokens, wait_s
        self.max_runs = max(max_runs, 1)
        self.on_batch = on_batch
        self._cond = threading.Condition()
        self._jobs: list[Job] = []  # jobs with sentences not yet batched, in arrival order
        self._live = 0  # sentences in running batches, over all workers
        self._idle = 0  # workers waiting for work with no batch of their own
        self._stopping = False
        self._started = False
        self._threads = [self._worker(0)]

    def _worker(self, number: int) -> threading.Thread:
        return threading.Thread(target=self._run, name=f"nmtkit-decode-{number}", daemon=True)

    def start(self) -> None:
        self._started = True
        for thread in self._threads:
            thread.start()

    def add_workers(self, count: int) -> None:
        """More decoding threads (the server adds one per CPU thread once the model loaded)."""
        for _ in range(count):
            thread = self._worker(len(self._threads))
            self._threads.append(thread)
            if self._started:
                thread.start()

    def stop(self) -> None:
        """Finish every queued sentence, then end the workers."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for thread in self._threads:
            if thread.is_alive():
                thread.join()

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
        runs: list[Active] = []
        while True:
            batch = self._next_batch(runs)
            if batch is None:
                return
            if batch:
                self._start(batch, runs)
            for active in list(runs):
                self._step(active, runs)

    def _next_batch(self, runs: list[Active]) -> list[tuple[Job, int]] | None:
        """The batch this worker starts now ([] for none), or None once stopping with nothing
        left. A worker with batches running never waits; an idle one waits for a full batch or
        for the oldest sentence to have waited wait_s."""
        with self._cond:
            if not runs:
                self._idle += 1
                try:
                    return self._wait_for_batch()
                finally:
                    self._idle -= 1
            room = self.max_sentences - self._live
            busy = self._idle > 0 or len(runs) >= self.max_runs  # idle workers go first
            if not self._jobs or busy or room < 1:
                return []
            # A batch beside running ones costs a decoder step of its own: start one only when
            # it would be at least as large as what runs (the running batches are down to their
            # long tail), or when it fills the budget.
            waited = time.monotonic() - self._jobs[0].arrival >= self.wait_s
            queued = self._queued()
            worth = queued >= self._live
            return self._take(room) if (waited and worth) or queued >= room else []

    def _queued(self) -> int:
        key = self._jobs[0].key
        return sum(j.left for j in self._jobs if j.key == key)

    def _wait_for_batch(self) -> list[tuple[Job, int]] | None:
        while not (self._jobs and self._live < self.max_sentences):
            if self._stopping and not self._jobs:
                return None
            self._cond.wait()  # for a request, or for room in the sentence budget
        deadline = self._jobs[0].arrival + self.wait_s
        while not self._full(self.max_sentences - self._live) and (
            remaining := deadline - time.monotonic()
        ) > 0:
            self._cond.wait(remaining)
            if not self._jobs:
                return []
        room = self.max_sentences - self._live
        return self._take(room) if self._jobs and room > 0 else []

    def _full(self, room: int) -> bool:
        return self._queued() >= room

    def _take(self, room: int) -> list[tuple[Job, int]]:
        """One batch of at most `room` sentences: round-robin over the oldest job's variant,
        within the padded-token budget."""
        key = self._jobs[0].key
        jobs = [j for j in self._jobs if j.key == key]
        batch: list[tuple[Job, int]] = []
        width = 0
        growing = True
        while growing and len(batch) < room:
            growing = False
            for job in jobs:
                if job.left == 0 or len(batch) == room:
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
        self._live += len(batch)
        return batch

    def _start(self, batch: list[tuple[Job, int]], runs: list[Active]) -> None:
        key = batch[0][0].key
        self.on_batch(len(batch))
        try:
            run = self.start_run(key, [job.src_ids[i] for job, i in batch])
        except Exception as exc:  # a failed batch fails its requests, never the server
            self._fail(batch, len(batch), exc)
            return
        runs.append(Active(run, batch, len(batch)))

    def _step(self, active: Active, runs: list[Active]) -> None:
        try:
            finished = active.run.step()
        except Exception as exc:
            runs.remove(active)
            self._fail(active.items, active.live, exc)
            return
        answered = []
        if finished:
            with self._cond:  # a job's sentences may be in other workers' batches too
                for pos, result in finished:
                    job, i = active.items[pos]
                    job.results[i] = result
                    job.pending -= 1
                    if job.pending == 0 and not job.cancelled and job.error is None:
                        answered.append(job)
                active.live -= len(finished)
                self._live -= len(finished)
                self._cond.notify_all()  # room for a worker waiting on the budget
        for job in answered:
            job.on_done(job)
        if active.run.done:
            runs.remove(active)

    def _fail(self, items: list[tuple[Job, int]], live: int, exc: BaseException) -> None:
        """A batch failed with `live` of its sentences unanswered: fail their requests."""
        traceback.print_exc(file=sys.stderr)
        failed = []
        with self._cond:
            self._live -= live
            self._cond.notify_all()
            for job in {job for job, _ in items if job.pending > 0}:  # answered: stay so
                if job in self._jobs:
                    self._jobs.remove(job)
                if job.error is None and not job.cancelled:
                    job.error = exc
                    failed.append(job)
        for job in failed:
            job.on_done(job)
