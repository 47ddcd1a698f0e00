"""Interoperability with an independent IEEE 2030.5 client: py20305 (the CSIP client of Project Satori),
installed from the package index into a virtual environment of its own, talks to a running gridhan server
over mutual TLS 1.2 with ECDHE-ECDSA-AES128-CCM8, using its own TLS configuration, its own XML models and
its own event engine.

The operator sets things up through the admin API; the peer's driver (tests/peers/py20305_driver.py)
reports what the peer discovered, applied and posted; the assertions compare it with what the operator
made, and read back through the admin API what the peer sent (Responses, mirrored readings). Every sep+xml
document the peer received is also validated against the copy of the 2018 schema the peer ships.

SQLite only: the point is the wire, not the store (the store is tested on both databases elsewhere).
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from peer_venv import PEERS, Peer, PeerUnavailable, clean_env, peer_python
from sep_client import AdminClient, SepClient

from gridhan.certs.identity import lfdi_of, load_certificate
from gridhan.schemas.identifiers import sfdi_from_lfdi
from gridhan.schemas.sep2 import DERAvailability, DERCapability, DERSettings, DERStatus

PY20305 = Peer("py20305", "0.16.1", "py20305-constraints.txt")
DRIVER = PEERS / "py20305_driver.py"

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture(scope="session")
def py20305() -> Path:
    """The peer's interpreter; the environment is made once per machine and reused."""
    try:
        return peer_python(PY20305)
    except PeerUnavailable as exc:
        pytest.skip(str(exc))


async def drive(python: Path, server: Any, pki: Any, name: str, work_dir: Path, **options: Any) -> dict[str, Any]:
    """Run the driver as the device ``name`` against ``server``; its JSON report."""
    config = {
        "url": server.sep2_url,
        "cert": str(pki.device_cert_path(name)),
        "key": str(pki.device_key_path(name)),
        "ca": str(pki.trust_anchor_path),
        "work_dir": str(work_dir),
        **options,
    }
    work_dir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (a local directory, instantly)
    proc = await asyncio.create_subprocess_exec(
        str(python), str(DRIVER),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=clean_env(), cwd=work_dir,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(json.dumps(config).encode()), timeout=180)
    (work_dir / "driver.log").write_bytes(err)  # kept for a failing run, with the report
    (work_dir / "report.json").write_bytes(out)
    assert proc.returncode == 0, f"driver exited {proc.returncode}:\n{err.decode()[-4000:]}"
    report = json.loads(out)
    assert "error" not in report, f"{report['error']}\n{err.decode()[-4000:]}"
    return report


def lfdi(pki: Any, name: str) -> str:
    return lfdi_of(load_certificate(pki.device_cert_path(name)))


def assert_clean_exchanges(report: dict[str, Any], refused: tuple[tuple[str, str, int], ...] = ()) -> None:
    """Every answer the peer got was a success (but the ``refused`` (method, path, status) ones), and every
    sep+xml document it received is valid by the peer's own copy of the schema; the peer complained of
    nothing but those refusals."""
    assert report["exchanges"], "the peer recorded no exchange"
    answers = [e for e in report["exchanges"] if e["direction"] == "response"]
    assert sorted((e["method"], e["url"], e["status"]) for e in answers if e["status"] >= 300) == sorted(refused)
    for exchange in answers:
        assert exchange["error"] is None, exchange
        assert exchange.get("schema_errors", []) == [], exchange
    assert len(report["complaints"]) == len(refused), report["complaints"]
    assert len(report["diagnostics"].get("warnings", [])) == len(refused), report["diagnostics"]
    assert report["diagnostics"].get("errors", []) == [], report["diagnostics"]


async def test_py20305_discovers_acts_on_and_answers_a_der_program(
    make_server, pki, py20305, tmp_path, optional_sep_schemas
):
    server = await make_server()
    admin = AdminClient(server.admin_url, "test-operator-token", pki.trust_anchor_path)
    try:
        await _program_scenario(server, admin, pki, py20305, tmp_path, optional_sep_schemas)
    finally:
        await admin.close()


