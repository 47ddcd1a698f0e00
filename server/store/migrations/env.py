"""Alembic environment: runs on the connection :func:`gridhan.server.store.db.migrate` hands over."""

from alembic import context
from sqlmodel import SQLModel

from gridhan.server.store import tables  # noqa: F401  (registers the tables in the metadata)

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through gridhan.server.store.db.migrate()")
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
