"""Reference devices driven by the client against gridhan's server over mutual TLS, with a controlled
clock: what a utility rehearses before real customers see a program."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sep_client import AdminClient

from gridhan.certs.pki import DevelopmentPki
from gridhan.client.agent import AgentConfig, DeviceAgent
from gridhan.client.devices.catalog import make_device
from gridhan.client.scheduler import device_draws
from gridhan.client.session import DeviceCredentials
from gridhan.schemas.clock import ManualClock
from gridhan.schemas.sep2 import DERCapability, DERStatus

#: 2027-01-15 02:30 UTC: midday in Adelaide, where the reference PV array stands.
T0 = 1_799_980_200


@dataclass
class Env:
    server: Any
    admin: AdminClient
    pki: DevelopmentPki
    clock: ManualClock
    lines: list[str]

    def agent(self, name: str, kind: str, **config: Any) -> DeviceAgent:
        creds = DeviceCredentials(
            self.pki.device_cert_path(name), self.pki.device_key_path(name), [self.pki.trust_anchor_path]
        )
        kit = make_device(kind, seed=7, **config.pop("options", {}))
        agent_config = AgentConfig(self.server.sep2_url + "/dcap", creds, **config)
        return DeviceAgent(agent_config, kit.model, clock=self.clock, grid=kit.grid,
                           say=lambda line: self.lines.append(f"{name}: {line}"))

    async def enrol(self, names: list[str], **fields: Any) -> tuple[list[int], int]:
        ids = []
        for name in names:
            lfdi = DeviceCredentials(self.pki.device_cert_path(name), self.pki.device_key_path(name), []).lfdi
            status, device = await self.admin.post("/devices", {"lfdi": lfdi, **fields})
            assert status == 201, device
            ids.append(device["id"])
        status, group = await self.admin.post("/groups", {"name": "feeder-12"})
        assert status == 201, group
        status, _ = await self.admin.put(f"/groups/{group['id']}/members", {"device_ids": ids})
        assert status in (200, 204)
        return ids, group["id"]

    async def run(self, agents: list[DeviceAgent], until: int, step: int = 10) -> None:
        """Step every agent every ``step`` seconds of the shared clock up to ``until``."""
        while self.clock.now() < until:
            self.clock.advance(min(step, until - self.clock.now()))
            for agent in agents:
                await agent.step()


@pytest.fixture
async def env(make_server, pki: DevelopmentPki) -> AsyncIterator[Env]:
    clock = ManualClock(T0)
    server = await make_server(clock=clock, csip_aus=True)
    admin = AdminClient(server.admin_url, "test-operator-token", pki.trust_anchor_path)
    env = Env(server, admin, pki, clock, [])
    yield env
    await env.admin.close()


async def responses(env: Env, subject: str) -> dict[str, list[int]]:
    """Each responding device's statuses (by LFDI), oldest first, as the utility reads them."""
    status, found = await env.admin.get(f"/responses?subject={subject}")
    assert status == 200, found
    return {d["lfdi"]: d["statuses"] for d in found["devices"]}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_export_limit_curtails_inverters_within_their_randomization_window(env: Env) -> None:
    _, group_id = await env.enrol(["dev1", "dev2"])
    status, program = await env.admin.post("/der-programs", {"group_id": group_id, "primacy": 1})
    assert status == 201, program
    start = T0 + 600
    status, control = await env.admin.post(
        "/der-controls",
        {"program_id": program["id"], "start": start, "duration": 1800, "randomize_start": 120,
         "response_required": "03", "base": {"opModExpLimW": {"value": 0, "multiplier": 0}}},
    )
    assert status == 201, control
    agents = [env.agent("dev1", "inverter"), env.agent("dev2", "inverter")]
    try:
        await env.run(agents, T0 + 10)
        for agent in agents:
            assert agent.stats.registered, env.lines
            assert agent.model.readings()["site_export_W"] > 100, "the sun shines: the site exports before the limit"
        effective = {}
        for agent in agents:
            u, _, _ = device_draws(agent.config.credentials.lfdi, control["mrid"])
            effective[agent] = start + round(u * 120)
            assert start <= effective[agent] <= start + 120
        # step second by second through the randomization window
        while env.clock.now() < start + 130:
            env.clock.advance(5)
            for agent in agents:
                await agent.step()
                now = env.clock.now()
                export = agent.model.readings()["site_export_W"]
                if now < effective[agent] - 5:
                    assert export > 100, f"curtailed before its randomized start ({now} < {effective[agent]})"
        await env.run(agents, start + 400, step=30)
        for agent in agents:
            assert agent.model.readings()["site_export_W"] <= 1.0
            assert agent.situation is not None and agent.situation.der.sources["opModExpLimW"] == control["mrid"]
        # Responses: received (1) and started (2) from both devices, as responseRequired 03 asks
        lfdis = [a.config.credentials.lfdi for a in agents]
        assert await responses(env, control["mrid"]) == {lfdi: [1, 2] for lfdi in lfdis}
        # the server holds what each inverter reported: status, and a capability with the DOE modes
        der = agents[0].der.der
        assert der is not None
        reported = await agents[0].session.get(der.DERStatusLink.href, DERStatus)
        assert reported.genConnectStatus is not None and reported.readingTime >= start
        capability = await agents[0].session.get(der.DERCapabilityLink.href, DERCapability)
        assert capability.rtgMaxW.value > 0 and capability.doeModesSupported is not None
        await env.run(agents, start + 1800 + 130, step=120)
        assert await responses(env, control["mrid"]) == {lfdi: [1, 2, 3] for lfdi in lfdis}
        assert all(a.model.readings()["site_export_W"] > 100 for a in agents), "export resumes after the event"
    finally:
        for agent in agents:
            await agent.close()