async def _program_scenario(
    server: Any, admin: AdminClient, pki: Any, python: Path, tmp_path: Path, optional_sep_schemas: list[Any]
) -> None:
    me = lfdi(pki, "dev1")
    status, device = await admin.post("/devices", {"lfdi": me})
    assert status == 201, device
    status, group = await admin.post("/groups", {"name": "feeder-9"})
    assert status == 201, group
    status, _ = await admin.put(f"/groups/{group['id']}/members", {"device_ids": [device["id"]]})
    assert status == 200
    status, program = await admin.post(
        "/der-programs", {"group_id": group["id"], "primacy": 3, "description": "export limits"}
    )
    assert status == 201, program
    status, default = await admin.put(
        f"/der-programs/{program['id']}/default-control",
        {"DERControlBase": {"opModConnect": True, "opModMaxLimW": 10000}, "setGradW": 50},
    )
    assert status == 200, default
    status, curve = await admin.post(
        f"/der-programs/{program['id']}/curves",
        {
            "curveType": 11,  # volt-var
            "CurveData": [{"xvalue": x, "yvalue": y} for x, y in ((9200, 3000), (9670, 0), (10300, 0), (10700, -3000))],
            "xMultiplier": -2,
            "yMultiplier": -2,
            "yRefType": 2,
        },
    )
    assert status == 201, curve
    now = int(time.time())
    status, active = await admin.post(
        "/der-controls",
        {
            "program_id": program["id"],
            "start": now - 60,
            "duration": 3600,
            "description": "half output",
            "response_required": "03",
            "base": {"opModMaxLimW": 5000},
        },
    )
    assert status == 201, active
    status, later = await admin.post(
        "/der-controls",
        {
            "program_id": program["id"],
            "start": now + 7200,
            "duration": 900,
            "description": "fixed output tonight",
            "response_required": "03",
            "base": {"opModFixedW": 2500},
        },
    )
    assert status == 201, later

    # and a time-of-use tariff whose current hour asks for an acknowledgement
    status, profile = await admin.post(
        "/tariff-profiles",
        {"group_id": group["id"], "currency": 36, "price_power_of_ten": -4, "primacy": 1, "rate_code": "TOU-1"},
    )
    assert status == 201, profile
    status, rate = await admin.post(
        "/rate-components",
        {
            "profile_id": profile["id"],
            "description": "import",
            "reading_type": {"flowDirection": 1, "kind": 12, "uom": 72, "powerOfTenMultiplier": 3},
        },
    )
    assert status == 201, rate
    status, hour = await admin.post(
        f"/rate-components/{rate['id']}/intervals",
        {"start": now - 120, "duration": 3600, "tier": 2, "price": 3125, "response_required": "01"},
    )
    assert status == 201, hour

    # acknowledgement of both controls, then "started" of the active one: three Responses; and the price
    report = await drive(
        python, server, pki, "dev1", tmp_path / "dev1",
        run_seconds=30, expect_responses=3, expect_prices=1, telemetry=True, pricing=True,
    )  # fmt: skip
    assert report["peer"] == {"name": "py20305", "version": PY20305.version}
    assert "ECDHE-ECDSA-AES128-CCM8" in report["tls_ciphers"]
    assert report["lfdi"] == me

    # discovery: the peer found its own EndDevice by LFDI and SFDI, and its DER and FSA under it
    seen = report["discovered"]
    assert seen["dcap"]["edev"] == "/edev" and seen["dcap"]["mup"] == "/mup"
    edev_href = f"/edev/{device['id']}"
    assert list(seen["end_devices"]) == [edev_href]
    edev = seen["end_devices"][edev_href]
    assert (edev["lfdi"], edev["sfdi"]) == (me, sfdi_from_lfdi(me))
    assert [f["href"] for f in edev["fsa"]] == [f"{edev_href}/fsa/{group['id']}"]
    assert edev["der_capability"] and edev["der_status"] and edev["der_settings"] and edev["der_availability"]

    # the program, its default control and curve, and both controls with the operator's values
    assert list(seen["programs"]) == [program["href"]]
    derp = seen["programs"][program["href"]]
    assert (derp["mrid"], derp["primacy"], derp["description"]) == (program["mrid"], 3, "export limits")
    assert derp["default_control"] == {"mrid": default["mrid"], "modes": {"opModConnect": True, "opModMaxLimW": 10000}}
    assert [c["curve_type"] for c in derp["curves"]] == [11]
    assert derp["controls_complete"] is True
    by_mrid = {c["mrid"]: c for c in derp["controls"]}
    assert set(by_mrid) == {active["mrid"], later["mrid"]}
    first, second = by_mrid[active["mrid"]], by_mrid[later["mrid"]]
    assert (first["start"], first["duration"], first["current_status"]) == (now - 60, 3600, 1)  # active
    assert (second["start"], second["duration"], second["current_status"]) == (now + 7200, 900, 0)  # scheduled
    assert first["modes"] == {"opModMaxLimW": 5000} and second["modes"] == {"opModFixedW": 2500}
    assert first["response_required"] == "03" and first["reply_to"] == second["reply_to"]
    assert seen["mapping"] == {program["href"]: [edev_href]}

    # the event engine applied the active control (and the default before it), not the scheduled one
    assert [(a["mrid"], a["modes"]) for a in report["applied"]] == [(active["mrid"], {"opModMaxLimW": 5000})]
    assert all(d["mrid"] == default["mrid"] for d in report["defaults_applied"])

    # Responses: posted without error by the peer, and visible to the operator
    posted = sorted((r["event_mrid"], r["status"]) for r in report["responses"])
    assert posted == sorted([(active["mrid"], 1), (active["mrid"], 2), (later["mrid"], 1)]), report["responses"]
    assert all(r["posted"] and r["error"] is None for r in report["responses"])
    for control, statuses in ((active, [1, 2]), (later, [1])):
        status, tally = await admin.get(f"/responses?subject={control['mrid']}")
        assert status == 200, tally
        assert [d["lfdi"] for d in tally["devices"]] == [me]
        assert tally["devices"][0]["statuses"] == statuses and tally["never_responded"] == []

    # pricing: the tariff as published, the current hour's price relayed, its receipt acknowledged
    (tariff,) = seen["tariffs"].values()
    assert (tariff["mrid"], tariff["currency"], tariff["price_power_of_ten_multiplier"], tariff["rate_code"]) == (
        profile["mrid"], 36, -4, "TOU-1"
    )  # fmt: skip
    (component,) = tariff["rate_components"]
    (interval,) = component["intervals"]
    assert (interval["mrid"], interval["start"], interval["duration"], interval["tou_tier"]) == (
        hour["mrid"], now - 120, 3600, 2
    )  # fmt: skip
    assert interval["current_status"] == 1
    (price,) = [r for r in report["relayed"] if r["stream"] == "price"]
    assert (price["mrid"], price["lfdis"], price["payload"]["tou_tier"]) == (hour["mrid"], [me], 2)
    assert [p["price"] for p in price["payload"]["prices"]] == [3125]
    status, tally = await admin.get(f"/responses?subject={hour['mrid']}")
    assert status == 200 and tally["devices"][0]["statuses"] == [1], tally

    # telemetry: the mirror and its readings, and the DER documents, as the operator and device read them
    sent = report["telemetry"]
    assert sent["mup"]["location"].startswith("/mup/") and sent["readings"]["location"]
    status, readings = await admin.get(f"/devices/{device['id']}/telemetry?from={now - 600}&to={now + 600}")
    assert status == 200, readings
    watts = [r for r in readings["items"] if r["uom"] == 38]
    assert [r["value"] for r in watts] == [4200], readings
    for name, doc in sent["der"].items():
        assert doc["status"] == 204, (name, doc)
    assert sent["log_event"]["location"].startswith(f"{edev_href}/lel/")
    status, logged = await admin.get(f"/devices/{device['id']}/log-events")
    assert status == 200, logged
    assert [(e["log_event_code"], e["log_event_id"], e["function_set"], e["details"]) for e in logged["items"]] == [
        (2, 7, 11, "over voltage")
    ]
    # what the peer PUT is what a 2030.5 client of gridhan reads back (and valid by the official schemas)
    own = SepClient(server.sep2_url, pki, "dev1", optional_sep_schemas)
    try:
        capability = (await own.get(edev["der_capability"])).parse(DERCapability)
        settings = (await own.get(edev["der_settings"])).parse(DERSettings)
        der_status = (await own.get(edev["der_status"])).parse(DERStatus)
        availability = (await own.get(edev["der_availability"])).parse(DERAvailability)
    finally:
        await own.close()
    assert (capability.rtgMaxW.value, capability.rtgMaxW.multiplier, capability.type) == (5000, 0, 4)
    assert capability.modesSupported == "000000FF"
    assert (settings.setMaxW.value, settings.setGradW) == (4600, 100)
    assert (der_status.genConnectStatus.value, der_status.inverterStatus.value) == ("07", 4)
    assert availability.statWAvail.value == 3000
    assert_clean_exchanges(report)


