"""Registration, scoping and access (IEEE 2030.5-2018 clauses 6.11, 8.5.3): a device sees only itself, an
aggregator its own EndDevice first and then those it manages, an unregistered certificate only
DeviceCapability, Time, an empty EndDeviceList and (when switched on) in-band registration. Another
device's resource answers exactly like one that does not exist."""

from __future__ import annotations

import pytest
from helpers import register
from sep_client import AdminClient, SepClient

from gridhan.schemas.identifiers import sfdi_from_lfdi
from gridhan.schemas.sep2 import (
    DeviceCapability,
    DeviceInformation,
    EndDevice,
    EndDeviceList,
    Time,
)


def device_information(lfdi: str) -> DeviceInformation:
    return DeviceInformation(
        lFDI=lfdi,
        mfDate=1_600_000_000,
        mfHwVer="hw1",
        mfID=40732,
        mfModel="GH-1",
        mfSerNum="SN1",
        primaryPower=1,
        secondaryPower=0,
        swActTime=1_650_000_000,
        swVer="1.0.0",
    )


async def test_device_cannot_see_another_device(server, admin, device):
    one, two = device("dev1"), device("dev2")
    id1 = await register(admin, one)
    id2 = await register(admin, two)
    listing = (await one.get("/edev?l=10")).parse(EndDeviceList)
    assert [e.href for e in listing.EndDevice] == [f"/edev/{id1}"] and listing.all == 1
    missing = id2 + 1000
    for suffix in ("", "/rg", "/di", "/ds", "/ps", "/fsa", "/lel", "/lel/1", "/fsa/1"):
        other = await one.get(f"/edev/{id2}{suffix}")
        absent = await one.get(f"/edev/{missing}{suffix}")
        assert (other.status, other.body) == (absent.status, absent.body) == (404, absent.body), suffix
    put = await one.put(f"/edev/{id2}/di", device_information(two.lfdi))
    assert put.status == 404
    assert (await two.get(f"/edev/{id2}/di")).status == 404  # nothing was stored for dev2
    assert (await one.delete(f"/edev/{id2}")).status == 404


async def test_device_documents_round_trip(server, admin, device):
    dev = device("dev1")
    device_id = await register(admin, dev)
    info = device_information(dev.lfdi)
    assert (await dev.put(f"/edev/{device_id}/di", info)).status == 204
    got = (await dev.get(f"/edev/{device_id}/di")).parse(DeviceInformation)
    assert got.href == f"/edev/{device_id}/di"
    got.href = None
    assert got == info
    wrong = device_information("00" * 20)
    reply = await dev.put(f"/edev/{device_id}/di", wrong)
    assert reply.status == 400 and "DeviceInformation/lFDI" in reply.text


async def test_unregistered_certificate_reaches_only_dcap_time_and_empty_list(server, admin, device):
    stranger = device("unreg1")
    known = device("dev1")
    known_id = await register(admin, known)
    dcap = (await stranger.get("/dcap")).parse(DeviceCapability)
    assert dcap.EndDeviceListLink.all == 0
    (await stranger.get("/tm")).parse(Time)
    listing = (await stranger.get("/edev")).parse(EndDeviceList)
    assert (listing.all, listing.results) == (0, 0)
    reply = await stranger.get(f"/edev/{known_id}")
    assert reply.status == 403 and "not registered" in reply.text
    # in-band registration is off by default
    body = EndDevice(sFDI=stranger.sfdi, changedTime=0)
    reply = await stranger.post("/edev", body)
    assert reply.status == 403 and "in-band registration is switched off" in reply.text


async def test_in_band_registration(make_server, pki, optional_sep_schemas):
    server = await make_server(inband_registration=True)
    dev = SepClient(server.sep2_url, pki, "unreg1", optional_sep_schemas)
    try:
        # the SFDI must be the certificate's
        reply = await dev.post("/edev", EndDevice(sFDI=sfdi_from_lfdi("AB" * 20), changedTime=0))
        assert reply.status == 403 and "does not match the client certificate" in reply.text
        reply = await dev.post("/edev", EndDevice(sFDI=dev.sfdi, lFDI=dev.lfdi, changedTime=0, deviceCategory="04"))
        assert reply.status == 201, reply.text
        location = reply.headers["Location"]
        edev = (await dev.get(location)).parse(EndDevice)
        assert (edev.lFDI, edev.sFDI, edev.deviceCategory) == (dev.lfdi, dev.sfdi, "04")
        # posting the same EndDevice again creates nothing and points at the existing one
        again = await dev.post("/edev", EndDevice(sFDI=dev.sfdi, changedTime=0))
        assert (again.status, again.headers["Location"]) == (201, location)
        listing = (await dev.get("/edev?l=10")).parse(EndDeviceList)
        assert listing.all == 1
    finally:
        await dev.close()


