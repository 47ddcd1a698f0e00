"""Response function set (IEEE 2030.5-2018 clause 8.8) over mutual TLS, on SQLite and PostgreSQL: devices
answer real DERControls at the control's replyTo; the utility reads who answered what and who stayed
silent; every refusal names the element and stores nothing."""

from __future__ import annotations

import time
from typing import Any

from helpers import register
from sep_client import AdminClient, SepClient
from test_openapi import DocumentedAdmin

from gridhan.schemas.sep2 import DERControl, DeviceCapability, FunctionSetAssignments
from gridhan.schemas.sep2.response import (
    DERControlResponse,
    DrResponse,
    Response,
    ResponseList,
    ResponseSet,
    ResponseSetList,
)
from gridhan.schemas.xmlcodec import encode
from gridhan.server.sep2.response import DER_REPLY_TO, RESPONSE_SETS

NS = 'xmlns="urn:ieee:std:2030.5:ns"'


async def der_control(api: DocumentedAdmin, group_id: int) -> dict[str, Any]:
    """A DERControl (a 50 % power limit for the next hour) for a group, asking for responses."""
    status, body = await api.post(
        "/der-controls",
        {
            "group_id": group_id,
            "start": int(time.time()),
            "duration": 3600,
            "response_required": "03",
            "base": {"opModMaxLimW": 5000},
        },
    )
    assert status == 201, body
    return body


async def group_of(api: DocumentedAdmin, name: str, device_ids: list[int]) -> int:
    status, group = await api.post("/groups", {"name": name})
    assert status == 201, group
    status, body = await api.put(f"/groups/{group['id']}/members", {"device_ids": device_ids})
    assert status == 200, body
    return group["id"]


def answer(client: SepClient, subject: str, status: int, created: int, cls: type[Response] = DERControlResponse):
    return cls(endDeviceLFDI=client.lfdi, subject=subject, status=status, createdDateTime=created)


async def test_devices_answer_a_der_control_and_the_utility_reads_the_tally(server, admin: AdminClient, device):
    api = DocumentedAdmin(admin)
    one, two, three = device("dev1"), device("dev2"), device("dev3")
    ids = [await register(admin, c) for c in (one, two, three)]
    group = await group_of(api, "feeder-1", ids)
    control = await der_control(api, group)

    # discovery: DeviceCapability and the FunctionSetAssignments link the ResponseSetList
    dcap = (await one.get("/dcap")).parse(DeviceCapability)
    assert (dcap.ResponseSetListLink.href, dcap.ResponseSetListLink.all) == ("/rsps", len(RESPONSE_SETS))
    fsa = (await one.get(f"/edev/{ids[0]}/fsa/{group}")).parse(FunctionSetAssignments)
    assert fsa.ResponseSetListLink.href == "/rsps"
    sets = (await one.get("/rsps?l=10")).parse(ResponseSetList)
    assert (sets.all, sets.results) == (len(RESPONSE_SETS), len(RESPONSE_SETS))
    der_set = next(s for s in sets.ResponseSet if s.ResponseListLink.href == DER_REPLY_TO)
    assert der_set.ResponseListLink.all == 0
    # Table 26: ResponseSets ordered by mRID, descending
    mrids = [s.mRID for s in sets.ResponseSet]
    assert mrids == sorted(mrids, reverse=True)

    # the control names where its responses go
    derc = (await one.get(control["href"])).parse(DERControl)
    assert derc.replyTo == DER_REPLY_TO and derc.mRID == control["mrid"]
    subject = control["mrid"]

    first = await one.post(derc.replyTo, answer(one, subject, 1, 1_700_000_000))
    assert first.status == 201, first.text
    assert first.headers["Location"].startswith(f"{DER_REPLY_TO}/")
    # a plain Response is accepted too, and a repeated status is kept (the history matters)
    for created in (1_700_000_100, 1_700_000_200):
        reply = await one.post(derc.replyTo, answer(one, subject, 2, created, Response))
        assert reply.status == 201, reply.text
    assert (await two.post(derc.replyTo, answer(two, subject, 253, 1_700_000_050))).status == 201

    # the Response reads back as the type it was posted as, with its href
    got = (await one.get(first.headers["Location"])).parse(DERControlResponse)
    assert (got.href, got.subject, got.status, got.createdDateTime) == (
        first.headers["Location"],
        subject,
        1,
        1_700_000_000,
    )
    # the list: createdDateTime descending; a device sees only its own; derived types by xsi:type
    listing = (await one.get(f"{DER_REPLY_TO}?l=10")).parse(ResponseList)
    assert (listing.all, listing.results) == (3, 3)
    assert [r.createdDateTime for r in listing.Response] == [1_700_000_200, 1_700_000_100, 1_700_000_000]
    assert [type(r) for r in listing.Response] == [Response, Response, DERControlResponse]
    page = (await one.get(f"{DER_REPLY_TO}?s=1&l=1")).parse(ResponseList)
    assert (page.all, page.results, page.Response[0].createdDateTime) == (3, 1, 1_700_000_100)
    after = (await one.get(f"{DER_REPLY_TO}?a=1700000100&l=10")).parse(ResponseList)
    assert [r.createdDateTime for r in after.Response] == [1_700_000_200, 1_700_000_100]
    response_set = (await one.get("/rsps/1")).parse(ResponseSet)
    assert response_set.ResponseListLink.all == 3
    others = (await two.get(f"{DER_REPLY_TO}?l=10")).parse(ResponseList)
    assert [r.status for r in others.Response] == [253]
    assert (await three.get(first.headers["Location"])).status == 404

    # the utility: devices by latest status, each device's history, and who stayed silent
    status, body = await api.get(f"/responses?subject={subject.lower()}")
    assert status == 200, body
    assert body["subject"] == subject and body["event"]["function_set"] == "DER"
    assert body["event"]["targeted"] == 3
    assert body["tally"] == {"2": 1, "253": 1}
    by_id = {d["device_id"]: d for d in body["devices"]}
    assert by_id[ids[0]]["statuses"] == [1, 2, 2] and by_id[ids[0]]["latest_status"] == 2
    assert by_id[ids[0]]["lfdi"] == one.lfdi
    assert [t["created_date_time"] for t in by_id[ids[0]]["times"]] == [1_700_000_000, 1_700_000_100, 1_700_000_200]
    assert body["never_responded"] == [ids[2]]
    status, mine = await api.get(f"/devices/{ids[0]}/responses?limit=2")
    assert status == 200 and mine["total"] == 3 and len(mine["items"]) == 2
    assert mine["items"][0]["created_date_time"] == 1_700_000_200 and mine["items"][0]["status_text"]
    status, filtered = await api.get(f"/devices/{ids[1]}/responses?subject={subject}")
    assert status == 200 and [r["status"] for r in filtered["items"]] == [253]