async def test_py20305_registers_itself_in_band(make_server, pki, py20305, tmp_path):
    """Clause 8.5.3: a device the utility has not registered POSTs its EndDevice, then finds it."""
    server = await make_server(inband_registration=True)
    me = lfdi(pki, "dev2")
    report = await drive(py20305, server, pki, "dev2", tmp_path / "dev2", register=True)
    location = report["registered_in_band"]
    assert location and location.startswith("/edev/")
    assert list(report["discovered"]["end_devices"]) == [location]
    found = report["discovered"]["end_devices"][location]
    assert (found["lfdi"], found["sfdi"]) == (me, sfdi_from_lfdi(me))
    admin = AdminClient(server.admin_url, "test-operator-token", pki.trust_anchor_path)
    try:
        status, listed = await admin.get("/devices")
    finally:
        await admin.close()
    assert status == 200, listed
    assert [(d["lfdi"], d["created_by"]) for d in listed["items"]] == [(me, "in-band")]
    # before it registered, the server showed it only what it needed to register (no mirror list): the
    # peer notes the missing link, and finds it on its walk after registration
    assert report["complaints_before_registration"] == [
        {
            "level": "WARNING",
            "logger": "py20305.client.discovery",
            "message": "DeviceCapability has no MirrorUsagePointListLink",
        }
    ]
    assert report["discovered"]["dcap"]["mup"] == "/mup"
    assert_clean_exchanges(report)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_py20305_hears_of_a_cancellation_by_notification(make_server, pki, py20305, tmp_path):
    """Clause 8.7 and 10.10: the peer subscribes to what gridhan marks subscribable, on a listener of its own
    behind mutual TLS; the operator cancels the running control; gridhan's Notification reaches the peer,
    which answers "cancelled" (Table 27 status 6) well before any poll would have found out (pollRate 900)."""
    server = await make_server(notify_allowed_hosts=("127.0.0.1",), notify_backoff=0.5)
    admin = AdminClient(server.admin_url, "test-operator-token", pki.trust_anchor_path)
    try:
        me = lfdi(pki, "dev3")
        status, device = await admin.post("/devices", {"lfdi": me})
        assert status == 201, device
        status, control = await admin.post(
            "/der-controls",
            {
                "device_ids": [device["id"]],
                "start": int(time.time()) - 10,
                "duration": 3600,
                "response_required": "03",
                "base": {"opModMaxLimW": 2500},
            },
        )
        assert status == 201, control

        async def operator() -> None:
            """Once the peer reported the control started, the operator cancels it."""
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                status, tally = await admin.get(f"/responses?subject={control['mrid']}")
                if status == 200 and tally["devices"] and 2 in tally["devices"][0]["statuses"]:
                    break
                await asyncio.sleep(0.1)
            status, cancelled = await admin.post(f"/der-controls/{control['id']}/cancel", {})
            assert status == 200, cancelled

        report, _ = await asyncio.gather(
            drive(
                py20305, server, pki, "dev3", tmp_path / "dev3",
                notify_port=free_port(), run_seconds=60, expect_responses=3,
            ),
            operator(),
        )  # fmt: skip
        # it subscribed to what gridhan marks subscribable, and removed its subscriptions when it stopped
        program_href = control["href"].rsplit("/derc", 1)[0]
        assert f"{program_href}/derc" in report["subscriptions"], report["subscriptions"]
        deleted = [e["url"] for e in report["exchanges"] if e["method"] == "DELETE" and e["status"] == 204]
        assert len(deleted) == len(report["subscriptions"]), report["exchanges"]
        status, held = await admin.get(f"/devices/{device['id']}/subscriptions")
        assert status == 200 and held["total"] == 0, held
        # the cancellation came by Notification (the next poll is 900 s away) and was answered
        assert any(e["direction"] == "notification" for e in report["exchanges"]), report["exchanges"]
        assert [(r["event_mrid"], r["status"]) for r in report["responses"]] == [
            (control["mrid"], 1), (control["mrid"], 2), (control["mrid"], 6)
        ]  # fmt: skip
        status, tally = await admin.get(f"/responses?subject={control['mrid']}")
        assert status == 200 and tally["devices"][0]["statuses"] == [1, 2, 6], tally
        # py20305 also subscribes to the EndDeviceList whatever its subscribable attribute says; gridhan's
        # says 0 (not subscribable), so the POST is refused and the peer keeps polling that list
        assert_clean_exchanges(report, refused=(("POST", f"/edev/{device['id']}/sub", 400),))
    finally:
        await admin.close()


