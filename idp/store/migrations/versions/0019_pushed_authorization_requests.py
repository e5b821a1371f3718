"""pushed authorization requests

Pushed authorization requests (RFC 9126): the table of pushed requests, keyed by a digest of
their request_uri; clients' ``require_pushed_authorization_requests`` (RFC 9126 6) and their
security ``profile`` (FAPI 2.0).

Revision ID: 0019
Revises: 0018_dpop
Create Date: 2026-12-04 19:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0019'
down_revision = '0018_dpop'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'pushed_authorization_requests',
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('client_id', sa.String(length=64), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('expires_at', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('digest', name=op.f('pk_pushed_authorization_requests')),
    )
    with op.batch_alter_table('pushed_authorization_requests', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_pushed_authorization_requests_expires_at'), ['expires_at'], unique=False
        )
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'require_pushed_authorization_requests',
                sa.Boolean(),
                server_default=sa.false(),
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column('profile', sa.String(length=16), server_default='', nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_column('profile')
        batch_op.drop_column('require_pushed_authorization_requests')
    with op.batch_alter_table('pushed_authorization_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pushed_authorization_requests_expires_at'))
    op.drop_table('pushed_authorization_requests')