def dr_event(group_id: int, start: int, **change: Any) -> dict[str, Any]:
    """A voluntary critical-peak event for thermostats: 1.1 C (2 F) cooling offset, every Response asked."""
    return {
        "group_id": group_id, "start": start, "duration": 3600, "device_category": "00000001",
        "mandatory": False, "response_required": "07", "controls": {"Offset": {"coolingOffset": 11}}, **change,
    }


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_cpp_raises_the_set_point_and_an_override_is_an_opt_out_the_server_records(env: Env) -> None:
    _, group_id = await env.enrol(["dev1"])
    start = T0 + 900
    status, event = await env.admin.post("/dr-events", dr_event(group_id, start))
    assert status == 201, event
    agent = env.agent("dev1", "pct")
    try:
        await env.run([agent], T0 + 60, step=30)
        before = agent.model.readings()["cooling_setpoint_c"]
        await env.run([agent], start + 60, step=30)
        during = agent.model.readings()["cooling_setpoint_c"]
        assert during == pytest.approx(before + 1.1, abs=0.01), env.lines
        assert agent.situation is not None and agent.situation.load_control.mRID == event["mrid"]
        # the customer is too warm: overrides back to 24 C, which leaves the voluntary event
        decision = agent.model.override(24.0, int(env.clock.now()), side="cool")
        assert decision.accepted, decision
        await env.run([agent], start + 120, step=30)
        assert agent.model.readings()["cooling_setpoint_c"] == pytest.approx(24.0), "\n".join(env.lines)
        got = await responses(env, event["mrid"])
        assert got == {agent.config.credentials.lfdi: [1, 2, 4]}, env.lines
        status, view = await env.admin.get(f"/dr-events/{event['id']}")
        assert status == 200 and view["responses"]["tally"] == {"4": 1}, view
    finally:
        await agent.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_mandatory_event_refuses_an_override(env: Env) -> None:
    _, group_id = await env.enrol(["dev1"])
    start = T0 + 300
    status, event = await env.admin.post("/dr-events", dr_event(group_id, start, mandatory=True))
    assert status == 201, event
    agent = env.agent("dev1", "pct")
    try:
        await env.run([agent], start + 60, step=60)
        raised = agent.model.readings()["cooling_setpoint_c"]
        assert not agent.model.override(20.0, int(env.clock.now()), side="cool").accepted
        await env.run([agent], start + 180, step=60)
        assert agent.model.readings()["cooling_setpoint_c"] == raised
        assert await responses(env, event["mrid"]) == {agent.config.credentials.lfdi: [1, 2]}
    finally:
        await agent.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_server_unreachable_mid_event(env: Env, make_server) -> None:
    """The event still starts and ends on time; the Responses reach the server when it is back, with the
    times they happened."""
    _, group_id = await env.enrol(["dev1"])
    start = T0 + 600
    status, event = await env.admin.post("/dr-events", dr_event(group_id, start, duration=1200))
    assert status == 201, event
    agent = env.agent("dev1", "pct")
    port = env.server.sep2_port
    try:
        await env.run([agent], T0 + 60, step=30)
        before = agent.model.readings()["cooling_setpoint_c"]
        await env.server.stop()
        await env.run([agent], start + 300, step=60)
        assert not agent.stats.connected and "unreachable" in agent.stats.last_error
        assert agent.model.readings()["cooling_setpoint_c"] == pytest.approx(before + 1.1, abs=0.01)
        await env.run([agent], start + 1200 + 60, step=120)
        assert agent.model.readings()["cooling_setpoint_c"] == pytest.approx(before, abs=0.01)
        # the server comes back on the same address and database
        env.server = await make_server(clock=env.clock, csip_aus=True, port=port)
        await env.run([agent], start + 1200 + 180, step=60)
        assert agent.stats.connected
        await env.admin.close()
        env.admin = AdminClient(env.server.admin_url, "test-operator-token", env.pki.trust_anchor_path)
        status, found = await env.admin.get(f"/responses?subject={event['mrid']}")
        assert status == 200, found
        (device,) = found["devices"]
        assert device["statuses"] == [1, 2, 3]
        created = [t["created_date_time"] for t in device["times"]]
        assert start <= created[1] <= start + 60 and start + 1200 <= created[2] <= start + 1200 + 120, created
    finally:
        await agent.close()
