"""Where the gridhan process spends its time during the benchmark: cProfile (``--profile``) or py-spy
(``--py-spy``), summarised as shares of the samples/own time, with file:line.

cProfile runs inside the process on the event-loop thread only; its *own* times are sound, but its
*cumulative* times are not (coroutine suspensions and SQLAlchemy's greenlet switches confuse its call
stack), so only own time is reported. py-spy samples every thread from outside at low overhead and its
stacks are reliable, so it gives inclusive shares: prefer it (``pip install py-spy``; it needs ptrace
permission on the server process).
"""

from __future__ import annotations

import os
import pstats
import shutil
import signal
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: Top-level folders of the repository: frames from these files are gridhan's own code.
CODE_FOLDERS = ("schemas", "certs", "server", "client", "conformance", "cli", "bench")
PACKAGES = ("sqlalchemy", "aiosqlite", "aiohttp", "multidict", "yarl", "lxml", "cryptography", "sqlmodel", "greenlet")


def _package(filename: str) -> str | None:
    parts = Path(filename).parts
    for marker in PACKAGES:
        if marker in parts:
            return marker
    return None


def _is_gridhan(filename: str) -> bool:
    if "site-packages" in filename:
        return False
    if filename.startswith(str(ROOT) + os.sep):
        filename = filename[len(str(ROOT)) + 1 :]
    return filename.split("/", 1)[0] in CODE_FOLDERS or "/gridhan/" in filename


def _relative(filename: str) -> str:
    for prefix in (str(ROOT) + os.sep,):
        if filename.startswith(prefix):
            return filename[len(prefix) :]
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1]
    if "/lib/python3" in filename:
        return filename.split("/lib/", 1)[1].split("/", 1)[1]
    return filename


# --- cProfile --------------------------------------------------------------------------------------


def _pstats_group(filename: str, function: str) -> str:
    if filename == "~":
        if "_ssl." in function:
            return "ssl (C)"
        if "epoll" in function or "select" in function:
            return "epoll wait/poll (C)"
        if "socket" in function:
            return "socket send/recv (C)"
        if "SimpleQueue" in function:
            return "thread hand-off queue (C)"
        return "other builtins (C)"
    package = _package(filename)
    if package:
        return package
    if _is_gridhan(filename):
        return "gridhan"
    if "asyncio" in Path(filename).parts:
        return "asyncio"
    return "stdlib/other: " + Path(filename).name


def print_pstats(path: Path, top: int = 25) -> None:
    """Own time by package and the top functions by own time, from a cProfile stats file."""
    stats = pstats.Stats(str(path))
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in raw.values()) or 1.0
    groups: dict[str, float] = defaultdict(float)
    for (filename, _line, function), entry in raw.items():
        groups[_pstats_group(filename, function)] += entry[2]

    def where(key: tuple[str, int, str]) -> str:
        filename, line, function = key
        return f"{_relative(filename)}:{line}({function})" if filename != "~" else function

    print()
    print(f"cProfile of gridhan's event-loop thread during its measured phases: {total:.2f} s of own time")
    print("own time by package:")
    for name, tt in sorted(groups.items(), key=lambda kv: -kv[1])[:15]:
        print(f"  {100 * tt / total:5.1f}%  {name}")
    print(f"top {top} functions by own time (calls count coroutine resumptions too):")
    for key, entry in sorted(raw.items(), key=lambda kv: -kv[1][2])[:top]:
        print(f"  {100 * entry[2] / total:5.1f}%  {entry[1]:>8}  {where(key)}")
    own = [(k, v) for k, v in raw.items() if _is_gridhan(k[0])]
    print(f"gridhan functions by own time (top {top}):")
    for key, entry in sorted(own, key=lambda kv: -kv[1][2])[:top]:
        print(f"  {100 * entry[2] / total:5.1f}%  {entry[1]:>8}  {where(key)}")


# --- py-spy ----------------------------------------------------------------------------------------


class PySpy:
    """``py-spy record`` attached to a running process, writing collapsed stacks (``--format raw``)."""

    def __init__(self, pid: int, output: Path, rate: int = 100) -> None:
        exe = (
            os.environ.get("PY_SPY")
            or shutil.which("py-spy")
            or shutil.which("py-spy", path=Path(sys.executable).parent)
        )
        if exe is None:
            raise FileNotFoundError("py-spy not found: pip install py-spy (or set PY_SPY to its path)")
        self.output = output
        command = [exe, "record", "--pid", str(pid), "--rate", str(rate), "--nonblocking", "--threads"]
        command += ["--format", "raw", "--output", str(output)]
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def stop(self) -> None:
        """Stop sampling (SIGINT makes py-spy write its output) and wait for the file."""
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGINT)
        try:
            _out, err = self._process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            _out, err = self._process.communicate()
        if not self.output.exists():
            raise RuntimeError(f"py-spy wrote no profile: {err.strip()}")


