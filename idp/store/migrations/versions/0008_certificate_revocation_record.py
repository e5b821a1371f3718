"""certificate revocation record

A revocation records who revoked (operator, client, holder, system) and which one. A holder may
revoke their own certificate (a lost phone) and get a fresh one for the same record version, so
the one-certificate-per-version rule holds for live certificates only.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 23:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

_LIVE = sa.text('revoked_at IS NULL')


def upgrade() -> None:
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revoked_by', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('revoked_by_id', sa.String(length=64), nullable=True))
        batch_op.drop_constraint('uq_certificates_record_version', type_='unique')
        batch_op.create_index(
            'uq_certificates_live_record_version', ['record_id', 'version'], unique=True,
            sqlite_where=_LIVE, postgresql_where=_LIVE,
        )
    # Revocations before this revision: a superseded certificate was the system's doing.
    op.execute(
        "UPDATE certificates SET revoked_by = 'system' "
        "WHERE revoked_at IS NOT NULL AND revoke_reason = 'superseded'"
    )


def downgrade() -> None:
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index('uq_certificates_live_record_version')
        batch_op.create_unique_constraint('uq_certificates_record_version', ['record_id', 'version'])
        batch_op.drop_column('revoked_by_id')
        batch_op.drop_column('revoked_by')