async def test_aggregator_registers_and_sees_its_devices(server, admin, device, pki):
    agg = device("agg1")
    agg_id = await register(admin, agg, is_aggregator=True)
    managed = [device(n) for n in ("dev1", "dev2", "dev3")]
    hrefs = []
    for client in managed:
        reply = await agg.post("/edev", EndDevice(sFDI=client.sfdi, lFDI=client.lfdi, changedTime=0))
        assert reply.status == 201, reply.text
        hrefs.append(reply.headers["Location"])
        again = await agg.post("/edev", EndDevice(sFDI=client.sfdi, lFDI=client.lfdi, changedTime=0))
        assert again.headers["Location"] == hrefs[-1]
    listing = (await agg.get("/edev?l=10")).parse(EndDeviceList)
    assert listing.all == 4
    assert listing.EndDevice[0].href == f"/edev/{agg_id}"  # its own EndDevice first
    assert sorted(e.href for e in listing.EndDevice[1:]) == sorted(hrefs)
    # the managed device may act for itself too, and sees only itself
    own = (await managed[0].get("/edev?l=10")).parse(EndDeviceList)
    assert [e.href for e in own.EndDevice] == [hrefs[0]]
    # an SFDI that is not the LFDI's is refused, naming the element
    bad = await agg.post("/edev", EndDevice(sFDI=managed[0].sfdi + 1, lFDI="CD" * 20, changedTime=0))
    assert bad.status == 400 and "EndDevice/sFDI" in bad.text
    # the aggregator may remove a device it manages
    assert (await agg.delete(hrefs[2])).status == 204
    assert (await agg.get(hrefs[2])).status == 404


async def test_paging(make_server, pki, optional_sep_schemas):
    server = await make_server(max_page_size=3)
    admin = AdminClient(server.admin_url, "test-operator-token", pki.trust_anchor_path)
    agg = SepClient(server.sep2_url, pki, "agg1", optional_sep_schemas)
    try:
        agg_id = await register(admin, agg, is_aggregator=True)
        for i in range(5):
            lfdi = f"{i + 1:02X}" * 20
            reply = await agg.post("/edev", EndDevice(sFDI=sfdi_from_lfdi(lfdi), lFDI=lfdi, changedTime=0))
            assert reply.status == 201
        first = (await agg.get("/edev")).parse(EndDeviceList)
        assert (first.all, first.results) == (6, 1)  # no l: one entry (clause 4.6.1)
        capped = (await agg.get("/edev?l=1000")).parse(EndDeviceList)
        assert (capped.all, capped.results) == (6, 3)
        pages = []
        for start in range(0, 6, 2):
            page = (await agg.get(f"/edev?s={start}&l=2")).parse(EndDeviceList)
            assert (page.all, page.results) == (6, 2)
            pages += page.EndDevice
        assert len({e.href for e in pages}) == 6
        keys = [(-e.changedTime, e.sFDI, int(e.href.rsplit("/", 1)[1])) for e in pages[1:]]
        assert keys == sorted(keys)  # changedTime descending, then SFDI, then href (Table 21)
        past = (await agg.get("/edev?s=6&l=2")).parse(EndDeviceList)
        assert (past.all, past.results) == (6, 0)
        assert agg_id
    finally:
        await agg.close()
        await admin.close()


@pytest.mark.parametrize("path", ["/edev/1", "/edev/1/di", "/edev/1/fsa", "/edev/1/lel"])
async def test_no_certificate_no_access(server, path):
    import aiohttp
    from sep_client import operator_ssl

    ctx = operator_ssl(server.settings.trust_anchors[0])
    ctx.set_ciphers("ECDHE-ECDSA-AES128-CCM8")
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientError):
            async with session.get(server.sep2_url + path, ssl=ctx) as resp:
                await resp.read()
