"""Event-boundary watermarks for every event-bearing function set: keyed by function set and program
(DER and DRLC programs, IEEE 2030.5-2018 clauses 10.10 and 10.3), replacing the DERProgram-only table

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_watermark",
        sa.Column("function_set", sa.String(length=16), nullable=False),
        sa.Column("program_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("notified_until", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("function_set", "program_id"),
    )
    # the DER watermarks carry over: no boundary is notified twice or skipped by the upgrade
    op.execute(
        "INSERT INTO event_watermark (function_set, program_id, notified_until) "
        "SELECT 'der', program_id, notified_until FROM event_boundary"
    )
    op.drop_table("event_boundary")


def downgrade() -> None:
    op.create_table(
        "event_boundary",
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("notified_until", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["program_id"], ["der_program.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("program_id"),
    )
    op.execute(
        "INSERT INTO event_boundary (program_id, notified_until) "
        "SELECT program_id, notified_until FROM event_watermark "
        "WHERE function_set = 'der' AND program_id IN (SELECT id FROM der_program)"
    )
    op.drop_table("event_watermark")
