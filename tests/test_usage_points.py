"""The utility's own UsagePoints (IEEE 2030.5-2018 clause 10.4): interval data the utility pushes for a
premise's display appears in the device's UsagePointList at /upt beside the data it mirrored (10.11),
marked as not mirrored; another premise's device gets 404; bad pushes are refused and store nothing."""

from __future__ import annotations

import pytest
from helpers import register
from sep_client import AdminClient, SepClient
from test_openapi import DocumentedAdmin

from gridhan.schemas.clock import ManualClock
from gridhan.schemas.sep2 import DeviceCapability
from gridhan.schemas.sep2.metering import (
    MeterReadingList,
    MirrorMeterReading,
    MirrorUsagePoint,
    MirrorUsagePointList,
    ReadingList,
    ReadingSetList,
    ReadingType,
    UsagePointList,
)

T0 = 1_800_000_000
DAY_START = T0 - T0 % 86400
QUARTER = 900


def quarter_hours(n: int = 96) -> list[dict]:
    return [{"timePeriod": {"start": DAY_START + i * QUARTER, "duration": QUARTER}, "value": 250 + i} for i in range(n)]


@pytest.fixture
async def env(make_server, pki, optional_sep_schemas):
    server = await make_server(clock=ManualClock(T0))
    raw = AdminClient(server.admin_url, "test-operator-token", pki.trust_anchor_path)
    dev1 = SepClient(server.sep2_url, pki, "dev1", optional_sep_schemas)
    dev2 = SepClient(server.sep2_url, pki, "dev2", optional_sep_schemas)
    ids = (await register(raw, dev1), await register(raw, dev2))
    yield DocumentedAdmin(raw), dev1, dev2, ids
    await dev1.close()
    await dev2.close()
    await raw.close()


async def push_meter(admin, target: dict) -> tuple[dict, dict]:
    status, up = await admin.post("/usage-points", {**target, "service_category_kind": 0, "role_flags": "12",
                                                   "description": "premise meter"})  # fmt: skip
    assert status == 201, up
    status, mr = await admin.post(
        f"/usage-points/{up['id']}/meter-readings",
        {"description": "kWh delivered", "reading_type": {"uom": 72, "powerOfTenMultiplier": 0, "kind": 12,
                                                           "flowDirection": 1, "intervalLength": QUARTER}},
    )  # fmt: skip
    assert status == 201, mr
    return up, mr


async def test_pushed_day_of_interval_data_beside_the_mirror(env):
    admin, dev1, dev2, (id1, _id2) = env
    mirror = MirrorUsagePoint(
        mRID="AA01", description="inverter", roleFlags="49", serviceCategoryKind=0, status=1, deviceLFDI=dev1.lfdi,
        MirrorMeterReading=[MirrorMeterReading(mRID="AA02", ReadingType=ReadingType(uom=38, powerOfTenMultiplier=0))],
    )  # fmt: skip
    assert (await dev1.post("/mup", mirror)).status == 201
    up, mr = await push_meter(admin, {"device_id": id1})
    status, pushed = await admin.post(f"/meter-readings/{mr['id']}/reading-sets",
                                      {"mrid": "D1", "start": DAY_START, "duration": 86400,
                                       "readings": quarter_hours()})  # fmt: skip
    assert status == 201 and pushed["readings"] == 96, pushed

    dcap = (await dev1.get("/dcap")).parse(DeviceCapability)
    assert dcap.UsagePointListLink.all == 2 and dcap.MirrorUsagePointListLink.all == 1
    points = (await dev1.get("/upt?l=10")).parse(UsagePointList)
    assert points.all == 2
    flags = {p.description: int(p.roleFlags, 16) for p in points.UsagePoint}
    assert flags["inverter"] & 1 and not flags["premise meter"] & 1  # bit 0: isMirror
    utility = next(p for p in points.UsagePoint if p.description == "premise meter")
    assert utility.href == up["href"]
    readings = (await dev1.get(utility.MeterReadingListLink.href + "?l=5")).parse(MeterReadingList)
    (meter_reading,) = readings.MeterReading
    rt = (await dev1.get(meter_reading.ReadingTypeLink.href)).parse(ReadingType)
    assert (rt.uom, rt.intervalLength) == (72, QUARTER)
    sets = (await dev1.get(meter_reading.ReadingSetListLink.href + "?l=5")).parse(ReadingSetList)
    (day,) = sets.ReadingSet
    values = (await dev1.get(day.ReadingListLink.href + "?l=100")).parse(ReadingList)
    assert values.all == 96 and [r.value for r in values.Reading[:3]] == [250, 251, 252]
    # the mirror list still holds only the mirror, and the device cannot post to the utility's own
    assert (await dev1.get("/mup?l=10")).parse(MirrorUsagePointList).all == 1
    assert (await dev1.get(up["href"].replace("/upt", "/mup"))).status == 404

    # dev2 sees nothing of dev1's premise
    assert (await dev2.get("/upt?l=10")).parse(UsagePointList).all == 0
    for href in (
        utility.href,
        meter_reading.href,
        day.href,
        values.Reading[0].href,
        meter_reading.ReadingTypeLink.href,
    ):
        assert (await dev2.get(href)).status == 404, href


