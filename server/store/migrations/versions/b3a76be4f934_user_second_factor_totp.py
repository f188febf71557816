"""user second factor (totp)

Revision ID: b3a76be4f934
Revises: c38f0d1d9d4e
Create Date: 2026-11-26 16:40:59.011645
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "b3a76be4f934"
down_revision: str | None = "c38f0d1d9d4e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("totp_secret", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.add_column(
            sa.Column("totp_last_step", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("totp_failures", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("totp_failures")
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_secret")
