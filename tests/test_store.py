"""The store on SQLite and PostgreSQL: migrations match the tables, writes are all-or-nothing, deletes
cascade to what hangs off a device and release what an aggregator managed."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select
from sqlmodel import SQLModel

from gridhan.schemas.identifiers import sfdi_from_lfdi
from gridhan.server.store.repo import Conflict, Store
from gridhan.server.store.tables import DeviceGroupRow


def lfdi(n: int) -> str:
    return f"{n:040X}"


async def new_device(store: Store, n: int, **fields: object):
    return await store.create_device(lfdi=lfdi(n), sfdi=sfdi_from_lfdi(lfdi(n)), changed_time=n, **fields)


@pytest.fixture
async def store(database_url: str):
    s = await Store.open(database_url)
    yield s
    await s.close()


async def test_migrations_match_the_tables_and_are_idempotent(empty_database_url: str):
    def diff(connection):
        return compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)

    store = await Store.open(empty_database_url)  # every migration, from an empty database
    try:
        async with store.engine.connect() as conn:
            assert await conn.run_sync(diff) == []
    finally:
        await store.close()
    again = await Store.open(empty_database_url)  # a second start finds the schema current
    await again.close()


async def test_duplicate_lfdi_is_a_conflict_and_stores_nothing(store: Store):
    await new_device(store, 1)
    with pytest.raises(Conflict, match=lfdi(1)):
        await new_device(store, 1)
    assert (await store.devices_in_scope(None, 0, 10)).total == 1


async def test_group_membership_is_replaced_all_or_nothing(store: Store):
    a, b = await new_device(store, 1), await new_device(store, 2)
    group = await store.create_group(name="g", mrid="AB" * 16)
    await store.set_group_members(group.id, [a.id])
    version = (await store.group(group.id)).version
    with pytest.raises(KeyError, match="no device with id 999"):
        await store.set_group_members(group.id, [b.id, 999])
    assert await store.group_member_ids(group.id) == [a.id]
    assert (await store.group(group.id)).version == version
    await store.set_group_members(group.id, [a.id, b.id])
    assert await store.group_member_ids(group.id) == sorted([a.id, b.id])
    assert (await store.group(group.id)).version == version + 1


async def test_deleting_a_device_removes_what_hangs_off_it(store: Store):
    agg = await new_device(store, 10, is_aggregator=True)
    managed = await new_device(store, 11, aggregator_id=agg.id)
    group = await store.create_group(name="g", mrid="CD" * 16)
    await store.set_group_members(group.id, [managed.id])
    await store.put_record(managed.id, "DeviceStatus", b"<DeviceStatus/>", 5)
    await store.add_log_event(managed.id, created_date_time=1, function_set=0, log_event_code=0, log_event_id=1,
                              log_event_pen=1, profile_id=0, received_time=2)  # fmt: skip
    assert await store.delete_device(managed.id)
    assert await store.group_member_ids(group.id) == []
    assert await store.latest_record(managed.id, "DeviceStatus") is None
    assert (await store.log_events(managed.id, 0, 10)).total == 0
    # deleting an aggregator releases the devices it managed; they are not deleted with it
    other = await new_device(store, 12, aggregator_id=agg.id)
    assert await store.delete_device(agg.id)
    survivor = await store.device(other.id)
    assert survivor is not None and survivor.aggregator_id is None


async def test_read_cache_follows_every_kind_of_write(store: Store):
    """Cached EndDevice rows and link counts never outlive a committed change: ORM writes drop the
    entries they touch; bulk statements and cascades drop everything."""
    dev = await new_device(store, 1)
    assert (await store.device(dev.id)).label is None
    assert await store.device(dev.id) is await store.device(dev.id)  # served from the cache
    await store.update_device(dev.id, label="kitchen")
    assert (await store.device(dev.id)).label == "kitchen"

    assert await store.link_counts([dev.id]) == {dev.id: (0, 0)}
    await store.add_log_event(dev.id, created_date_time=1, function_set=0, log_event_code=0, log_event_id=1,
                              log_event_pen=1, profile_id=0, received_time=2)  # fmt: skip
    assert await store.link_counts([dev.id]) == {dev.id: (0, 1)}
    group = await store.create_group(name="g", mrid="EF" * 16)
    await store.set_group_members(group.id, [dev.id])
    assert await store.link_counts([dev.id]) == {dev.id: (1, 1)}
    assert await store.delete_group(group.id)  # the membership goes by database cascade
    assert await store.link_counts([dev.id]) == {dev.id: (0, 1)}
    assert await store.delete_device(dev.id)
    assert await store.device(dev.id) is None


async def test_derived_values_are_dropped_by_writes_to_the_tables_they_read(store: Store):
    """A value derived from whole tables (a list link's ``all``) is served from the cache until one of its
    tables is written; writes elsewhere keep it; any deletion (which may cascade) drops it."""
    loads: list[int] = []

    async def count_groups() -> int:
        loads.append(1)
        async with store.session() as s:
            return (await s.execute(select(func.count()).select_from(DeviceGroupRow))).scalar_one()

    def groups() -> object:
        return store.derived(("groups",), (DeviceGroupRow,), count_groups)

    assert (await groups(), await groups(), len(loads)) == (0, 0, 1)
    group = await store.create_group(name="g", mrid="AB" * 16)
    assert (await groups(), len(loads)) == (1, 2)
    dev = await new_device(store, 3)  # another table: the value stays
    await store.update_device(dev.id, label="porch")
    assert (await groups(), len(loads)) == (1, 2)
    await store.delete_device(dev.id)  # a deletion anywhere: recomputed
    assert (await groups(), len(loads)) == (1, 3)
    assert await store.delete_group(group.id)
    assert (await groups(), len(loads)) == (0, 4)


async def test_read_cache_does_not_keep_a_read_that_raced_a_commit(store: Store):
    dev = await new_device(store, 2)
    generation = store.cache.generation
    await store.update_device(dev.id, label="new")  # commits while an older read is in flight
    store.cache.put(store.cache.devices, dev.id, dev, generation)
    assert (await store.device(dev.id)).label == "new"


async def test_event_watermarks_survive_the_upgrade_to_per_function_set_keys(empty_database_url: str):
    """Migration 0010 carries the DERProgram watermarks of ``event_boundary`` over to ``event_watermark``
    (keyed by function set and program), so no event boundary is notified twice or skipped; its downgrade
    gives them back."""
    from alembic import command
    from sqlalchemy import text

    from gridhan.server.store.db import alembic_config, create_engine, migrate

    def downgrade(connection, revision: str) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)

    engine = create_engine(empty_database_url)
    try:
        await migrate(engine, "0005")
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO device_group (id, name, mrid, version) VALUES (1, 'g', 'A1', 0)"))
            await conn.execute(
                text(
                    "INSERT INTO der_program (id, group_id, mrid, primacy, version, created_time) "
                    "VALUES (7, 1, 'B7', 1, 0, 100)"
                )
            )
            await conn.execute(text("INSERT INTO event_boundary (program_id, notified_until) VALUES (7, 4242)"))
        await migrate(engine)
        async with engine.connect() as conn:
            rows = (
                await conn.execute(text("SELECT function_set, program_id, notified_until FROM event_watermark"))
            ).all()
        assert [tuple(r) for r in rows] == [("der", 7, 4242)]
        async with engine.begin() as conn:
            await conn.run_sync(downgrade, "0005")
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT program_id, notified_until FROM event_boundary"))).all()
        assert [tuple(r) for r in rows] == [(7, 4242)]
    finally:
        await engine.dispose()
