"""Notification fan-out benchmark (IEEE 2030.5-2018 clause 8.7): one DERControl, N subscribed devices.

Run ``python -m bench.fanout`` (or ``gridhan bench --fanout 1000``) from a source checkout; ``--help`` lists
the options and bench/README.md explains the numbers.

1. A temporary development PKI and N device certificates (one key pair shared by all of them, so issuing a
   thousand takes a second; each certificate, hence each LFDI, is distinct).
2. gridhan in its own process (SQLite in the temporary folder, or ``--database-url``), allowed to notify
   127.0.0.1. The N devices are registered through the admin API, put in one group with one DERProgram.
3. The listener in another process: one HTTPS aiohttp server with a device certificate and
   :func:`gridhan.certs.tls.server_context` (TLS 1.2, ECDHE-ECDSA-AES128-CCM8, client certificate required),
   with one notificationURI path per device.
4. Each device POSTs its own Subscription to the program's DERControlList over its own mutual-TLS connection.
5. Rounds: the operator creates ONE DERControl for the program through the admin API; the listener notes when
   each of the N notifications arrives (and checks it carries the new control's mRID). Delay is from just
   before the admin request to the arrival; notifications/s is N over the time from the request to the last
   arrival.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import math
import os
import platform
import secrets
import shutil
import ssl
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: python bench/fanout.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives import serialization

from bench.client import BenchError
from bench.process import ChildProcess
from bench.profiles import PySpy, print_folded, print_pstats
from gridhan.certs.identity import lfdi_of
from gridhan.certs.pki import (
    DEVELOPMENT_DEVICE_POLICIES,
    DEVELOPMENT_HW_TYPE,
    DevelopmentPki,
    create_device_certificate,
    generate_key,
)
from gridhan.certs.tls import DEFAULT_CIPHERS, ECDH_CURVE, cipher_string, server_context
from gridhan.schemas.sep2 import CONTENT_TYPE, Subscription
from gridhan.schemas.xmlcodec import encode

HOST = "127.0.0.1"
GOAL_RATE = 1000.0
GOAL_P99 = 3.0


# --- the two server processes -------------------------------------------------------------------------


def serve(kind: str, config: dict[str, Any], conn: Connection) -> None:
    """Process entry point: ``gridhan`` or ``listener``, until told to stop."""
    try:
        if config.get("cpu") is not None:
            os.sched_setaffinity(0, {config["cpu"]})
        asyncio.run(_serve_gridhan(config, conn) if kind == "gridhan" else _serve_listener(config, conn))
    except BaseException:
        try:
            conn.send(("error", traceback.format_exc()))
        except OSError:
            pass
        raise


async def _messages(conn: Connection) -> asyncio.Queue[tuple[Any, ...]]:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()

    def on_message() -> None:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            message = ("stop",)
        if message[0] == "stop":
            loop.remove_reader(conn.fileno())
        queue.put_nowait(message)

    loop.add_reader(conn.fileno(), on_message)
    return queue


async def _serve_gridhan(config: dict[str, Any], conn: Connection) -> None:
    from gridhan.server.app import GridhanServer
    from gridhan.server.logs import configure_logging
    from gridhan.server.settings import Settings

    configure_logging(config["log_level"], "text")
    values = dict(config["settings"])
    for name in ("data_dir", "tls_cert", "tls_key"):
        values[name] = Path(values[name])
    values["trust_anchors"] = tuple(Path(p) for p in values["trust_anchors"])
    values["notify_allowed_hosts"] = tuple(values["notify_allowed_hosts"])
    server = GridhanServer(Settings(**values))
    await server.start()
    profiler = cProfile.Profile() if config.get("profile") else None
    queue = await _messages(conn)
    conn.send(("ready", {"port": server.sep2_port, "admin_port": server.admin_port, "pid": os.getpid()}))
    while True:
        message = await queue.get()
        if message[0] == "profile-on" and profiler is not None:
            profiler.enable()
        elif message[0] == "profile-off" and profiler is not None:
            profiler.disable()
        elif message[0] == "stop":
            break
    if profiler is not None:
        profiler.dump_stats(config["profile"])
    await server.stop()
    conn.send(("stopped", None))


async def _serve_listener(config: dict[str, Any], conn: Connection) -> None:
    arrivals: list[tuple[str, float, bool]] = []
    marker = {"mrid": b""}
    changed = asyncio.Event()

    async def notification(request: web.Request) -> web.Response:
        body = await request.read()
        ok = request.content_type == CONTENT_TYPE and b"<Notification" in body and marker["mrid"] in body
        arrivals.append((request.path, time.time(), ok))
        changed.set()
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/n/{device}", notification)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    context = server_context(Path(config["cert"]), Path(config["key"]), trust_anchors=(Path(config["anchor"]),))
    site = web.TCPSite(runner, HOST, 0, ssl_context=context, backlog=1024)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    queue = await _messages(conn)
    conn.send(("ready", {"port": port, "pid": os.getpid()}))
    while True:
        message = await queue.get()
        if message[0] == "expect":  # ("expect", mrid): count arrivals carrying this mRID from now on
            arrivals.clear()
            marker["mrid"] = message[1].encode()
            conn.send(("expecting", None))
        elif message[0] == "collect":  # ("collect", n, timeout): wait for n arrivals, hand them over
            _, wanted, timeout = message
            deadline = time.monotonic() + timeout
            while len(arrivals) < wanted and time.monotonic() < deadline:
                changed.clear()
                try:
                    await asyncio.wait_for(changed.wait(), max(0.0, deadline - time.monotonic()))
                except TimeoutError:
                    pass
            conn.send(("arrivals", list(arrivals)))
        elif message[0] == "stop":
            break
    await runner.cleanup()
    conn.send(("stopped", None))


class Process(ChildProcess):
    """gridhan, or the listener of all the subscribers, in its own process."""

    def __init__(self, kind: str, config: dict[str, Any]) -> None:
        super().__init__(serve, kind, config, f"fanout-{kind}")


# --- devices -------------------------------------------------------------------------------------------


@dataclass
class Device:
    index: int
    cert: Path
    lfdi: str
    edev_id: int = 0


def issue_devices(pki: DevelopmentPki, count: int, folder: Path) -> tuple[list[Device], Path]:
    """``count`` device certificates by the PKI's MICA, all for one key pair (written once)."""
    folder.mkdir(parents=True, exist_ok=True)
    key = generate_key()
    key_path = folder / "shared.key"
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    chain = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in pki.chain())
    devices = []
    for i in range(count):
        issued = create_device_certificate(
            pki.mica,
            hw_type_oid=DEVELOPMENT_HW_TYPE,
            serial_number=f"fanout-{i}",
            policies=DEVELOPMENT_DEVICE_POLICIES,
            key=key,
        )
        path = folder / f"fanout-{i}.pem"
        path.write_bytes(issued.cert_pem() + chain)
        devices.append(Device(i, path, lfdi_of(issued.cert)))
    return devices, key_path


