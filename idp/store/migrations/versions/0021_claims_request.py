"""claims request

The ``claims`` request parameter (OIDC Core 5.5), checked and normalised, kept on the
authorization code and on every token of its grant, so UserInfo answers what was asked for
(verified claims, OpenID Connect for Identity Assurance 1.0).

Revision ID: 0021
Revises: 0018_dpop
Create Date: 2026-12-04 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ('authorization_codes', 'tokens'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('claims_request', sa.Text(), nullable=True))


def downgrade() -> None:
    for table in ('tokens', 'authorization_codes'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('claims_request')
