"""Responses a device owes the utility, queued until the runtime has POSTed them (IEEE 2030.5-2018 clause 8.8).

An event's ``responseRequired`` bits (sep.xsd RespondableResource) say what the device reports to the URI in
its ``replyTo``:

* bit 0: that the event was received (Table 27 status 1; or 254 "received after it had expired", 253
  "invalid event"),
* bit 1: the specific outcome (2 started, 3 completed, 6 cancelled, 7 superseded, 8 partially completed with
  a user opt-out, 10 completed without user participation, 13/14 aborted by another server's / program's
  event),
* bit 2: what the end user did (4 opt-out, 5 opt-in, 11 acknowledgement, 12 cannot be displayed).

Each Response carries ``createdDateTime``: when the status occurred in the device, not when it reached the
server (sep.xsd Response), so a device that could not reach the server keeps its responses, with their
original times, until they are posted.

:class:`ResponseOutbox` is that queue. It is bounded (:data:`DEFAULT_LIMIT`); when full, it drops first an
"Event received" acknowledgement made redundant by a later response about the same event (any later status
implies receipt), then the oldest acknowledgement, and only then the oldest response of any kind. Nothing
here does I/O: the runtime takes :meth:`ResponseOutbox.pending`, POSTs each, and calls
:meth:`ResponseOutbox.mark_posted` for those the server accepted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from gridhan.schemas.sep2.response import (
    RESPONSE_STATUSES,
    DERControlResponse,
    DrResponse,
    FlowReservationResponseResponse,
    PriceResponse,
    Response,
    TextResponse,
)

#: How many unposted responses a device keeps (a day of 5-minute DER controls, each received, started and
#: completed, is 864).
DEFAULT_LIMIT = 1024

#: Table 27 statuses by the ``responseRequired`` bit that asks for them.
RECEIVED_STATUSES = frozenset({1, 253, 254})
SPECIFIC_STATUSES = frozenset({2, 3, 6, 7, 8, 9, 10, 13, 14, 252, 253, 254})
CUSTOMER_STATUSES = frozenset({4, 5, 11, 12})
#: Outcomes a device may report itself, from its own account of how it took part (8 with the seconds it
#: overrode the event, 9, 10): reported under bit 1 like the other outcomes.
DEVICE_OUTCOMES = frozenset({8, 9, 10})

#: The function sets whose events carry responses, with the Response type each one posts (clause 8.8).
RESPONSE_CLASSES: Mapping[str, type[Response]] = MappingProxyType(
    {
        "der": DERControlResponse,
        "drlc": DrResponse,
        "pricing": PriceResponse,
        "messaging": TextResponse,
        "flow": FlowReservationResponseResponse,
    }
)


def response_bits(response_required: str | None) -> frozenset[int]:
    """The bits set in a ``responseRequired`` HexBinary8 (absent: "00", none); reserved bits are ignored."""
    if not response_required:
        return frozenset()
    value = int(response_required, 16)
    return frozenset(bit for bit in range(3) if value >> bit & 1)


def asks_for(response_required: str | None, status: int) -> bool:
    """True when an event whose ``responseRequired`` is ``response_required`` asks for Response ``status``."""
    bits = response_bits(response_required)
    return (
        (0 in bits and status in RECEIVED_STATUSES)
        or (1 in bits and status in SPECIFIC_STATUSES)
        or (2 in bits and status in CUSTOMER_STATUSES)
    )


@dataclass(frozen=True)
class PendingResponse:
    """One Response to POST to ``reply_to`` (the event's ``replyTo``, as published: resolve a relative path
    against the server the event came from). ``response`` is the typed resource, ready to encode."""

    function_set: str
    subject: str
    status: int
    created: int
    reply_to: str
    response: Response = field(compare=False, hash=False)

    @property
    def key(self) -> tuple[str, str, int]:
        """What makes a response unique: a device reports each status of an event once."""
        return self.function_set, self.subject.upper(), self.status


def make_response(
    function_set: str,
    lfdi: str,
    subject: str,
    status: int,
    created: int,
    reply_to: str,
    override_duration: int | None = None,
) -> PendingResponse:
    """The Response of ``function_set``'s type (DERControlResponse, DrResponse, PriceResponse, TextResponse,
    FlowReservationResponseResponse) for ``subject`` (the event's mRID). ``override_duration``: the seconds
    a load control device overrode the event (DrResponse.overrideDuration; DRLC only)."""
    if status not in RESPONSE_STATUSES:
        raise ValueError(f"{status} is not a Table 27 response status")
    cls = RESPONSE_CLASSES[function_set]
    resource = cls(createdDateTime=created, endDeviceLFDI=lfdi.upper(), status=status, subject=subject)
    if override_duration is not None and isinstance(resource, DrResponse):
        resource.overrideDuration = min(override_duration, 65535)  # UInt16
    return PendingResponse(function_set, subject, status, created, reply_to, resource)


class ResponseOutbox:
    """Responses waiting to be posted, oldest first; bounded; never two with one :attr:`PendingResponse.key`."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        if limit < 1:
            raise ValueError("the outbox holds at least one response")
        self.limit = limit
        self._queue: list[PendingResponse] = []
        #: Responses dropped because the queue was full, oldest first (what a diagnostic log would show).
        self.dropped: list[PendingResponse] = []

    def __len__(self) -> int:
        return len(self._queue)

    def add(self, response: PendingResponse) -> None:
        """Queue ``response`` (in createdDateTime order), dropping one if the queue is full."""
        if any(r.key == response.key for r in self._queue):
            return
        index = len(self._queue)
        while index and self._queue[index - 1].created > response.created:
            index -= 1
        self._queue.insert(index, response)
        if len(self._queue) > self.limit:
            self.dropped.append(self._queue.pop(self._victim()))

    def _victim(self) -> int:
        subjects_with_more = {(r.function_set, r.subject.upper()) for r in self._queue if r.status != 1}
        for i, r in enumerate(self._queue):
            if r.status == 1 and (r.function_set, r.subject.upper()) in subjects_with_more:
                return i
        for i, r in enumerate(self._queue):
            if r.status == 1:
                return i
        return 0

    def pending(self) -> list[PendingResponse]:
        """The queued responses, by createdDateTime (then the order they were made)."""
        return list(self._queue)

    def mark_posted(self, response: PendingResponse) -> bool:
        """Forget ``response``: the server accepted it. False if it was not queued (posted already, or dropped)."""
        for i, r in enumerate(self._queue):
            if r.key == response.key:
                del self._queue[i]
                return True
        return False