def device_context(cert: Path, key: Path, anchor: Path, ciphers: str) -> ssl.SSLContext:
    """The context :func:`gridhan.certs.tls.client_context` makes, with the cipher string computed once
    (probing OpenSSL for it a thousand times would dominate the set-up)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(ciphers)
    ctx.set_ecdh_curve(ECDH_CURVE)
    ctx.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_TICKET | ssl.OP_NO_RENEGOTIATION
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_cert_chain(cert, key)
    ctx.load_verify_locations(cafile=str(anchor))
    return ctx


def operator_context(anchor: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(anchor))
    ctx.check_hostname = False  # 2030.5 certificates carry no host name
    return ctx


async def _admin(session: aiohttp.ClientSession, method: str, url: str, body: Any, expect: int) -> Any:
    async with session.request(method, url, json=body) as resp:
        text = await resp.text()
        if resp.status != expect:
            raise BenchError(f"admin API {method} {url} answered {resp.status}: {text[:400]}")
        return json.loads(text) if text else None


async def set_up(args: argparse.Namespace, admin_base: str, sep2_base: str, listener_port: int,
                 devices: list[Device], key: Path, anchor: Path) -> int:  # fmt: skip
    """Register the devices, group them under one program, subscribe each; returns the program id."""
    headers = {"Authorization": f"Bearer {args.token}"}
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(ssl=operator_context(anchor), limit=8), headers=headers
    ) as admin:
        semaphore = asyncio.Semaphore(8)

        async def register(device: Device) -> None:
            async with semaphore:
                made = await _admin(admin, "POST", f"{admin_base}/api/v1/devices", {"lfdi": device.lfdi}, 201)
            device.edev_id = made["id"]

        await asyncio.gather(*(register(d) for d in devices))
        group = await _admin(admin, "POST", f"{admin_base}/api/v1/groups", {"name": "fanout"}, 201)
        await _admin(admin, "PUT", f"{admin_base}/api/v1/groups/{group['id']}/members",
                     {"device_ids": [d.edev_id for d in devices]}, 200)  # fmt: skip
        program = await _admin(admin, "POST", f"{admin_base}/api/v1/der-programs",
                               {"group_id": group["id"], "primacy": 1}, 201)  # fmt: skip
    ciphers = cipher_string(DEFAULT_CIPHERS)
    resource = args.resource.format(program=program["id"], group=group["id"])
    semaphore = asyncio.Semaphore(args.subscribe_concurrency)

    async def subscribe(device: Device) -> None:
        context = device_context(device.cert, key, anchor, ciphers)
        body = encode(
            Subscription(
                subscribedResource=resource.format(device=device.edev_id),
                encoding=0,
                level="-S1",
                limit=1,
                notificationURI=f"https://{HOST}:{listener_port}/n/{device.index}",
            )
        )
        async with semaphore, aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session:
            url = f"{sep2_base}/edev/{device.edev_id}/sub"
            async with session.post(url, data=body, headers={"Content-Type": CONTENT_TYPE}) as resp:
                if resp.status != 201:
                    raise BenchError(f"device {device.index}: POST {url} answered {resp.status}: {await resp.text()}")

    await asyncio.gather(*(subscribe(d) for d in devices))
    return program["id"]


async def create_control(args: argparse.Namespace, admin_base: str, anchor: Path, program_id: int,
                         start: int) -> tuple[float, float, str]:  # fmt: skip
    """One DERControl for the program; (time before the request, time after the answer, its mRID)."""
    headers = {"Authorization": f"Bearer {args.token}"}
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(ssl=operator_context(anchor)), headers=headers
    ) as admin:
        body = {
            "program_id": program_id,
            "start": start,
            "duration": 1800,
            "base": {"opModExpLimW": {"value": 5000, "multiplier": 0}},
        }
        async with admin.get(f"{admin_base}/api/v1/health") as resp:  # warm the connection
            await resp.read()
        before = time.time()
        made = await _admin(admin, "POST", f"{admin_base}/api/v1/der-controls", body, 201)
        after = time.time()
        return before, after, made["mrid"]


async def outbox_counts(
    args: argparse.Namespace, admin_base: str, anchor: Path, settle: float = 0.0
) -> tuple[int, int]:
    """(failed, pending) notifications; with ``settle``, first wait up to that long for pending to reach 0
    (the worker records outcomes after the listener has them)."""
    headers = {"Authorization": f"Bearer {args.token}"}
    url = f"{admin_base}/api/v1/notifications?limit=1&status="
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(ssl=operator_context(anchor)), headers=headers
    ) as admin:
        deadline = time.monotonic() + settle
        while True:
            pending = (await _admin(admin, "GET", url + "pending", None, 200))["total"]
            if pending == 0 or time.monotonic() >= deadline:
                break
            await asyncio.sleep(0.05)
        failed = (await _admin(admin, "GET", url + "failed", None, 200))["total"]
    return failed, pending


# --- statistics ------------------------------------------------------------------------------------


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..1) of an ascending list; NaN when empty."""
    if not sorted_values:
        return math.nan
    return sorted_values[min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))]


