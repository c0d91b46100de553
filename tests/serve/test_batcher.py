"""Dynamic batching with a recording decoder: budgets, fairness, order, cancellation, failures."""

from __future__ import annotations

import threading
import time
from typing import Any

from nmtkit.serve.batcher import Batcher, Job


class Recorder:
    """A decode function that records each batch and echoes each sentence's ids back."""

    def __init__(self, gate: threading.Event | None = None, fail_on: int | None = None) -> None:
        self.batches: list[tuple[Any, list[list[int]]]] = []
        self.gate, self.fail_on = gate, fail_on

    def __call__(self, key: Any, src_ids: list[list[int]]) -> list[Any]:
        if self.gate is not None:
            self.gate.wait(10)
        self.batches.append((key, src_ids))
        if self.fail_on is not None and any(self.fail_on in x for x in src_ids):
            raise RuntimeError("boom")
        return [[("hyp", tuple(x))] for x in src_ids]

    def start(self, key: Any, src_ids: list[list[int]]) -> WholeBatch:
        return WholeBatch(self, key, src_ids)


class WholeBatch:
    """A decode function as a batcher Run of one step."""

    def __init__(self, decode: Recorder, key: Any, src_ids: list[list[int]]) -> None:
        self.decode, self.key, self.src_ids = decode, key, src_ids
        self.done = False

    def step(self) -> list[tuple[int, Any]]:
        self.done = True
        return list(enumerate(self.decode(self.key, self.src_ids)))


def run_jobs(batcher: Batcher, jobs: list[Job]) -> None:
    done = threading.Semaphore(0)
    for job in jobs:
        inner = job.on_done
        job.on_done = lambda j, inner=inner: (inner(j), done.release())
    batcher.start()
    for job in jobs:
        batcher.submit(job)
    for _ in jobs:
        assert done.acquire(timeout=10)
    batcher.stop()


def sentences(n: int, length: int, tag: int) -> list[list[int]]:
    return [[tag] * length for _ in range(n)]


def test_results_come_back_in_request_order_with_empty_lines_skipped() -> None:
    rec = Recorder()
    batcher = Batcher(rec.start, max_sentences=4, max_tokens=0, wait_s=0.0)
    src = [[5, 6], [], [7], [8, 9, 10], []]
    job = Job(key="k", src_ids=src, on_done=lambda j: None)
    run_jobs(batcher, [job])
    assert job.results == [[("hyp", (5, 6))], [], [("hyp", (7,))], [("hyp", (8, 9, 10))], []]
    assert all(x for _, batch in rec.batches for x in batch)  # no empty line reached the model
    assert [len(x) for x in rec.batches[0][1]] == [3, 2, 1]  # longest first


def test_batches_respect_sentence_and_padded_token_budgets() -> None:
    rec = Recorder()
    batcher = Batcher(rec.start, max_sentences=5, max_tokens=24, wait_s=0.0)
    src = [[1] * n for n in (2, 7, 3, 11, 5, 1, 4, 9, 6, 2, 3)]
    run_jobs(batcher, [Job(key="k", src_ids=src, on_done=lambda j: None)])
    for _, batch in rec.batches:
        width = max(len(x) for x in batch) + 1
        assert len(batch) <= 5 and (len(batch) == 1 or len(batch) * width <= 24)
    assert sorted(len(x) for _, b in rec.batches for x in b) == sorted(len(x) for x in src)


def test_a_huge_request_cannot_starve_a_small_one() -> None:
    gate = threading.Event()
    rec = Recorder(gate)
    batcher = Batcher(rec.start, max_sentences=8, max_tokens=0, wait_s=0.0)
    order: list[str] = []
    big = Job(key="k", src_ids=sentences(200, 3, 1), on_done=lambda j: order.append("big"))
    small = Job(key="k", src_ids=sentences(1, 3, 2), on_done=lambda j: order.append("small"))
    done = threading.Semaphore(0)
    for job in (big, small):
        inner = job.on_done
        job.on_done = lambda j, inner=inner: (inner(j), done.release())
    batcher.start()
    batcher.submit(big)  # the worker picks its first batch and blocks on the gate
    batcher.submit(small)
    gate.set()
    assert done.acquire(timeout=10) and done.acquire(timeout=10)
    batcher.stop()
    first_with_small = next(i for i, (_, b) in enumerate(rec.batches) if [2, 2, 2] in b)
    assert first_with_small <= 1  # the next batch after the one in progress, not the 26th
    assert order == ["small", "big"]
    assert len(rec.batches) == 26  # 201 sentences in batches of 8


