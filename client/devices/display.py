"""In-home display: prices, usage, cost and utility messages on a small character screen.

What it shows (the utility use case asks cost to $0.01, demand to 0.01 kW, energy to 0.1 kWh,
month-to-date figures that start again on the bill date, and a projected bill):

* The price in force (IEEE 2030.5-2018 clause 10.5, ``Situation.price``): tier, price per kWh (to 0.001 of
  the currency: finer than the hundredth the use case asks, so a rate such as 0.0825 is not shown as 0.08),
  the next price and when it starts, and CRITICAL PEAK during a critical peak interval. With block rates,
  the price of the block the month's consumption has reached.
* Demand now (kW, 0.01) and what it costs per hour (0.01): from the display's own meter feed
  (:meth:`InHomeDisplay.observe_meter`, the premise meter's demand and energy register), else from
  ``Situation.usage.demand_kw``.
* Month to date, energy (kWh, 0.1) and cost (0.01), and the projected bill (0.01). The utility's billing
  figures (``Situation.usage``, clauses 10.4 and 10.7) win when present; otherwise the display counts them
  itself from its meter feed, pricing each reading at the price in force, starting again on the bill date
  (``bill_day`` of each month at local midnight), and projects the bill linearly
  (:func:`gridhan.schemas.billing_math.projected`). Rounding is half away from zero, on Decimals
  (:func:`gridhan.schemas.billing_math.round_to`).
* Text messages (clause 10.6, ``Situation.messages``): by priority (critical, high, normal, low), newest
  first; a message that arrives with a higher priority than the one on screen comes to the foreground;
  :meth:`InHomeDisplay.next_message` scrolls to the next. When the same message comes in several languages
  (same interval, priority and originator, from MessagingPrograms of different locales: the optional
  ``Situation.message_locales``), the one in the display's ``locale`` is shown (else the same language,
  else any). The customer acknowledges a message with :meth:`InHomeDisplay.acknowledge` (status 11 "User
  acknowledgement").

The screen is ``lines`` lines of ``width`` characters; the last ``message_lines`` lines hold the message.
A message fits when its text (whitespace collapsed) has at most ``width x message_lines`` characters, all in
the display's character set ``charset``: it is word-wrapped, or cut into lines of ``width`` characters when
word wrapping needs more lines. Any other message is reported once as status 12 "Cannot be displayed"
(sep.xsd TextMessage: devices SHALL accept messages of 100 bytes and choose how to show longer ones; the
default 3 x 40 characters holds 120). Status lines longer than ``width`` are cut.

``device_category`` is "00000000": a display responds to no EndDeviceControl (sep.xsd
EndDevice.deviceCategory: devices that do not adjust energy use set no bit).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from gridhan.client.devices.load_control import ACKNOWLEDGED, CANNOT_DISPLAY, Decision, short_id
from gridhan.client.situation import CustomerResponse, PriceSituation, Situation, UsageSituation
from gridhan.schemas.billing_math import CENT, TENTH, Interval, projected, round_to
from gridhan.schemas.sep2.messaging import TextMessage

DISPLAY_CATEGORY = "00000000"
MILLI = Decimal("0.001")
PRIORITY_NAMES = {0: "low", 1: "normal", 2: "high", 3: "critical"}
#: ISO 4217 numeric code -> what the screen writes before an amount.
CURRENCY_SIGNS = {840: "$", 124: "$", 36: "$", 554: "$", 978: "EUR ", 826: "GBP ", 392: "JPY "}


def shown(value: float, step: Decimal) -> Decimal:
    """``value`` at the display's resolution ``step``, half away from zero (via its shortest decimal form,
    so 2.675 shows as 2.68, as a person computing by hand expects)."""
    return round_to(Decimal(repr(float(value))), step)


def _clock(t: int, utc_offset_s: int) -> str:
    seconds = (t + utc_offset_s) % 86400
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.month - 1 + months
    return moment.replace(year=moment.year + index // 12, month=index % 12 + 1)


def _locale_rank(message_locale: str | None, locale: str) -> int:
    if message_locale is None:
        return 2
    if message_locale.lower() == locale.lower():
        return 0
    if message_locale.split("-")[0].lower() == locale.split("-")[0].lower():
        return 1
    return 3


@dataclass(frozen=True)
class Figures:
    """The numbers on the screen, at the display's resolutions (None: not known)."""

    tier: int | None
    price_per_kwh: Decimal | None
    critical_peak: bool
    next_change: int | None
    next_tier: int | None
    next_price_per_kwh: Decimal | None
    demand_kw: Decimal | None
    cost_per_hour: Decimal | None
    month_kwh: Decimal | None
    month_cost: Decimal | None
    projected_bill: Decimal | None
    period_start: int
    period_end: int