def _frame(frame: str) -> tuple[str, str, str]:
    """``"function (file:line)"`` -> (function, file, line)."""
    name, _, where = frame.rpartition(" (")
    file, _, line = where.rstrip(")").rpartition(":")
    return name, file, line


def read_folded(paths: list[Path]) -> list[tuple[list[str], int]]:
    """Collapsed stacks (``thread;frame;frame... count``) of one or more py-spy raw files."""
    samples = []
    for path in paths:
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if stack:
                samples.append((stack.split(";"), int(count)))
    return samples


def _category(frames: list[str]) -> str:
    """Who the sample's time belongs to: the innermost frame that is gridhan's code (by module), a
    library of interest, TLS or event-loop I/O; a frame deeper in the stack wins."""
    for frame in reversed(frames):
        _name, file, _line = _frame(frame)
        if _is_gridhan(file) and not file.startswith("bench/"):
            return file
        package = _package(file)
        if package:
            return package
        if file.endswith(("asyncio/sslproto.py", "/ssl.py")) or file == "ssl.py":
            return "TLS (asyncio sslproto, ssl)"
        if file.endswith(("selectors.py", "asyncio/selector_events.py")):
            return "event loop I/O (selectors)"
    return "asyncio and other"


def categorize(samples: list[tuple[list[str], int]]) -> dict[str, int]:
    """Samples per category (:func:`_category`); threads other than the event loop's are one category."""
    table: dict[str, int] = defaultdict(int)
    for frames, n in samples:
        thread = frames[0] if frames[0].startswith("thread") else ""
        body = frames[1:] if thread else frames
        if thread and "MainThread" not in thread:
            kind = "aiosqlite threads" if "_connection_worker_thread" in thread else "other threads"
            table[f"{kind} (all of it)"] += n
        elif body:
            table[_category(body)] += n
    return table


def gridhan_lines(samples: list[tuple[list[str], int]]) -> dict[str, int]:
    """Inclusive samples per line of gridhan code on the event loop's stack."""
    sites: dict[str, int] = defaultdict(int)
    for frames, n in samples:
        seen = set()
        for frame in frames:
            name, file, line = _frame(frame)
            if _is_gridhan(file) and not file.startswith("bench/"):
                site = f"{file}:{line} {name}"
                if site not in seen:
                    seen.add(site)
                    sites[site] += n
    return sites


def print_folded(files: dict[str, list[Path]], cpu_us: dict[str, float | None], top: int = 20) -> None:
    """Side by side per target: each category's share of the samples and, from the target's measured
    server CPU per request, its estimated CPU microseconds per request; then gridhan's hottest lines."""
    tables = {target: categorize(read_folded(paths)) for target, paths in files.items()}
    totals = {target: sum(table.values()) or 1 for target, table in tables.items()}
    targets = list(tables)
    keys = sorted(
        {k for t in tables.values() for k in t}, key=lambda k: -max(t.get(k, 0) / totals[n] for n, t in tables.items())
    )
    print()
    print(
        "py-spy samples of the servers during the keep-alive phases (innermost matching frame; "
        "us/req = share x server CPU per request):"
    )
    print(f"  {'category':<44}" + "".join(f" {t + ' %':>10} {'us/req':>7}" for t in targets))
    print(f"  {'(samples)':<44}" + "".join(f" {totals[t]:>10} {'':>7}" for t in targets))
    for key in keys:
        cells = ""
        for target in targets:
            share = tables[target].get(key, 0) / totals[target]
            us = cpu_us.get(target)
            cells += f" {100 * share:>10.1f} {'-' if us is None else format(share * us, '.1f'):>7}"
        print(f"  {key[:44]:<44}{cells}")
    if "gridhan" in files:
        samples = read_folded(files["gridhan"])
        total = sum(n for _, n in samples) or 1
        print(
            f"gridhan lines on the stack, inclusive (top {top}; SQLAlchemy work runs on greenlets whose "
            "stacks do not show their caller):"
        )
        for key, n in sorted(gridhan_lines(samples).items(), key=lambda kv: -kv[1])[:top]:
            print(f"  {100 * n / total:5.1f}%  {key}")
