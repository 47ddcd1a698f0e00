"""Virtual environments for third-party IEEE 2030.5 implementations the tests run against gridhan.

A peer is installed from the package index into a virtual environment of its own (its dependencies may
clash with gridhan's), created once per machine in a cache directory and reused by later runs:
``$GRIDHAN_PEER_CACHE`` or ``$XDG_CACHE_HOME/gridhan-peers`` (``~/.cache/gridhan-peers``), one directory
per peer, pinned version, pinned dependency set and Python version. A lock file serialises concurrent
creation; a marker file written last tells a complete environment from one whose creation was cut short.

When the package index cannot be reached the caller gets :class:`PeerUnavailable` (the tests skip and say
why); any other installation failure is an error with pip's output.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PEERS = Path(__file__).resolve().parent / "peers"

#: What pip prints when it cannot reach the index (as opposed to a package or version that does not exist).
NETWORK_MARKERS = (
    "NewConnectionError",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "Connection refused",
    "ProxyError",
    "Max retries exceeded",
    "SSLError",
)


class PeerUnavailable(Exception):
    """The peer cannot be installed because the package index is out of reach."""


@dataclass(frozen=True)
class Peer:
    name: str
    version: str
    #: A pip constraints file in tests/peers/ pinning the peer's dependencies (reproducible environments).
    constraints: str

    @property
    def constraints_path(self) -> Path:
        return PEERS / self.constraints

    def key(self) -> str:
        """Directory name: the pins and the interpreter decide whether an existing environment fits."""
        digest = hashlib.sha256(self.constraints_path.read_bytes()).hexdigest()[:10]
        return f"{self.name}-{self.version}-py{sys.version_info[0]}{sys.version_info[1]}-{digest}"


def cache_root() -> Path:
    configured = os.environ.get("GRIDHAN_PEER_CACHE")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "gridhan-peers"


def clean_env() -> dict[str, str]:
    """The environment for the peer's processes: none of gridhan's virtual environment leaks in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and k != "VIRTUAL_ENV"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, env=clean_env(), timeout=900, check=False)


def peer_python(peer: Peer) -> Path:
    """The interpreter of the peer's environment, created on first use (a few tens of seconds)."""
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    target = root / peer.key()
    python = target / "bin" / "python"
    marker = target / ".complete"
    with (root / f"{peer.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists():
            return python
        shutil.rmtree(target, ignore_errors=True)
        # sys._base_executable: a venv made from inside gridhan's own venv must not inherit it.
        base = getattr(sys, "_base_executable", sys.executable)
        made = _run([base, "-m", "venv", str(target)])
        if made.returncode != 0:
            raise RuntimeError(f"python -m venv {target} failed:\n{made.stdout}{made.stderr}")
        install = _run(
            [
                str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                "--retries", "2", "--timeout", "30",
                "-c", str(peer.constraints_path), f"{peer.name}=={peer.version}",
            ]
        )  # fmt: skip
        if install.returncode != 0:
            shutil.rmtree(target, ignore_errors=True)
            output = install.stdout + install.stderr
            if any(marker_text in output for marker_text in NETWORK_MARKERS):
                tail = "\n".join(output.strip().splitlines()[-3:])
                raise PeerUnavailable(f"cannot install {peer.name}=={peer.version}: package index unreachable\n{tail}")
            raise RuntimeError(f"pip install {peer.name}=={peer.version} failed:\n{output}")
        frozen = _run([str(python), "-m", "pip", "freeze", "--disable-pip-version-check"]).stdout
        marker.write_text(frozen)
    return python
