"""Notifications of the Subscription/Notification function set (IEEE 2030.5-2018 clause 8.7): the
transactional outbox, the delivery workers and the event-boundary scheduler."""
