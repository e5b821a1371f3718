"""dpop

A token can be bound to a DPoP key (RFC 9449): ``dpop_jkt`` on the tokens, the RFC 7638
thumbprint of the key whose proofs must accompany it.

Revision ID: 0018_dpop
Revises: 0016
Create Date: 2026-12-03 15:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0018_dpop'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dpop_jkt', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.drop_column('dpop_jkt')
