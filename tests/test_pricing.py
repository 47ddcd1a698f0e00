"""Pricing function set end to end (IEEE 2030.5-2018 clause 10.5): the operator publishes a tariff and a
day-ahead schedule through the admin API; a display device of the group finds it from its
FunctionSetAssignments over mutual TLS, pages through the intervals and sees the one in force as the
controlled clock moves; a critical peak supersedes the hours it covers; block prices, an export rate,
PriceResponses, a real-time 15-minute schedule, cancellation, bad input and scoping."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from helpers import register
from sep_client import AdminClient, SepClient
from test_openapi import DocumentedAdmin

from gridhan.schemas.clock import ManualClock
from gridhan.schemas.sep2 import EndDevice, FunctionSetAssignmentsList
from gridhan.schemas.sep2.metering import ReadingType
from gridhan.schemas.sep2.pricing import (
    ConsumptionTariffInterval,
    ConsumptionTariffIntervalList,
    RateComponent,
    RateComponentList,
    TariffProfile,
    TariffProfileList,
    TimeTariffInterval,
    TimeTariffIntervalList,
)
from gridhan.schemas.sep2.response import PriceResponse
from gridhan.schemas.xsd import SchemaValidator
from gridhan.server.sep2.response import PRICING_REPLY_TO

T0 = 1_800_000_000  # on the hour
DAY = T0 + 3600  # the day-ahead schedule starts at the next hour
IMPORT = {"flowDirection": 1, "kind": 12, "uom": 72, "powerOfTenMultiplier": 3, "numberOfTouTiers": 4,
          "numberOfConsumptionBlocks": 3}  # fmt: skip
EXPORT = {"flowDirection": 19, "kind": 12, "uom": 72, "powerOfTenMultiplier": 3}


@dataclass
class Env:
    clock: ManualClock
    admin: DocumentedAdmin
    device: Callable[..., SepClient]


@pytest.fixture
async def env(make_server, pki, optional_sep_schemas) -> AsyncIterator[Env]:
    clock = ManualClock(T0)
    server = await make_server(clock=clock)
    admin = AdminClient(server.admin_url, "test-operator-token", pki.trust_anchor_path)
    clients: list[SepClient] = []

    def device(name: str, schemas: list[SchemaValidator] | None = None) -> SepClient:
        client = SepClient(server.sep2_url, pki, name, optional_sep_schemas if schemas is None else schemas)
        clients.append(client)
        return client

    yield Env(clock, DocumentedAdmin(admin), device)
    for client in clients:
        await client.close()
    await admin.close()


async def group_of(env: Env, name: str, *clients: SepClient) -> tuple[int, list[int]]:
    ids = [await register(env.admin.client, c) for c in clients]
    status, group = await env.admin.post("/groups", {"name": name})
    assert status == 201, group
    status, _ = await env.admin.put(f"/groups/{group['id']}/members", {"device_ids": ids})
    assert status == 200
    return group["id"], ids


async def tariff(env: Env, group_id: int) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A US-dollar TOU tariff priced in 10^-5 $/kWh with an import and an export rate component."""
    status, profile = await env.admin.post(
        "/tariff-profiles",
        {"group_id": group_id, "currency": 840, "price_power_of_ten": -5, "primacy": 1, "rate_code": "TOU-D",
         "description": "residential TOU"},
    )  # fmt: skip
    assert status == 201, profile
    status, imp = await env.admin.post(
        "/rate-components",
        {"profile_id": profile["id"], "description": "import", "role_flags": "02", "reading_type": IMPORT,
         "flow_rate_start_limit": {"value": 0, "multiplier": 3, "unit": 38},
         "flow_rate_end_limit": {"value": 20, "multiplier": 3, "unit": 38}},
    )  # fmt: skip
    assert status == 201, imp
    status, exp = await env.admin.post(
        "/rate-components", {"profile_id": profile["id"], "description": "export", "reading_type": EXPORT}
    )
    assert status == 201, exp
    assert (imp["direction"], exp["direction"]) == ("import", "export")
    return profile, imp, exp


def hour_price(h: int) -> int:
    return 10_000 + 150 * h  # $0.10000/kWh + $0.0015 per hour of the day


