"""key withdrawal

A signing key can be withdrawn (compromised): ``withdrawn_at`` on the signing keys. A withdrawn
key leaves the JWKS at once, never signs, and tokens it signed are refused.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('signing_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('signing_keys', schema=None) as batch_op:
        batch_op.drop_column('withdrawn_at')
