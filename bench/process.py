"""A benchmark target running in its own process ("spawn"), driven over a pipe: it answers ("ready",
info) once listening, takes messages, and stops on ("stop",). Shared by the load and fan-out benchmarks."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.client import BenchError

START_TIMEOUT = 60.0


class ChildProcess:
    def __init__(self, target: Callable[..., None], kind: str, config: dict[str, Any], name: str) -> None:
        self.kind = kind
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=target, args=(kind, config, child), name=name, daemon=True)
        self._process.start()
        child.close()
        message = self.receive(START_TIMEOUT)
        if message[0] != "ready":
            raise BenchError(f"{kind} did not start:\n{message[1]}")
        self.info: dict[str, Any] = message[1]

    @property
    def pid(self) -> int:
        return self.info["pid"]

    def send(self, *message: Any) -> None:
        self._conn.send(message)

    def receive(self, timeout: float) -> tuple[str, Any]:
        if not self._conn.poll(timeout):
            raise BenchError(f"{self.kind} process did not answer within {timeout:.0f} s")
        try:
            return self._conn.recv()
        except EOFError:
            raise BenchError(f"{self.kind} process exited (code {self._process.exitcode})") from None

    def cpu_seconds(self) -> float | None:
        """User + system CPU time of the process, all threads (Linux /proc); None elsewhere."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self._process.is_alive():
            try:
                self.send("stop")
                self.receive(30.0)
            except (BenchError, OSError):
                pass
            self._process.join(10.0)
            if self._process.is_alive():
                self._process.terminate()
                self._process.join(5.0)
        self._conn.close()
