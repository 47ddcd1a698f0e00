"""A fleet of reference devices in one process: for demos, program rehearsals and load.

``gridhan fleet --count N --mix pct=40,inverter=30,battery=10,...`` makes N devices of the kinds in the
mix (percentages, rounded so the counts add up to N), each with its own device certificate (issued from a
development PKI when it has none yet), registers them (through the operator's admin API into a group, or
in band when the server allows it), and runs one :class:`~gridhan.client.agent.DeviceAgent` per device,
their starts spread over ``ramp`` seconds so the server does not see N handshakes at once. A live line
shows the fleet's state: devices connected and registered, events in force, Responses sent, readings
posted, errors.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import aiohttp

from gridhan.certs.pki import DevelopmentPki
from gridhan.client.agent import AgentConfig, AgentStats, DeviceAgent
from gridhan.client.devices.catalog import KINDS, make_device
from gridhan.client.session import DeviceCredentials
from gridhan.schemas.clock import Clock


def parse_mix(text: str) -> dict[str, float]:
    """``"pct=40,inverter=30,battery=10"`` -> shares by kind (need not add up to 100: they are weights)."""
    mix: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        kind, _, share = part.partition("=")
        if kind not in KINDS:
            raise ValueError(f"unknown device kind {kind!r} in the mix (kinds: {', '.join(sorted(KINDS))})")
        try:
            mix[kind] = float(share or 1)
        except ValueError:
            raise ValueError(f"the share of {kind!r} must be a number, got {share!r}") from None
        if mix[kind] < 0:
            raise ValueError(f"the share of {kind!r} must not be negative")
    if not mix or sum(mix.values()) <= 0:
        raise ValueError("the mix names no device kind with a positive share")
    return mix


def allocate(count: int, mix: Mapping[str, float]) -> list[str]:
    """The kind of each of ``count`` devices: shares rounded by largest remainder, so they add up."""
    total = sum(mix.values())
    exact = {k: count * v / total for k, v in mix.items()}
    counts = {k: int(x) for k, x in exact.items()}
    for k in sorted(exact, key=lambda k: exact[k] - counts[k], reverse=True)[: count - sum(counts.values())]:
        counts[k] += 1
    return [k for k in mix for _ in range(counts[k])]


@dataclass
class FleetConfig:
    dcap_url: str
    pki_dir: Path
    count: int
    mix: Mapping[str, float]
    trust_anchors: Sequence[Path] = ()
    admin_url: str | None = None
    admin_token: str | None = None
    group: str = "fleet"
    inband: bool = False
    prefix: str = "fleet"
    ramp: float = 5.0
    tick: float = 5.0
    seed: int = 1


@dataclass
class FleetTotals:
    devices: int = 0
    connected: int = 0
    registered: int = 0
    events_in_force: int = 0
    responses_sent: int = 0
    readings_posted: int = 0
    notifications: int = 0
    errors: int = 0
    last_errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"devices {self.devices}  connected {self.connected}  registered {self.registered}  "
            f"events in force {self.events_in_force}  responses {self.responses_sent}  "
            f"readings {self.readings_posted}  errors {self.errors}"
        )


def totals(stats: Sequence[AgentStats]) -> FleetTotals:
    t = FleetTotals(devices=len(stats))
    for s in stats:
        t.connected += s.connected
        t.registered += s.registered
        t.events_in_force += s.events_in_force
        t.responses_sent += s.responses_sent
        t.readings_posted += s.readings_posted
        t.notifications += s.notifications
        t.errors += s.errors
        if s.last_error and len(t.last_errors) < 3 and s.last_error not in t.last_errors:
            t.last_errors.append(s.last_error)
    return t


def credentials_for(pki: DevelopmentPki, name: str, trust_anchors: Sequence[Path]) -> DeviceCredentials:
    """The device's certificate, issued from the development PKI the first time it is needed."""
    if not pki.device_cert_path(name).exists():
        pki.issue_device(name)
    anchors = list(trust_anchors) or [pki.trust_anchor_path]
    return DeviceCredentials(pki.device_cert_path(name), pki.device_key_path(name), anchors)


