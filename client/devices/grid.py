"""Simulated grid conditions at a DER's point of connection: voltage and frequency.

The client runtime puts these into :class:`gridhan.client.situation.Situation` (``grid_voltage``,
``grid_frequency``); the reference DERs read them for their autonomous functions (volt-var, volt-watt,
IEEE 2030.5-2018 clause 10.10) and their protection (trip and enter service).

Voltage follows a daily profile typical of a low-voltage feeder with much rooftop PV: above nominal
overnight, rising further around solar noon, sagging at the evening peak, plus a slow seeded wander.
Optionally the DER's own flow moves it through the supply impedance (dV ~ (R P + X Q) / V), which is
what volt-var and volt-watt act on. Tests force a value with :meth:`GridModel.force_voltage`.
"""

from __future__ import annotations

from dataclasses import replace

from gridhan.client.devices.noise import SeededBuckets
from gridhan.client.devices.site import bump, local_seconds
from gridhan.client.situation import Situation


class GridModel:
    """Voltage (V) and frequency (Hz) at a point of connection, a pure function of the TimeType ``now``.

    ``level_pu`` is the overnight level (per unit of ``nominal_v``), ``solar_rise_pu`` the extra rise
    around 12:30 local time, ``evening_dip_pu`` the sag around 19:00; ``noise_v`` and ``noise_hz`` the
    standard deviations of the seeded wander. ``r_ohm`` and ``x_ohm`` are the supply impedance the DER's
    own export moves the local voltage through (when the caller passes it).
    """

    def __init__(
        self,
        seed: int = 0,
        *,
        nominal_v: float = 230.0,
        nominal_hz: float = 50.0,
        utc_offset_s: int = 0,
        level_pu: float = 1.035,
        solar_rise_pu: float = 0.02,
        evening_dip_pu: float = 0.025,
        noise_v: float = 0.8,
        noise_hz: float = 0.015,
        r_ohm: float = 0.25,
        x_ohm: float = 0.1,
    ) -> None:
        self.seed, self.nominal_v, self.nominal_hz, self.utc_offset_s = seed, nominal_v, nominal_hz, utc_offset_s
        self.level_pu, self.solar_rise_pu, self.evening_dip_pu = level_pu, solar_rise_pu, evening_dip_pu
        self.noise_v, self.noise_hz, self.r_ohm, self.x_ohm = noise_v, noise_hz, r_ohm, x_ohm
        self._noise = SeededBuckets(seed)
        self._forced_v: float | None = None
        self._forced_hz: float | None = None

    def force_voltage(self, volts: float | None) -> None:
        """Hold the voltage at ``volts`` (the DER's own flow no longer moves it); None releases it."""
        self._forced_v = volts

    def force_frequency(self, hertz: float | None) -> None:
        """Hold the frequency at ``hertz``; None releases it."""
        self._forced_hz = hertz

    def source_voltage(self, now: float) -> float:
        """The feeder voltage (V) without the DER's own contribution."""
        s = local_seconds(now, self.utc_offset_s)
        pu = self.level_pu + self.solar_rise_pu * bump(s, 12.5, 2.5) - self.evening_dip_pu * bump(s, 19.0, 1.5)
        return self.nominal_v * pu + self.noise_v * self._noise.smooth_gauss("volts", now, 120.0)

    def voltage(self, now: float, export_w: float = 0.0, export_var: float = 0.0) -> float:
        """The voltage (V) at the point of connection while the DER there delivers ``export_w`` W and
        ``export_var`` var (both positive out of the site into the grid)."""
        if self._forced_v is not None:
            return self._forced_v
        rise = (self.r_ohm * export_w + self.x_ohm * export_var) / self.nominal_v
        return self.source_voltage(now) + rise

    def frequency(self, now: float) -> float:
        """The system frequency (Hz)."""
        if self._forced_hz is not None:
            return self._forced_hz
        return self.nominal_hz + self.noise_hz * self._noise.smooth_gauss("hertz", now, 30.0)

    def condition(self, situation: Situation, export_w: float = 0.0, export_var: float = 0.0) -> Situation:
        """``situation`` with this grid's voltage and frequency at its ``now``."""
        return replace(
            situation,
            grid_voltage=self.voltage(situation.now, export_w, export_var),
            grid_frequency=self.frequency(situation.now),
        )