def test_requests_with_different_search_settings_never_share_a_batch() -> None:
    rec = Recorder()
    batcher = Batcher(rec.start, max_sentences=16, max_tokens=0, wait_s=0.05)
    jobs = [Job(key=k, src_ids=sentences(3, 2, i), on_done=lambda j: None)
            for i, k in enumerate(["a", "b", "a", "b"])]
    run_jobs(batcher, jobs)
    for key, batch in rec.batches:
        tags = {x[0] for x in batch}
        assert tags <= ({0, 2} if key == "a" else {1, 3})
    assert len(rec.batches) == 2  # gathered: one batch per key, not one per request


def test_cancelled_sentences_are_never_decoded() -> None:
    gate = threading.Event()
    rec = Recorder(gate)
    batcher = Batcher(rec.start, max_sentences=4, max_tokens=0, wait_s=0.0)
    called: list[Job] = []
    job = Job(key="k", src_ids=sentences(40, 2, 1), on_done=called.append)
    batcher.start()
    batcher.submit(job)
    dropped = batcher.cancel(job)
    gate.set()
    batcher.stop()
    decoded = sum(len(b) for _, b in rec.batches)
    assert dropped + decoded == 40 and decoded <= 4
    assert called == []


def test_a_failing_batch_fails_its_requests_and_the_worker_goes_on() -> None:
    rec = Recorder(fail_on=9)
    batcher = Batcher(rec.start, max_sentences=2, max_tokens=0, wait_s=0.0)
    bad = Job(key="bad", src_ids=[[9], [1], [1]], on_done=lambda j: None)
    good = Job(key="good", src_ids=[[1, 2]], on_done=lambda j: None)
    run_jobs(batcher, [bad, good])
    assert isinstance(bad.error, RuntimeError)
    assert good.error is None and good.results == [[("hyp", (1, 2))]]


class Stepwise:
    """A Run that finishes each sentence after as many steps as it has pieces (as a search
    does with a sentence of that output length); records every step it makes."""

    def __init__(self, log: list[tuple[int, ...]], src_ids: list[list[int]]) -> None:
        self.log, self.src_ids, self.t = log, src_ids, 0
        self.done = False

    def step(self) -> list[tuple[int, Any]]:
        self.t += 1
        self.log.append(tuple(x[0] for x in self.src_ids))
        self.done = self.t >= max(len(x) for x in self.src_ids)
        return [(p, ("hyp", tuple(x))) for p, x in enumerate(self.src_ids) if len(x) == self.t]


def test_a_sentence_is_answered_when_finished_and_a_new_batch_runs_beside_a_long_one() -> None:
    log: list[tuple[int, ...]] = []
    batcher = Batcher(lambda key, src: Stepwise(log, src), max_sentences=8, max_tokens=0,
                      wait_s=0.0, max_runs=2)  # fmt: skip
    answered: list[str] = []
    late = Job(key="k", src_ids=[[3]], on_done=lambda j: answered.append("late"))

    def first_done(job: Job) -> None:
        answered.append("short")
        batcher.submit(late)  # the client's next request, sent once it has its answer

    short = Job(key="k", src_ids=[[2] * 2], on_done=first_done)
    long = Job(key="k", src_ids=[[1] * 30], on_done=lambda j: answered.append("long"))
    with batcher._cond:  # both queued before the worker looks: they share the first batch
        batcher._jobs += [long, short]
    batcher.start()
    for _ in range(500):
        if len(answered) == 3:
            break
        time.sleep(0.01)
    batcher.stop()
    assert answered == ["short", "late", "long"]  # not held back by the 30-step sentence
    assert short.results == [("hyp", (2, 2))] and long.results == [("hyp", (1,) * 30)]
    batches = list(dict.fromkeys(log))
    assert batches == [(1, 2), (3,)]  # the late request ran as its own batch, beside the first
    assert len(log) == 30 + 1  # 30 steps of the first batch, 1 of the second


