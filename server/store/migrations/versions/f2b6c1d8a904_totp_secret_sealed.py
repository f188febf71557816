"""TOTP keys sealed at rest: the column holds a Fernet token now

Revision ID: f2b6c1d8a904
Revises: e5d1a7c40b92
Create Date: 2026-12-03 19:40:00.000000

`user.totp_secret` widens from 64 to 255 characters for the sealed form
(server/privacy/sealed.py). Keys stored before stay as they are and are read
as they are; each is sealed at its owner's next login with a code (the key
to seal with is the server's secret, which a migration does not see).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f2b6c1d8a904"
down_revision: str | None = "e5d1a7c40b92"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.alter_column(
            "totp_secret",
            existing_type=sa.String(length=64),
            type_=sa.String(length=255),
            existing_nullable=True,
        )


def downgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.alter_column(
            "totp_secret",
            existing_type=sa.String(length=255),
            type_=sa.String(length=64),
            existing_nullable=True,
        )
