"""A photovoltaic array under a clear sky, with optional passing clouds: the DC power a PV inverter
(:mod:`.inverter`) can convert.

The sun's position comes from the TimeType instant (UTC seconds) and the array's latitude and longitude
(the NOAA fractional-year approximations of declination and the equation of time): the sun follows UTC
and longitude, so the site's UTC offset plays no part in it; the offset only turns instants into local
clock times (:meth:`PvArray.local_hour`, :meth:`PvArray.solar_noon`). Clear-sky irradiance: Haurwitz's
global horizontal model, Meinel's direct normal model, the rest taken as isotropic diffuse light, on a
plane of given tilt and azimuth. Clouds: in each 10-minute slot a shadow passes with probability
``cloudiness``, seeded, dimming the sun to 20-70 % for 30 s to 10 min with 15-second edges.
"""

from __future__ import annotations

import calendar
import math
import random
import time
from typing import Protocol

from gridhan.client.devices.noise import SeededBuckets
from gridhan.client.devices.site import DAY, local_seconds

SOLAR_CONSTANT = 1_361.0


class DcSource(Protocol):
    """What a PV inverter converts: the DC power (W) available at an instant (a :class:`PvArray`, or a
    recorded trace)."""

    def available_dc_w(self, now: float) -> float: ...


def solar_position(latitude: float, longitude: float, now: float) -> tuple[float, float]:
    """(elevation, azimuth) of the sun in degrees at UTC instant ``now``; azimuth clockwise from north."""
    utc = time.gmtime(math.floor(now))
    hours = (now % DAY) / 3600.0
    year_days = 366.0 if calendar.isleap(utc.tm_year) else 365.0
    gamma = 2.0 * math.pi / year_days * (utc.tm_yday - 1 + (hours - 12.0) / 24.0)
    eqtime = 229.18 * (
        0.000075
        + 0.001868 * math.cos(gamma)
        - 0.032077 * math.sin(gamma)
        - 0.014615 * math.cos(2 * gamma)
        - 0.040849 * math.sin(2 * gamma)
    )
    decl = (
        0.006918
        - 0.399912 * math.cos(gamma)
        + 0.070257 * math.sin(gamma)
        - 0.006758 * math.cos(2 * gamma)
        + 0.000907 * math.sin(2 * gamma)
        - 0.002697 * math.cos(3 * gamma)
        + 0.00148 * math.sin(3 * gamma)
    )
    utc_minutes = (now % DAY) / 60.0
    true_solar_minutes = utc_minutes + eqtime + 4.0 * longitude
    hour_angle = math.radians(true_solar_minutes / 4.0 - 180.0)
    lat = math.radians(latitude)
    cos_zenith = math.sin(lat) * math.sin(decl) + math.cos(lat) * math.cos(decl) * math.cos(hour_angle)
    cos_zenith = max(-1.0, min(1.0, cos_zenith))
    zenith = math.acos(cos_zenith)
    elevation = 90.0 - math.degrees(zenith)
    sin_zenith = math.sin(zenith)
    if sin_zenith < 1e-9:
        return elevation, 0.0
    cos_az = (math.sin(decl) - math.sin(lat) * cos_zenith) / (math.cos(lat) * sin_zenith)
    azimuth = math.degrees(math.acos(max(-1.0, min(1.0, cos_az))))
    if hour_angle % (2 * math.pi) < math.pi:  # afternoon: the sun is west of the meridian
        azimuth = 360.0 - azimuth
    return elevation, azimuth


def clear_sky(elevation_deg: float) -> tuple[float, float, float]:
    """Clear-sky (global horizontal, direct normal, diffuse horizontal) irradiance in W/m^2."""
    if elevation_deg <= 0.0:
        return 0.0, 0.0, 0.0
    cos_z = math.sin(math.radians(elevation_deg))
    ghi = 1098.0 * cos_z * math.exp(-0.057 / cos_z)
    air_mass = 1.0 / (cos_z + 0.50572 * (elevation_deg + 6.07995) ** -1.6364)
    dni = SOLAR_CONSTANT * 0.7 ** (air_mass**0.678)
    dni = min(dni, ghi / cos_z)
    dhi = ghi - dni * cos_z
    return ghi, dni, dhi


