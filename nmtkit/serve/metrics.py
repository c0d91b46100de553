"""Server metrics in the Prometheus text exposition format (version 0.0.4).

A handful of counters and histograms, written by hand: the format is a few lines of text, and
prometheus_client would be one more dependency for that. Updated from the event loop and the
decoding thread, so every update takes the lock.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class Histogram:
    def __init__(self, name: str, help: str, buckets: Sequence[float]) -> None:
        self.name, self.help, self.buckets = name, help, tuple(buckets)
        self.counts = [0] * len(self.buckets)
        self.total, self.count = 0.0, 0

    def observe(self, value: float) -> None:
        for i, bound in enumerate(self.buckets):
            if value <= bound:
                self.counts[i] += 1
        self.total += value
        self.count += 1

    def lines(self) -> list[str]:
        out = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        for bound, n in zip(self.buckets, self.counts, strict=True):
            out.append(f'{self.name}_bucket{{le="{bound:g}"}} {n}')
        out.append(f'{self.name}_bucket{{le="+Inf"}} {self.count}')
        out.append(f"{self.name}_sum {self.total:.6f}")
        out.append(f"{self.name}_count {self.count}")
        return out


class Metrics:
    """Requests by endpoint and status, sentences, latency, batch sizes, cancellations."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, int], int] = {}
        self.sentences = 0
        self.cancelled_sentences = 0
        self.queued_sentences = 0
        self.latency = Histogram(
            "nmtkit_request_duration_seconds", "Time to answer POST /v1/translate.",
            LATENCY_BUCKETS,
        )
        self.batch_sentences = Histogram(
            "nmtkit_batch_sentences", "Sentences per decoded batch.", BATCH_BUCKETS
        )

    def request(self, path: str, status: int, seconds: float | None = None) -> None:
        with self._lock:
            self.requests[(path, status)] = self.requests.get((path, status), 0) + 1
            if seconds is not None:
                self.latency.observe(seconds)

    def translated(self, sentences: int) -> None:
        with self._lock:
            self.sentences += sentences

    def batch(self, sentences: int) -> None:
        with self._lock:
            self.batch_sentences.observe(sentences)

    def queued(self, delta: int) -> None:
        with self._lock:
            self.queued_sentences += delta

    def cancelled(self, sentences: int) -> None:
        with self._lock:
            self.cancelled_sentences += sentences

    def render(self) -> str:
        with self._lock:
            out = [
                "# HELP nmtkit_requests_total HTTP requests answered, by path and status.",
                "# TYPE nmtkit_requests_total counter",
            ]
            for (path, status), n in sorted(self.requests.items()):
                out.append(f'nmtkit_requests_total{{path="{path}",status="{status}"}} {n}')
            out += [
                "# HELP nmtkit_sentences_total Sentences translated (empty lines included).",
                "# TYPE nmtkit_sentences_total counter",
                f"nmtkit_sentences_total {self.sentences}",
                "# HELP nmtkit_cancelled_sentences_total Queued sentences dropped because their "
                "client left or timed out.",
                "# TYPE nmtkit_cancelled_sentences_total counter",
                f"nmtkit_cancelled_sentences_total {self.cancelled_sentences}",
                "# HELP nmtkit_queued_sentences Sentences waiting for or in decoding.",
                "# TYPE nmtkit_queued_sentences gauge",
                f"nmtkit_queued_sentences {self.queued_sentences}",
            ]
            out += self.latency.lines() + self.batch_sentences.lines()
        return "\n".join(out) + "\n"
