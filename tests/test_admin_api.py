"""The admin API through its real HTTPS listener, on SQLite and PostgreSQL: devices (by LFDI and by
certificate, PIN, revocation, self-signed certificates), aggregators, groups (FunctionSetAssignments),
run-time settings seen by 2030.5 clients, and the refusal of every malformed request. Every response is
checked against the OpenAPI document (:class:`test_openapi.DocumentedAdmin`)."""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from sep_client import AdminClient, SepClient
from test_openapi import DocumentedAdmin

from gridhan.certs.identity import lfdi_of, load_certificate
from gridhan.certs.pki import DevelopmentPki
from gridhan.schemas.clock import ManualClock
from gridhan.schemas.identifiers import format_sfdi, pin_with_check_digit, sfdi_from_lfdi
from gridhan.schemas.sep2 import (
    DeviceCapability,
    DeviceInformation,
    EndDeviceList,
    FunctionSetAssignmentsList,
    LogEvent,
)
from gridhan.server.app import GridhanServer

LFDI_A = "0123456789abcdef0123456789abcdef01234567"
LFDI_B = "B" * 40
LFDI_C = "C" * 40
#: A handshake refused by the 2030.5 listener surfaces as one of these in the client.
REFUSED = (aiohttp.ClientConnectionError, aiohttp.ClientOSError, ssl.SSLError, ConnectionError)

Device = Callable[[str], SepClient]


@contextlib.asynccontextmanager
async def admin_of(server: GridhanServer, pki: DevelopmentPki) -> AsyncIterator[DocumentedAdmin]:
    """An admin client of another server, closed on exit."""
    client = AdminClient(server.admin_url, "test-operator-token", pki.trust_anchor_path)
    try:
        yield DocumentedAdmin(client)
    finally:
        await client.close()


@pytest.fixture
def api(admin: AdminClient) -> DocumentedAdmin:
    return DocumentedAdmin(admin)


def pem(pki: DevelopmentPki, name: str) -> str:
    return pki.device_cert_path(name).read_text()


async def create(api: DocumentedAdmin, body: dict[str, Any], path: str = "/devices") -> dict[str, Any]:
    status, created = await api.post(path, body)
    assert status == 201, created
    assert api.last_headers["Location"] == f"/api/v1/devices/{created['id']}"
    return created


async def refused(client: SepClient, path: str = "/edev") -> bool:
    """True when a new connection of ``client`` is refused at the handshake."""
    try:
        reply = await client.get(path)
    except REFUSED:
        return True
    raise AssertionError(f"the connection was accepted: {reply.status} {reply.text}")


# -- authentication ---------------------------------------------------------------------------------


async def test_operator_token_is_required(server: GridhanServer, pki: DevelopmentPki, api: DocumentedAdmin) -> None:
    wrong = AdminClient(server.admin_url, "not-the-token", pki.trust_anchor_path)
    try:
        wrong.session.headers.pop("Authorization")
        status, body = await wrong.get("/devices")
        assert (status, set(body)) == (401, {"error"})
        api.validate("GET", "/api/v1/devices", status, "application/json", body, {})
        wrong.session.headers["Authorization"] = "Bearer not-the-token"
        status, body = await wrong.post("/devices", {"lfdi": LFDI_B})
        assert status == 401 and "token" in body["error"]
        assert (await wrong.get("/health"))[0] == 200
        assert (await wrong.get("/openapi.json"))[0] == 200
    finally:
        await wrong.close()
    assert (await api.get("/devices"))[1] == {"total": 0, "items": []}


# -- devices ----------------------------------------------------------------------------------------


