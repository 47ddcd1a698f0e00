"""Metering Mirror (IEEE 2030.5-2018 clause 10.11) read back as Metering (clause 10.4), over mutual TLS on
SQLite and PostgreSQL: a mirror is created once and written over by a repeated POST, readings arrive
inline or later, ReadingSets are replaced by mRID, everything reads back scoped to the caller, the utility
sees the readings as telemetry, and every refusal names the element and stores nothing."""

from __future__ import annotations

import pytest
from conftest import SHARED_SCHEMAS
from helpers import register
from sep_client import AdminClient, SepClient
from test_openapi import DocumentedAdmin

from gridhan.schemas.sep2 import DeviceCapability, FunctionSetAssignments
from gridhan.schemas.sep2.events import DateTimeInterval
from gridhan.schemas.sep2.metering import (
    MeterReading,
    MeterReadingList,
    MirrorMeterReading,
    MirrorMeterReadingList,
    MirrorReadingSet,
    MirrorUsagePoint,
    MirrorUsagePointList,
    Reading,
    ReadingList,
    ReadingSet,
    ReadingSetList,
    ReadingType,
    UsagePoint,
    UsagePointList,
)
from gridhan.schemas.xmlcodec import encode
from gridhan.server.store import metering as metering_store

NS = 'xmlns="urn:ieee:std:2030.5:ns"'
T0 = 1_700_000_000
#: ReadingTypes: real power (W, forward), reactive power (var), real energy (Wh, delivered), in kW and kWh.
WATTS = ReadingType(uom=38, powerOfTenMultiplier=0, kind=37, flowDirection=1, accumulationBehaviour=12)
VARS = ReadingType(uom=63, powerOfTenMultiplier=0, kind=37, flowDirection=1, accumulationBehaviour=12)
KWH = ReadingType(uom=72, powerOfTenMultiplier=3, kind=12, flowDirection=1, accumulationBehaviour=9, intervalLength=300)


def mirror(lfdi: str, mrid: str, *readings: MirrorMeterReading, description: str = "inverter") -> MirrorUsagePoint:
    return MirrorUsagePoint(
        mRID=mrid,
        description=description,
        roleFlags="49",
        serviceCategoryKind=0,
        status=1,
        deviceLFDI=lfdi,
        MirrorMeterReading=list(readings),
    )


def instant(mrid: str, value: int, when: int, reading_type: ReadingType | None = None) -> MirrorMeterReading:
    """A MirrorMeterReading carrying one current Reading."""
    return MirrorMeterReading(
        mRID=mrid,
        lastUpdateTime=when,
        Reading=Reading(value=value, timePeriod=DateTimeInterval(duration=0, start=when)),
        ReadingType=reading_type,
    )


def interval_set(mrid: str, start: int, values: list[int]) -> MirrorReadingSet:
    return MirrorReadingSet(
        mRID=mrid,
        timePeriod=DateTimeInterval(duration=300 * len(values), start=start),
        Reading=[
            Reading(value=v, localID=f"{i:02X}", timePeriod=DateTimeInterval(duration=300, start=start + 300 * i))
            for i, v in enumerate(values)
        ],
    )