async def test_an_aggregator_answers_for_the_devices_it_manages_only(server, admin: AdminClient, device):
    api = DocumentedAdmin(admin)
    agg, managed, other = device("agg1"), device("dev1"), device("dev2")
    agg_id = await register(admin, agg, is_aggregator=True)
    managed_id = await register(admin, managed, aggregator_id=agg_id)
    other_id = await register(admin, other)
    group = await group_of(api, "feeder-2", [managed_id, other_id])
    subject = (await der_control(api, group))["mrid"]

    reply = await agg.post(DER_REPLY_TO, answer(managed, subject, 1, 1_700_000_000))
    assert reply.status == 201, reply.text
    location = reply.headers["Location"]
    refused = await agg.post(DER_REPLY_TO, answer(other, subject, 1, 1_700_000_000))
    assert refused.status == 403 and "DERControlResponse/endDeviceLFDI" in refused.text
    assert f"{other.lfdi} is not the LFDI of this client or of a device it manages" in refused.text
    # the aggregator's own EndDevice is not in the group: its own Response about the event is refused
    own = await agg.post(DER_REPLY_TO, answer(agg, subject, 1, 1_700_000_000))
    assert own.status == 400 and "DERControlResponse/subject" in own.text
    assert (await other.post(DER_REPLY_TO, answer(other, subject, 2, 1_700_000_010))).status == 201

    agg_view = (await agg.get(f"{DER_REPLY_TO}?l=10")).parse(ResponseList)
    assert [r.endDeviceLFDI for r in agg_view.Response] == [managed.lfdi]
    assert (await agg.get(location)).parse(DERControlResponse).endDeviceLFDI == managed.lfdi
    # the managed device sees the Response its aggregator sent for it; the other device does not
    assert (await managed.get(location)).status == 200
    hidden, missing = await other.get(location), await other.get(f"{DER_REPLY_TO}/999999")
    assert (hidden.status, hidden.body) == (missing.status, missing.body) == (404, missing.body)
    status, body = await api.get(f"/responses?subject={subject}")
    assert status == 200 and body["tally"] == {"1": 1, "2": 1} and body["never_responded"] == []


