"""Mutual-TLS load benchmark: gridhan against a bare aiohttp server with the same TLS settings.

Run ``python -m bench.mtls_load`` (or ``python bench/mtls_load.py``, or ``gridhan bench``) from a source
checkout; ``--help`` lists the options and bench/README.md explains the numbers.

1. A temporary development PKI with one device certificate per connection.
2. gridhan (:class:`~gridhan.server.app.GridhanServer`, SQLite in the temporary folder) in its own process;
   the devices are registered through its admin API, and the bodies it returns for the benchmarked paths
   are fetched.
3. The baseline in another process: a bare aiohttp app on ``web.TCPSite(ssl_context=...)`` with the same
   :func:`~gridhan.certs.tls.server_context` (same certificate, trust anchor, cipher suite, client
   certificate required), answering the same paths with those bodies.
4. Rounds: in each, both targets get ``--duration`` seconds of keep-alive load and ``--handshakes`` fresh
   connections, the order alternating from round to round. Every answer must be 200, or the run stops.
5. A table per round, the summary with the gridhan/bare ratios, and the environment; ``--json`` saves it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import secrets
import shutil
import ssl
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: python bench/mtls_load.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp

from bench.client import (
    BenchError,
    ConnectionPlan,
    LoadResult,
    aiohttp_load,
    get_request,
    handshake_load,
    keepalive_load,
)
from bench.process import ChildProcess
from bench.profiles import PySpy, print_folded, print_pstats
from bench.servers import serve
from gridhan.certs.identity import lfdi_of, load_certificate
from gridhan.certs.pki import DevelopmentPki
from gridhan.certs.tls import client_context
from gridhan.cli.bench_cmd import add_arguments
from gridhan.server.settings import Settings

TARGETS = ("gridhan", "bare")
GOAL_RATIO = 0.6
HOST = "127.0.0.1"


# --- the server processes -------------------------------------------------------------------------


class TargetProcess(ChildProcess):
    """One target (gridhan or bare aiohttp) in its own process."""

    def __init__(self, kind: str, config: dict[str, Any]) -> None:
        super().__init__(serve, kind, config, f"bench-{kind}")

    @property
    def port(self) -> int:
        return self.info["port"]


# --- setup: devices and bodies ---------------------------------------------------------------------


@dataclass
class Device:
    name: str
    cert: Path
    key: Path
    lfdi: str
    edev_id: int = 0


async def _register(admin_port: int, token: str, anchor: Path, devices: list[Device]) -> None:
    context = ssl.create_default_context(cafile=str(anchor))
    context.check_hostname = False  # 2030.5 certificates carry no host name
    headers = {"Authorization": f"Bearer {token}"}
    url = f"https://{HOST}:{admin_port}/api/v1/devices"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context), headers=headers) as session:
        for device in devices:
            async with session.post(url, json={"lfdi": device.lfdi}) as resp:
                body = await resp.text()
                if resp.status != 201:
                    raise BenchError(f"admin API: registering {device.name} answered {resp.status}: {body}")
                device.edev_id = json.loads(body)["id"]


async def _fetch_bodies(
    port: int, context: ssl.SSLContext, device: Device, templates: list[str]
) -> dict[str, tuple[str, bytes]]:
    bodies = {}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session:
        for template in templates:
            path = expand(template, device)
            async with session.get(f"https://{HOST}:{port}{path}") as resp:
                body = await resp.read()
                if resp.status != 200:
                    raise BenchError(f"gridhan: GET {path} answered {resp.status}: {body[:400]!r}")
                bodies[template] = (resp.headers["Content-Type"], body)
    return bodies


def expand(template: str, device: Device) -> str:
    return template.replace("{id}", str(device.edev_id))


# --- statistics ------------------------------------------------------------------------------------


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..1) of an ascending list; NaN when empty."""
    if not sorted_values:
        return math.nan
    return sorted_values[min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))]