async def test_mirror_created_once_written_over_and_read_back(server, admin: AdminClient, device):
    api = DocumentedAdmin(admin)
    dev = device("dev1")
    dev_id = await register(admin, dev)
    status, group = await api.post("/groups", {"name": "meters"})
    assert (await api.put(f"/groups/{group['id']}/members", {"device_ids": [dev_id]}))[0] == 200
    dcap = (await dev.get("/dcap")).parse(DeviceCapability)
    assert (dcap.MirrorUsagePointListLink.href, dcap.MirrorUsagePointListLink.all) == ("/mup", 0)
    assert (dcap.UsagePointListLink.href, dcap.UsagePointListLink.all) == ("/upt", 0)

    power = instant("AA01", 4200, T0, WATTS)
    energy = MirrorMeterReading(mRID="AA02", ReadingType=KWH, MirrorReadingSet=[interval_set("BB01", T0, [1, 2, 3])])
    reply = await dev.post("/mup", mirror(dev.lfdi, "F001", power, energy))
    assert reply.status == 201, reply.text
    location = reply.headers["Location"]
    upt = location.replace("/mup/", "/upt/")

    # 10.11.3 a) 4): the same mRID again writes over the mirror: 204, same Location, no second mirror
    again = await dev.post("/mup", mirror(dev.lfdi, "F001", instant("AA01", 4300, T0 + 60), description="renamed"))
    assert (again.status, again.headers["Location"]) == (204, location)
    mirrors = (await dev.get("/mup?l=10")).parse(MirrorUsagePointList)
    assert (mirrors.all, mirrors.results) == (1, 1)
    # 10.11.3 c): first-level elements only; postRate is the server's
    first = mirrors.MirrorUsagePoint[0]
    assert (first.href, first.description, first.MirrorMeterReading, first.postRate) == (location, "renamed", [], 300)
    assert (await dev.get(location)).parse(MirrorUsagePoint) == first
    assert (await api.patch(f"/devices/{dev_id}", {"post_rate": 60}))[0] == 200
    assert (await dev.get(location)).parse(MirrorUsagePoint).postRate == 60
    dcap = (await dev.get("/dcap")).parse(DeviceCapability)
    assert dcap.MirrorUsagePointListLink.all == dcap.UsagePointListLink.all == 1
    fsa = (await dev.get(f"/edev/{dev_id}/fsa/{group['id']}")).parse(FunctionSetAssignments)
    assert (fsa.UsagePointListLink.href, fsa.UsagePointListLink.all) == ("/upt", 1)

    # 10.11.3 d), f): a MirrorMeterReading POSTed to the mirror answers with its MeterReading's Location
    reply = await dev.post(location, instant("AA01", 4400, T0 + 120))
    assert reply.status == 204, reply.text
    power_href = reply.headers["Location"]
    assert power_href.startswith(f"{upt}/mr/")
    # g): a list answers with the MeterReadingList; a new mRID with its ReadingType creates a MeterReading
    batch = MirrorMeterReadingList(all=1, results=1, MirrorMeterReading=[instant("AA03", -150, T0 + 120, VARS)])
    reply = await dev.post(location, batch)
    assert (reply.status, reply.headers["Location"]) == (201, f"{upt}/mr")

    # 10.4 read back: UsagePoint -> MeterReadings (mRID descending) -> ReadingType, Reading, ReadingSets
    points = (await dev.get("/upt?l=10")).parse(UsagePointList)
    assert [(p.href, p.mRID, p.deviceLFDI, p.roleFlags) for p in points.UsagePoint] == [(upt, "F001", dev.lfdi, "49")]
    assert points.UsagePoint[0].MeterReadingListLink.all == 3
    assert (await dev.get(upt)).parse(UsagePoint) == points.UsagePoint[0]
    readings = (await dev.get(f"{upt}/mr?l=10")).parse(MeterReadingList)
    assert [m.mRID for m in readings.MeterReading] == ["AA03", "AA02", "AA01"]
    meter = (await dev.get(power_href)).parse(MeterReading)
    assert meter.ReadingTypeLink.href == f"{power_href}/rt" and meter.ReadingLink.href == f"{power_href}/r"
    reading_type = (await dev.get(meter.ReadingTypeLink.href)).parse(ReadingType)
    assert (reading_type.uom, reading_type.flowDirection, reading_type.kind) == (38, 1, 37)
    current = (await dev.get(meter.ReadingLink.href)).parse(Reading)
    assert (current.value, current.timePeriod.start) == (4400, T0 + 120)
    mirrored = (await dev.get(power_href.replace("/upt/", "/mup/"))).parse(MirrorMeterReading)
    assert (mirrored.mRID, mirrored.Reading.value, mirrored.ReadingType.uom) == ("AA01", 4400, 38)

    energy_href = next(m.href for m in readings.MeterReading if m.mRID == "AA02")
    energy_meter = (await dev.get(energy_href)).parse(MeterReading)
    assert energy_meter.ReadingLink is None and energy_meter.ReadingSetListLink.all == 1
    sets = (await dev.get(f"{energy_href}/rs")).parse(ReadingSetList)
    set_href = sets.ReadingSet[0].href
    assert (sets.ReadingSet[0].mRID, sets.ReadingSet[0].ReadingListLink.all) == ("BB01", 3)
    assert (await dev.get(set_href)).parse(ReadingSet) == sets.ReadingSet[0]
    values = (await dev.get(f"{set_href}/r?l=10")).parse(ReadingList)
    assert [(r.localID, r.value) for r in values.Reading] == [("00", 1), ("01", 2), ("02", 3)]
    assert (await dev.get(values.Reading[1].href)).parse(Reading).value == 2

    # 10.11.3 i): a MirrorReadingSet of a known mRID replaces that ReadingSet's data; a new one is added
    update = MirrorMeterReading(
        mRID="AA02", MirrorReadingSet=[interval_set("BB01", T0, [7, 8]), interval_set("BB02", T0 + 900, [9])]
    )
    assert (await dev.post(location, update)).status == 204
    sets = (await dev.get(f"{energy_href}/rs?l=10")).parse(ReadingSetList)
    assert [s.mRID for s in sets.ReadingSet] == ["BB02", "BB01"]  # timePeriod.start descending
    assert sets.ReadingSet[1].href == set_href
    values = (await dev.get(f"{set_href}/r?l=10")).parse(ReadingList)
    assert [r.value for r in values.Reading] == [7, 8]

    # the utility's telemetry: scaled values with their units, oldest first, filtered
    status, body = await api.get(f"/devices/{dev_id}/telemetry?kind=power&uom=38")
    assert status == 200, body
    assert [(r["time"], r["value"], r["unit"]) for r in body["items"]] == [
        (T0, 4200, "W"),
        (T0 + 60, 4300, "W"),
        (T0 + 120, 4400, "W"),
    ]
    status, body = await api.get(f"/devices/{dev_id}/telemetry?kind=energy&from={T0 + 300}&to={T0 + 900}")
    assert status == 200 and [(r["time"], r["scaled_value"], r["unit"]) for r in body["items"]] == [
        (T0 + 300, 8000.0, "Wh"),
        (T0 + 900, 9000.0, "Wh"),
    ]
    assert body["items"][0]["reading_set_mrid"] == "BB01" and body["total"] == 2

    # 10.11.3 l): deleting the mirror deletes its UsagePoint and data
    assert (await dev.delete(location)).status == 204
    assert (await dev.get(upt)).status == 404
    assert (await dev.get(power_href)).status == 404
    assert (await api.get(f"/devices/{dev_id}/telemetry"))[1]["total"] == 0