async def test_bad_responses_get_a_4xx_naming_the_element_and_store_nothing(server, admin: AdminClient, device):
    api = DocumentedAdmin(admin)
    one, two, stranger = device("dev1"), device("dev2"), device("unreg1")
    id1, id2 = await register(admin, one), await register(admin, two)
    mine = (await der_control(api, await group_of(api, "only-dev1", [id1])))["mrid"]
    theirs = (await der_control(api, await group_of(api, "only-dev2", [id2])))["mrid"]

    def xml(
        lfdi: str = one.lfdi, subject: str = mine, status: str = "<status>1</status>", root: str = "DERControlResponse"
    ):
        return (
            f"<{root} {NS}><createdDateTime>1700000000</createdDateTime><endDeviceLFDI>{lfdi}</endDeviceLFDI>"
            f"{status}<subject>{subject}</subject></{root}>"
        ).encode()

    unknown = "0123456789ABCDEF0123456789ABCDEF"
    cases: list[tuple[bytes, int, str]] = [
        (xml(lfdi=two.lfdi), 403, f"DERControlResponse/endDeviceLFDI: {two.lfdi} is not the LFDI of this client"),
        (xml(lfdi="AB" * 20), 403, "DERControlResponse/endDeviceLFDI"),
        (xml(subject=unknown), 400, f"DERControlResponse/subject: no event with mRID {unknown} is addressed"),
        (xml(subject=theirs), 400, f"DERControlResponse/subject: no event with mRID {theirs} is addressed"),
        (xml(status="<status>0</status>"), 400, "DERControlResponse/status: 0 is not a status Table 27 defines"),
        (xml(status="<status>15</status>"), 400, "DERControlResponse/status: 15 is not a status Table 27"),
        (xml(status="<status>255</status>"), 400, "DERControlResponse/status: 255 is not a status Table 27"),
        (xml(status="<status>300</status>"), 400, "DERControlResponse/status: 300 is out of range for UInt8"),
        (xml(status=""), 400, "DERControlResponse/status: required by this server"),
        (xml(subject="00" * 17), 400, "DERControlResponse/subject: 17 octets is longer than mRIDType allows"),
        (xml(lfdi="XYZ"), 400, "DERControlResponse/endDeviceLFDI: 'XYZ' is not hexBinary"),
        (xml(root="DrResponse"), 400, "root element is 'DrResponse'; expected 'Response' or 'DERControlResponse'"),
        (xml(root="EndDevice"), 400, "root element is 'EndDevice'"),
        (xml()[:-10], 400, "malformed XML"),
        (xml().replace(b"<subject>", b"<colour>red</colour><subject>"), 400, "DERControlResponse/colour"),
    ]
    for body, status, message in cases:
        reply = await one.post(DER_REPLY_TO, body)
        assert (reply.status, message in reply.text) == (status, True), (body, reply.status, reply.text)
    reply = await one.post(DER_REPLY_TO, xml(), content_type="application/xml")
    assert reply.status == 415
    assert (await one.post("/rsps/9/rsp", xml())).status == 404
    assert (await one.request("PUT", DER_REPLY_TO, xml())).status == 405
    reply = await stranger.post(DER_REPLY_TO, encode(answer(stranger, mine, 1, 1)))
    assert reply.status == 403 and "not registered" in reply.text
    assert (await stranger.get("/rsps")).status == 403
    assert (await stranger.get("/dcap")).parse(DeviceCapability).ResponseSetListLink is None
    # a DrResponse is a Response, but not one the DER set takes
    wrong = encode(DrResponse(endDeviceLFDI=one.lfdi, subject=mine, status=1))
    assert (await one.post(DER_REPLY_TO, wrong)).status == 400

    # nothing was stored
    for client in (one, two):
        listing = (await client.get(f"{DER_REPLY_TO}?l=10")).parse(ResponseList)
        assert listing.all == 0
    for device_id in (id1, id2):
        status, body = await api.get(f"/devices/{device_id}/responses")
        assert status == 200 and body["total"] == 0
    status, body = await api.get(f"/responses?subject={mine}")
    assert status == 200 and body["tally"] == {} and body["never_responded"] == [id1]

    # the admin API's own refusals
    assert (await api.get("/responses"))[0] == 400
    status, body = await api.get("/responses?subject=XYZ")
    assert status == 400 and "subject" in body["error"]
    assert (await api.get(f"/responses?subject={unknown}"))[0] == 404
    assert (await api.get("/devices/999999/responses"))[0] == 404
    assert (await api.get(f"/devices/{id1}/responses?subject=1"))[0] == 400