async def test_py20305_follows_csip_aus_operating_envelopes(make_server, pki, py20305, tmp_path):
    """CSIP-AUS 1.2: a dynamic operating envelope (export and import limits, csipaus namespace) reaches the
    peer's event engine with its values; the peer's DER documents carry the CSIP-AUS extensions gridhan
    requires; every document it received is valid by the peer's own copy of the CSIP-AUS 1.2 schema."""
    server = await make_server(csip_aus=True)
    admin = AdminClient(server.admin_url, "test-operator-token", pki.trust_anchor_path)
    try:
        me = lfdi(pki, "dev1")
        status, device = await admin.post("/devices", {"lfdi": me})
        assert status == 201, device
        envelope = {"opModExpLimW": {"value": 5, "multiplier": 3}, "opModImpLimW": {"value": 7, "multiplier": 3}}
        status, control = await admin.post(
            "/der-controls",
            {
                "device_ids": [device["id"]],
                "start": int(time.time()) - 30,
                "duration": 1800,
                "response_required": "03",
                "base": envelope,
            },
        )
        assert status == 201, control
        report = await drive(
            py20305, server, pki, "dev1", tmp_path / "dev1",
            csip_aus=True, run_seconds=30, expect_responses=2, telemetry=True,
        )  # fmt: skip
        expected = {f"csipaus:{name}": limit for name, limit in envelope.items()}
        (program,) = report["discovered"]["programs"].values()
        assert [(c["mrid"], c["modes"]) for c in program["controls"]] == [(control["mrid"], expected)]
        assert [(a["mrid"], a["modes"]) for a in report["applied"]] == [(control["mrid"], expected)]
        status, tally = await admin.get(f"/responses?subject={control['mrid']}")
        assert status == 200 and tally["devices"][0]["statuses"] == [1, 2], tally
        der = report["telemetry"]["der"]
        assert "<csipaus:doeModesSupported>" in der["capability"]["body"] and der["capability"]["status"] == 204
        assert "<csipaus:doeModesEnabled>" in der["settings"]["body"] and der["settings"]["status"] == 204
        # py20305 recognises a CSIP-AUS server by the csipaus namespace in its DeviceCapability; CSIP-AUS 1.2
        # adds nothing to DeviceCapability and gridhan declares the namespace only in documents that use
        # it, so here the embedding application says it talks to a CSIP-AUS server (csip_aus above)
        assert report["detected_csip_aus"] is False
        assert_clean_exchanges(report)
    finally:
        await admin.close()