def day_ahead() -> list[dict[str, Any]]:
    """24 hourly entries: tier 2 from 16:00 to 21:00, tier 1 otherwise; hour 5 priced by blocks."""
    entries: list[dict[str, Any]] = [{"tier": 2 if 16 <= h < 21 else 1, "price": hour_price(h)} for h in range(24)]
    entries[5] = {"tier": 1, "blocks": [{"start_value": 0, "price": 12_000}, {"start_value": 500, "price": 15_000},
                                        {"start_value": 1000, "price": 20_000}]}  # fmt: skip
    return entries


async def discover(dev: SepClient, device_id: int) -> TariffProfile:
    """EndDevice -> FunctionSetAssignments -> TariffProfileList -> TariffProfile."""
    edev = (await dev.get(f"/edev/{device_id}")).parse(EndDevice)
    fsal = (await dev.get(edev.FunctionSetAssignmentsListLink.href + "?l=10")).parse(FunctionSetAssignmentsList)
    (fsa,) = fsal.FunctionSetAssignments
    assert fsa.TariffProfileListLink.all == 1
    profiles = (await dev.get(fsa.TariffProfileListLink.href + "?l=10")).parse(TariffProfileList)
    (profile,) = profiles.TariffProfile
    return (await dev.get(profile.href)).parse(TariffProfile)


async def rate_components(dev: SepClient, profile: TariffProfile) -> dict[int, RateComponent]:
    """The profile's rate components by the flowDirection of their ReadingType."""
    listing = (await dev.get(profile.RateComponentListLink.href + "?l=10")).parse(RateComponentList)
    assert [r.mRID for r in listing.RateComponent] == sorted((r.mRID for r in listing.RateComponent), reverse=True)
    out = {}
    for rc in listing.RateComponent:
        reading_type = (await dev.get(rc.ReadingTypeLink.href)).parse(ReadingType)
        out[reading_type.flowDirection] = rc
    return out


async def all_intervals(dev: SepClient, href: str, page: int = 10) -> list[TimeTariffInterval]:
    out: list[TimeTariffInterval] = []
    while True:
        listing = (await dev.get(f"{href}?s={len(out)}&l={page}")).parse(TimeTariffIntervalList)
        out += listing.TimeTariffInterval
        if len(out) >= listing.all or not listing.TimeTariffInterval:
            return out


async def active(dev: SepClient, rc: RateComponent) -> list[TimeTariffInterval]:
    rc = (await dev.get(rc.href)).parse(RateComponent)
    listing = (await dev.get(rc.ActiveTimeTariffIntervalListLink.href + "?l=10")).parse(TimeTariffIntervalList)
    assert listing.all == rc.ActiveTimeTariffIntervalListLink.all
    return listing.TimeTariffInterval