@dataclass
class Phase:
    """One measured phase of one target: keep-alive load or fresh handshakes."""

    target: str
    round: int
    result: LoadResult
    server_cpu: float | None  # CPU seconds of the target process during the phase

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.result.latencies)
        elapsed = self.result.elapsed
        return {
            "target": self.target,
            "round": self.round,
            "count": self.result.count,
            "seconds": round(elapsed, 4),
            "rate": round(self.result.rate, 2),
            "p50_ms": round(percentile(lat, 0.50) * 1000, 3),
            "p99_ms": round(percentile(lat, 0.99) * 1000, 3),
            "server_cpu_pct": None if self.server_cpu is None else round(100 * self.server_cpu / elapsed, 1),
            "server_cpu_us_per_request": None
            if self.server_cpu is None or not self.result.count
            else round(1e6 * self.server_cpu / self.result.count, 1),
            "client_cpu_pct": round(100 * self.result.client_cpu / elapsed, 1),
        }


@dataclass
class Results:
    load: list[Phase] = field(default_factory=list)
    handshakes: list[Phase] = field(default_factory=list)
    tls: dict[str, tuple[str, str] | None] = field(default_factory=dict)


def _pooled(phases: list[Phase], paths: list[str]) -> dict[str, Any]:
    if not phases:
        return {}
    lat: list[float] = []
    by_path: dict[int, list[float]] = defaultdict(list)
    count, seconds = 0, 0.0
    for phase in phases:
        lat.extend(phase.result.latencies)
        for value, index in zip(phase.result.latencies, phase.result.path_index, strict=True):
            by_path[index].append(value)
        count += phase.result.count
        seconds += phase.result.elapsed
    lat.sort()
    out: dict[str, Any] = {
        "count": count,
        "rate": count / seconds if seconds else 0.0,
        "rate_per_round": [round(p.result.rate, 2) for p in phases],
        "p50_ms": percentile(lat, 0.50) * 1000,
        "p99_ms": percentile(lat, 0.99) * 1000,
    }
    cpu = [p.server_cpu / p.result.elapsed for p in phases if p.server_cpu is not None]
    out["server_cpu_pct"] = 100 * statistics.mean(cpu) if cpu else None
    out["client_cpu_pct"] = 100 * statistics.mean(p.result.client_cpu / p.result.elapsed for p in phases)
    server_cpu = sum(p.server_cpu for p in phases if p.server_cpu is not None)
    out["server_cpu_us_per_request"] = 1e6 * server_cpu / count if cpu and count else None
    out["client_cpu_us_per_request"] = 1e6 * sum(p.result.client_cpu for p in phases) / count if count else None
    if len(paths) > 1:
        out["paths"] = {}
        for index, path in enumerate(paths):
            values = sorted(by_path.get(index, []))
            out["paths"][path] = {
                "count": len(values),
                "p50_ms": percentile(values, 0.5) * 1000,
                "p99_ms": percentile(values, 0.99) * 1000,
            }
    return out


def _round_ratios(phases: list[Phase]) -> list[float]:
    by_round: dict[int, dict[str, float]] = defaultdict(dict)
    for phase in phases:
        by_round[phase.round][phase.target] = phase.result.rate
    return [r["gridhan"] / r["bare"] for _, r in sorted(by_round.items()) if r.get("bare")]


def summarize(results: Results, paths: list[str]) -> dict[str, Any]:
    summary: dict[str, Any] = {"load": {}, "handshakes": {}}
    for target in TARGETS:
        summary["load"][target] = _pooled([p for p in results.load if p.target == target], paths)
        summary["handshakes"][target] = _pooled([p for p in results.handshakes if p.target == target], paths[:1])
    load_ratios = _round_ratios(results.load)
    g, b = summary["load"]["gridhan"], summary["load"]["bare"]
    ratio: dict[str, Any] = {
        "rate": statistics.median(load_ratios) if load_ratios else None,
        "rate_per_round": [round(r, 3) for r in load_ratios],
        "p50": g["p50_ms"] / b["p50_ms"] if b.get("p50_ms") else None,
        "p99": g["p99_ms"] / b["p99_ms"] if b.get("p99_ms") else None,
    }
    g_cpu, b_cpu = g.get("server_cpu_us_per_request"), b.get("server_cpu_us_per_request")
    ratio["server_cpu_per_request"] = b_cpu / g_cpu if g_cpu and b_cpu else None
    hs_ratios = _round_ratios(results.handshakes)
    ratio["handshakes"] = statistics.median(hs_ratios) if hs_ratios else None
    ratio["handshakes_per_round"] = [round(r, 3) for r in hs_ratios]
    summary["ratio"] = ratio
    return summary


