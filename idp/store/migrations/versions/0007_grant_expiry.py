"""tokens.grant_expires_at: a grant's absolute end

Each rotated refresh token started a fresh IDP_REFRESH_TOKEN_TTL, so a grant refreshed regularly
never ended. Every token now carries its grant's end, fixed when the code is redeemed. Existing
tokens get the end their grant reaches today without another rotation: their refresh token's
expiry, or the access token's for a token without one.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 23:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('grant_expires_at', sa.Integer(), nullable=True))
    op.execute(
        'UPDATE tokens SET grant_expires_at = COALESCE(refresh_expires_at, issued_at + expires_in)'
    )
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.alter_column('grant_expires_at', existing_type=sa.Integer(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.drop_column('grant_expires_at')
