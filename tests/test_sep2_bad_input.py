"""Bad input gets a clear 4xx naming the problem, and nothing is stored (IEEE 2030.5-2018 clause 5 on
HTTP; hardened XML parsing)."""

from __future__ import annotations

import pytest
from helpers import register

from gridhan.schemas.sep2 import LogEvent, LogEventList

NS = 'xmlns="urn:ieee:std:2030.5:ns"'
GOOD = (
    f"<LogEvent {NS}><createdDateTime>1700000000</createdDateTime><functionSet>0</functionSet>"
    "<logEventCode>1</logEventCode><logEventID>7</logEventID><logEventPEN>40732</logEventPEN>"
    "<profileID>0</profileID></LogEvent>"
)

BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    f"<LogEvent {NS}><createdDateTime>1</createdDateTime><details>&lol3;</details><functionSet>0</functionSet>"
    "<logEventCode>1</logEventCode><logEventID>7</logEventID><logEventPEN>1</logEventPEN>"
    "<profileID>0</profileID></LogEvent>"
)
EXTERNAL_ENTITY = (
    '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    f"<LogEvent {NS}><createdDateTime>1</createdDateTime><details>&xxe;</details><functionSet>0</functionSet>"
    "<logEventCode>1</logEventCode><logEventID>7</logEventID><logEventPEN>1</logEventPEN>"
    "<profileID>0</profileID></LogEvent>"
)

CASES = [
    pytest.param(b"<LogEvent " + NS.encode() + b"><createdDateTime>1", 400, "malformed XML", id="malformed"),
    pytest.param(
        GOOD.replace("urn:ieee:std:2030.5:ns", "http://ieee.org/2030.5").encode(),
        400,
        "namespace 'http://ieee.org/2030.5'",
        id="wrong-namespace",
    ),
    pytest.param(GOOD.replace("LogEvent", "EndDevice").encode(), 400, "root element is 'EndDevice'", id="wrong-root"),
    pytest.param(
        GOOD.replace("<profileID>", "<colour>red</colour><profileID>").encode(),
        400,
        "LogEvent/colour: unexpected element",
        id="unknown-element",
    ),
    pytest.param(
        GOOD.replace("<functionSet>0", "<functionSet>300").encode(),
        400,
        "LogEvent/functionSet: 300 is out of range for UInt8",
        id="out-of-range",
    ),
    pytest.param(
        GOOD.replace("<logEventID>7</logEventID>", "").encode(),
        400,
        "required element 'logEventID' is missing",
        id="missing-element",
    ),
    pytest.param(
        GOOD.replace(
            "<createdDateTime>1700000000</createdDateTime><functionSet>0</functionSet>",
            "<functionSet>0</functionSet><createdDateTime>1700000000</createdDateTime>",
        ).encode(),
        400,
        "out of schema order",
        id="out-of-order",
    ),
    pytest.param(BILLION_LAUGHS.encode(), 400, "DOCTYPE and ENTITY declarations are not allowed", id="xml-bomb"),
    pytest.param(
        EXTERNAL_ENTITY.encode(), 400, "DOCTYPE and ENTITY declarations are not allowed", id="external-entity"
    ),
]


@pytest.mark.parametrize(("body", "status", "message"), CASES)
async def test_bad_log_event_is_refused_and_nothing_stored(server, admin, device, body, status, message):
    dev = device("dev1")
    device_id = await register(admin, dev)
    reply = await dev.post(f"/edev/{device_id}/lel", body)
    assert reply.status == status, reply.text
    assert message in reply.text
    listing = (await dev.get(f"/edev/{device_id}/lel")).parse(LogEventList)
    assert listing.all == 0


async def test_good_log_event_is_stored(server, admin, device):
    dev = device("dev1")
    device_id = await register(admin, dev)
    reply = await dev.post(f"/edev/{device_id}/lel", GOOD.encode())
    assert reply.status == 201, reply.text
    assert reply.headers["Location"].startswith(f"/edev/{device_id}/lel/")
    event = (await dev.get(reply.headers["Location"])).parse(LogEvent)
    assert (event.logEventID, event.logEventPEN, event.createdDateTime) == (7, 40732, 1700000000)


async def test_wrong_media_type_and_oversized_body(make_server, pki, optional_sep_schemas):
    from sep_client import AdminClient, SepClient

    server = await make_server(max_body_bytes=2048)
    dev = SepClient(server.sep2_url, pki, "dev1", optional_sep_schemas)
    admin = AdminClient(server.admin_url, "test-operator-token", pki.trust_anchor_path)
    try:
        device_id = await register(admin, dev)
        reply = await dev.post(f"/edev/{device_id}/lel", GOOD.encode(), content_type="application/json")
        assert reply.status == 415 and "application/sep+xml" in reply.text
        padded = GOOD.replace("<functionSet>", "<!--" + "x" * 4096 + "--><functionSet>").encode()
        reply = await dev.post(f"/edev/{device_id}/lel", padded)
        assert reply.status == 413, reply.text
        listing = (await dev.get(f"/edev/{device_id}/lel")).parse(LogEventList)
        assert listing.all == 0
    finally:
        await dev.close()
        await admin.close()


async def test_bad_paging_parameters(server, admin, device):
    dev = device("dev1")
    await register(admin, dev)
    for query in ("s=-1", "l=abc", "a=yesterday"):
        reply = await dev.get(f"/edev?{query}")
        assert reply.status == 400, query
        assert query.split("=")[0] + "=" in reply.text


async def test_log_event_list_pages_by_time_with_a(server, admin, device):
    """``a`` keeps the LogEvents created at or after that time; ordering is createdDateTime descending."""
    dev = device("dev1")
    device_id = await register(admin, dev)
    for created in (100, 300, 200):
        body = GOOD.replace("1700000000", str(created)).encode()
        assert (await dev.post(f"/edev/{device_id}/lel", body)).status == 201
    everything = (await dev.get(f"/edev/{device_id}/lel?l=10")).parse(LogEventList)
    assert [e.createdDateTime for e in everything.LogEvent] == [300, 200, 100]
    recent = (await dev.get(f"/edev/{device_id}/lel?a=200&l=10")).parse(LogEventList)
    assert (recent.all, [e.createdDateTime for e in recent.LogEvent]) == (2, [300, 200])
