"""Discovery walk from DeviceCapability over mutual TLS (IEEE 2030.5-2018 Device Capability, Time, End Device
and FunctionSetAssignments function sets)."""

from __future__ import annotations

import time

from helpers import register

from gridhan.certs.identity import lfdi_of, load_certificate
from gridhan.schemas.clock import ManualClock
from gridhan.schemas.identifiers import pin_with_check_digit, sfdi_from_lfdi
from gridhan.schemas.sep2 import (
    DeviceCapability,
    DeviceInformation,
    EndDevice,
    EndDeviceList,
    FunctionSetAssignmentsList,
    Registration,
    SelfDevice,
    Time,
)


async def test_discovery_walk_from_dcap(server, admin, device):
    dev = device("dev1")
    pin = pin_with_check_digit(12345)
    device_id = await register(admin, dev, pin=pin)

    dcap = (await dev.get("/dcap")).parse(DeviceCapability)
    assert dcap.pollRate == 900
    assert dcap.TimeLink.href == "/tm"
    assert dcap.EndDeviceListLink.href == "/edev" and dcap.EndDeviceListLink.all == 1
    assert dcap.SelfDeviceLink.href == "/sdev"

    tm = (await dev.get(dcap.TimeLink.href)).parse(Time)
    assert abs(tm.currentTime - time.time()) < 5

    edl = (await dev.get(dcap.EndDeviceListLink.href + "?l=10")).parse(EndDeviceList)
    assert (edl.all, edl.results) == (1, 1)
    (mine,) = edl.EndDevice
    assert mine.sFDI == dev.sfdi and mine.lFDI == dev.lfdi
    assert mine.href == f"/edev/{device_id}"

    edev = (await dev.get(mine.href)).parse(EndDevice)
    assert edev == mine
    reg = (await dev.get(edev.RegistrationLink.href)).parse(Registration)
    assert reg.pIN == pin
    assert abs(reg.dateTimeRegistered - time.time()) < 5

    fsal = (await dev.get(edev.FunctionSetAssignmentsListLink.href)).parse(FunctionSetAssignmentsList)
    assert (fsal.all, fsal.results) == (0, 0)

    sdev = (await dev.get("/sdev")).parse(SelfDevice)
    server_lfdi = lfdi_of(load_certificate(server.settings.tls_cert))
    assert sdev.lFDI == server_lfdi and sdev.sFDI == sfdi_from_lfdi(server_lfdi)
    info = (await dev.get(sdev.DeviceInformationLink.href)).parse(DeviceInformation)
    assert info.lFDI == server_lfdi and info.mfModel == "gridhan"


async def test_group_membership_decides_function_set_assignments(server, admin, device):
    dev = device("dev1")
    device_id = await register(admin, dev)
    group_ids = []
    for name in ("feeder-12", "cpp-volunteers"):
        status, group = await admin.post("/groups", {"name": name, "description": name})
        assert status == 201, group
        group_ids.append(group["id"])
    status, body = await admin.put(f"/groups/{group_ids[0]}/members", {"device_ids": [device_id]})
    assert status in (200, 204), body
    fsal = (await dev.get(f"/edev/{device_id}/fsa?l=10")).parse(FunctionSetAssignmentsList)
    assert (fsal.all, fsal.results) == (1, 1)
    assert fsal.FunctionSetAssignments[0].description == "feeder-12"
    assert fsal.FunctionSetAssignments[0].TimeLink.href == "/tm"
    one = await dev.get(fsal.FunctionSetAssignments[0].href)
    assert one.status == 200
    # the other group's FSA is not this device's: it answers as if it did not exist
    assert (await dev.get(f"/edev/{device_id}/fsa/{group_ids[1]}")).status == 404


async def test_time_follows_configured_zone(make_server, admin, pki, optional_sep_schemas):
    from sep_client import AdminClient, SepClient

    clock = ManualClock(1_780_000_000)  # 2026-05-28T20:26:40Z, inside US daylight saving time
    server = await make_server(clock=clock, timezone="America/Los_Angeles", time_quality=4)
    dev = SepClient(server.sep2_url, pki, "dev1", optional_sep_schemas)
    admin_client = AdminClient(server.admin_url, "test-operator-token", pki.trust_anchor_path)
    try:
        await register(admin_client, dev)
        tm = (await dev.get("/tm")).parse(Time)
        assert tm.currentTime == 1_780_000_000
        assert tm.tzOffset == -8 * 3600 and tm.dstOffset == 3600
        assert tm.dstStartTime == 1_772_964_000  # 2026-03-08 10:00Z (2 am PST)
        assert tm.dstEndTime == 1_793_523_600  # 2026-11-01 09:00Z (2 am PDT)
        assert tm.localTime == 1_780_000_000 - 7 * 3600
        assert tm.quality == 4
        clock.set(1_795_000_000)  # November: standard time
        tm = (await dev.get("/tm")).parse(Time)
        assert tm.localTime == 1_795_000_000 - 8 * 3600
    finally:
        await dev.close()
        await admin_client.close()


async def test_http_semantics(server, admin, device):
    dev = device("dev1")
    await register(admin, dev)
    head = await dev.request("HEAD", "/dcap")
    assert head.status == 200 and head.body == b""
    assert head.headers["Content-Type"].startswith("application/sep+xml")
    bad_method = await dev.delete("/dcap")
    assert bad_method.status == 405
    assert "GET" in bad_method.headers["Allow"]
    assert (await dev.get("/no-such-resource")).status == 404
    # query parameters on a non-list resource are ignored (clause 4.7)
    assert (await dev.get("/dcap?s=3&l=2")).status == 200
