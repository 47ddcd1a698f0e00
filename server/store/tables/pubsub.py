"""Subscription/Notification tables (IEEE 2030.5-2018 clause 8.7): the Subscriptions devices POST to their
EndDevice's SubscriptionList, the transactional outbox of Notifications waiting to be POSTed to them, and the
watermark up to which each program's event boundaries (EventStatus changes at a control's start and end,
clause 10.2.3) have been turned into notifications.

A notification row is written in the same transaction as the change it reports (see
:mod:`gridhan.server.notify.outbox`) and is self-contained (it copies the addresses it needs from its
subscription), so a notification about a subscription that no longer exists (status 4, "resource deleted")
can still be delivered.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, ForeignKey, Index, Integer, String, Text
from sqlmodel import Field, SQLModel


class SubscriptionRow(SQLModel, table=True):
    """A Subscription (8.7.3.1) held in the SubscriptionList of one EndDevice (``/edev/{device_id}/sub``).

    Notifications carry what a GET of ``subscribed_resource`` by that EndDevice would give.
    """

    __tablename__ = "subscription"

    id: int | None = Field(default=None, primary_key=True)
    #: The EndDevice whose SubscriptionList holds it; deleting the device deletes its subscriptions.
    device_id: int = Field(
        sa_column=Column(Integer, ForeignKey("end_device.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    #: Subscription.subscribedResource: the path of the resource (query string dropped, 8.7 / sep.xsd).
    subscribed_resource: str = Field(sa_column=Column(String(255), nullable=False, index=True))
    #: What change of the store reaches this subscription (see gridhan.server.notify.topics).
    topic: str = Field(sa_column=Column(String(255), nullable=False, index=True))
    #: Subscription.encoding (0: application/sep+xml), level ("+S1"), limit.
    encoding: int = 0
    level: str = Field(sa_column=Column(String(16), nullable=False))
    item_limit: int = Field(sa_column=Column(BigInteger, nullable=False))
    #: Subscription.notificationURI: absolute (https, or http to loopback when the operator allows it).
    notification_uri: str = Field(sa_column=Column(Text, nullable=False))
    #: scheme://host[:port] the device reached this server at: subscriptionURI is this plus the href.
    origin: str = Field(sa_column=Column(String(255), nullable=False))
    created_time: int = Field(sa_column=Column(BigInteger, nullable=False))
    #: SHA-256 (hex) of the representation last sent (or seen when subscribing): a change that leaves the
    #: representation as it was is not notified again.
    last_digest: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))


class NotificationRow(SQLModel, table=True):
    """One Notification (8.7.3.2) to deliver: the outbox. ``state`` is pending until a delivery succeeds
    (delivered), the attempts run out or the subscriber refused it for good (failed), or there is nothing
    left to deliver (cancelled: the subscription was deleted or its EndDevice revoked). Times in this table
    are wall-clock seconds (delivery machinery, not protocol time)."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_state_next", "state", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    #: NULL once the subscription is gone (its last notification, status 1 or 4, is still delivered).
    subscription_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("subscription.id", ondelete="SET NULL"), nullable=True, index=True),
    )
    #: The EndDevice whose subscription it is (kept after the device is deleted, for the operator).
    device_id: int = Field(sa_column=Column(Integer, nullable=False, index=True))
    subscribed_resource: str = Field(sa_column=Column(String(255), nullable=False))
    #: Notification.subscriptionURI (absolute).
    subscription_uri: str = Field(sa_column=Column(Text, nullable=False))
    notification_uri: str = Field(sa_column=Column(Text, nullable=False))
    item_limit: int = Field(sa_column=Column(BigInteger, nullable=False))
    #: Notification.status: 0 default, 1 subscription cancelled, 4 subscription cancelled (resource deleted).
    status: int = 0
    #: pending, delivered, failed or cancelled.
    state: str = Field(sa_column=Column(String(16), nullable=False))
    attempts: int = 0
    enqueued_at: float = Field(sa_column=Column(Float, nullable=False))
    next_attempt_at: float = Field(sa_column=Column(Float, nullable=False))
    #: The claim of the delivery worker holding the row, and when that claim lapses.
    claimed_by: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    claim_expires_at: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    delivered_at: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    last_http_status: int | None = None
    last_error: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))


class EventWatermarkRow(SQLModel, table=True):
    """Up to which server time (TimeType) the event boundaries of one program of an event-bearing function set
    (``function_set``: a family of :mod:`gridhan.server.notify.families`, e.g. ``der``, ``drlc``) have been
    notified. Programs of several tables share it, so it holds no foreign key: the outbox deletes a program's
    watermark in the transaction that deletes the program."""

    __tablename__ = "event_watermark"

    function_set: str = Field(sa_column=Column(String(16), primary_key=True))
    program_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    notified_until: int = Field(sa_column=Column(BigInteger, nullable=False))


__all__ = ["EventWatermarkRow", "NotificationRow", "SubscriptionRow"]
