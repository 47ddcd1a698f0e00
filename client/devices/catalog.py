"""The reference devices by kind, as ``gridhan device KIND`` and ``gridhan fleet --mix`` name them.

Each kind is built with a seeded simulated world (weather, household load, hot-water draws, clouds,
feeder voltage) so two devices of a fleet behave alike but not identically, and a rerun with the same
seed repeats itself. DER kinds come with the grid model they act on (volt-var, volt-watt).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gridhan.client.devices.appliance import DrawProfile, SmartAppliance, WaterHeater
from gridhan.client.devices.battery import Battery
from gridhan.client.devices.display import InHomeDisplay
from gridhan.client.devices.ev_charger import EvCharger
from gridhan.client.devices.grid import GridModel
from gridhan.client.devices.inverter import SmartInverter
from gridhan.client.devices.pv import PvArray
from gridhan.client.devices.site import HouseholdLoad
from gridhan.client.devices.thermostat import Thermostat
from gridhan.client.devices.weather import Climate


@dataclass
class Kit:
    """A device model and, for a DER, the grid at its point of connection."""

    model: Any
    grid: GridModel | None = None


def _pct(seed: int, **options: Any) -> Kit:
    return Kit(Thermostat(climate=Climate(seed=seed), **options))


def _inverter(seed: int, **options: Any) -> Kit:
    pv = PvArray(cloudiness=0.2, seed=seed)
    return Kit(SmartInverter(pv, site_load=HouseholdLoad(seed), **options), GridModel(seed))


def _battery(seed: int, **options: Any) -> Kit:
    return Kit(Battery(site_load=HouseholdLoad(seed), **options), GridModel(seed))


def _water_heater(seed: int, **options: Any) -> Kit:
    return Kit(WaterHeater(draws=DrawProfile(seed=seed), **options))


def _appliance(seed: int, **options: Any) -> Kit:
    return Kit(SmartAppliance("dishwasher", **options))


def _display(seed: int, **options: Any) -> Kit:
    return Kit(InHomeDisplay(**options))


def _ev_charger(seed: int, **options: Any) -> Kit:
    return Kit(EvCharger(**options))


#: kind -> builder(seed, **constructor options)
KINDS: Mapping[str, Callable[..., Kit]] = {
    "pct": _pct,
    "inverter": _inverter,
    "battery": _battery,
    "water_heater": _water_heater,
    "appliance": _appliance,
    "display": _display,
    "ev_charger": _ev_charger,
}


def make_device(kind: str, *, seed: int = 1, locale: str | None = None, **options: Any) -> Kit:
    """A device of ``kind`` with its simulated world seeded by ``seed``; ``options`` go to its constructor
    (a display also takes the customer's ``locale``)."""
    try:
        build = KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown device kind {kind!r} (kinds: {', '.join(sorted(KINDS))})") from None
    if kind == "display" and locale:
        options.setdefault("locale", locale)
    return build(seed, **options)
