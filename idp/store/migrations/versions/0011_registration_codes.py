"""self-registration: registry mobile numbers, one-time codes, the SMS outbox

The population registry keeps the mobile number on record (encrypted, apart from the certificate
data); one-time codes (SMS and counter activation codes) are stored as keyed digests; the
development SMS outbox holds what a gateway would have sent.

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-02 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('registry_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mobile_cipher', sa.LargeBinary(), nullable=True))
    op.create_table('one_time_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('subject_index', sa.String(length=64), nullable=False),
    sa.Column('address_index', sa.String(length=64), nullable=True),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_one_time_codes'))
    )
    with op.batch_alter_table('one_time_codes', schema=None) as batch_op:
        batch_op.create_index('ix_one_time_codes_subject', ['subject_index', 'purpose', 'channel'], unique=False)
        batch_op.create_index('ix_one_time_codes_address', ['address_index', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_one_time_codes_expires_at'), ['expires_at'], unique=False)
    op.create_table('sms_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mobile_index', sa.String(length=64), nullable=False),
    sa.Column('mobile_masked', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_outbox'))
    )
    with op.batch_alter_table('sms_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sms_outbox_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sms_outbox_mobile_index'), ['mobile_index'], unique=False)


def downgrade() -> None:
    op.drop_table('sms_outbox')
    op.drop_table('one_time_codes')
    with op.batch_alter_table('registry_records', schema=None) as batch_op:
        batch_op.drop_column('mobile_cipher')
