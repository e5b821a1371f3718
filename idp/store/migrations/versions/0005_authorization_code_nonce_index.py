"""authorization code nonce index

Every authorization request carrying a nonce checks that no code of the same client holds it
(OIDC Core 3.1.2.1); without an index that check read the whole table, which grows with every
sign-in.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 13:30:00
"""

from __future__ import annotations

from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('authorization_codes', schema=None) as batch_op:
        batch_op.create_index('ix_authorization_codes_client_nonce', ['client_id', 'nonce'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('authorization_codes', schema=None) as batch_op:
        batch_op.drop_index('ix_authorization_codes_client_nonce')