class PvArray:
    """``dc_rating_w`` of modules (at 1000 W/m^2) at ``latitude``/``longitude``, tilted ``tilt_deg``
    facing ``azimuth_deg`` (clockwise from north; default: towards the equator), losing ``derate``
    (soiling, wiring, heat) before the inverter."""

    CLOUD_SLOT = 600.0
    CLOUD_EDGE = 15.0

    def __init__(
        self,
        latitude: float = -34.93,
        longitude: float = 138.6,
        dc_rating_w: float = 6_600.0,
        *,
        tilt_deg: float = 20.0,
        azimuth_deg: float | None = None,
        derate: float = 0.86,
        albedo: float = 0.2,
        utc_offset_s: int = 0,
        cloudiness: float = 0.0,
        seed: int = 0,
    ) -> None:
        self.latitude, self.longitude, self.dc_rating_w = latitude, longitude, dc_rating_w
        self.tilt_deg, self.derate, self.albedo = tilt_deg, derate, albedo
        self.azimuth_deg = azimuth_deg if azimuth_deg is not None else (0.0 if latitude < 0 else 180.0)
        self.utc_offset_s, self.cloudiness, self.seed = utc_offset_s, cloudiness, seed
        self._noise = SeededBuckets(seed)

    def plane_irradiance(self, now: float) -> float:
        """Clear-sky irradiance on the plane of the array (W/m^2)."""
        elevation, azimuth = solar_position(self.latitude, self.longitude, now)
        ghi, dni, dhi = clear_sky(elevation)
        if ghi <= 0.0:
            return 0.0
        tilt, el = math.radians(self.tilt_deg), math.radians(elevation)
        cos_incidence = math.cos(el) * math.sin(tilt) * math.cos(math.radians(azimuth - self.azimuth_deg)) + math.sin(
            el
        ) * math.cos(tilt)
        beam = dni * max(0.0, cos_incidence)
        sky = dhi * (1.0 + math.cos(tilt)) / 2.0
        ground = ghi * self.albedo * (1.0 - math.cos(tilt)) / 2.0
        return beam + sky + ground

    def _cloud(self, slot: int) -> tuple[float, float, float]:
        """(start, end, transmittance) of the cloud passing in a slot (transmittance 1 when none does)."""

        def sample(rng: random.Random) -> tuple[float, float, float]:
            if rng.random() >= self.cloudiness:
                return 0.0, 0.0, 1.0
            start = slot * self.CLOUD_SLOT + rng.uniform(0.0, self.CLOUD_SLOT)
            length = rng.uniform(30.0, self.CLOUD_SLOT)
            return start, start + length, rng.uniform(0.2, 0.7)

        return self._noise.draw("cloud", slot, sample)

    def _shadow(self, slot: int, t: float) -> float:
        start, end, transmit = self._cloud(slot)
        depth = min(t - start, end - t) / self.CLOUD_EDGE
        if depth <= 0.0:
            return 1.0
        return 1.0 - (1.0 - transmit) * min(1.0, depth)

    def cloud_factor(self, now: float) -> float:
        """The fraction of the clear-sky irradiance that passing clouds let through at ``now`` (0..1)."""
        if self.cloudiness <= 0.0:
            return 1.0
        slot = math.floor(now / self.CLOUD_SLOT)
        return self._shadow(slot, now) * self._shadow(slot - 1, now)

    def irradiance(self, now: float) -> float:
        """Plane-of-array irradiance (W/m^2) with clouds."""
        return self.plane_irradiance(now) * self.cloud_factor(now)

    def available_dc_w(self, now: float) -> float:
        """The DC power the array can deliver at its maximum power point (W)."""
        return self.dc_rating_w * self.irradiance(now) / 1000.0 * self.derate

    def local_hour(self, now: float) -> float:
        """Local clock time of ``now`` in hours (0..24) at the site's UTC offset."""
        return local_seconds(now, self.utc_offset_s) / 3600.0

    def solar_noon(self, now: float) -> int:
        """The TimeType instant of solar noon on the local day of ``now`` (the sun's highest point)."""
        midnight = now - local_seconds(now, self.utc_offset_s)
        mean_noon_utc = DAY / 2 - self.longitude / 15.0 * 3600.0  # UTC clock time of mean solar noon
        guess = midnight + (mean_noon_utc - midnight) % DAY
        best = max(range(-1800, 1801, 30), key=lambda d: solar_position(self.latitude, self.longitude, guess + d)[0])
        return int(guess + best)
