"""A real `nmtkit serve` subprocess on a free loopback port, and a tiny stdlib HTTP client."""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import threading
import time
from typing import Any

LISTENING = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")


class ServerProcess:
    """`nmtkit serve -c CKPT ARGS --port 0`; the port is read from its start-up line."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        checkpoint, *rest = args
        cmd = [sys.executable, "-m", "nmtkit", "serve", "-c", checkpoint, "--port", "0", *rest]
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, **(env or {})},
        )
        self.lines: list[str] = []
        self._port: int | None = None
        self._seen = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._seen:
                self.lines.append(line)
                found = LISTENING.search(line)
                if found:
                    self._port = int(found.group(1))
                self._seen.notify_all()
        with self._seen:
            self._seen.notify_all()

    @property
    def port(self) -> int:
        with self._seen:
            ok = self._seen.wait_for(lambda: self._port or self.proc.poll() is not None, 180)
        if not ok or self._port is None:
            raise RuntimeError("server did not start:\n" + "".join(self.lines))
        return self._port

    def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.request("GET", "/v1/health")[0] == 200:
                return
            time.sleep(0.05)
        raise RuntimeError("server never became ready:\n" + "".join(self.lines))

    def request(
        self, method: str, path: str, body: Any = None, *, raw: bytes | None = None,
        headers: dict[str, str] | None = None, timeout: float = 60,
    ) -> tuple[int, Any]:
        """(status, parsed JSON or text)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        try:
            conn.request(method, path, body=data, headers=headers or {})
            response = conn.getresponse()
            text = response.read().decode("utf-8")
        finally:
            conn.close()
        kind = response.getheader("content-type", "")
        return response.status, json.loads(text) if kind.startswith("application/json") else text

    def stderr(self) -> str:
        with self._seen:
            return "".join(self.lines)

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