async def test_display_follows_a_day_ahead_schedule_and_a_critical_peak(env: Env):
    display, other, outsider = env.device("dev1"), env.device("dev2"), env.device("dev3")
    group_id, (display_id, other_id) = await group_of(env, "tou-customers", display, other)
    _, (outsider_id,) = await group_of(env, "flat-customers", outsider)
    _, imp, exp = await tariff(env, group_id)

    status, published = await env.admin.post(
        f"/rate-components/{imp['id']}/schedule",
        {"start": DAY, "intervals": day_ahead(), "response_required": "01", "description": "day-ahead"},
    )
    assert status == 201, published
    assert published["total"] == 24 and [i["start"] for i in published["items"]] == [DAY + 3600 * h for h in range(24)]
    assert all(i["status"]["name"] == "scheduled" for i in published["items"])
    status, export_interval = await env.admin.post(
        f"/rate-components/{exp['id']}/intervals", {"start": DAY, "duration": 86400, "tier": 0, "price": 4_000}
    )
    assert status == 201, export_interval

    # the display discovers the tariff and both rate components
    tp = await discover(display, display_id)
    assert (tp.currency, tp.pricePowerOfTenMultiplier, tp.primacy, tp.rateCode) == (840, -5, 1, "TOU-D")
    assert tp.RateComponentListLink.all == 2
    rcs = await rate_components(display, tp)
    imp_rc, exp_rc = rcs[1], rcs[19]
    assert imp_rc.roleFlags == "0002" and imp_rc.flowRateEndLimit.value == 20
    assert imp_rc.TimeTariffIntervalListLink.all == 24 and imp_rc.ActiveTimeTariffIntervalListLink.all == 0

    # it pages through the 24 hourly intervals, in interval.start order (Table 42)
    intervals = await all_intervals(display, imp_rc.TimeTariffIntervalListLink.href)
    assert [i.interval.start for i in intervals] == [DAY + 3600 * h for h in range(24)]
    assert {i.interval.duration for i in intervals} == {3600}
    assert [i.touTier for i in intervals[15:22]] == [1, 2, 2, 2, 2, 2, 1]
    assert all(i.EventStatus.currentStatus == 0 for i in intervals)
    assert all(i.replyTo == PRICING_REPLY_TO and i.responseRequired == "01" for i in intervals)
    first_block = (await display.get(intervals[0].ConsumptionTariffIntervalListLink.href + "?l=5")).parse(
        ConsumptionTariffIntervalList
    )
    assert [(b.startValue, b.price) for b in first_block.ConsumptionTariffInterval] == [(0, hour_price(0))]

    # the clock moves: the active interval follows
    env.clock.set(DAY + 1800)
    (now,) = await active(display, imp_rc)
    assert now.mRID == intervals[0].mRID and now.EventStatus.currentStatus == 1
    assert now.EventStatus.dateTime == DAY
    env.clock.set(DAY + 5 * 3600 + 10)
    (now,) = await active(display, imp_rc)
    assert now.mRID == intervals[5].mRID
    # block prices of that hour: startValue ascending, the first at 0
    blocks = (await display.get(now.ConsumptionTariffIntervalListLink.href + "?l=5")).parse(
        ConsumptionTariffIntervalList
    )
    assert [(b.startValue, b.price) for b in blocks.ConsumptionTariffInterval] == [
        (0, 12_000), (500, 15_000), (1000, 20_000),
    ]  # fmt: skip
    second = (await display.get(blocks.ConsumptionTariffInterval[1].href)).parse(ConsumptionTariffInterval)
    assert (second.startValue, second.price, second.consumptionBlock) == (500, 15_000, 2)
    assert (await display.get(now.ConsumptionTariffIntervalListLink.href + "/4")).status == 404

    # the utility's view: current and next price, with the display's $0.01 rounding
    status, prices = await env.admin.get(f"/groups/{group_id}/prices")
    assert status == 200, prices
    by_direction = {c["direction"]: c for c in prices["profiles"][0]["rate_components"]}
    current, upcoming = by_direction["import"]["current"], by_direction["import"]["next"]
    assert current["mrid"] == intervals[5].mRID and current["display"] == "0.12" and current["amount"] == "0.12000"
    assert [b["amount"] for b in current["blocks"]] == ["0.12000", "0.15000", "0.20000"]
    assert upcoming["at"] == DAY + 6 * 3600 and upcoming["price"]["price"] == hour_price(6)
    assert (
        by_direction["export"]["current"]["display"] == "0.04" and by_direction["export"]["next"]["at"] == DAY + 86400
    )

    # a critical peak over 17:00-19:00 (tier 4) supersedes those two TOU hours
    status, cpp = await env.admin.post(
        f"/rate-components/{imp['id']}/intervals",
        {"start": DAY + 17 * 3600, "duration": 7200, "tier": 4, "price": 75_000, "response_required": "03",
         "description": "critical peak"},
    )  # fmt: skip
    assert status == 201, cpp
    env.clock.set(DAY + 17 * 3600 + 60)
    (now,) = await active(display, imp_rc)
    assert now.mRID == cpp["mrid"] and now.touTier == 4
    listed = {i.mRID: i for i in await all_intervals(display, imp_rc.TimeTariffIntervalListLink.href)}
    assert len(listed) == 25
    assert [listed[intervals[h].mRID].EventStatus.currentStatus for h in (16, 17, 18, 19)] == [1, 4, 4, 0]
    status, superseded = await env.admin.get(f"/tariff-intervals/{published['items'][18]['id']}")
    assert superseded["status"]["name"] == "superseded" and superseded["superseded_by"] == [cpp["mrid"]]
    status, prices = await env.admin.get(f"/groups/{group_id}/prices")
    current = prices["profiles"][0]["rate_components"][0 if prices["profiles"][0]["rate_components"][0][
        "direction"] == "import" else 1]["current"]  # fmt: skip
    assert current["mrid"] == cpp["mrid"] and current["display"] == "0.75"

    # the display answers the critical peak with a PriceResponse; the utility reads the tally
    reply = await display.post(
        now.replyTo, PriceResponse(endDeviceLFDI=display.lfdi, subject=now.mRID, status=1, createdDateTime=T0)
    )
    assert reply.status == 201, reply.text
    status, tally = await env.admin.get(f"/responses?subject={cpp['mrid']}")
    assert status == 200, tally
    assert tally["event"]["function_set"] == "Pricing" and tally["tally"] == {"1": 1}
    assert tally["never_responded"] == [other_id]
    # a device outside the group cannot answer it, and sees nothing of the tariff
    reply = await outsider.post(
        PRICING_REPLY_TO, PriceResponse(endDeviceLFDI=outsider.lfdi, subject=cpp["mrid"], status=1, createdDateTime=T0)
    )
    assert reply.status == 400 and "subject" in reply.text
    for href in (tp.href, imp_rc.href, now.href, now.ConsumptionTariffIntervalListLink.href, f"{imp_rc.href}/rt"):
        assert (await outsider.get(href)).status == 404, href
    assert (await outsider.get(f"/edev/{outsider_id}/fsa/{group_id}/tp")).status == 404
    assert (await display.get(f"/edev/{outsider_id}/fsa/{group_id}/tp")).status == 404

    # the export rate: reverse flow, its own price
    (export_now,) = await active(display, exp_rc)
    assert export_now.mRID == export_interval["mrid"]
    assert (await display.get(f"{exp_rc.href}/rt")).parse(ReadingType).flowDirection == 19