def test_running_batches_share_the_sentence_budget() -> None:
    log: list[tuple[int, ...]] = []
    batcher = Batcher(lambda key, src: Stepwise(log, src), max_sentences=1, max_tokens=0,
                      wait_s=0.0, max_runs=3)  # fmt: skip
    run_jobs(batcher, [Job(key="k", src_ids=[[i] * 5], on_done=lambda j: None) for i in range(4)])
    assert log == [(i,) for i in range(4) for _ in range(5)]  # one live sentence at a time


def test_no_more_batches_run_at_once_than_allowed() -> None:
    log: list[tuple[int, ...]] = []
    batcher = Batcher(lambda key, src: Stepwise(log, src), max_sentences=64, max_tokens=6,
                      wait_s=0.0, max_runs=3)  # fmt: skip
    jobs = [Job(key="k", src_ids=[[i] * 5], on_done=lambda j: None) for i in range(6)]
    with batcher._cond:  # the token budget makes each sentence a batch of its own
        batcher._jobs += jobs
    run_jobs(batcher, [])
    spans = {tag: (log.index((tag,)), len(log) - log[::-1].index((tag,))) for tag in range(6)}
    at_once = [sum(a <= t < b for a, b in spans.values()) for t in range(len(log))]
    assert max(at_once) == 3 and len(log) == 30


def test_several_workers_share_the_queue_and_the_sentence_budget() -> None:
    live, most, lock = [0], [0], threading.Lock()

    class Counted(Stepwise):
        def __init__(self, log: list[tuple[int, ...]], src_ids: list[list[int]]) -> None:
            super().__init__(log, src_ids)
            with lock:
                live[0] += len(src_ids)
                most[0] = max(most[0], live[0])

        def step(self) -> list[tuple[int, Any]]:
            time.sleep(0.001)
            finished = super().step()
            with lock:
                live[0] -= len(finished)
            return finished

    log: list[tuple[int, ...]] = []
    batcher = Batcher(lambda key, src: Counted(log, src), max_sentences=4, max_tokens=0,
                      wait_s=0.0, max_runs=2)  # fmt: skip
    batcher.add_workers(2)
    jobs = [Job(key="k", src_ids=[[i] * (2 + i % 4), [i] * 3], on_done=lambda j: None)
            for i in range(12)]  # fmt: skip
    run_jobs(batcher, jobs)
    assert most[0] <= 4 and live[0] == 0
    for i, job in enumerate(jobs):
        assert job.results == [("hyp", (i,) * (2 + i % 4)), ("hyp", (i,) * 3)]
    assert {t.name for t in batcher._threads} == {f"nmtkit-decode-{n}" for n in range(3)}


def test_a_batch_smaller_than_what_runs_waits_instead_of_costing_steps_of_its_own() -> None:
    log: list[tuple[int, ...]] = []
    batcher = Batcher(lambda key, src: Stepwise(log, src), max_sentences=8, max_tokens=0,
                      wait_s=0.0, max_runs=2)  # fmt: skip
    late = Job(key="k", src_ids=[[3]], on_done=lambda j: None)
    short = Job(key="k", src_ids=[[2] * 2], on_done=lambda j: batcher.submit(late))
    long = Job(key="k", src_ids=[[1] * 20] * 3, on_done=lambda j: None)
    with batcher._cond:
        batcher._jobs += [long, short]
    batcher.start()
    for _ in range(500):
        if late.pending == 0:
            break
        time.sleep(0.01)
    batcher.stop()
    # one queued sentence against three live ones: it starts once the first batch is done
    assert log == [(1, 1, 1, 2)] * 20 + [(3,)]
