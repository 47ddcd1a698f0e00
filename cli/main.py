"""The ``gridhan`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from gridhan.cli import certs_cmd, device_cmd, discover_cmd, serve_cmd


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="gridhan",
        description="gridhan: utility-side IEEE 2030.5 (SEP 2.0, CSIP, CSIP-AUS) server, with its PKI tools.",
    )
    commands = top.add_subparsers(dest="command", metavar="COMMAND", required=True)
    serve_cmd.register(commands)
    certs_cmd.register(commands)
    device_cmd.register(commands)
    discover_cmd.register(commands)
    try:
        from gridhan.cli import bench_cmd
    except ImportError:  # the benchmark needs the source tree's bench/ folder
        pass
    else:
        bench_cmd.register(commands)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