async def test_usage_point_for_a_group(env):
    admin, dev1, dev2, (_id1, id2) = env
    status, group = await admin.post("/groups", {"name": "premise-3"})
    assert status == 201
    assert (await admin.put(f"/groups/{group['id']}/members", {"device_ids": [id2]}))[0] in (200, 204)
    up, _mr = await push_meter(admin, {"group_id": group["id"]})
    assert (await dev2.get(up["href"])).status == 200
    assert (await dev1.get(up["href"])).status == 404


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"duration": -900}, "duration: -900 is negative"),
        ({"readings": [{"timePeriod": {"start": DAY_START - QUARTER, "duration": QUARTER}, "value": 1}]},
         "readings[0]/timePeriod: "),
        ({"readings": [{"timePeriod": {"start": DAY_START, "duration": 600}, "value": 1}]}, "intervalLength"),
        ({"readings": [{"value": "x"}]}, "readings[0]/value"),
        ({"readings": [{"localID": "01", "value": 1}]}, "readings[0]/localID: set by the server"),
    ],
)  # fmt: skip
async def test_bad_pushes_store_nothing(env, change, message):
    admin, dev1, _dev2, (id1, _id2) = env
    _up, mr = await push_meter(admin, {"device_id": id1})
    body = {"start": DAY_START, "duration": 86400, "readings": quarter_hours(4), **change}
    status, reply = await admin.post(f"/meter-readings/{mr['id']}/reading-sets", body)
    assert status == 400 and message in reply["error"], reply
    sets = (await dev1.get(mr["href"] + "/rs?l=5")).parse(ReadingSetList)
    assert sets.all == 0


async def test_bad_usage_points(env):
    admin, _dev1, _dev2, (id1, _id2) = env
    status, reply = await admin.post("/usage-points", {"device_id": id1, "service_category_kind": 0,
                                                       "role_flags": "01"})  # fmt: skip
    assert status == 400 and "isMirror" in reply["error"]
    status, reply = await admin.post("/usage-points", {"service_category_kind": 0})
    assert status == 400 and "device_id and group_id" in reply["error"]
    status, up = await admin.post("/usage-points", {"device_id": id1, "service_category_kind": 0})
    assert status == 201
    status, reply = await admin.post(f"/usage-points/{up['id']}/meter-readings",
                                     {"reading_type": {"uom": 72, "powerOfTenMultiplier": 12}})  # fmt: skip
    assert status == 400 and "powerOfTenMultiplier" in reply["error"], reply
    status, listed = await admin.get("/usage-points")
    assert listed["total"] == 1


async def test_upgrade_keeps_mirrored_readings(empty_database_url):
    """Migration 0008 rebuilds mirror_usage_point on SQLite; the mirrors' readings survive it."""
    from sqlalchemy import text

    from gridhan.server.store.db import create_engine, migrate

    engine = create_engine(empty_database_url)
    await migrate(engine, "0004")
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO end_device (id, lfdi, sfdi, enabled, changed_time, is_aggregator, "
                                "self_signed, revoked, created_by) VALUES (1, :l, 1, true, 0, false, false, false, "
                                "'admin')"), {"l": "A" * 40})  # fmt: skip
        await conn.execute(text("INSERT INTO mirror_usage_point (id, device_id, mrid, role_flags, "
                                "service_category_kind, status, device_lfdi, created_time, updated_time) VALUES "
                                "(1, 1, 'AA', '01', 0, 1, :l, 0, 0)"), {"l": "A" * 40})  # fmt: skip
        await conn.execute(text("INSERT INTO meter_reading (id, usage_point_id, mrid, reading_type, updated_time) "
                                "VALUES (1, 1, 'BB', :rt, 0)"), {"rt": b"<ReadingType/>"})  # fmt: skip
        await conn.execute(text("INSERT INTO reading_set (id, meter_reading_id, mrid, start, duration, updated_time) "
                                "VALUES (1, 1, 'CC', 0, 900, 0)"))  # fmt: skip
        await conn.execute(text("INSERT INTO reading (id, meter_reading_id, reading_set_id, value, time, "
                                "received_time) VALUES (1, 1, 1, 42, 0, 0)"))  # fmt: skip
    await migrate(engine)
    async with engine.connect() as conn:
        source = (await conn.execute(text("SELECT source FROM mirror_usage_point"))).scalar_one()
        value = (await conn.execute(text("SELECT value FROM reading"))).scalar_one()
        sets = (await conn.execute(text("SELECT count(*) FROM reading_set"))).scalar_one()
    await engine.dispose()
    assert (source, value, sets) == ("mirror", 42, 1)
