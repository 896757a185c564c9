"""runs.lease_until: the time an attempt holds its run until (the llm component's sample runs).

A worker that stops mid-run leaves its run `running`; once the lease has
expired, the periodic dispatch sends the run again and the next delivery
takes it over (src/<package>/runs.py of the worker).

Revision ID: llm_0002
Revises: llm_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "llm_0002"
down_revision = "llm_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Several python apis share the database: the first one's revision adds the column.
    columns = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("runs")}
    if "lease_until" not in columns:
        op.add_column("runs", sa.Column("lease_until", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("runs", "lease_until")