async def test_preregister_by_lfdi_and_by_certificate(api: DocumentedAdmin, pki: DevelopmentPki) -> None:
    pin = pin_with_check_digit(12345)
    by_lfdi = await create(
        api,
        {
            "lfdi": LFDI_A,
            "label": "meter 1",
            "pin": pin,
            "device_category": "1",
            "post_rate": 60,
            "enabled": False,
        },
    )
    assert by_lfdi["lfdi"] == LFDI_A.upper()
    assert by_lfdi["sfdi"] == format_sfdi(sfdi_from_lfdi(LFDI_A)) and len(by_lfdi["sfdi"]) == 12
    assert by_lfdi["href"] == f"/edev/{by_lfdi['id']}"
    assert by_lfdi["device_category"] == "01"
    assert (by_lfdi["pin"], by_lfdi["post_rate"], by_lfdi["enabled"], by_lfdi["label"]) == (
        pin,
        60,
        False,
        "meter 1",
    )
    assert by_lfdi["registered_time"] is not None and by_lfdi["registered_time"] == by_lfdi["changed_time"]
    assert (by_lfdi["created_by"], by_lfdi["self_signed"], by_lfdi["revoked"]) == ("admin", False, False)
    assert (by_lfdi["is_aggregator"], by_lfdi["aggregator_id"], by_lfdi["groups"]) == (False, None, [])

    by_cert = await create(api, {"certificate": pem(pki, "dev1")})
    assert by_cert["lfdi"] == lfdi_of(load_certificate(pki.device_cert_path("dev1")))
    assert (by_cert["self_signed"], by_cert["pin"], by_cert["registered_time"]) == (False, None, None)

    status, body = await api.post("/devices", {"lfdi": LFDI_A.upper()})
    assert status == 409 and LFDI_A.upper() in body["error"]
    status, body = await api.post("/devices", {"certificate": pem(pki, "dev1")})
    assert status == 409

    status, listing = await api.get("/devices")
    assert status == 200 and listing["total"] == 2
    assert [d["id"] for d in listing["items"]] == [by_lfdi["id"], by_cert["id"]]
    status, page = await api.get("/devices?offset=1&limit=1")
    assert (page["total"], [d["id"] for d in page["items"]]) == (2, [by_cert["id"]])
    assert (await api.get(f"/devices/{by_cert['id']}")) == (200, by_cert)
    assert (await api.get("/devices/424242"))[0] == 404
    assert (await api.get("/devices/not-a-number"))[0] == 404
    assert (await api.get("/devices/99999999999999999999"))[0] == 404