async def test_py20305_in_its_2023_encoding_is_told_what_a_2018_server_refuses(make_server, pki, py20305, tmp_path):
    """gridhan serves IEEE 2030.5-2018. py20305 speaks 2023 unless told the server is 2018: it still reads
    every 2018 document, but what it sends carries 2023-only attributes (schemaVer) that the 2018 schema does
    not allow. gridhan refuses such a Response with 400 naming the attribute, and stores nothing."""
    server = await make_server()
    admin = AdminClient(server.admin_url, "test-operator-token", pki.trust_anchor_path)
    try:
        status, device = await admin.post("/devices", {"lfdi": lfdi(pki, "dev2")})
        assert status == 201, device
        status, control = await admin.post(
            "/der-controls",
            {
                "device_ids": [device["id"]],
                "start": int(time.time()) + 3600,
                "duration": 600,
                "response_required": "01",
                "base": {"opModMaxLimW": 8000},
            },
        )
        assert status == 201, control
        report = await drive(
            py20305, server, pki, "dev2", tmp_path / "dev2",
            server_2018_compat=False, run_seconds=30, expect_responses=1,
        )  # fmt: skip
        (program,) = report["discovered"]["programs"].values()
        assert [c["mrid"] for c in program["controls"]] == [control["mrid"]]
        (refused,) = report["responses"]
        assert (refused["status"], refused["posted"]) == (1, False)
        assert "returned 400" in refused["error"] and "schemaVer" in refused["error"], refused
        status, tally = await admin.get(f"/responses?subject={control['mrid']}")
        assert status == 200 and tally["devices"] == [] and tally["never_responded"] == [device["id"]], tally
    finally:
        await admin.close()


