"""projector link generation; focus-area descriptions shown without case access

Revision ID: e5d1a7c40b92
Revises: 6620b1ccc808
Create Date: 2026-12-04 10:00:00.000000

`session.projector_generation` is signed into every projector link; the
facilitator's "Revoke projector links" counts it up. `focus_area.description_public`
is the coordinator's choice whether a description may be shown to observers
and consultation respondents; NULL (every existing row) is undecided: an
area written by hand keeps showing its description, one proposed from a case
meeting's theme (its cards) is hidden (`FocusArea.description_shared`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e5d1a7c40b92"
down_revision: str | None = "6620b1ccc808"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("session", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("projector_generation", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("focus_area", schema=None) as batch_op:
        batch_op.add_column(sa.Column("description_public", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("focus_area", schema=None) as batch_op:
        batch_op.drop_column("description_public")
    with op.batch_alter_table("session", schema=None) as batch_op:
        batch_op.drop_column("projector_generation")