async def test_mirrors_belong_to_their_device_and_its_aggregator(server, admin: AdminClient, device):
    agg, managed, other, stranger = device("agg1"), device("dev1"), device("dev2"), device("unreg1")
    agg_id = await register(admin, agg, is_aggregator=True)
    managed_id = await register(admin, managed, aggregator_id=agg_id)
    other_id = await register(admin, other)

    reply = await agg.post("/mup", mirror(managed.lfdi, "F010", instant("AA01", 1, T0, WATTS)))
    assert reply.status == 201, reply.text
    location = reply.headers["Location"]
    upt = location.replace("/mup/", "/upt/")
    for client in (agg, managed):
        assert (await client.get("/mup?l=10")).parse(MirrorUsagePointList).all == 1
        assert (await client.get(upt)).status == 200
    # the same mRID from another device is that device's own mirror, not a write over this one
    theirs = await other.post("/mup", mirror(other.lfdi, "F010", instant("AA01", 2, T0, WATTS)))
    assert theirs.status == 201 and theirs.headers["Location"] != location
    assert (await other.get("/mup?l=10")).parse(MirrorUsagePointList).all == 1

    # another client's mirror answers exactly like a missing one, for reads and writes
    mup_id = location.rsplit("/", 1)[1]
    for template in ("/mup/{}", "/upt/{}", "/upt/{}/mr", "/mup/{}/mr/1", "/upt/{}/mr/1/rs"):
        hidden, missing = await other.get(template.format(mup_id)), await other.get(template.format(999999))
        assert (hidden.status, hidden.body) == (404, missing.body), template
    assert (await other.post(location, instant("AA01", 3, T0))).status == 404
    assert (await other.delete(location)).status == 404
    # a mirror for an LFDI that is not the caller's (or one it manages) is refused, and nothing stored
    refused = await other.post("/mup", mirror(managed.lfdi, "F011", instant("AA01", 4, T0, WATTS)))
    assert refused.status == 403 and f"MirrorUsagePoint/deviceLFDI: {managed.lfdi} is not the LFDI" in refused.text
    refused = await agg.post("/mup", mirror(other.lfdi, "F012", instant("AA01", 5, T0, WATTS)))
    assert refused.status == 403 and "of this client or of a device it manages" in refused.text
    assert (await stranger.get("/mup")).status == 403 and (await stranger.get("/upt")).status == 403
    assert (await stranger.post("/mup", mirror(stranger.lfdi, "F013", instant("AA01", 6, T0, WATTS)))).status == 403
    assert (await agg.get("/mup?l=10")).parse(MirrorUsagePointList).all == 1
    assert (await other.get("/mup?l=10")).parse(MirrorUsagePointList).all == 1
    current = (await managed.get(f"{upt}/mr?l=10")).parse(MeterReadingList).MeterReading[0].ReadingLink.href
    assert (await managed.get(current)).parse(Reading).value == 1
    # the utility forgets a device: its mirrors and their data go with it
    assert (await admin.delete(f"/devices/{other_id}"))[0] == 204
    assert (await metering_store.mirrors_in_scope(server.context.store, [other_id], 0, 10)).total == 0
    assert (await metering_store.mirrors_in_scope(server.context.store, [managed_id], 0, 10)).total == 1


