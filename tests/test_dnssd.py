"""DNS-SD discovery (IEEE 2030.5-2018 clause 7): a gridhan server advertises itself and its function sets
over multicast DNS on loopback, the client finds it, checks the TXT record and reads DeviceCapability over
mutual TLS at the URL it found; goodbyes withdraw the server; name conflicts are resolved; TXT records the
standard tells clients to ignore are skipped with their reason.

Multicast works on the loopback interface (Linux delivers a group's datagrams sent with
IP_MULTICAST_IF=127.0.0.1 to the sockets that joined the group there, though ``lo`` carries no MULTICAST
flag), so nothing leaves the machine. Other processes on the machine may advertise too: every test looks
only at names it made.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sep_client import AdminClient, SepClient
from zeroconf import IPVersion
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from gridhan.certs.identity import lfdi_of, load_certificate
from gridhan.certs.tls import client_context
from gridhan.cli.main import main
from gridhan.client.discovery import DiscoveredServer, discover, discover_report, server_from_records
from gridhan.schemas.dnssd import (
    SERVICE_TYPE,
    SUBTYPES,
    decode_txt,
    encode_txt,
    https_port,
    subtype_type,
    txt_problem,
)
from gridhan.schemas.identifiers import format_sfdi, sfdi_from_lfdi
from gridhan.schemas.sep2 import DeviceCapability
from gridhan.schemas.xmlcodec import decode
from gridhan.server.dnssd import FUNCTION_SET_PATHS, MAX_SERVER_NAME_BYTES, renamed
from gridhan.server.settings import Settings, SettingsError

LOOPBACK = ["127.0.0.1"]
#: Seconds each discovery listens. A responder multicasts a record at most once a second (RFC 6762 clause
#: 6), so a query right after another one's answer (or the server's announcements) is answered only when it
#: is repeated, one second later.
WINDOW = 1.5

#: The database does not matter here: the servers of these tests run on SQLite only.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def unique(prefix: str = "gh") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def only(servers: list[DiscoveredServer], *names: str) -> dict[str, DiscoveredServer]:
    """The servers found whose instance label is one of ``names`` (others on the machine are ignored)."""
    return {s.name: s for s in servers if s.name in names}


def advertisement(name: str, pairs: list[tuple[str, str | None]]) -> AsyncServiceInfo:
    """An SRV/TXT pair of another responder, at 127.0.0.1, with these TXT pairs."""
    return AsyncServiceInfo(
        SERVICE_TYPE,
        f"{name}.{SERVICE_TYPE}",
        port=8443,
        properties=encode_txt(pairs),
        server=f"{name}.local.",
        parsed_addresses=["127.0.0.1"],
    )


@pytest.fixture
async def listener_zc() -> AsyncIterator[AsyncZeroconf]:
    """A client-side Zeroconf kept across several queries, so its cache outlives one discovery."""
    zc = AsyncZeroconf(interfaces=LOOPBACK, ip_version=IPVersion.V4Only)
    yield zc
    await zc.async_close()


# --------------------------------------------------------------------------- a server found on loopback


@sqlite_only
async def test_a_server_is_found_and_its_dcap_url_answers_over_mutual_tls(make_server, pki):
    name = unique()
    server = await make_server(dnssd=True, dnssd_name=name)
    servers = await discover(timeout=WINDOW, interfaces=LOOPBACK)
    found = only(servers, name)
    assert list(found) == [name]
    entry = found[name]
    port = server.sep2_port
    # clause 7.4: txtvers first and 1, then dcap, https (the TLS port) and level (-S1: the 2018 schema)
    assert entry.txt == (("txtvers", "1"), ("dcap", "/dcap"), ("https", str(port)), ("level", "-S1"))
    assert (entry.host, entry.port, entry.dcap_path, entry.level) == ("127.0.0.1", port, "/dcap", "-S1")
    assert entry.dcap_url == f"https://127.0.0.1:{port}/dcap"
    # clause 7.5: the service name points to the server itself only, and its answers carry no path key
    assert [s.name for s in servers if s.name.endswith(name)] == [name]
    assert all(s.path is None for s in servers)

    device = pki.device_cert_path("dev1"), pki.device_key_path("dev1")
    ssl = client_context(*device, trust_anchors=[pki.trust_anchor_path])
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ssl)) as session:
        async with session.get(entry.dcap_url) as reply:
            assert reply.status == 200
            dcap = decode(await reply.read(), DeviceCapability)
    assert dcap.href == "/dcap"
    assert dcap.EndDeviceListLink is not None and dcap.TimeLink is not None


@sqlite_only
async def test_every_function_set_answers_its_subtype_query_with_its_path(make_server, listener_zc):
    name = unique()
    server = await make_server(dnssd=True, dnssd_name=name)
    answers = dict(
        zip(
            SUBTYPES,
            await asyncio.gather(*(discover(subtype=s, timeout=WINDOW, zeroconf=listener_zc) for s in SUBTYPES)),
            strict=True,
        )
    )
    port = str(server.sep2_port)
    derp = only(answers["derp"], f"derp-{name}")
    assert list(derp) == [f"derp-{name}"]
    entry = derp[f"derp-{name}"]
    assert entry.txt == (("txtvers", "1"), ("dcap", "/dcap"), ("path", "/edev"), ("https", port), ("level", "-S1"))
    assert entry.dcap_url == f"https://127.0.0.1:{port}/dcap" and entry.path_url == f"https://127.0.0.1:{port}/edev"
    for subtype, servers in answers.items():
        mine = only(servers, f"{subtype}-{name}")
        assert [s.path for s in mine.values()] == [FUNCTION_SET_PATHS[subtype]], subtype
        assert all(s.name.startswith(f"{subtype}-") for s in servers), subtype  # a subtype answers only its own


@sqlite_only
async def test_every_advertised_path_is_served(make_server, pki, optional_sep_schemas):
    server = await make_server()
    admin = AdminClient(server.admin_url, "test-operator-token", pki.trust_anchor_path)
    dev = SepClient(server.sep2_url, pki, "dev1", optional_sep_schemas)
    try:
        status, _ = await admin.post("/devices", {"lfdi": dev.lfdi})
        assert status == 201
        for subtype, path in FUNCTION_SET_PATHS.items():
            reply = await dev.get(path)
            assert reply.status == 200, (subtype, path, reply.status, reply.text)
    finally:
        await dev.close()
        await admin.close()


@sqlite_only
async def test_two_servers_in_one_process_are_both_found(make_server, listener_zc):
    """One named by default (gridhan-<SFDI of the server certificate>), one behind a TLS proxy on 443."""
    a = await make_server(dnssd=True)
    named = unique()
    await make_server(dnssd=True, dnssd_name=named, dnssd_port=443, dnssd_interfaces=("127.0.0.1",))
    sfdi = format_sfdi(sfdi_from_lfdi(lfdi_of(load_certificate(a.settings.tls_cert))))
    assert a.dnssd.name == f"gridhan-{sfdi}"
    # the client has been listening since before the servers started: their announcements are cached
    found = only(await discover(timeout=0.5, zeroconf=listener_zc), a.dnssd.name, named)
    assert {n: s.dcap_url for n, s in found.items()} == {
        a.dnssd.name: f"https://127.0.0.1:{a.sep2_port}/dcap",
        named: "https://127.0.0.1:443/dcap",
    }


@sqlite_only
async def test_a_name_already_taken_on_the_link_becomes_name_2(make_server, listener_zc):
    """Clause 7.2: on a conflict the server renames itself, Name(2) for the first."""
    name = unique()
    a = await make_server(dnssd=True, dnssd_name=name)
    b = await make_server(dnssd=True, dnssd_name=name)
    assert (a.dnssd.name, b.dnssd.name) == (name, f"{name}(2)")
    servers, derps = await asyncio.gather(  # the client has been listening to the announcements all along
        discover(timeout=0.5, zeroconf=listener_zc), discover(subtype="derp", timeout=0.5, zeroconf=listener_zc)
    )
    assert {n: s.port for n, s in only(servers, name, f"{name}(2)").items()} == {
        name: a.sep2_port,
        f"{name}(2)": b.sep2_port,
    }
    assert {n: s.port for n, s in only(derps, f"derp-{name}", f"derp-{name}(2)").items()} == {
        f"derp-{name}": a.sep2_port,
        f"derp-{name}(2)": b.sep2_port,
    }


@sqlite_only
async def test_stopping_the_server_withdraws_it_with_goodbyes(make_server, listener_zc):
    name, other = unique("leaving"), unique("staying")
    leaving = await make_server(dnssd=True, dnssd_name=name)
    responder = AsyncZeroconf(interfaces=LOOPBACK, ip_version=IPVersion.V4Only)  # another server, staying
    good = [("txtvers", "1"), ("dcap", "/dcap"), ("https", "8443"), ("level", "-S1")]
    await responder.async_register_service(advertisement(other, good), cooperating_responders=True)
    try:
        # listening since before the server started, the client cached its announcements
        servers, tm = await asyncio.gather(
            discover(timeout=0.3, zeroconf=listener_zc), discover(subtype="tm", timeout=0.3, zeroconf=listener_zc)
        )
        assert set(only(servers, name, other)) == {name, other} and only(tm, f"tm-{name}")

        await leaving.stop()
        # the client's cache held the records with TTLs of minutes (PTR 75 min): only goodbyes remove them
        servers, tm = await asyncio.gather(
            discover(timeout=0.3, zeroconf=listener_zc), discover(subtype="tm", timeout=0.3, zeroconf=listener_zc)
        )
        assert set(only(servers, name, other)) == {other} and not only(tm, f"tm-{name}")
    finally:
        await responder.async_close()


# --------------------------------------------------------------------------- what a client ignores


async def test_advertisements_the_standard_tells_clients_to_ignore_are_skipped_with_a_reason():
    """Clause 7.4: txtvers first and 1, dcap and level present; without https a server offers plain HTTP,
    which a 2030.5 client cannot use."""
    good = [("txtvers", "1"), ("dcap", "/dcap"), ("https", "8443"), ("level", "-S1")]
    cases = {
        "good": (good, None),
        "late-version": ([good[1], good[0], *good[2:]], "txtvers is not the first key"),
        "version-2": ([("txtvers", "2"), *good[1:]], "txtvers is '2', not 1"),
        "no-dcap": ([good[0], *good[2:]], "no dcap key"),
        "no-level": (good[:3], "no level key"),
        "plain-http": ([*good[:2], good[3]], "plain HTTP only"),
        "bad-port": ([*good[:2], ("https", "99999"), good[3]], "not a port number"),
        "default-port": ([*good[:2], ("https", None), good[3]], None),
    }
    names = {case: unique(case) for case in cases}
    responder = AsyncZeroconf(interfaces=LOOPBACK, ip_version=IPVersion.V4Only)
    try:
        for case, (pairs, _) in cases.items():
            await responder.async_register_service(advertisement(names[case], pairs), cooperating_responders=True)
        report = await discover_report(timeout=WINDOW, interfaces=LOOPBACK)
    finally:
        await responder.async_close()
    servers = {s.name: s for s in report.servers}
    skipped = {s.instance.removesuffix("." + SERVICE_TYPE): s.reason for s in report.skipped}
    for case, (_, reason) in cases.items():
        if reason is None:
            assert names[case] in servers and names[case] not in skipped, case
        else:
            assert names[case] not in servers, case
            assert reason in skipped[names[case]], (case, skipped.get(names[case]))
    assert servers[names["default-port"]].dcap_url == "https://127.0.0.1:443/dcap"


# --------------------------------------------------------------------------- the command


@sqlite_only
async def test_gridhan_discover_prints_what_it_found(make_server):
    name = unique()
    server = await make_server(dnssd=True, dnssd_name=name)
    command = [sys.executable, "-m", "gridhan.cli.main", "discover", "--interface", "127.0.0.1"]
    command += ["--timeout", "2"]  # a little more: Python starts under load in the subprocess

    async def run(*args: str) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(
            *command, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, err = await asyncio.wait_for(proc.communicate(), 30)
        return proc.returncode, out.decode(), err.decode()

    derp, every = await asyncio.gather(run("--subtype", "derp", "--json"), run())
    code, out, _ = derp
    assert code == 0
    entries = [json.loads(line) for line in out.splitlines()]
    mine = [e for e in entries if e["name"] == f"derp-{name}"]
    assert len(mine) == 1 and mine[0]["dcap_url"] == f"https://127.0.0.1:{server.sep2_port}/dcap"
    assert mine[0]["path"] == "/edev" and mine[0]["level"] == "-S1"

    code, out, _ = every
    assert code == 0
    assert f"{name}  https://127.0.0.1:{server.sep2_port}/dcap  level=-S1" in out.splitlines()


def test_gridhan_discover_says_when_nothing_answered_or_the_subtype_is_wrong(capsys):
    assert main(["discover", "--interface", "127.0.0.1", "--timeout", "0.3", "--subtype", unique("nothing")]) == 1
    assert "no 2030.5 server answered" in capsys.readouterr().err
    assert main(["discover", "--subtype", "_derp"]) == 2
    assert "no leading underscore" in capsys.readouterr().err


# --------------------------------------------------------------------------- records and settings


#: RFC 6763 clause 6.4: printable US-ASCII but '='.
TXT_KEYS = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="="),
    min_size=1, max_size=9,
)


@given(st.lists(st.tuples(TXT_KEYS.map(str.lower), st.none() | st.text(max_size=40)), max_size=8))
def test_txt_records_read_back_as_written(pairs):
    assert decode_txt(encode_txt(pairs)) == pairs


def test_txt_reading_rules():
    raw = b"\x09txtvers=1" + b"\x00" + b"\x06=stray" + b"\x09DCAP=/dcp" + b"\x05https"
    assert decode_txt(raw) == [("txtvers", "1"), ("dcap", "/dcp"), ("https", None)]
    with pytest.raises(ValueError, match="ends inside"):
        decode_txt(b"\x09txtvers=")
    assert txt_problem([]) == "empty TXT record"
    assert txt_problem([("txtvers", "1"), ("dcap", ""), ("level", "-S1")]) == "the dcap key has no value"
    assert txt_problem([("txtvers", "1"), ("dcap", "dcap"), ("level", "-S1")]) == "dcap 'dcap' does not start with '/'"
    assert https_port([("https", "8443"), ("https", "9")]) == 8443  # the first copy of a key counts
    assert https_port([("txtvers", "1")]) is None


def test_path_is_read_only_in_answers_to_subtype_queries():
    txt = encode_txt([("txtvers", "1"), ("dcap", "/dcap"), ("path", "/upt"), ("https", "1"), ("level", "-S1")])
    assert server_from_records("x", txt, ["127.0.0.1"]).path is None
    assert server_from_records("x", txt, ["127.0.0.1"], subtype_answer=True).path == "/upt"
    v6 = server_from_records("x", txt, ["fe80::1%2", "2001:db8::1"])
    assert (v6.host, v6.dcap_url) == ("2001:db8::1", "https://[2001:db8::1]:1/dcap")


def test_subtype_names_have_no_leading_underscore():
    assert subtype_type("edev") == "edev._sub._smartenergy._tcp.local."
    for bad in ("_edev", "", "a.b", "x" * 64):
        with pytest.raises(ValueError):
            subtype_type(bad)
    assert set(FUNCTION_SET_PATHS) == set(SUBTYPES)


def test_renamed_names_still_fit_one_label_with_their_subtype():
    longest = "n" * MAX_SERVER_NAME_BYTES
    for attempt in (2, 10, 21):
        name = renamed(longest, attempt)
        assert name.endswith(f"({attempt})") and len(f"rsps-{name}".encode()) <= 63


def test_dnssd_settings_are_checked():
    Settings(dnssd_name="utility-han-000001111114", dnssd_interfaces=("127.0.0.1", "::1"))
    bad = ({"dnssd_name": "a.b"}, {"dnssd_name": "é" * 30}, {"dnssd_interfaces": ("eth0",)}, {"dnssd_port": 70000})
    for changes in bad:
        with pytest.raises(SettingsError, match="dnssd"):
            Settings(**changes)
