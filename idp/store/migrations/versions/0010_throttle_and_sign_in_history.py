"""throttling counters and sign-in history

Failures are counted in throttle_counters by one atomic statement each (idp.throttle) instead of
the persons row's failed_logins / locked_until, which were read, hashed over, then overwritten
(racy) and locked the owner out (a weapon): both columns go. sign_in_history holds what the
account page shows.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 14:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('throttle_counters',
    sa.Column('key', sa.String(length=160), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('last_ms', sa.BigInteger(), nullable=False),
    sa.Column('expires_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_throttle_counters'))
    )
    with op.batch_alter_table('throttle_counters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_throttle_counters_expires_ms'), ['expires_ms'], unique=False)
    op.create_table('sign_in_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('method', sa.String(length=24), nullable=False),
    sa.Column('result', sa.String(length=24), nullable=False),
    sa.Column('address_masked', sa.String(length=64), nullable=False),
    sa.Column('address_digest', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_sign_in_history_person_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_history'))
    )
    with op.batch_alter_table('sign_in_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_history_at'), ['at'], unique=False)
        batch_op.create_index('ix_sign_in_history_person_at', ['person_id', 'at'], unique=False)
    # Not a batch (copy and drop) on SQLite: dropping persons would break the foreign keys of
    # every row pointing at it. Both databases drop a plain column in place (SQLite >= 3.35).
    op.drop_column('persons', 'locked_until')
    op.drop_column('persons', 'failed_logins')


def downgrade() -> None:
    op.add_column('persons', sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False))
    op.add_column('persons', sa.Column('locked_until', sa.DateTime(), nullable=True))
    op.drop_table('sign_in_history')
    op.drop_table('throttle_counters')