@dataclass
class Round:
    number: int
    admin_seconds: float
    delays: list[float]
    span: float  # from the admin request to the last arrival
    server_cpu: float | None
    listener_cpu: float | None

    @property
    def rate(self) -> float:
        return len(self.delays) / self.span if self.span > 0 else math.nan

    def summary(self) -> dict[str, Any]:
        d = sorted(self.delays)
        return {
            "round": self.number,
            "notifications": len(d),
            "admin_ms": round(self.admin_seconds * 1000, 1),
            "first_ms": round(d[0] * 1000, 1) if d else None,
            "p50_ms": round(percentile(d, 0.5) * 1000, 1),
            "p99_ms": round(percentile(d, 0.99) * 1000, 1),
            "max_ms": round(d[-1] * 1000, 1) if d else None,
            "rate": round(self.rate, 1),
            "server_cpu_s": None if self.server_cpu is None else round(self.server_cpu, 2),
            "listener_cpu_s": None if self.listener_cpu is None else round(self.listener_cpu, 2),
        }


def _cpus(pin: bool) -> tuple[int | None, int | None]:
    """(gridhan CPU, listener CPU): the last usable CPU for gridhan, the first for the listener."""
    if not pin or not hasattr(os, "sched_getaffinity"):
        return None, None
    usable = sorted(os.sched_getaffinity(0))
    if len(usable) < 2:
        return None, None
    return usable[-1], usable[0]


