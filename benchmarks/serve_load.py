"""Load on `nmtkit serve` over loopback: throughput vs `nmtkit translate`, latency, fuzzing.

In one run, on the same sentences (Multi30k test_2016_flickr) and the same checkpoint:
1. `nmtkit translate --beam B` over the sentences (the batch baseline): sentences/s for the whole
   command and for decoding alone (its "translated" time minus its "model ready" time);
2. a real server (`nmtkit serve`, port chosen by the OS) with 1, 8 and 32 concurrent clients,
   each sending one sentence per request and waiting for the answer (keep-alive connections);
3. single-sentence latency p50/p95/p99 on the idle server (sentences of about 15 words);
4. N fuzzed requests (random bytes, JSON shapes, types, sizes, paths, methods): counts per status,
   zero 5xx other than the documented 503 expected, then a normal request must still succeed.

Bounded: --sentences, --max-seconds per client phase, --latency-requests and --fuzz cap the work;
everything talks to 127.0.0.1 only. Without --checkpoint it trains translate_speed.py's short
rnn-base model in --work (reused between runs).

    .venv/bin/python benchmarks/serve_load.py --sentences 200 --fuzz 1000
"""

from __future__ import annotations

import argparse
import http.client
import json
import queue
import random
import re
import shlex
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from translate_speed import NMTKIT, ensure_checkpoint, test_files

from tests.serve.server_process import ServerProcess


