"""dynamic client registration

RFC 7591 initial access tokens (digests, expiry, uses left) and, on clients, the digest of the
RFC 7592 registration access token.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('initial_access_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('issued_by', sa.String(length=200), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('uses_left', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_initial_access_tokens')),
    sa.UniqueConstraint('digest', name=op.f('uq_initial_access_tokens_digest'))
    )
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('registration_token_digest', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_clients_registration_token_digest'), ['registration_token_digest'])


def downgrade() -> None:
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_clients_registration_token_digest'), type_='unique')
        batch_op.drop_column('registration_token_digest')
    op.drop_table('initial_access_tokens')
