"""exchange policies

Token exchange (RFC 8693): ``exchange_policies`` (which client may exchange for which audience
and scopes), and on the tokens the audience, the ``act`` chain and the kept ``sub`` of an
exchanged token.

Revision ID: 0022
Revises: 0018_dpop
Create Date: 2026-12-04 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'exchange_policies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.String(length=64), nullable=False),
        sa.Column('audience', sa.String(length=255), nullable=False),
        sa.Column('scopes', sa.String(length=500), nullable=False),
        sa.Column('created_by', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_policies')),
        sa.UniqueConstraint(
            'client_id', 'audience', name=op.f('uq_exchange_policies_client_id')
        ),
    )
    with op.batch_alter_table('exchange_policies', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_exchange_policies_client_id'), ['client_id'], unique=False
        )
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('audience', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('act', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('subject', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.drop_column('subject')
        batch_op.drop_column('act')
        batch_op.drop_column('audience')
    with op.batch_alter_table('exchange_policies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exchange_policies_client_id'))
    op.drop_table('exchange_policies')