# --- environment and output ------------------------------------------------------------------------


def environment() -> dict[str, Any]:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    loop = asyncio.new_event_loop()
    loop_name = type(loop).__name__
    loop.close()
    return {
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "aiohttp": aiohttp.__version__,
        "openssl": ssl.OPENSSL_VERSION,
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "platform": platform.platform(),
        "event_loop": loop_name,
    }


def _fmt(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, spec)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


def print_report(config: dict[str, Any], env: dict[str, Any], results: Results, summary: dict[str, Any]) -> None:
    print()
    print(
        f"gridhan bench: {config['connections']} keep-alive mTLS connections, {config['rounds']} rounds x "
        f"{config['duration']:g} s per target, GET {' '.join(config['paths'])}; client {config['client']}"
    )
    print(
        f"environment: {env['python']}, aiohttp {env['aiohttp']}, {env['openssl']}, "
        f"{env['cores']} cores ({env['usable_cores']} usable), {env['event_loop']}, {env['platform']}"
    )
    pinning = config["pinning"]
    print(
        "pinning: "
        + (
            "none"
            if pinning is None
            else f"servers on CPU {pinning['servers']}, load generator on CPU {pinning['client']}"
        )
    )
    tls = {t: v for t, v in results.tls.items() if v}
    print("TLS: " + "; ".join(f"{t} {v[0]} {v[1]}" for t, v in tls.items()))
    print()
    header = f"{'round':>5}  {'target':<8} {'phase':<10} {'count':>7} {'rate/s':>9} {'p50 ms':>8} {'p99 ms':>8}"
    print(header + f" {'server CPU':>10} {'us/req':>7} {'client CPU':>10}")
    for phase in sorted(results.load + results.handshakes, key=lambda p: p.round):
        s = phase.summary()
        kind = "keep-alive" if phase in results.load else "handshake"
        print(
            f"{s['round']:>5}  {s['target']:<8} {kind:<10} {s['count']:>7} {s['rate']:>9.1f} "
            f"{s['p50_ms']:>8.2f} {s['p99_ms']:>8.2f} {_pct(s['server_cpu_pct']):>10} "
            f"{_fmt(s['server_cpu_us_per_request'], '.0f'):>7} {_pct(s['client_cpu_pct']):>10}"
        )
    print()
    g, b, r = summary["load"]["gridhan"], summary["load"]["bare"], summary["ratio"]
    gh, bh = summary["handshakes"]["gridhan"], summary["handshakes"]["bare"]
    print(f"{'summary (all rounds)':<24} {'gridhan':>10} {'bare':>10} {'gridhan/bare':>13}")
    print(f"{'requests/s':<24} {g['rate']:>10.1f} {b['rate']:>10.1f} {_fmt(r['rate'], '.3f'):>13}")
    print(f"{'p50 latency ms':<24} {g['p50_ms']:>10.2f} {b['p50_ms']:>10.2f} {_fmt(r['p50'], '.3f'):>13}")
    print(f"{'p99 latency ms':<24} {g['p99_ms']:>10.2f} {b['p99_ms']:>10.2f} {_fmt(r['p99'], '.3f'):>13}")
    g_us, b_us = g["server_cpu_us_per_request"], b["server_cpu_us_per_request"]
    print(
        f"{'server CPU us/request':<24} {_fmt(g_us, '.0f'):>10} {_fmt(b_us, '.0f'):>10} "
        f"{_fmt(r['server_cpu_per_request'], '.3f'):>13}  (bare/gridhan)"
    )
    print(
        f"{'client CPU us/request':<24} {_fmt(g['client_cpu_us_per_request'], '.0f'):>10} "
        f"{_fmt(b['client_cpu_us_per_request'], '.0f'):>10}"
    )
    print(f"{'server CPU (mean)':<24} {_pct(g['server_cpu_pct']):>10} {_pct(b['server_cpu_pct']):>10}")
    print(f"{'client CPU (mean)':<24} {_pct(g['client_cpu_pct']):>10} {_pct(b['client_cpu_pct']):>10}")
    if gh and bh:
        print(f"{'handshakes/s':<24} {gh['rate']:>10.1f} {bh['rate']:>10.1f} {_fmt(r['handshakes'], '.3f'):>13}")
        print(f"{'handshake+GET p50 ms':<24} {gh['p50_ms']:>10.2f} {bh['p50_ms']:>10.2f}")
        print(
            f"{'server CPU us/handshake':<24} {_fmt(gh['server_cpu_us_per_request'], '.0f'):>10} "
            f"{_fmt(bh['server_cpu_us_per_request'], '.0f'):>10}"
        )
        print(
            f"{'client CPU us/handshake':<24} {_fmt(gh['client_cpu_us_per_request'], '.0f'):>10} "
            f"{_fmt(bh['client_cpu_us_per_request'], '.0f'):>10}"
        )
    if "paths" in g:
        print()
        print(f"{'per path p50 / p99 ms':<24} {'gridhan':>17} {'bare':>17}")
        for path in config["paths"]:
            gp, bp = g["paths"][path], b["paths"][path]
            print(f"{path:<24} {gp['p50_ms']:>8.2f} {gp['p99_ms']:>8.2f} {bp['p50_ms']:>8.2f} {bp['p99_ms']:>8.2f}")
    print()
    rounds = ", ".join(f"{x:.3f}" for x in r["rate_per_round"])
    print(f"requests/s ratio per round: {rounds} (median {_fmt(r['rate'], '.3f')})")
    if r["rate"] is not None:
        verdict = "met" if r["rate"] >= GOAL_RATIO else "NOT met"
        print(f"goal gridhan >= {GOAL_RATIO} x bare aiohttp requests/s: {verdict}")
    if config["profile"]:
        print("note: gridhan ran under cProfile, so its numbers and the ratios above are not representative")


