"""From the discovery walk to the client event scheduler: what was read, in the scheduler's terms.

The walk (:mod:`gridhan.client.walk`) keeps the server's structure; the scheduler
(:mod:`gridhan.client.scheduler`) wants, per function set, the programs with their events. For pricing
it wants, per TariffProfile, the one RateComponent the device is billed by: the first whose ReadingType
measures energy delivered to the customer (flowDirection 1, clause 10.5 / Table 42 order), else the
first one.
"""

from __future__ import annotations

from gridhan.client.scheduler import (
    ClientScheduler,
    WalkedDerProgram,
    WalkedDrProgram,
    WalkedMessagingProgram,
    WalkedRateComponent,
)
from gridhan.client.walk import TariffView, WalkResult

#: FlowDirectionType 1: forward, energy delivered to the customer.
FORWARD = 1


def feed_walk(scheduler: ClientScheduler, walk: WalkResult, now: int, server: str = "") -> None:
    """Hand every program of ``walk`` to ``scheduler``, read at device time ``now``."""
    scheduler.update_der(
        [WalkedDerProgram(v.program, v.controls, v.default, v.curves, server) for v in walk.der], now
    )
    scheduler.update_drlc([WalkedDrProgram(v.program, v.controls, server) for v in walk.dr], now)
    scheduler.update_pricing([rc for t in walk.tariffs if (rc := billed_component(t, server))], now)
    scheduler.update_messaging(
        [WalkedMessagingProgram(v.program, v.messages, server) for v in walk.messaging], now
    )
    scheduler.update_flow(walk.flow_responses, now, server)


def billed_component(tariff: TariffView, server: str = "") -> WalkedRateComponent | None:
    if not tariff.components:
        return None
    chosen = next(
        (c for c in tariff.components if c.reading_type is not None and c.reading_type.flowDirection == FORWARD),
        tariff.components[0],
    )
    return WalkedRateComponent(
        tariff=tariff.profile,
        rate_component=chosen.component,
        intervals=[i.interval for i in chosen.intervals],
        blocks={i.interval.mRID: i.blocks for i in chosen.intervals},
        reading_type=chosen.reading_type,
        server=server,
    )
