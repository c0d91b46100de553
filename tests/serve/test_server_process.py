"""A real `nmtkit serve` process: start-up, timeout 503, client disconnects, SIGTERM drain."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.serve.server_process import ServerProcess

pytestmark = pytest.mark.slow

LONG = ["A man in a blue shirt is riding a bike down the street near a red car."]


def metric(server: ServerProcess, name: str) -> float:
    text = server.request("GET", "/metrics")[1]
    return float(next(x for x in text.splitlines() if x.startswith(name + " ")).split()[-1])


def wait_until(condition: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def slow_server(trained_checkpoint: Path) -> Any:
    """Batches of 2 sentences, so a 1,000-line request takes seconds; --timeout 2."""
    args = [str(trained_checkpoint), "--precision", "fp32", "--threads", "1", "--batch-size", "2",
            "--timeout", "2"]
    with ServerProcess(args) as s:
        s.wait_ready()
        yield s


def test_real_server_translates_and_describes_its_model(
    slow_server: ServerProcess, trained_checkpoint: Path
) -> None:
    status, body = slow_server.request("POST", "/v1/translate", {"text": ["A dog.", ""]})
    assert status == 200 and len(body["translations"]) == 2
    assert body["translations"][1]["text"] == ""
    status, info = slow_server.request("GET", "/v1/model")
    assert status == 200 and info["checkpoints"][0]["path"] == str(trained_checkpoint)
    assert "listening on http://127.0.0.1:" in slow_server.stderr()


def test_a_request_over_the_timeout_gets_503_and_the_server_goes_on(
    slow_server: ServerProcess,
) -> None:
    cancelled = metric(slow_server, "nmtkit_cancelled_sentences_total")
    status, body = slow_server.request("POST", "/v1/translate", {"text": LONG * 1000})
    assert status == 503 and body["limit"] == "timeout" and "--timeout" in body["message"]
    status, body = slow_server.request("POST", "/v1/translate", {"text": ["A cat."]})
    assert status == 200 and body["translations"][0]["text"]
    assert metric(slow_server, "nmtkit_cancelled_sentences_total") > cancelled  # dropped


def test_a_client_that_disconnects_costs_nothing_more(slow_server: ServerProcess) -> None:
    cancelled = metric(slow_server, "nmtkit_cancelled_sentences_total")
    translated = metric(slow_server, "nmtkit_sentences_total")
    body = json.dumps({"text": LONG * 1000}).encode()
    sock = socket.create_connection(("127.0.0.1", slow_server.port))
    sock.sendall(b"POST /v1/translate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    wait_until(lambda: metric(slow_server, "nmtkit_queued_sentences") > 0)
    sock.close()
    wait_until(lambda: metric(slow_server, "nmtkit_queued_sentences") == 0, timeout=10)
    dropped = metric(slow_server, "nmtkit_cancelled_sentences_total") - cancelled
    assert 0 < dropped <= 1000  # the rest were decoded before the disconnect was noticed
    assert metric(slow_server, "nmtkit_sentences_total") == translated  # nothing answered


def test_sigterm_finishes_the_request_in_flight_then_exits_0(trained_checkpoint: Path) -> None:
    args = [str(trained_checkpoint), "--precision", "fp32", "--threads", "1", "--batch-size", "2"]
    with ServerProcess(args) as server:
        server.wait_ready()
        answer: dict[str, Any] = {}

        def send() -> None:
            answer["result"] = server.request("POST", "/v1/translate", {"text": LONG * 80})

        client = threading.Thread(target=send)
        client.start()
        wait_until(lambda: metric(server, "nmtkit_queued_sentences") > 0)
        server.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        if client.is_alive():  # still in flight: the listening socket is already closed
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", server.port), timeout=5)
        client.join(60)
        status, body = answer["result"]
        assert status == 200 and len(body["translations"]) == 80
        assert all(t["text"] for t in body["translations"])
        assert server.proc.wait(30) == 0
        assert "stopped" in server.stderr()


def test_serve_without_the_extra_says_how_to_install_it(trained_checkpoint: Path) -> None:
    code = ("import sys; sys.modules['uvicorn'] = None; sys.argv = ['nmtkit', 'serve', '-c', "
            f"{str(trained_checkpoint)!r}]; from nmtkit.cli import console_main; console_main()")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert "pip install 'nmtkit[serve]'" in proc.stderr


def test_a_missing_checkpoint_is_one_line_before_anything_listens(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "nmtkit", "serve", "-c", str(tmp_path / "nope.safetensors"),
         "--port", "0"], capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "nope.safetensors" in proc.stderr and "listening" not in proc.stderr