async def register_all(config: FleetConfig, lfdis: Sequence[str], anchors: Sequence[Path]) -> int:
    """Register the devices through the admin API and make them the members of ``config.group``;
    returns the group id. Devices already registered are kept."""
    ctx = ssl.create_default_context(cafile=str(anchors[0]))
    ctx.check_hostname = False  # the admin API presents the server's 2030.5 certificate: no host name
    headers = {"Authorization": f"Bearer {config.admin_token}"}
    base = (config.admin_url or "").rstrip("/") + "/api/v1"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx), headers=headers) as http:

        async def call(method: str, path: str, body: Any = None) -> tuple[int, Any]:
            async with http.request(method, base + path, json=body) as resp:
                return resp.status, await resp.json(content_type=None)

        known: dict[str, int] = {}
        offset = 0
        while True:
            status, page = await call("GET", f"/devices?limit=500&offset={offset}")
            if status != 200:
                raise RuntimeError(f"admin API: GET /devices answered {status}: {page}")
            known.update({d["lfdi"]: d["id"] for d in page["items"]})
            offset += len(page["items"])
            if not page["items"] or offset >= page.get("total", offset):
                break
        ids = []
        for lfdi in lfdis:
            if lfdi not in known:
                status, made = await call("POST", "/devices", {"lfdi": lfdi})
                if status != 201:
                    raise RuntimeError(f"admin API: registering {lfdi} answered {status}: {made}")
                known[lfdi] = made["id"]
            ids.append(known[lfdi])
        status, groups = await call("GET", "/groups?limit=500")
        group = next((g for g in groups.get("items", []) if g["name"] == config.group), None)
        if group is None:
            status, group = await call("POST", "/groups", {"name": config.group, "description": "gridhan fleet"})
            if status != 201:
                raise RuntimeError(f"admin API: creating group {config.group!r} answered {status}: {group}")
        status, answer = await call("PUT", f"/groups/{group['id']}/members", {"device_ids": ids})
        if status not in (200, 204):
            raise RuntimeError(f"admin API: setting the members of {config.group!r} answered {status}: {answer}")
        return group["id"]


class Fleet:
    """N device agents in one process."""

    def __init__(self, config: FleetConfig, *, clock: Clock | None = None,
                 say: Callable[[str], None] | None = None) -> None:
        self.config = config
        self.clock = clock
        self.say = say or (lambda line: None)
        self.agents: list[DeviceAgent] = []

    def build(self) -> list[DeviceAgent]:
        pki = DevelopmentPki.load(self.config.pki_dir)
        kinds = allocate(self.config.count, self.config.mix)
        for i, kind in enumerate(kinds):
            name = f"{self.config.prefix}-{kind}-{i:05d}"
            creds = credentials_for(pki, name, self.config.trust_anchors)
            kit = make_device(kind, seed=self.config.seed * 100_003 + i)
            agent_config = AgentConfig(self.config.dcap_url, creds, inband=self.config.inband, tick=self.config.tick)
            prefix = f"[{name}] "
            self.agents.append(DeviceAgent(agent_config, kit.model, clock=self.clock, grid=kit.grid,
                                           say=lambda line, p=prefix: self.say(p + line)))
        return self.agents

    def totals(self) -> FleetTotals:
        return totals([a.stats for a in self.agents])

    async def run(self, stop: asyncio.Event, *, progress: TextIO | None = None, every: float = 1.0) -> FleetTotals:
        if not self.agents:
            self.build()
        if self.config.admin_url:
            anchors = list(self.config.trust_anchors) or [DevelopmentPki.load(self.config.pki_dir).trust_anchor_path]
            await register_all(self.config, [a.config.credentials.lfdi for a in self.agents], anchors)
        gap = self.config.ramp / max(1, len(self.agents))

        async def one(index: int, agent: DeviceAgent) -> None:
            try:
                await asyncio.wait_for(stop.wait(), timeout=index * gap)
                return
            except TimeoutError:
                pass
            try:
                await agent.run(stop)
            finally:
                await agent.close()

        tasks = [asyncio.create_task(one(i, a)) for i, a in enumerate(self.agents)]
        try:
            while not stop.is_set():
                if progress is not None:
                    _show(progress, self.totals().line())
                try:
                    await asyncio.wait_for(stop.wait(), timeout=every)
                except TimeoutError:
                    pass
        finally:
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
        final = self.totals()
        if progress is not None:
            _show(progress, final.line(), end=True)
        return final


def _show(out: TextIO, line: str, *, end: bool = False) -> None:
    if out.isatty():
        out.write("\r\x1b[2K" + line + ("\n" if end else ""))
    else:
        out.write(line + "\n")
    out.flush()