def run(args: argparse.Namespace) -> int:
    if args.listeners < 1 or args.rounds < 1:
        print("bench.fanout: --listeners and --rounds must be at least 1", file=sys.stderr)
        return 2
    folder = Path(tempfile.mkdtemp(prefix="gridhan-fanout-"))
    processes: list[Process] = []
    try:
        t = time.perf_counter()
        pki = DevelopmentPki.create(folder / "pki", devices=("listener",))
        devices, key = issue_devices(pki, args.listeners, folder / "pki" / "fanout")
        print(f"PKI: {args.listeners} device certificates in {time.perf_counter() - t:.1f} s", flush=True)
        args.token = secrets.token_urlsafe(16)
        gridhan_cpu, listener_cpu = _cpus(not args.no_pin)
        settings = {
            "data_dir": str(folder / "data"),
            "database_url": args.database_url,
            "host": HOST,
            "port": 0,
            "admin_host": HOST,
            "admin_port": 0,
            "tls_cert": str(pki.server_cert_path),
            "tls_key": str(pki.server_key_path),
            "trust_anchors": [str(pki.trust_anchor_path)],
            "admin_token": args.token,
            "log_level": args.server_log_level,
            "notify_allowed_hosts": [HOST],
            "notify_concurrency": args.notify_concurrency,
            "notify_batch": args.notify_batch,
            "subscriptions_per_device": 10,
            "max_page_size": 100,
        }
        profile = str(args.profile.resolve()) if args.profile else None
        gridhan = Process("gridhan", {"settings": settings, "cpu": gridhan_cpu, "log_level": args.server_log_level,
                                      "profile": profile})  # fmt: skip
        processes.append(gridhan)
        listener = Process("listener", {"cert": str(pki.device_cert_path("listener")),
                                        "key": str(pki.device_key_path("listener")),
                                        "anchor": str(pki.trust_anchor_path), "cpu": listener_cpu})  # fmt: skip
        processes.append(listener)
        admin_base = f"https://{HOST}:{gridhan.info['admin_port']}"
        sep2_base = f"https://{HOST}:{gridhan.info['port']}"
        t = time.perf_counter()
        program_id = asyncio.run(
            set_up(args, admin_base, sep2_base, listener.info["port"], devices, key, pki.trust_anchor_path)
        )
        print(f"set-up: {args.listeners} devices registered and subscribed in {time.perf_counter() - t:.1f} s")
        rounds: list[Round] = []
        header = (f"{'round':>5} {'count':>6} {'admin ms':>9} {'first ms':>9} {'p50 ms':>8} {'p99 ms':>8} "
                  f"{'max ms':>8} {'notif/s':>8} {'gridhan CPU s':>14} {'listener CPU s':>15}")  # fmt: skip
        print(header)
        spy = None
        if args.py_spy is not None:
            args.py_spy.mkdir(parents=True, exist_ok=True)
            spy = PySpy(gridhan.info["pid"], args.py_spy / "gridhan-fanout.folded")
            time.sleep(0.3)  # let it attach
        for number in range(1, args.rounds + 1):
            asyncio.run(outbox_counts(args, admin_base, pki.trust_anchor_path, settle=args.timeout))
            listener.send("expect", "")
            listener.receive(10.0)
            if profile:
                gridhan.send("profile-on")
            cpu0, lcpu0 = gridhan.cpu_seconds(), listener.cpu_seconds()
            start = int(time.time()) + 3600 * number
            before, after, mrid = asyncio.run(
                create_control(args, admin_base, pki.trust_anchor_path, program_id, start)
            )
            listener.send("collect", args.listeners, args.timeout)
            _, arrivals = listener.receive(args.timeout + 30)
            cpu1, lcpu1 = gridhan.cpu_seconds(), listener.cpu_seconds()
            if profile:
                gridhan.send("profile-off")
            if len(arrivals) < args.listeners:
                raise BenchError(f"round {number}: {len(arrivals)} of {args.listeners} notifications arrived "
                                 f"within {args.timeout:.0f} s")  # fmt: skip
            wrong = sum(1 for _, _, ok in arrivals if not ok)
            paths = {p for p, _, _ in arrivals}
            if len(paths) != args.listeners or wrong:
                raise BenchError(f"round {number}: {len(paths)} distinct listeners, {wrong} notifications without "
                                 f"the new control {mrid}")  # fmt: skip
            delays = [t - before for _, t, _ in arrivals]
            r = Round(number, after - before, delays, max(delays),
                      None if cpu0 is None or cpu1 is None else cpu1 - cpu0,
                      None if lcpu0 is None or lcpu1 is None else lcpu1 - lcpu0)  # fmt: skip
            rounds.append(r)
            s = r.summary()
            print(f"{number:>5} {s['notifications']:>6} {s['admin_ms']:>9} {s['first_ms']:>9} {s['p50_ms']:>8} "
                  f"{s['p99_ms']:>8} {s['max_ms']:>8} {s['rate']:>8} {s['server_cpu_s']!s:>14} "
                  f"{s['listener_cpu_s']!s:>15}", flush=True)  # fmt: skip
        if spy is not None:
            spy.stop()
        failed, pending = asyncio.run(outbox_counts(args, admin_base, pki.trust_anchor_path, settle=args.timeout))
        pooled = sorted(d for r in rounds for d in r.delays)
        total = sum(r.span for r in rounds)
        summary = {
            "notifications": len(pooled),
            "rate": round(len(pooled) / total, 1),
            "p50_ms": round(percentile(pooled, 0.5) * 1000, 1),
            "p99_ms": round(percentile(pooled, 0.99) * 1000, 1),
            "max_ms": round(pooled[-1] * 1000, 1),
            "failed": failed,
            "pending": pending,
        }
        goal = summary["rate"] >= GOAL_RATE and summary["p99_ms"] <= GOAL_P99 * 1000
        print(f"summary: {summary['notifications']} notifications, {summary['rate']} notifications/s, "
              f"p50 {summary['p50_ms']} ms, p99 {summary['p99_ms']} ms, max {summary['max_ms']} ms; "
              f"failed {failed}, pending {pending}; goal (>= {GOAL_RATE:.0f}/s, p99 <= {GOAL_P99:.0f} s) "
              f"{'met' if goal else 'NOT met'}")  # fmt: skip
        print(f"environment: {platform.python_version()}, {ssl.OPENSSL_VERSION}, {os.cpu_count()} CPUs, "
              f"database {args.database_url or 'SQLite'}, pinned {gridhan_cpu is not None}")  # fmt: skip
        for process in processes:
            process.stop()
        processes.clear()
        if profile:
            print_pstats(Path(profile))
        if spy is not None:
            cpu = [r.server_cpu for r in rounds]
            per = None if None in cpu else 1e6 * sum(cpu) / len(pooled)  # type: ignore[arg-type]
            print(f"(us/req below: gridhan CPU microseconds per notification, {per:.0f} in all)" if per else "")
            print_folded({"gridhan": [spy.output]}, {"gridhan": per})
        if args.json:
            args.json.write_text(json.dumps({"rounds": [r.summary() for r in rounds], "summary": summary}, indent=2))
        return 0
    except (BenchError, OSError, ssl.SSLError) as exc:
        print(f"bench.fanout: {exc}", file=sys.stderr)
        return 1
    finally:
        for process in processes:
            process.stop()
        shutil.rmtree(folder, ignore_errors=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--listeners", type=int, default=1000, metavar="N", help="subscribed devices (default 1000)")
    parser.add_argument("--rounds", type=int, default=3, metavar="N", help="controls created, one per round (3)")
    parser.add_argument(
        "--resource",
        default="/derp/{program}/derc",
        help="what each device subscribes to; {program}, {group}, {device} are filled in (default "
        "/derp/{program}/derc; try /edev/{device}/fsa/{group}/derp for per-device renderings)",
    )
    parser.add_argument("--database-url", default="", help="gridhan's database (default: SQLite in a temp folder)")
    parser.add_argument("--notify-concurrency", type=int, default=64, metavar="N", help="POSTs in flight (64)")
    parser.add_argument("--notify-batch", type=int, default=500, metavar="N", help="rows claimed at once (500)")
    parser.add_argument("--subscribe-concurrency", type=int, default=16, metavar="N", help="set-up POSTs (16)")
    parser.add_argument("--timeout", type=float, default=60.0, metavar="S", help="wait per round (60 s)")
    parser.add_argument("--no-pin", action="store_true", help="do not pin gridhan and the listener to CPUs")
    parser.add_argument("--server-log-level", default="WARNING", metavar="LEVEL", help="gridhan's log level")
    parser.add_argument("--profile", type=Path, default=None, metavar="FILE",
                        help="cProfile inside gridhan during the rounds; print its hot spots")  # fmt: skip
    parser.add_argument("--py-spy", type=Path, default=None, metavar="DIR",
                        help="sample gridhan with py-spy during the rounds and print where its time goes")  # fmt: skip
    parser.add_argument("--json", type=Path, default=None, metavar="FILE", help="also write the results here")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fanout",
        description="Notification fan-out: one DERControl, N devices subscribed over mutual TLS; "
        "notifications per second and delay from the admin request to delivery.",
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