async def test_real_time_prices_every_15_minutes_and_cancellation(env: Env):
    display = env.device("dev1")
    group_id, (display_id,) = await group_of(env, "real-time", display)
    _, imp, _ = await tariff(env, group_id)
    entries = [{"tier": 0, "price": 8_000 + 10 * q} for q in range(96)]
    status, published = await env.admin.post(
        f"/rate-components/{imp['id']}/schedule",
        {"start": "2027-01-15T09:00:00+00:00", "interval_length": 900, "intervals": entries},
    )
    assert status == 201, published
    assert published["total"] == 96 and published["items"][0]["start"] == DAY
    assert published["items"][-1]["start"] == DAY + 95 * 900 and published["items"][-1]["duration"] == 900
    rc = (await rate_components(display, await discover(display, display_id)))[1]
    assert rc.TimeTariffIntervalListLink.all == 96
    listing = (await display.get(f"{rc.TimeTariffIntervalListLink.href}?a={DAY + 94 * 900}&l=10")).parse(
        TimeTariffIntervalList
    )
    assert [i.interval.start for i in listing.TimeTariffInterval] == [DAY + 94 * 900, DAY + 95 * 900]

    env.clock.set(DAY + 10 * 900 + 5)
    (now,) = await active(display, rc)
    assert now.interval.start == DAY + 10 * 900
    status, prices = await env.admin.get(f"/groups/{group_id}/prices")
    imp_view = next(c for c in prices["profiles"][0]["rate_components"] if c["direction"] == "import")
    assert imp_view["current"]["price"] == 8_100 and imp_view["next"]["at"] == DAY + 11 * 900

    # cancelling the interval in force: status 2 from that moment, no price until the next one
    status, cancelled = await env.admin.post(f"/tariff-intervals/{published['items'][10]['id']}/cancel", {})
    assert status == 200 and cancelled["status"]["name"] == "cancelled"
    assert cancelled["status"]["date_time"] == DAY + 10 * 900 + 5
    assert await active(display, rc) == []
    got = (await display.get(now.href)).parse(TimeTariffInterval)
    assert got.EventStatus.currentStatus == 2 and got.replyTo is None
    status, prices = await env.admin.get(f"/groups/{group_id}/prices")
    imp_view = next(c for c in prices["profiles"][0]["rate_components"] if c["direction"] == "import")
    assert imp_view["current"] is None and imp_view["next"]["price"]["price"] == 8_110
    status, listed = await env.admin.get(f"/rate-components/{imp['id']}/intervals?offset=10&limit=2")
    assert status == 200 and listed["total"] == 96
    assert [i["status"]["name"] for i in listed["items"]] == ["cancelled", "scheduled"]