async def test_py20305_pages_through_a_long_control_list(make_server, pki, py20305, tmp_path):
    """Paging (clause 5.x on lists: ``s``, ``l``, ``all``, ``results``): py20305 reads lists 50 entries at a
    time; a program with more controls than that is read in full, in two pages."""
    server = await make_server()
    admin = AdminClient(server.admin_url, "test-operator-token", pki.trust_anchor_path)
    try:
        status, device = await admin.post("/devices", {"lfdi": lfdi(pki, "dev1")})
        assert status == 201, device
        start, made = int(time.time()) + 3600, []
        for i in range(53):
            target = {"program_id": made[0]["program_id"]} if made else {"device_ids": [device["id"]]}
            when = {"start": start + 900 * i, "duration": 900}
            status, control = await admin.post("/der-controls", {**target, **when, "base": {"opModMaxLimW": 100 + i}})
            assert status == 201, control
            made.append(control)
        report = await drive(py20305, server, pki, "dev1", tmp_path / "dev1")
    finally:
        await admin.close()
    (program,) = report["discovered"]["programs"].values()
    assert program["controls_complete"] is True
    seen = {c["mrid"]: (c["start"], c["modes"]["opModMaxLimW"]) for c in program["controls"]}
    assert seen == {c["mrid"]: (c["start"], c["base"]["opModMaxLimW"]) for c in made}
    control_list = made[0]["href"].rsplit("/", 1)[0]  # /derp/{id}/derc
    pages = sorted(e["url"] for e in report["exchanges"] if e["url"].startswith(control_list + "?"))
    assert pages == [f"{control_list}?s={first}&l=50" for first in (0, 50)]
    assert_clean_exchanges(report)
