"""``gridhan bench``: the mutual-TLS load benchmark of gridhan against a bare aiohttp server (or, with
``--fanout N``, the notification fan-out benchmark of ``bench/fanout.py``).

The benchmark itself lives in the ``bench/`` folder of a source checkout (it is not installed with the
package); this module only defines its options and finds that folder. Wire it into the top-level parser
with :func:`register`; the parsed arguments carry ``func=run``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

#: The source checkout this package was installed from in editable mode (``pip install -e .``).
SOURCE_ROOT = Path(__file__).resolve().parents[1]

DEFAULT_PATHS = "/dcap,/tm,/edev/{id}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The benchmark's options (shared by ``gridhan bench`` and ``python -m bench.mtls_load``)."""
    parser.add_argument(
        "--connections",
        type=int,
        default=32,
        metavar="N",
        help="keep-alive mTLS connections, each with its own device certificate (default 32)",
    )
    parser.add_argument(
        "--duration", type=float, default=5.0, metavar="S", help="seconds of load per target per round (default 5)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        metavar="N",
        help="rounds; each loads both targets, in alternating order (default 3)",
    )
    parser.add_argument(
        "--paths",
        default=DEFAULT_PATHS,
        metavar="P[,P...]",
        help="GET paths each connection cycles through; {id} is the connection's own "
        f"EndDevice id (default {DEFAULT_PATHS})",
    )
    parser.add_argument(
        "--handshakes",
        type=int,
        default=200,
        metavar="N",
        help="fresh connections (full handshake + one GET) per target per round; 0 skips (default 200)",
    )
    parser.add_argument(
        "--handshake-concurrency",
        type=int,
        default=8,
        metavar="N",
        help="fresh connections in flight at once (default 8)",
    )
    parser.add_argument(
        "--handshake-path", default="/tm", metavar="P", help="the GET sent on each fresh connection (default /tm)"
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=1.0,
        metavar="S",
        help="unmeasured load per target before the first round (default 1)",
    )
    parser.add_argument(
        "--client",
        choices=("raw", "aiohttp"),
        default="raw",
        help="load client: a minimal selectors/ssl HTTP/1.1 client (default), or "
        "aiohttp.ClientSession (to compare clients)",
    )
    parser.add_argument(
        "--no-pin",
        action="store_true",
        help="do not pin the servers to one CPU and the load generator to another (pinning is done when "
        "at least 2 CPUs are usable)",
    )
    parser.add_argument(
        "--server-log-level",
        default="WARNING",
        metavar="LEVEL",
        help="log level of both servers; INFO adds the access log (default WARNING)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        metavar="FILE",
        help="run cProfile in the gridhan process during its keep-alive phases, write the "
        "stats to FILE and print the hot spots (slows gridhan: ratios are then not valid)",
    )
    parser.add_argument(
        "--py-spy",
        type=Path,
        default=None,
        metavar="DIR",
        help="sample both servers with py-spy (installed separately) during their keep-alive phases, write "
        "the collapsed stacks to DIR and print where each spends its time",
    )
    parser.add_argument("--json", type=Path, default=None, metavar="FILE", help="also write the results here")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``bench`` command."""
    parser = subparsers.add_parser(
        "bench",
        help="mTLS load benchmark: gridhan against a bare aiohttp server",
        description="Start gridhan and a bare aiohttp server (same TLS context, fixed bodies) in their own "
        "processes, load both in alternating rounds over keep-alive mutual-TLS connections (GET /dcap, "
        "/tm, /edev/{id}) and with fresh handshakes, and print requests/s, p50 and p99 latency, "
        "handshakes/s and the gridhan/bare ratios. Needs a source checkout (the bench/ folder).",
    )
    add_arguments(parser)
    parser.add_argument(
        "--fanout",
        type=int,
        default=0,
        metavar="N",
        help="instead: the notification fan-out benchmark (bench/fanout.py) with N subscribed devices; "
        "its other options through python -m bench.fanout",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the benchmark; 0 when it completed, 1 with a message on stderr when it could not."""
    if (SOURCE_ROOT / "bench" / "mtls_load.py").is_file() and str(SOURCE_ROOT) not in sys.path:
        sys.path.insert(0, str(SOURCE_ROOT))
    name = "bench.fanout" if getattr(args, "fanout", 0) else "bench.mtls_load"
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        print(
            f"gridhan bench: the benchmark needs a source checkout of gridhan (bench/ folder): {exc}", file=sys.stderr
        )
        return 1
    if name == "bench.fanout":
        return module.main(["--listeners", str(args.fanout), *(["--json", str(args.json)] if args.json else [])])
    return module.run(args)