GOOD_PROFILE = {"currency": 840, "price_power_of_ten": -5, "primacy": 1}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"currency": 0}, "currency: 0 is not an ISO 4217 numeric currency code"),
        ({"currency": 1000}, "currency: 1000 is not an ISO 4217"),
        ({"price_power_of_ten": -10}, "price_power_of_ten: -10 is out of range"),
        ({"rate_code": "X" * 21}, "rate_code: 21 characters"),
        ({"service_category_kind": 7}, "service_category_kind: 7 is out of range"),
        ({"colour": "red"}, "colour: unknown field"),
        ({"group_id": 999}, "group_id: no group with id 999"),
    ],
)
async def test_bad_profiles_store_nothing(env: Env, body, message):
    group_id, _ = await group_of(env, "g", env.device("dev1"))
    status, reply = await env.admin.post("/tariff-profiles", {"group_id": group_id, **GOOD_PROFILE, **body})
    assert status == 400 and message in reply["error"], reply
    assert (await env.admin.get("/tariff-profiles"))[1]["total"] == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"reading_type": {"uom": 72}}, "ReadingType/flowDirection is required"),
        ({"reading_type": {"flowDirection": 2, "uom": 72}}, "flowDirection"),
        ({"reading_type": {"flowDirection": 1}}, "ReadingType/uom is required"),
        ({"flow_rate_end_limit": {"value": 5, "multiplier": 3, "unit": 38}}, "also needs flowRateStartLimit"),
        ({"role_flags": "xyz"}, "role_flags: must be a string of 1 to 4 hexadecimal digits"),
    ],
)
async def test_bad_rate_components_store_nothing(env: Env, body, message):
    group_id, _ = await group_of(env, "g", env.device("dev1"))
    status, profile = await env.admin.post("/tariff-profiles", {"group_id": group_id, **GOOD_PROFILE})
    assert status == 201
    status, reply = await env.admin.post("/rate-components", {"profile_id": profile["id"], "reading_type": IMPORT,
                                                              **body})  # fmt: skip
    assert status == 400 and message in reply["error"], reply
    assert (await env.admin.get("/rate-components"))[1]["total"] == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"intervals": [{"tier": 1, "price": 0.12}]}, "intervals[0].price: must be an integer"),
        ({"intervals": [{"tier": 16, "price": 1}]}, "intervals[0].tier: 16 is out of range (0..15)"),
        ({"intervals": [{"tier": 5, "price": 1}]}, "tier: 5 exceeds the rate component's ReadingType numberOfTouTiers"),
        ({"intervals": [{"tier": 1, "price": 2**31}]}, "intervals[0].price: 2147483648 is out of range"),
        ({"intervals": [{"tier": 1}]}, "intervals[0]: give exactly one of price and blocks"),
        ({"intervals": [{"tier": 1, "price": 1, "blocks": [{"start_value": 0, "price": 1}]}]}, "exactly one of"),
        ({"intervals": [{"tier": 1, "blocks": [{"start_value": 10, "price": 1}]}]}, "starts at 0, not 10"),
        (
            {"intervals": [{"tier": 1, "blocks": [{"start_value": 0, "price": 1}, {"start_value": 0, "price": 2}]}]},
            "startValue must increase",
        ),
        (
            {"intervals": [{"tier": 1, "blocks": [{"start_value": i * 10, "price": 1} for i in range(4)]}]},
            "4 blocks; at most 3",
        ),
        (
            {"intervals": [{"tier": 1, "price": 1}, {"tier": 1, "price": 2, "start": DAY + 1800}]},
            "intervals[1]: starts at 1800005400, before the previous interval ends",
        ),
        ({"intervals": []}, "intervals: must be an array of 1 to 1000"),
        ({"start": T0 - 7200}, "intervals[0]: the interval would end before it is created"),
        ({"interval_length": 30}, "interval_length: 30 is out of range"),
    ],
)
async def test_bad_schedules_store_nothing(env: Env, change, message):
    group_id, _ = await group_of(env, "g", env.device("dev1"))
    _, imp, _ = await tariff(env, group_id)
    body = {"start": DAY, "intervals": [{"tier": 1, "price": 10_000}] * 3, **change}
    status, reply = await env.admin.post(f"/rate-components/{imp['id']}/schedule", body)
    assert status == 400 and message in reply["error"], reply
    assert (await env.admin.get(f"/rate-components/{imp['id']}/intervals"))[1]["total"] == 0