async def test_a_configured_schema_checks_mirror_data(make_server, pki, optional_sep_schemas):
    schema = SHARED_SCHEMAS / "sep2-2018" / "sep.xsd"
    if not schema.exists():
        pytest.skip(f"official schema not found at {schema}")
    server = await make_server(schema_path=schema)
    dev = SepClient(server.sep2_url, pki, "dev1", optional_sep_schemas)
    admin = AdminClient(server.admin_url, "test-operator-token", pki.trust_anchor_path)
    try:
        await register(admin, dev)
        reply = await dev.post("/mup", mirror(dev.lfdi, "F040", instant("AA01", 1, T0, WATTS)))
        assert reply.status == 201, reply.text
        batch = MirrorMeterReadingList(all=1, results=1, MirrorMeterReading=[instant("AA01", 2, T0 + 1)])
        assert (await dev.post(reply.headers["Location"], batch)).status == 204
        bad = encode(instant("AA01", 3, T0 + 2)).replace(b"</mRID>", b"</mRID><x/>")
        refused = await dev.post(reply.headers["Location"], bad)
        assert refused.status == 400 and "MirrorMeterReading: not valid against sep.xsd" in refused.text
    finally:
        await dev.close()
        await admin.close()


async def test_bad_mirror_input_gets_a_4xx_naming_the_element_and_stores_nothing(server, admin: AdminClient, device):
    api = DocumentedAdmin(admin)
    dev = device("dev1")
    dev_id = await register(admin, dev)
    good = encode(mirror(dev.lfdi, "F020", instant("AA01", 1, T0, WATTS))).decode()
    untyped = mirror(dev.lfdi, "F021", instant("AA01", 1, T0, WATTS), instant("AA02", 2, T0))
    twice = mirror(dev.lfdi, "F022", instant("AA01", 1, T0, WATTS), instant("AA01", 2, T0, WATTS))
    cases: list[tuple[bytes, int, str]] = [
        (good[:-20].encode(), 400, "malformed XML"),
        (good.replace("<uom>38</uom>", "<uom>300</uom>").encode(), 400, "ReadingType/uom: 300 is out of range"),
        (
            good.replace("<flowDirection>1<", "<flowDirection>5<").encode(),
            400,
            "ReadingType/flowDirection: 5 is not one of the values",
        ),
        (
            good.replace("<value>1</value>", f"<value>{2**47}</value>").encode(),
            400,
            "Reading/value: 140737488355328 is out of range for Int48",
        ),
        (good.replace("<status>1</status>", "").encode(), 400, "required element 'status' is missing"),
        (good.replace("MirrorUsagePoint", "UsagePoint").encode(), 400, "root element is 'UsagePoint'"),
        (encode(mirror(dev.lfdi, "F023")), 400, "MirrorUsagePoint/MirrorMeterReading: a new MirrorUsagePoint"),
        (encode(untyped), 400, "MirrorUsagePoint/MirrorMeterReading/ReadingType: MirrorMeterReading AA02 is new"),
        (encode(twice), 400, "MirrorUsagePoint/MirrorMeterReading: mRID AA01 appears more than once"),
        (b"<MirrorUsagePoint " + NS.encode() + b"/>", 400, "required element"),
        (b"x" * 70_000, 413, "exceeds"),
    ]
    for body, status, message in cases:
        reply = await dev.post("/mup", body)
        assert (reply.status, message in reply.text) == (status, True), (body[:80], reply.status, reply.text)
    assert (await dev.post("/mup", good.encode(), content_type="text/xml")).status == 415
    assert (await dev.get("/mup?l=10")).parse(MirrorUsagePointList).all == 0

    # and for data POSTed to an existing mirror
    reply = await dev.post("/mup", good.encode())
    assert reply.status == 201
    location = reply.headers["Location"]
    bad_readings: list[tuple[bytes, int, str]] = [
        (encode(instant("AA09", 1, T0)), 400, "MirrorMeterReading/ReadingType: MirrorMeterReading AA09 is new"),
        (
            encode(MirrorMeterReadingList(all=2, results=2, MirrorMeterReading=[instant("AA01", 5, T0)] * 2)),
            400,
            "MirrorMeterReadingList/MirrorMeterReading: mRID AA01 appears more than once",
        ),
        (
            encode(MirrorMeterReading(mRID="AA01", MirrorReadingSet=[interval_set("BB01", T0, [1])] * 2)),
            400,
            "MirrorMeterReading/MirrorReadingSet: mRID BB01 appears more than once",
        ),
        (good.encode(), 400, "root element is 'MirrorUsagePoint'; expected 'MirrorMeterReading'"),
    ]
    for body, status, message in bad_readings:
        reply = await dev.post(location, body)
        assert (reply.status, message in reply.text) == (status, True), (body[:80], reply.status, reply.text)
    assert (await dev.post("/mup/999999", encode(instant("AA01", 1, T0)))).status == 404
    assert (await dev.request("PUT", location, good.encode())).status == 405
    upt = location.replace("/mup/", "/upt/")
    assert (await dev.get(f"{upt}/mr?l=10")).parse(MeterReadingList).all == 1
    status, body = await api.get(f"/devices/{dev_id}/telemetry")
    assert status == 200 and [r["value"] for r in body["items"]] == [1]

    # the admin API's own refusals
    for query, field in (("from=10&to=5", "from=10"), ("kind=volts", "kind='volts'"), ("uom=256", "uom=256")):
        status, body = await api.get(f"/devices/{dev_id}/telemetry?{query}")
        assert status == 400 and field in body["error"], body
    assert (await api.get("/devices/999999/telemetry"))[0] == 404
    assert (await api.get("/groups/999999/telemetry"))[0] == 404


