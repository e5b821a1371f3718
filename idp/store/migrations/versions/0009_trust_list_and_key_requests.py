"""trust list signing and offline key requests

The trust list is signed by a key of its own (a purpose on the signing keys' table), numbered by
a sequence that only grows (trust_list_versions), and keys can wait for an offline root's
certificate (credential_key_requests).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 23:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('credential_issuer_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', sa.String(length=16), server_default='issuer', nullable=False))
        batch_op.create_index(batch_op.f('ix_credential_issuer_keys_purpose'), ['purpose'], unique=False)
    op.create_table('credential_key_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('private_cipher', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credential_key_requests')),
    sa.UniqueConstraint('purpose', name=op.f('uq_credential_key_requests_purpose'))
    )
    op.create_table('trust_list_versions',
    sa.Column('sequence', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('sequence', name=op.f('pk_trust_list_versions'))
    )


def downgrade() -> None:
    op.drop_table('trust_list_versions')
    op.drop_table('credential_key_requests')
    with op.batch_alter_table('credential_issuer_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credential_issuer_keys_purpose'))
        batch_op.drop_column('purpose')