class InHomeDisplay:
    """An in-home display (see the module docstring)."""

    kind = "display"
    device_category = DISPLAY_CATEGORY

    def __init__(
        self,
        *,
        locale: str = "en-US",
        width: int = 40,
        lines: int = 9,
        message_lines: int = 3,
        charset: str = "latin-1",
        utc_offset_s: int = 0,
        bill_day: int = 1,
        currency_sign: str | None = None,
    ) -> None:
        if width < 16 or message_lines < 1 or lines <= message_lines:
            raise ValueError("a display needs at least 16 columns, one message line and one status line")
        if not 1 <= bill_day <= 28:
            raise ValueError(f"bill day {bill_day} is outside 1..28")
        "".encode(charset)  # LookupError for an unknown character set
        self.locale = locale
        self.width = width
        self.lines = lines
        self.message_lines = message_lines
        self.charset = charset
        self.utc_offset_s = utc_offset_s
        self.bill_day = bill_day
        self.currency_sign = currency_sign

        self._now = 0
        self._price: PriceSituation | None = None
        self._usage: UsageSituation | None = None
        self._period = (0, 0)
        self._meter_at: int | None = None
        self._meter_wh: float | None = None
        self._demand_w: float | None = None
        self._month_wh = 0.0
        self._month_cost = 0.0
        self._messages: list[TextMessage] = []
        self._on_screen: str | None = None
        self._selected = 0
        self._known: set[str] = set()
        self._undisplayable: set[str] = set()
        self._acknowledged: set[str] = set()
        self._notes: list[str] = []
        self._responses: list[CustomerResponse] = []

    # -- the DeviceModel protocol ---------------------------------------------------------------------------

    def step(self, situation: Situation, dt: float) -> list[str]:
        notes, self._notes = self._notes, []
        now = situation.now
        self._now = now
        self._roll_period(now)
        notes.extend(self._notes)
        self._notes = []
        notes.extend(self._price_notes(self._price, situation.price))
        self._price = situation.price
        self._usage = situation.usage
        notes.extend(self._take_messages(situation, now))
        return notes

    def readings(self) -> dict[str, float]:
        figures = self.figures()
        values = {"messages": float(len(self._messages))}
        for name in ("price_per_kwh", "demand_kw", "cost_per_hour", "month_kwh", "month_cost", "projected_bill"):
            value = getattr(figures, name)
            if value is not None:
                values[name] = float(value)
        if figures.tier is not None:
            values["price_tier"] = float(figures.tier)
        return values

    def customer_responses(self) -> list[CustomerResponse]:
        responses, self._responses = self._responses, []
        return responses

    # -- what the premise meter and the customer do -------------------------------------------------------

    def observe_meter(self, at: int, energy_wh: float, demand_w: float | None = None) -> None:
        """A reading of the premise meter at ``at``: its import register (Wh, cumulative) and, if the meter
        gives it, the demand (W; else derived from the register)."""
        if self._meter_at is not None and self._meter_wh is not None and at > self._meter_at:
            delta = energy_wh - self._meter_wh
            if delta >= 0:  # a register that went back was replaced or reset: skip that interval
                self._roll_period(at)
                price = self._unit_price(self._month_wh / 1000)
                self._month_wh += delta
                if price is not None:
                    self._month_cost += delta / 1000 * price
                if demand_w is None:
                    demand_w = delta * 3600 / (at - self._meter_at)
        if self._meter_at is None or at >= self._meter_at:
            self._meter_at, self._meter_wh = at, energy_wh
            if demand_w is not None:
                self._demand_w = demand_w

    def acknowledge(self, mrid: str, now: int) -> Decision:
        """The customer acknowledges the message ``mrid`` (status 11)."""
        if mrid not in {m.mRID for m in self._messages}:
            return self._decide(False, f"acknowledgement ignored: message {short_id(mrid)} is not on the display")
        if mrid in self._acknowledged:
            return self._decide(False, f"message {short_id(mrid)} was already acknowledged")
        self._acknowledged.add(mrid)
        self._responses.append(CustomerResponse(mrid, ACKNOWLEDGED, now, "acknowledged on the display"))
        return self._decide(True, f"message {short_id(mrid)} acknowledged")

    def next_message(self) -> None:
        """Scroll to the next message."""
        if self._messages:
            self._selected = (self._selected + 1) % len(self._messages)
            self._on_screen = self._messages[self._selected].mRID

    # -- what is shown -------------------------------------------------------------------------------------

    def figures(self) -> Figures:
        price, usage = self._price, self._usage
        month_kwh_raw = usage.month_to_date_kwh if usage and usage.month_to_date_kwh is not None else None
        if month_kwh_raw is None and self._meter_at is not None:
            month_kwh_raw = self._month_wh / 1000
        month_cost_raw = usage.month_to_date_cost if usage and usage.month_to_date_cost is not None else None
        if month_cost_raw is None and self._meter_at is not None and price is not None:
            month_cost_raw = self._month_cost
        demand_w = self._demand_w
        if demand_w is None and usage is not None and usage.demand_kw is not None:
            demand_w = usage.demand_kw * 1000
        unit = self._unit_price(month_kwh_raw or 0.0)
        projected_bill = None
        if usage is not None and usage.projected_bill is not None:
            projected_bill = shown(usage.projected_bill, CENT)
        elif month_cost_raw is not None:
            start, end = self._period
            as_of = max(self._now, self._meter_at or 0)  # the time the display's own count refers to
            value = projected(Decimal(repr(float(month_cost_raw))), Interval(start, end - start), as_of)
            projected_bill = round_to(value, CENT) if value is not None else None
        return Figures(
            tier=price.tier if price else None,
            price_per_kwh=shown(unit, MILLI) if unit is not None else None,
            critical_peak=bool(price and price.critical_peak),
            next_change=price.next_change if price else None,
            next_tier=price.next_tier if price else None,
            next_price_per_kwh=shown(price.next_price_per_kwh, MILLI)
            if price and price.next_price_per_kwh is not None
            else None,
            demand_kw=shown(demand_w / 1000, CENT) if demand_w is not None else None,
            cost_per_hour=shown(demand_w / 1000 * unit, CENT) if demand_w is not None and unit is not None else None,
            month_kwh=shown(month_kwh_raw, TENTH) if month_kwh_raw is not None else None,
            month_cost=shown(month_cost_raw, CENT) if month_cost_raw is not None else None,
            projected_bill=projected_bill,
            period_start=self._period[0],
            period_end=self._period[1],
        )

    def screen(self) -> list[str]:
        """The lines on the screen now, each at most ``width`` characters."""
        f = self.figures()
        sign = self._sign()
        status = []
        if f.price_per_kwh is not None:
            status.append(f"Tier {f.tier} {sign}{f.price_per_kwh}/kWh" + (" CRITICAL PEAK" if f.critical_peak else ""))
        else:
            status.append("Price not available")
        if f.next_change is not None:
            nxt = f"Next {_clock(f.next_change, self.utc_offset_s)}"
            if f.next_tier is not None:
                nxt += f" tier {f.next_tier}"
            if f.next_price_per_kwh is not None:
                nxt += f" {sign}{f.next_price_per_kwh}/kWh"
            status.append(nxt)
        if f.demand_kw is not None:
            cost = f" {sign}{f.cost_per_hour}/h" if f.cost_per_hour is not None else ""
            status.append(f"Now {f.demand_kw} kW{cost}")
        if f.month_kwh is not None or f.month_cost is not None:
            energy = f" {f.month_kwh} kWh" if f.month_kwh is not None else ""
            cost = f" {sign}{f.month_cost}" if f.month_cost is not None else ""
            status.append(f"Month{energy}{cost}")
        if f.projected_bill is not None:
            status.append(f"Projected bill {sign}{f.projected_bill}")
        message = self._message_on_screen()
        if message is not None:
            position = self._messages.index(message) + 1
            status.append(f"Message {position}/{len(self._messages)} ({PRIORITY_NAMES.get(message.priority, '?')})")
        status = [line[: self.width] for line in status[: self.lines - self.message_lines]]
        return status + (self._wrap(message.textMessage) if message is not None else [])

    # -- internals -----------------------------------------------------------------------------------------

    def _decide(self, accepted: bool, note: str) -> Decision:
        self._notes.append(note)
        return Decision(accepted, note)

    def _sign(self) -> str:
        if self.currency_sign is not None:
            return self.currency_sign
        currency = self._price.currency if self._price is not None else None
        return CURRENCY_SIGNS.get(currency, "$") if currency is not None else "$"

    def _roll_period(self, now: int) -> None:
        """Start the month-to-date figures again when ``now`` is in a new billing period."""
        period = self._billing_period(now)
        if period != self._period:
            if self._period != (0, 0):
                local = timezone(timedelta(seconds=self.utc_offset_s))
                self._notes.append(f"new billing period from {datetime.fromtimestamp(period[0], local):%Y-%m-%d}")
            self._period = period
            self._month_wh = self._month_cost = 0.0

    def _billing_period(self, now: int) -> tuple[int, int]:
        local = datetime.fromtimestamp(now, timezone(timedelta(seconds=self.utc_offset_s)))
        start = local.replace(day=self.bill_day, hour=0, minute=0, second=0, microsecond=0)
        if start > local:
            start = _add_months(start, -1)
        return int(start.timestamp()), int(_add_months(start, 1).timestamp())

    def _unit_price(self, month_kwh: float) -> float | None:
        price = self._price
        if price is None:
            return None
        unit = price.price_per_kwh
        for start_kwh, block_price in price.blocks:
            if month_kwh > start_kwh or start_kwh == 0:
                unit = block_price
        return unit

    def _price_notes(self, old: PriceSituation | None, new: PriceSituation | None) -> list[str]:
        if new is None or (
            old is not None
            and (old.tier, old.price_per_kwh, old.critical_peak)
            == (
                new.tier,
                new.price_per_kwh,
                new.critical_peak,
            )
        ):
            return []
        sign = self.currency_sign or CURRENCY_SIGNS.get(new.currency or 0, "$")
        text = f"tier {new.tier} {sign}{shown(new.price_per_kwh, MILLI)}/kWh"
        if new.critical_peak:
            text += ", critical peak"
        return [f"price {'now' if old is None else f'tier {old.tier} ->'} {text}"]

    def _wrap(self, text: str) -> list[str]:
        text = " ".join(text.split())
        wrapped = textwrap.wrap(text, self.width)
        if len(wrapped) > self.message_lines:
            wrapped = [text[i : i + self.width] for i in range(0, len(text), self.width)]
        return wrapped

    def _fits(self, message: TextMessage) -> str | None:
        """Why a message cannot be displayed, or None when it can."""
        text = " ".join(message.textMessage.split())
        try:
            text.encode(self.charset)
        except UnicodeEncodeError:
            return f"characters outside the display's character set ({self.charset})"
        capacity = self.width * self.message_lines
        if len(text) > capacity:
            return f"{len(text)} characters; the screen holds {capacity}"
        return None

    def _take_messages(self, situation: Situation, now: int) -> list[str]:
        notes = []
        locales = situation.message_locales
        shown_list: list[tuple[int, int, int, TextMessage]] = []
        for index, message in enumerate(situation.messages):
            problem = self._fits(message)
            if problem is not None:
                if message.mRID not in self._undisplayable:
                    self._undisplayable.add(message.mRID)
                    self._responses.append(CustomerResponse(message.mRID, CANNOT_DISPLAY, now, problem))
                    notes.append(f"message {short_id(message.mRID)} cannot be displayed: {problem}")
                continue
            shown_list.append((-message.priority, index, _locale_rank(locales.get(message.mRID), self.locale), message))
        best: dict[tuple, tuple[int, int, int, TextMessage]] = {}
        for entry in shown_list:
            message = entry[3]
            key = (message.interval.start, message.interval.duration, message.priority, message.originator)
            if key not in best or entry[2] < best[key][2]:
                best[key] = entry
        messages = [entry[3] for entry in sorted(best.values(), key=lambda e: (e[0], e[1]))]
        ids = {m.mRID for m in messages}
        for message in messages:
            if message.mRID not in self._known:
                notes.append(
                    f"message {short_id(message.mRID)} ({PRIORITY_NAMES.get(message.priority, '?')}): "
                    f"{' '.join(message.textMessage.split())[:60]}"
                )
        for mrid in sorted(self._known - ids):
            notes.append(f"message {short_id(mrid)} ended")
        present = {m.mRID for m in situation.messages}
        self._undisplayable &= present
        self._acknowledged &= present
        current = self._message_on_screen()
        self._messages = messages
        self._known = ids
        if not messages:
            self._selected, self._on_screen = 0, None
        elif current is None or current.mRID not in ids or messages[0].priority > current.priority:
            self._selected, self._on_screen = 0, messages[0].mRID
        else:
            self._selected = [m.mRID for m in messages].index(current.mRID)
        return notes

    def _message_on_screen(self) -> TextMessage | None:
        for message in self._messages:
            if message.mRID == self._on_screen:
                return message
        return None