# --- the run ---------------------------------------------------------------------------------------


def _check(args: argparse.Namespace) -> list[str]:
    paths = [p.strip() for p in args.paths.split(",") if p.strip()]
    problems = []
    if args.connections < 1:
        problems.append("--connections must be at least 1")
    if args.rounds < 1:
        problems.append("--rounds must be at least 1")
    if args.duration <= 0:
        problems.append("--duration must be positive")
    if args.handshakes < 0 or args.handshake_concurrency < 1:
        problems.append("--handshakes must be >= 0 and --handshake-concurrency >= 1")
    if not paths or any(not p.startswith("/") for p in paths):
        problems.append("--paths takes absolute paths, comma-separated")
    args.path_list = paths
    return problems


class Benchmark:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.paths: list[str] = args.path_list
        self.results = Results()
        self.targets: dict[str, TargetProcess] = {}
        self.plans: dict[str, list[ConnectionPlan]] = {}
        self.contexts: list[ssl.SSLContext] = []
        self._affinity: set[int] | None = None
        self.spy_files: dict[str, list[Path]] = defaultdict(list)
        self.summary: dict[str, Any] = {"load": {t: {} for t in TARGETS}}

    def _log(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    def run(self) -> dict[str, Any]:
        args = self.args
        workdir = Path(tempfile.mkdtemp(prefix="gridhan-bench-"))
        try:
            return self._run(workdir)
        finally:
            if self._affinity:
                os.sched_setaffinity(0, self._affinity)
            for target in self.targets.values():
                target.stop()
            shutil.rmtree(workdir, ignore_errors=True)
            if args.profile and args.profile.exists():
                print_pstats(args.profile)
            if self.spy_files:
                cpu = {t: self.summary["load"][t].get("server_cpu_us_per_request") for t in TARGETS}
                print_folded(self.spy_files, cpu)

    def _run(self, workdir: Path) -> dict[str, Any]:
        args = self.args
        started = time.perf_counter()
        self.env = environment()  # before this process is pinned to one CPU
        ciphers = Settings().ciphers
        names = [f"bench{i:04d}" for i in range(args.connections)]
        self._log(f"creating a development PKI with {len(names)} device certificates in {workdir}")
        pki = DevelopmentPki.create(workdir / "pki", devices=names)
        devices = [
            Device(
                n, pki.device_cert_path(n), pki.device_key_path(n), lfdi_of(load_certificate(pki.device_cert_path(n)))
            )
            for n in names
        ]
        self.contexts = [
            client_context(d.cert, d.key, trust_anchors=[pki.trust_anchor_path], ciphers=ciphers) for d in devices
        ]
        common = {
            "cert": str(pki.server_cert_path),
            "key": str(pki.server_key_path),
            "trust_anchor": str(pki.trust_anchor_path),
            "ciphers": list(ciphers),
            "log_level": args.server_log_level,
        }
        server_cpu, client_cpu = self._cpus()
        common["cpu"] = server_cpu
        token = secrets.token_urlsafe(24)
        self._log("starting gridhan")
        gridhan = self.targets["gridhan"] = TargetProcess(
            "gridhan",
            {
                **common,
                "data_dir": str(workdir / "gridhan-data"),
                "admin_token": token,
                "profile": str(args.profile.resolve()) if args.profile else None,
            },
        )
        asyncio.run(_register(gridhan.info["admin_port"], token, pki.trust_anchor_path, devices))
        bodies = asyncio.run(_fetch_bodies(gridhan.port, self.contexts[0], devices[0], self.paths))
        self._log("registered the devices; bodies: " + ", ".join(f"{t} {len(b)} B" for t, (_c, b) in bodies.items()))
        self._log(f"gridhan listening on {gridhan.port} (pid {gridhan.pid}); starting bare aiohttp")
        self.targets["bare"] = TargetProcess(
            "bare",
            {
                **common,
                "bodies": {t: (c, b.hex()) for t, (c, b) in bodies.items()},
            },
        )
        for name, target in self.targets.items():
            self.plans[name] = self._plans(devices, target.port)

        if client_cpu is not None:
            os.sched_setaffinity(0, {client_cpu})
            self._log(f"pinned: servers to CPU {server_cpu}, load generator to CPU {client_cpu}")
        if args.warmup > 0:
            self._log(f"warm-up: {args.warmup:g} s per target")
            for name in TARGETS:
                self._load(name, 0, args.warmup, record=False)
        for number in range(1, args.rounds + 1):
            order = TARGETS if number % 2 else tuple(reversed(TARGETS))
            for name in order:
                self._log(f"round {number}/{args.rounds}: {name} keep-alive load, {args.duration:g} s")
                self._load(name, number, args.duration, record=True)
            if args.handshakes:
                for name in order:
                    self._log(f"round {number}/{args.rounds}: {name} {args.handshakes} fresh connections")
                    self._handshakes(name, number)

        config = {
            "connections": args.connections,
            "duration": args.duration,
            "rounds": args.rounds,
            "paths": self.paths,
            "handshakes": args.handshakes,
            "handshake_concurrency": args.handshake_concurrency,
            "handshake_path": args.handshake_path,
            "warmup": args.warmup,
            "client": args.client,
            "server_log_level": args.server_log_level,
            "profile": str(args.profile) if args.profile else None,
            "py_spy": str(args.py_spy) if args.py_spy else None,
            "pinning": None if client_cpu is None else {"servers": server_cpu, "client": client_cpu},
        }
        env = self.env
        summary = self.summary = summarize(self.results, self.paths)
        print_report(config, env, self.results, summary)
        self._log(f"total time {time.perf_counter() - started:.1f} s")
        return {
            "config": config,
            "environment": env,
            "tls": {t: list(v) if v else None for t, v in self.results.tls.items()},
            "phases": {
                "keep_alive": [p.summary() for p in self.results.load],
                "handshakes": [p.summary() for p in self.results.handshakes],
            },
            "summary": summary,
        }

    def _cpus(self) -> tuple[int | None, int | None]:
        """(server CPU, load generator CPU) when pinning, else (None, None)."""
        if self.args.no_pin or not hasattr(os, "sched_getaffinity"):
            return None, None
        usable = sorted(os.sched_getaffinity(0))
        if len(usable) < 2:
            return None, None
        self._affinity = set(usable)
        return usable[-1], usable[0]

    def _plans(self, devices: list[Device], port: int) -> list[ConnectionPlan]:
        host = f"{HOST}:{port}"
        plans = []
        for i, (device, context) in enumerate(zip(devices, self.contexts, strict=True)):
            order = [(i + k) % len(self.paths) for k in range(len(self.paths))]  # paths mixed at any moment
            paths = [(j, expand(self.paths[j], device)) for j in order]
            requests = [(j, path, get_request(path, host)) for j, path in paths]
            plans.append(ConnectionPlan(context, requests))
        return plans

    def _measure(self, name: str, number: int, work: Any, *, profile: bool = False) -> Phase:
        """Run ``work`` (a load phase) and note the target's CPU time; ``profile``: under the profilers
        that were asked for (cProfile inside gridhan, py-spy attached to either target)."""
        target = self.targets[name]
        cprofile = profile and name == "gridhan" and self.args.profile is not None
        spy = None
        if profile and self.args.py_spy is not None:
            self.args.py_spy.mkdir(parents=True, exist_ok=True)
            output = self.args.py_spy / f"{name}-round{number}.folded"
            spy = PySpy(target.pid, output)
            time.sleep(0.2)  # let it attach
        if cprofile:
            target.send("profile-on")
        cpu0 = target.cpu_seconds()
        try:
            result = work()
        finally:
            cpu1 = target.cpu_seconds()
            if cprofile:
                target.send("profile-off")
            if spy is not None:
                spy.stop()
                self.spy_files[name].append(spy.output)
        return Phase(name, number, result, None if cpu0 is None or cpu1 is None else cpu1 - cpu0)

    def _load(self, name: str, number: int, duration: float, *, record: bool) -> None:
        target = self.targets[name]
        plans = self.plans[name]
        if self.args.client == "aiohttp":

            def work() -> LoadResult:
                return asyncio.run(aiohttp_load(f"https://{HOST}:{target.port}", plans, duration, what=name))
        else:

            def work() -> LoadResult:
                return keepalive_load((HOST, target.port), plans, duration, what=name)

        phase = self._measure(name, number, work, profile=record)
        if phase.result.tls:
            self.results.tls[name] = phase.result.tls
        if record:
            self.results.load.append(phase)

    def _handshakes(self, name: str, number: int) -> None:
        target = self.targets[name]
        args = self.args

        def work() -> LoadResult:
            return handshake_load(
                (HOST, target.port),
                self.contexts,
                args.handshake_path,
                args.handshakes,
                args.handshake_concurrency,
                what=name,
            )

        self.results.handshakes.append(self._measure(name, number, work))


def run(args: argparse.Namespace) -> int:
    """Run the benchmark from parsed arguments (see :func:`gridhan.cli.bench_cmd.add_arguments`)."""
    problems = _check(args)
    if problems:
        for problem in problems:
            print(f"gridhan bench: {problem}", file=sys.stderr)
        return 2
    try:
        report = Benchmark(args).run()
    except (BenchError, OSError, ssl.SSLError) as exc:
        print(f"gridhan bench: {exc}", file=sys.stderr)
        return 1
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"results written to {args.json}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.mtls_load",
        description="mTLS load benchmark: gridhan against a bare aiohttp server with the same TLS settings.",
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
