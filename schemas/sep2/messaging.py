"""Messaging function set (IEEE 2030.5-2018).

A server publishes MessagingPrograms (one per locale and provider, ordered by primacy); each holds
TextMessage events (the full list and its "active" subset) that displays show for their interval, with a
priority and optionally the name of their originator.
"""

from __future__ import annotations

from dataclasses import dataclass

from gridhan.schemas.sep2.base import ListLink, SubscribableIdentifiedObject, SubscribableList, sep
from gridhan.schemas.sep2.events import Event
from gridhan.schemas.sep2.types import LocaleType, PrimacyType, PriorityType, String, String20, UInt32
from gridhan.schemas.xmlcodec import attr, elem


@sep()
@dataclass(kw_only=True)
class TextMessage(Event):
    originator: str | None = elem(String20, required=False)
    #: 0 low, 1 normal, 2 high, 3 critical.
    priority: int = elem(PriorityType)
    textMessage: str = elem(String)


@sep()
@dataclass(kw_only=True)
class TextMessageList(SubscribableList):
    TextMessage: list[TextMessage] = elem(TextMessage, many=True)


@sep()
@dataclass(kw_only=True)
class MessagingProgram(SubscribableIdentifiedObject):
    ActiveTextMessageListLink: ListLink | None = elem(ListLink, required=False)
    #: RFC 5646 language tag, e.g. "en-US".
    locale: str = elem(LocaleType)
    primacy: int = elem(PrimacyType)
    TextMessageListLink: ListLink | None = elem(ListLink, required=False)


@sep()
@dataclass(kw_only=True)
class MessagingProgramList(SubscribableList):
    MessagingProgram: list[MessagingProgram] = elem(MessagingProgram, many=True)
    pollRate: int | None = attr(UInt32)