async def test_malformed_requests_are_refused_and_change_nothing(api: DocumentedAdmin, pki: DevelopmentPki) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"lfdi": LFDI_B, "pin": 123456}, "check digit"),
        ({"lfdi": LFDI_B, "pin": 1234567}, "pin"),
        ({"lfdi": LFDI_B, "certificate": pem(pki, "dev2")}, "exactly one"),
        ({"label": "no identity"}, "exactly one"),
        ({"lfdi": "12345"}, "lfdi"),
        ({"lfdi": LFDI_B, "colour": "red"}, "colour"),
        ({"lfdi": LFDI_B, "label": 5}, "label"),
        ({"lfdi": LFDI_B, "label": "x" * 65}, "label"),
        ({"lfdi": LFDI_B, "label": "nul\x00"}, "label"),
        ({"lfdi": LFDI_B, "enabled": "yes"}, "enabled"),
        ({"lfdi": LFDI_B, "post_rate": True}, "post_rate"),
        ({"lfdi": LFDI_B, "post_rate": 1.5}, "post_rate"),
        ({"lfdi": LFDI_B, "device_category": "123456789"}, "device_category"),
        ({"lfdi": LFDI_B, "groups": [1]}, "groups"),
        ({"lfdi": LFDI_B, "groups": "1"}, "groups"),
        ({"lfdi": LFDI_B, "aggregator_id": 99}, "aggregator_id"),
        ({"lfdi": LFDI_B, "aggregator_id": 2**40}, "aggregator_id"),
        ({"certificate": "/etc/passwd"}, "certificate"),
        ({"certificate": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}, "certificate"),
    ]
    for body, word in cases:
        status, answer = await api.post("/devices", body)
        assert status == 400, (body, answer)
        assert word in answer["error"], (body, answer)
    status, answer = await api.post("/devices", {"lfdi": LFDI_B, "pin": 123456})
    assert "123455" in answer["error"], "the message says how to compute the check digit"

    raw = {"headers": {"Content-Type": "application/json"}}
    for data, word in (
        (b"{not json", "JSON"),
        (b"[1, 2]", "object"),
        (b"", "empty"),
        (b'{"a": NaN}', "NaN"),
        (b"\xff\xfe", "UTF-8"),
        (b"[" * 100_000, "JSON"),
    ):
        status, answer = await api.request("POST", "/devices", data=data, **raw)
        assert status == 400 and word in answer["error"], (data[:20], answer)
    status, answer = await api.request("POST", "/devices", data=b'{"lfdi": "' + b"A" * 2_000_000 + b'"}', **raw)
    assert status == 413 and "larger" in answer["error"]
    status, answer = await api.request(
        "POST", "/devices", data=b"lfdi=x", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert status == 415
    for query in ("limit=0", "limit=1001", "offset=-1", "offset=x", "group=0"):
        status, answer = await api.get(f"/devices?{query}")
        assert status == 400 and query.split("=")[0] in answer["error"], query

    assert (await api.get("/devices"))[1]["total"] == 0


async def test_patch_device_all_or_nothing(server: GridhanServer, api: DocumentedAdmin, device: Device) -> None:
    clock = ManualClock(1_800_000_000)
    server.context.clock = clock
    dev1 = device("dev1")
    created = await create(api, {"lfdi": dev1.lfdi, "label": "before"})
    path = f"/devices/{created['id']}"
    status, group = await api.post("/groups", {"name": "g"})

    clock.advance(10)
    pin = pin_with_check_digit(777)
    status, patched = await api.patch(
        path,
        {
            "pin": pin,
            "label": "after",
            "enabled": False,
            "post_rate": 30,
            "device_category": "0a0b",
            "groups": [group["id"]],
        },
    )
    assert status == 200, patched
    assert (patched["pin"], patched["registered_time"], patched["changed_time"]) == (
        pin,
        clock.now(),
        clock.now(),
    )
    assert (patched["label"], patched["enabled"], patched["post_rate"], patched["device_category"]) == (
        "after",
        False,
        30,
        "0A0B",
    )
    assert patched["groups"] == [group["id"]]
    reply = await dev1.get(f"/edev/{created['id']}/rg")
    assert reply.status == 200 and f"<pIN>{pin}</pIN>" in reply.text

    clock.advance(10)
    for body, word in (
        ({"label": "changed", "groups": [group["id"], 999]}, "groups"),
        ({"label": "changed", "pin": 11}, "pin"),
        ({"label": "changed", "aggregator_id": created["id"]}, "aggregator_id"),
        ({"label": "changed", "lfdi": LFDI_B}, "lfdi"),
        ({"label": None, "enabled": None}, "enabled"),
    ):
        status, answer = await api.patch(path, body)
        assert status == 400 and word in answer["error"], (body, answer)
    assert (await api.get(path))[1] == patched

    status, unregistered = await api.patch(path, {"pin": None, "groups": [], "label": None})
    assert (unregistered["pin"], unregistered["registered_time"], unregistered["groups"]) == (None, None, [])
    assert unregistered["label"] is None and unregistered["changed_time"] == clock.now()
    assert (await dev1.get(f"/edev/{created['id']}/rg")).status == 404
    assert (await api.patch("/devices/4242", {"label": "x"}))[0] == 404


async def test_records_and_log_events(api: DocumentedAdmin, device: Device) -> None:
    dev1 = device("dev1")
    created = await create(api, {"lfdi": dev1.lfdi})
    path = f"/devices/{created['id']}"
    status, empty = await api.get(f"{path}/records/device-information")
    assert (status, empty["current"], empty["history"], empty["kind"]) == (200, None, [], "DeviceInformation")
    for model in ("M1", "M2"):
        info = DeviceInformation(
            lFDI=dev1.lfdi,
            mfDate=1,
            mfHwVer="1",
            mfID=37244,
            mfModel=model,
            mfSerNum="7",
            primaryPower=0,
            secondaryPower=0,
            swActTime=2,
            swVer="3",
        )
        assert (await dev1.put(f"/edev/{created['id']}/di", info)).status == 204
    status, records = await api.get(f"{path}/records/device-information")
    assert status == 200 and records["total"] == 2
    assert records["current"]["mfModel"] == "M2" and "href" not in records["current"]
    assert [r["document"]["mfModel"] for r in records["history"]] == ["M2", "M1"]
    assert (await api.get(f"{path}/records/device-status"))[1]["current"] is None
    assert (await api.get(f"{path}/records/meter-reading"))[0] == 404
    assert (await api.get("/devices/4242/records/power-status"))[0] == 404
    assert (await api.get(f"{path}/log-events"))[1] == {"total": 0, "items": []}
    for event_id in (1, 2):
        event = LogEvent(
            createdDateTime=1_700_000_000 + event_id,
            details="door open",
            functionSet=0,
            logEventCode=3,
            logEventID=event_id,
            logEventPEN=37244,
            profileID=2,
        )
        assert (await dev1.post(f"/edev/{created['id']}/lel", event)).status == 201
    status, events = await api.get(f"{path}/log-events?limit=1")
    assert (status, events["total"], len(events["items"])) == (200, 2, 1)
    assert events["items"][0]["log_event_id"] == 2 and events["items"][0]["details"] == "door open"
    assert (await api.get("/devices/4242/log-events"))[0] == 404


# -- certificates: revocation and self-signed devices -----------------------------------------------


async def test_revoke_refuses_new_connections_and_reinstate_restores(
    api: DocumentedAdmin, device: Device, pki: DevelopmentPki
) -> None:
    created = await create(api, {"certificate": pem(pki, "dev1")})
    assert (await device("dev1").get("/edev")).status == 200

    status, revoked = await api.post(f"/devices/{created['id']}/revoke")
    assert (status, revoked["revoked"]) == (200, True)
    assert await refused(device("dev1"))
    assert (await api.post(f"/devices/{created['id']}/revoke"))[1]["revoked"] is True

    status, reinstated = await api.post(f"/devices/{created['id']}/reinstate")
    assert (status, reinstated["revoked"]) == (200, False)
    reply = await device("dev1").get("/edev")
    assert reply.status == 200 and reply.parse(EndDeviceList).all == 1
    assert (await api.post("/devices/4242/revoke"))[0] == 404


async def test_self_signed_certificate_is_trusted_while_registered(
    api: DocumentedAdmin, device: Device, pki: DevelopmentPki
) -> None:
    assert await refused(device("selfsigned1"))
    created = await create(api, {"certificate": pem(pki, "selfsigned1"), "label": "self-signed"})
    assert created["self_signed"] is True
    reply = await device("selfsigned1").get("/edev")
    assert reply.status == 200
    assert [e.lFDI for e in reply.parse(EndDeviceList).EndDevice] == [created["lfdi"]]

    await api.post(f"/devices/{created['id']}/revoke")
    assert await refused(device("selfsigned1"))
    await api.post(f"/devices/{created['id']}/reinstate")
    assert (await device("selfsigned1").get("/edev")).status == 200

    assert (await api.delete(f"/devices/{created['id']}"))[0] == 204
    assert await refused(device("selfsigned1"))
    assert (await api.get(f"/devices/{created['id']}"))[0] == 404
    assert (await api.delete(f"/devices/{created['id']}"))[0] == 404


# -- aggregators ------------------------------------------------------------------------------------


async def test_aggregators_and_the_devices_they_manage(
    api: DocumentedAdmin, device: Device, pki: DevelopmentPki
) -> None:
    agg = await create(api, {"certificate": pem(pki, "agg1")}, "/aggregators")
    assert agg["is_aggregator"] is True
    status, answer = await api.post("/aggregators", {"lfdi": LFDI_C, "is_aggregator": False})
    assert status == 400 and "is_aggregator" in answer["error"]
    status, answer = await api.post("/aggregators", {"lfdi": LFDI_C, "aggregator_id": agg["id"]})
    assert status == 400 and "aggregator_id" in answer["error"]
    one = await create(api, {"lfdi": LFDI_A})
    two = await create(api, {"lfdi": LFDI_B, "aggregator_id": agg["id"]})
    assert two["aggregator_id"] == agg["id"]
    status, answer = await api.post("/devices", {"lfdi": LFDI_C, "aggregator_id": one["id"]})
    assert status == 400 and "not an aggregator" in answer["error"]

    status, aggregators = await api.get("/aggregators")
    assert [a["id"] for a in aggregators["items"]] == [agg["id"]]
    status, managed = await api.get(f"/aggregators/{agg['id']}/devices")
    assert [d["id"] for d in managed["items"]] == [two["id"]]
    assert [d["id"] for d in (await api.get(f"/devices?aggregator={agg['id']}"))[1]["items"]] == [two["id"]]

    status, managed = await api.put(f"/aggregators/{agg['id']}/devices", {"device_ids": [one["id"]]})
    assert status == 200 and [d["id"] for d in managed["items"]] == [one["id"]]
    assert (await api.get(f"/devices/{two['id']}"))[1]["aggregator_id"] is None
    reply = await device("agg1").get("/edev?l=10")
    assert sorted(e.lFDI for e in reply.parse(EndDeviceList).EndDevice) == sorted([agg["lfdi"], one["lfdi"]])

    for ids, word in (([one["id"], 4242], "4242"), ([agg["id"]], "aggregator"), (["x"], "device_ids[0]")):
        status, answer = await api.put(f"/aggregators/{agg['id']}/devices", {"device_ids": ids})
        assert status == 400 and word in answer["error"], answer
    assert [d["id"] for d in (await api.get(f"/aggregators/{agg['id']}/devices"))[1]["items"]] == [one["id"]]
    assert (await api.get(f"/aggregators/{one['id']}/devices"))[0] == 404
    assert (await api.put(f"/aggregators/{one['id']}/devices", {"device_ids": []}))[0] == 404
    assert (await api.put(f"/aggregators/{agg['id']}/devices", {}))[0] == 400

    assert (await api.delete(f"/devices/{agg['id']}"))[0] == 204
    status, released = await api.get(f"/devices/{one['id']}")
    assert (status, released["aggregator_id"]) == (200, None)


# -- groups -----------------------------------------------------------------------------------------


async def test_groups_members_and_versions(api: DocumentedAdmin, device: Device) -> None:
    dev1 = device("dev1")
    d1 = await create(api, {"lfdi": dev1.lfdi})
    d2 = await create(api, {"lfdi": LFDI_B})
    status, group = await api.post("/groups", {"name": "feeder 12", "description": "north side"})
    assert status == 201 and api.last_headers["Location"] == f"/api/v1/groups/{group['id']}"
    assert (group["version"], group["members"], group["description"]) == (0, [], "north side")
    assert len(group["mrid"]) == 32 and group["mrid"] == group["mrid"].upper()
    assert (await api.post("/groups", {"name": "feeder 12"}))[0] == 409
    for body, word in (
        ({"name": "x", "description": "d" * 33}, "description"),
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x", "members": []}, "members"),
    ):
        status, answer = await api.post("/groups", body)
        assert status == 400 and word in answer["error"], (body, answer)

    members = f"/groups/{group['id']}/members"
    status, group = await api.put(members, {"device_ids": [d2["id"], d1["id"], d1["id"]]})
    assert (status, group["members"], group["version"]) == (200, [d1["id"], d2["id"]], 1)
    status, answer = await api.put(members, {"device_ids": [d1["id"], 4242]})
    assert status == 400 and "4242" in answer["error"]
    assert (await api.get(f"/groups/{group['id']}"))[1] == group
    assert (await api.put("/groups/4242/members", {"device_ids": []}))[0] == 404

    status, patched = await api.patch(f"/groups/{group['id']}", {"description": "south side"})
    assert (status, patched["description"], patched["version"]) == (200, "south side", 2)
    await api.post("/groups", {"name": "other"})
    assert (await api.patch(f"/groups/{group['id']}", {"name": "other"}))[0] == 409
    assert (await api.get("/groups"))[1]["total"] == 2
    assert (await api.get(f"/devices/{d1['id']}"))[1]["groups"] == [group["id"]]
    assert [d["id"] for d in (await api.get(f"/devices?group={group['id']}"))[1]["items"]] == [
        d1["id"],
        d2["id"],
    ]
    reply = await dev1.get(f"/edev/{d1['id']}/fsa?l=5")
    fsa = reply.parse(FunctionSetAssignmentsList).FunctionSetAssignments
    assert [(f.mRID, f.version, f.description) for f in fsa] == [(group["mrid"], 2, "south side")]

    assert (await api.delete(f"/groups/{group['id']}"))[0] == 204
    assert (await api.get(f"/groups/{group['id']}"))[0] == 404
    assert (await api.get(f"/devices/{d1['id']}"))[1]["groups"] == []


# -- run-time settings ------------------------------------------------------------------------------


async def test_settings_reach_the_2030_5_server(api: DocumentedAdmin, device: Device, pki: DevelopmentPki) -> None:
    await create(api, {"certificate": pem(pki, "dev1")})
    status, before = await api.get("/settings")
    assert status == 200 and before["poll_rates"]["DeviceCapability"] == 900

    status, after = await api.patch("/settings", {"poll_rates": {"DeviceCapability": 60}, "time_quality": 3})
    assert status == 200 and after["poll_rates"] == {**before["poll_rates"], "DeviceCapability": 60}
    dcap = (await device("dev1").get("/dcap")).parse(DeviceCapability)
    assert dcap.pollRate == 60

    for body, word in (
        ({"poll_rates": {"Nonsense": 5}}, "poll_rates.Nonsense"),
        ({"poll_rates": {"Time": 0}}, "poll_rates.Time"),
        ({"poll_rates": [1]}, "poll_rates"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
        ({"post_rate": 10, "time_quality": 9}, "time_quality"),
        ({"inband_registration": 1}, "inband_registration"),
        ({"pollRate": 5}, "pollRate"),
    ):
        status, answer = await api.patch("/settings", body)
        assert status == 400 and word in answer["error"], (body, answer)
    assert (await api.get("/settings"))[1] == after


async def test_settings_survive_a_restart(
    server: GridhanServer, make_server: Callable[..., Any], api: DocumentedAdmin, pki: DevelopmentPki
) -> None:
    change = {
        "poll_rates": {"Time": 120},
        "timezone": "Australia/Sydney",
        "inband_registration": True,
        "post_rate": 45,
    }
    assert (await api.patch("/settings", change))[0] == 200
    await api.patch("/settings", {"poll_rates": {"EndDevice": 30}})
    await server.stop()

    second: GridhanServer = await make_server()
    assert second.context.runtime.timezone == "Australia/Sydney"
    async with admin_of(second, pki) as again:
        status, settings = await again.get("/settings")
    assert status == 200
    assert settings["poll_rates"]["Time"] == 120 and settings["poll_rates"]["EndDevice"] == 30
    assert settings["poll_rates"]["DeviceCapability"] == 900
    assert (settings["timezone"], settings["inband_registration"], settings["post_rate"]) == (
        "Australia/Sydney",
        True,
        45,
    )


async def test_operator_certificate_instead_of_token(make_server, pki):
    """An operator certificate listed in ``operator_lfdis`` is accepted instead of the token; another
    valid certificate is not."""
    import aiohttp

    from gridhan.certs.identity import lfdi_of, load_certificate
    from gridhan.certs.tls import client_context

    operator = lfdi_of(load_certificate(pki.device_cert_path("operator1")))
    server = await make_server(operator_lfdis=(operator.lower(),))
    ciphers = ("ECDHE-ECDSA-AES128-GCM-SHA256",)
    for name, expected in (("operator1", 200), ("dev1", 401)):
        ctx = client_context(
            pki.device_cert_path(name),
            pki.device_key_path(name),
            trust_anchors=[pki.trust_anchor_path],
            ciphers=ciphers,
        )
        async with (
            aiohttp.ClientSession() as session,
            session.get(server.admin_url + "/api/v1/devices", ssl=ctx) as resp,
        ):
            assert resp.status == expected, name
            if expected == 401:
                assert "operator certificate" in (await resp.json())["error"]
