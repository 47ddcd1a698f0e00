"""Subscription/Notification function set (IEEE 2030.5-2018 clause 8.7).

A client subscribes to a resource whose ``subscribable`` attribute allows it by POSTing a Subscription
(to the SubscriptionList its EndDevice links); the server then POSTs a Notification to the subscription's
``notificationURI`` whenever the resource changes. The Notification carries the changed resource in its
``Resource`` element, whose concrete type is named by ``xsi:type`` (for instance a DERControlList).
"""

from __future__ import annotations

from dataclasses import dataclass

from gridhan.schemas.sep2.base import List, Resource, sep
from gridhan.schemas.sep2.types import (
    AnyURI,
    ConditionAttributeType,
    Int48,
    NotificationStatusType,
    String16,
    SubscriptionEncodingType,
    UInt32,
)
from gridhan.schemas.xmlcodec import XmlResource, attr, elem


@sep()
@dataclass(kw_only=True)
class Condition(XmlResource):
    #: 0: the reading value.
    attributeIdentifier: int = elem(ConditionAttributeType)
    lowerThreshold: int = elem(Int48)
    upperThreshold: int = elem(Int48)


@sep()
@dataclass(kw_only=True)
class SubscriptionBase(Resource):
    subscribedResource: str = elem(AnyURI)


@sep()
@dataclass(kw_only=True)
class Subscription(SubscriptionBase):
    Condition: Condition | None = elem(Condition, required=False)
    #: 0 application/sep+xml, 1 application/sep-exi.
    encoding: int = elem(SubscriptionEncodingType)
    #: Schema and extension level, e.g. "+S1".
    level: str = elem(String16)
    #: Most list entries a notification carries (0: a change notice without content).
    limit: int = elem(UInt32)
    notificationURI: str = elem(AnyURI)


@sep()
@dataclass(kw_only=True)
class SubscriptionList(List):
    Subscription: list[Subscription] = elem(Subscription, many=True)
    pollRate: int | None = attr(UInt32)


@sep()
@dataclass(kw_only=True)
class Notification(SubscriptionBase):
    newResourceURI: str | None = elem(AnyURI, required=False)
    #: The changed resource, of any class derived from Resource (written and read with xsi:type).
    Resource: Resource | None = elem(Resource, required=False, polymorphic=True)
    #: 0 default, 1 subscription cancelled, 2 resource moved, 3 definition changed, 4 resource deleted.
    status: int = elem(NotificationStatusType)
    subscriptionURI: str = elem(AnyURI)


@sep()
@dataclass(kw_only=True)
class NotificationList(List):
    Notification: list[Notification] = elem(Notification, many=True)