def baseline(ckpt: Path, lines: list[str], work: Path, flags: list[str]) -> dict[str, float]:
    """`nmtkit translate` on the same sentences: whole-command and decode-only sentences/s."""
    src = work / "serve_load.src"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    start = time.perf_counter()
    proc = subprocess.run([*NMTKIT, "translate", "-c", str(ckpt), "-i", str(src), *flags],
                          capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    ready = float(re.search(r"model ready in ([\d.]+) s", proc.stderr).group(1))
    total = float(re.search(r"translated \d+ lines .* in ([\d.]+) s", proc.stderr).group(1))
    return {"command_sps": len(lines) / wall, "decode_sps": len(lines) / (total - ready)}


def clients(port: int, lines: list[str], n: int, beam: int, limit: float) -> dict[str, float]:
    """n clients, one sentence per request; sentences/s until the lines or the time run out."""
    todo: queue.SimpleQueue[str] = queue.SimpleQueue()
    for line in lines:
        todo.put(line)
    done, failures = [0], [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + limit

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while time.perf_counter() < deadline:
            try:
                line = todo.get_nowait()
            except queue.Empty:
                break
            body = json.dumps({"text": [line], "beam": beam})
            conn.request("POST", "/v1/translate", body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            with lock:
                done[0] += response.status == 200
                failures[0] += response.status != 200
        conn.close()

    start = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    return {"clients": n, "sentences": done[0], "failed": failures[0], "sps": done[0] / seconds}


def latency(port: int, lines: list[str], beam: int, count: int) -> dict[str, float]:
    """Sequential single-sentence requests on an idle server (sentences of 13-17 words)."""
    picked = [x for x in lines if 13 <= len(x.split()) <= 17] or lines
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times = []
    for i in range(count):
        body = json.dumps({"text": [picked[i % len(picked)]], "beam": beam})
        start = time.perf_counter()
        conn.request("POST", "/v1/translate", body, {"Content-Type": "application/json"})
        conn.getresponse().read()
        times.append((time.perf_counter() - start) * 1000)
    conn.close()
    q = statistics.quantiles(times, n=100, method="inclusive")
    return {"p50_ms": q[49], "p95_ms": q[94], "p99_ms": q[98], "words": statistics.mean(
        len(picked[i % len(picked)].split()) for i in range(count))}


def fuzz_body(rng: random.Random) -> bytes:
    """A random body: bytes, JSON of random shape, near-valid requests, oversize ones."""
    def value(depth: int = 0) -> Any:
        kinds = ["int", "float", "str", "bool", "null", "list", "dict"][: 7 if depth < 3 else 5]
        kind = rng.choice(kinds)
        if kind == "int":
            return rng.choice([0, -1, 1, 5, 2**63, -(2**70), rng.randint(-99, 99)])
        if kind == "float":
            return rng.choice([0.5, -1e308, 1e-300, 3.0])
        if kind == "str":
            return "".join(chr(rng.choice([rng.randint(32, 126), rng.randint(0, 0x10FFFF)]))
                           for _ in range(rng.randint(0, 12)))
        if kind == "bool":
            return rng.random() < 0.5
        if kind == "null":
            return None
        if kind == "list":
            return [value(depth + 1) for _ in range(rng.randint(0, 4))]
        names = ["text", "beam", "nbest", "alignment", "attention", str(value(3))]
        return {rng.choice(names): value(depth + 1) for _ in range(rng.randint(0, 4))}

    choice = rng.randint(0, 9)
    if choice == 0:
        return bytes(rng.randint(0, 255) for _ in range(rng.randint(0, 200)))
    if choice == 1:
        return json.dumps(value()).encode()
    if choice == 2:  # oversize body or line count
        return json.dumps({"text": ["a"] * rng.choice([5000, 100_000])}).encode()
    if choice == 3:  # truncated valid request
        full = json.dumps({"text": ["A man sleeps.", "x" * 50], "beam": 2}).encode()
        return full[: rng.randint(0, len(full))]
    request: dict[str, Any] = {"text": [value() if rng.random() < 0.1 else str(value())[:40]
                                        for _ in range(rng.randint(0, 3))]}
    for field in ("beam", "nbest", "alignment", "attention"):
        if rng.random() < 0.4:
            request[field] = value() if rng.random() < 0.3 else rng.choice([1, 2, 3, True, False])
    if rng.random() < 0.05:
        request[str(value())] = value()
    body = json.dumps(request, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")
    if rng.random() < 0.1:  # invalid UTF-8 spliced into a string
        body = body.replace(b'"text": ["', b'"text": ["\xff\xfe', 1)
    return body


def fuzz(port: int, count: int, seed: int) -> dict[str, Any]:
    """Random requests; status counts; connection errors; then a normal request must work."""
    rng = random.Random(seed)
    statuses: dict[int, int] = {}
    errors = 0
    paths = ["/v1/translate"] * 8 + ["/", "/v1/model", "/metrics", "/v1/health", "/x", "/%ff"]
    for _ in range(count):
        method = rng.choice(["POST"] * 9 + ["GET", "PUT", "DELETE"])
        path = rng.choice(paths)
        body = fuzz_body(rng)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            conn.request(method, path, body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            statuses[response.status] = statuses.get(response.status, 0) + 1
        except (OSError, http.client.HTTPException):
            errors += 1
        finally:
            conn.close()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", "/v1/translate", json.dumps({"text": ["A dog runs."]}))
    after = conn.getresponse()
    ok = after.status == 200 and json.loads(after.read())["translations"][0]["text"] != ""
    bad = {s: n for s, n in statuses.items() if s >= 500 and s != 503}
    return {"requests": count, "statuses": dict(sorted(statuses.items())),
            "connection_errors": errors, "unexpected_5xx": bad, "alive_after": ok}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path)
    parser.add_argument("--work", type=Path, default=Path("/tmp/nmtbench-serve"))
    parser.add_argument("--train-time", default="2m")
    parser.add_argument("--sentences", type=int, default=1000, help="test sentences used")
    parser.add_argument("--clients", default="1,8,32", help="'' skips throughput")
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--max-seconds", type=float, default=300, help="cap per client phase")
    parser.add_argument("--latency-requests", type=int, default=100, help="0 skips latency")
    parser.add_argument("--fuzz", type=int, default=10_000, help="0 skips fuzzing")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--serve-args", default="", help="extra `nmtkit serve` flags")
    args = parser.parse_args()

    ckpt = args.checkpoint or ensure_checkpoint(args.work, args.train_time, args.threads or 2)
    src, _ = test_files(args.work)
    lines = src.read_text(encoding="utf-8").splitlines()[: args.sentences]
    flags = ["--beam", str(args.beam), "--precision", args.precision]
    if args.threads:
        flags += ["--threads", str(args.threads)]
    print(f"checkpoint {ckpt}; {len(lines)} sentences; beam {args.beam}; {' '.join(flags)}")
    counts = [int(n) for n in args.clients.split(",") if n]
    results: dict[str, Any] = {"clients": []}
    if counts:
        base = results["translate"] = baseline(ckpt, lines, args.work, flags)
        print(f"nmtkit translate: {base['command_sps']:.1f} sent/s whole command, "
              f"{base['decode_sps']:.1f} sent/s decoding")
    serve = [str(ckpt), *flags, "--max-lines", "1000", *shlex.split(args.serve_args)]
    with ServerProcess(serve) as server:
        server.wait_ready()
        if counts or args.latency_requests:
            clients(server.port, lines[:20], 4, args.beam, 60)  # warm-up
        for n in counts:
            row = clients(server.port, lines, n, args.beam, args.max_seconds)
            row["vs_translate_decode"] = row["sps"] / base["decode_sps"]
            row["vs_translate_command"] = row["sps"] / base["command_sps"]
            results["clients"].append(row)
            print(f"serve, {n:2d} clients: {row['sps']:.1f} sent/s ({row['sentences']} sent, "
                  f"{row['failed']} failed) = {row['vs_translate_decode']:.0%} of translate's "
                  f"decoding, {row['vs_translate_command']:.0%} of its whole command")
        if args.latency_requests:
            lat = results["latency"] = latency(server.port, lines, args.beam,
                                               args.latency_requests)
            print(f"idle latency, {lat['words']:.1f}-word sentences, beam {args.beam}: "
                  f"p50 {lat['p50_ms']:.0f} ms, p95 {lat['p95_ms']:.0f} ms, "
                  f"p99 {lat['p99_ms']:.0f} ms")
        if args.fuzz:
            results["fuzz"] = fuzz(server.port, args.fuzz, args.seed)
            print(f"fuzz: {json.dumps(results['fuzz'])}")
    print(json.dumps(results))
    f = results.get("fuzz")
    return 1 if f and (f["unexpected_5xx"] or not f["alive_after"]) else 0


if __name__ == "__main__":
    sys.exit(main())
