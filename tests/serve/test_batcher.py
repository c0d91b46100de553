"""Dynamic batching with a recording decoder: budgets, fairness, order, cancellation, failures."""

from __future__ import annotations

import threading
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
    batcher = Batcher(rec, max_sentences=4, max_tokens=0, wait_s=0.0)
    src = [[5, 6], [], [7], [8, 9, 10], []]
    job = Job(key="k", src_ids=src, on_done=lambda j: None)
    run_jobs(batcher, [job])
    assert job.results == [[("hyp", (5, 6))], [], [("hyp", (7,))], [("hyp", (8, 9, 10))], []]
    assert all(x for _, batch in rec.batches for x in batch)  # no empty line reached the model
    assert [len(x) for x in rec.batches[0][1]] == [3, 2, 1]  # longest first


def test_batches_respect_sentence_and_padded_token_budgets() -> None:
    rec = Recorder()
    batcher = Batcher(rec, max_sentences=5, max_tokens=24, wait_s=0.0)
    src = [[1] * n for n in (2, 7, 3, 11, 5, 1, 4, 9, 6, 2, 3)]
    run_jobs(batcher, [Job(key="k", src_ids=src, on_done=lambda j: None)])
    for _, batch in rec.batches:
        width = max(len(x) for x in batch) + 1
        assert len(batch) <= 5 and (len(batch) == 1 or len(batch) * width <= 24)
    assert sorted(len(x) for _, b in rec.batches for x in b) == sorted(len(x) for x in src)


def test_a_huge_request_cannot_starve_a_small_one() -> None:
    gate = threading.Event()
    rec = Recorder(gate)
    batcher = Batcher(rec, max_sentences=8, max_tokens=0, wait_s=0.0)
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
    batcher = Batcher(rec, max_sentences=16, max_tokens=0, wait_s=0.05)
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
    batcher = Batcher(rec, max_sentences=4, max_tokens=0, wait_s=0.0)
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
    batcher = Batcher(rec, max_sentences=2, max_tokens=0, wait_s=0.0)
    bad = Job(key="bad", src_ids=[[9], [1], [1]], on_done=lambda j: None)
    good = Job(key="good", src_ids=[[1, 2]], on_done=lambda j: None)
    run_jobs(batcher, [bad, good])
    assert isinstance(bad.error, RuntimeError)
    assert good.error is None and good.results == [[("hyp", (1, 2))]]