async def test_unknown_ids_and_profile_changes(env: Env):
    group_id, _ = await group_of(env, "g", env.device("dev1"))
    profile, imp, _ = await tariff(env, group_id)
    for path in ("/tariff-profiles/999", "/rate-components/999", "/tariff-intervals/999", "/groups/999/prices"):
        status, reply = await env.admin.get(path)
        assert status == 404 and "999" in reply["error"], path
    one_hour = {"start": DAY, "intervals": [{"tier": 1, "price": 1}]}
    status, reply = await env.admin.post("/rate-components/999/schedule", one_hour)
    assert status == 404
    status, changed = await env.admin.patch(f"/tariff-profiles/{profile['id']}", {"rate_code": "TOU-D-2"})
    assert status == 200 and changed["rate_code"] == "TOU-D-2" and changed["version"] == 1
    status, reply = await env.admin.patch(f"/tariff-profiles/{profile['id']}", {"currency": 978})
    assert status == 400 and "currency: unknown field" in reply["error"]
    status, changed = await env.admin.patch(f"/rate-components/{imp['id']}", {"description": "import energy"})
    assert status == 200 and changed["description"] == "import energy"
    assert (await env.admin.delete(f"/tariff-profiles/{profile['id']}"))[0] == 204
    assert (await env.admin.get(f"/rate-components/{imp['id']}"))[0] == 404
    assert (await env.admin.get("/tariff-profiles"))[1]["total"] == 0
    status, reply = await env.admin.post("/tariff-intervals/424242/cancel", {})
    assert status == 404 and "no tariff interval with id 424242" in reply["error"]


async def test_device_side_paths_that_name_nothing(env: Env):
    display, unregistered = env.device("dev1"), env.device("unreg1")
    group_id, (display_id,) = await group_of(env, "g", display)
    _, imp, _ = await tariff(env, group_id)
    status, published = await env.admin.post(
        f"/rate-components/{imp['id']}/schedule", {"start": DAY, "intervals": [{"tier": 1, "price": 10_000}]}
    )
    assert status == 201
    href = published["items"][0]["href"]
    assert (await display.get(href)).parse(TimeTariffInterval).mRID == published["items"][0]["mrid"]
    rc_href = href.rsplit("/tti", 1)[0]
    tp_href = rc_href.rsplit("/rc", 1)[0]
    for bad in (
        "/tp/x", "/tp/99999", f"{tp_href}/rc/x", f"{tp_href}/rc/99999", f"{rc_href}/tti/x", f"{rc_href}/tti/99999",
        f"{href}/cti/0", f"{href}/cti/2", f"{href}/cti/x", f"/edev/{display_id}/fsa/99999/tp", "/tp/1" + "0" * 20,
    ):  # fmt: skip
        assert (await display.get(bad)).status == 404, bad
    # a rate component reached through another profile's path does not exist there
    status, other = await env.admin.post("/tariff-profiles", {"group_id": group_id, **GOOD_PROFILE})
    assert status == 201
    assert (await display.get(f"/tp/{other['id']}/rc/{imp['id']}")).status == 404
    assert (await display.request("HEAD", href)).status == 200
    assert (await unregistered.get(tp_href)).status == 403
    # after its end an interval stays listed, Active (1): the 2018 EventStatus has no 'completed'
    env.clock.set(DAY + 7200)
    listing = (await display.get(f"{rc_href}/tti?l=5")).parse(TimeTariffIntervalList)
    assert listing.all == 1 and listing.TimeTariffInterval[0].EventStatus.currentStatus == 1
    assert (await display.get(f"{rc_href}/acttti?l=5")).parse(TimeTariffIntervalList).all == 0
