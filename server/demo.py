"""Demo data for ``gridhan serve --demo``: a development PKI, a few registered demo devices with PINs in
a demo group, and the exact commands to talk to the server as one of them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gridhan.certs.identity import lfdi_of, load_certificate
from gridhan.certs.pki import DevelopmentPki
from gridhan.schemas.identifiers import format_sfdi, pin_with_check_digit, sfdi_from_lfdi
from gridhan.server.store.repo import Conflict, Store

#: (certificate name, label, 2030.5 deviceCategory bitmap (Table on DeviceCategoryType), aggregator?)
DEMO_DEVICES = (
    ("demo-thermostat", "Smart thermostat", "00000001", False),
    ("demo-inverter", "PV smart inverter", "00020000", False),
    ("demo-battery", "Home battery", "00040000", False),
    ("demo-display", "In-home display", "00000400", False),
    ("demo-aggregator", "DER aggregator", None, True),
)
DEMO_GROUP = "demo"


@dataclass(frozen=True)
class DemoDevice:
    name: str
    label: str
    lfdi: str
    sfdi: str
    pin: int
    device_id: int
    cert: Path
    key: Path


def demo_pki(data_dir: Path) -> DevelopmentPki:
    """The development PKI in ``data_dir/pki`` (created on first run), with the demo devices."""
    pki = DevelopmentPki.create((data_dir / "pki").resolve(), exist_ok=True)
    for name, *_ in DEMO_DEVICES:
        if not pki.device_cert_path(name).exists():
            pki.issue_device(name)
    return pki


async def provision_demo(store: Store, pki: DevelopmentPki, now: int) -> list[DemoDevice]:
    """Register the demo devices and their group (idempotent)."""
    out = []
    groups = await store.list_groups(0, 1000)
    group = next((g for g in groups.rows if g.name == DEMO_GROUP), None)
    if group is None:
        group = await store.create_group(name=DEMO_GROUP, mrid="D3" * 16, description="gridhan demo devices")
    for index, (name, label, category, aggregator) in enumerate(DEMO_DEVICES, start=1):
        lfdi = lfdi_of(load_certificate(pki.device_cert_path(name)))
        pin = pin_with_check_digit(10000 + index)
        row = await store.device_by_lfdi(lfdi)
        if row is None:
            try:
                row = await store.create_device(
                    lfdi=lfdi,
                    sfdi=sfdi_from_lfdi(lfdi),
                    device_category=category,
                    changed_time=now,
                    pin=pin,
                    registered_time=now,
                    is_aggregator=aggregator,
                    label=label,
                )
            except Conflict:
                row = await store.device_by_lfdi(lfdi)
        assert row is not None and row.id is not None
        out.append(
            DemoDevice(
                name,
                label,
                lfdi,
                format_sfdi(sfdi_from_lfdi(lfdi)),
                row.pin or pin,
                row.id,
                pki.device_cert_path(name),
                pki.device_key_path(name),
            )
        )
    members = set(await store.group_member_ids(group.id))  # type: ignore[arg-type]
    wanted = [d.device_id for d in out if not DEMO_DEVICES[[n for n, *_ in DEMO_DEVICES].index(d.name)][3]]
    if not set(wanted) <= members:
        await store.set_group_members(group.id, sorted(members | set(wanted)))  # type: ignore[arg-type]
    return out


def instructions(
    sep2_url: str, admin_url: str, token_file: Path, pki: DevelopmentPki, devices: list[DemoDevice]
) -> str:
    """What ``--demo`` prints: URLs and the exact commands to talk to the server as a demo device."""
    host_port = sep2_url.split("://", 1)[1]
    dev = devices[0]
    lines = [
        "",
        "gridhan demo is running.",
        f"  IEEE 2030.5 server (mutual TLS 1.2, ECDHE-ECDSA-AES128-CCM8): {sep2_url}/dcap",
        f"  Admin API (JSON, bearer token in {token_file.resolve()}): {admin_url}/api/v1/",
        f"  Admin API description (OpenAPI): {admin_url}/api/v1/openapi.json",
        f"  Development PKI: {pki.directory}",
        "",
        "Demo devices (certificate, LFDI, SFDI, registration PIN):",
    ]
    for d in devices:
        lines.append(f"  {d.name:16} {d.cert}  LFDI {d.lfdi}  SFDI {d.sfdi}  PIN {d.pin:06d}  /edev/{d.device_id}")
    lines += [
        "",
        f"Talk to it as {dev.name}:",
        f"  curl --tlsv1.2 --tls-max 1.2 --ciphers ECDHE-ECDSA-AES128-CCM8 --cacert {pki.trust_anchor_path} -k \\",
        f"       --cert {dev.cert} --key {dev.key} {sep2_url}/dcap",
        f"  openssl s_client -connect {host_port} -tls1_2 -cipher ECDHE-ECDSA-AES128-CCM8 -ign_eof \\",
        f"       -cert {dev.cert} -cert_chain {dev.cert} -key {dev.key} -CAfile {pki.trust_anchor_path}",
        "  (then type: GET /edev HTTP/1.1, Host: gridhan, and an empty line)",
        "",
        "As the operator:",
        f'  curl --cacert {pki.trust_anchor_path} -k -H "Authorization: Bearer $(cat {token_file.resolve()})" '
        f"{admin_url}/api/v1/devices",
        "",
        "(-k: 2030.5 certificates carry no host name; curl still checks the chain against --cacert.)",
        "Stop with Ctrl-C.",
    ]
    return "\n".join(lines)