async def test_group_telemetry_adds_up_the_latest_readings(server, admin: AdminClient, device):
    api = DocumentedAdmin(admin)
    clients: list[SepClient] = [device("dev1"), device("dev2"), device("dev3")]
    ids = [await register(admin, c) for c in clients]
    status, group = await api.post("/groups", {"name": "feeder-9"})
    assert (await api.put(f"/groups/{group['id']}/members", {"device_ids": ids}))[0] == 200
    export = ReadingType(uom=38, powerOfTenMultiplier=-1, kind=37, flowDirection=19)
    for n, client in enumerate(clients[:2]):
        body = mirror(
            client.lfdi,
            "F030",
            instant("AA01", 1000 * (n + 1), T0, WATTS),
            instant("AA02", 10 * (n + 1), T0, VARS),
            instant("AA03", 55, T0, export),
            MirrorMeterReading(mRID="AA04", ReadingType=KWH, MirrorReadingSet=[interval_set("BB01", T0, [1, 2])]),
        )
        assert (await client.post("/mup", body)).status == 201
        location = (await client.get("/mup")).parse(MirrorUsagePointList).MirrorUsagePoint[0].href
        # a newer power reading replaces the older one in the totals
        assert (await client.post(location, instant("AA01", 2000 * (n + 1), T0 + 60))).status == 204

    status, body = await api.get(f"/groups/{group['id']}/telemetry")
    assert status == 200, body
    assert (body["member_count"], body["reporting_devices"]) == (3, ids[:2])
    totals = {(t["unit"], t["flow_direction"]): (t["total"], t["devices"]) for t in body["totals"]}
    assert totals == {
        ("W", 1): (6000.0, 2),
        ("W", 19): (11.0, 2),
        ("var", 1): (30.0, 2),
        ("Wh", 1): (4000.0, 2),
    }
    # a time range keeps the latest reading inside it
    status, body = await api.get(f"/groups/{group['id']}/telemetry?to={T0 + 30}")
    totals = {(t["unit"], t["flow_direction"]): t["total"] for t in body["totals"]}
    assert status == 200 and totals[("W", 1)] == 3000.0 and totals[("Wh", 1)] == 2000.0
