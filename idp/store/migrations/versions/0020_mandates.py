"""mandates

Agents (经办人): ``mandates`` lets a person act for an enterprise besides its legal
representative; codes, tokens and releases name the mandate they came from, so withdrawing one
revokes exactly its tokens and the enterprise sees which agent acted.

Revision ID: 0020
Revises: 0018_dpop
Create Date: 2026-12-04 19:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

_NAMED = ('authorization_codes', 'tokens', 'releases')


def upgrade() -> None:
    op.create_table(
        'mandates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('public_id', sa.String(length=32), nullable=False),
        sa.Column('enterprise_id', sa.Integer(), nullable=False),
        sa.Column('agent_id', sa.Integer(), nullable=False),
        sa.Column('granted_by_id', sa.Integer(), nullable=False),
        sa.Column('scopes', sa.String(length=500), nullable=False),
        sa.Column('client_ids', sa.Text(), nullable=True),
        sa.Column('valid_until', sa.DateTime(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('withdrawn_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['agent_id'], ['persons.id'], name=op.f('fk_mandates_agent_id_persons')),
        sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_mandates_enterprise_id_enterprises')),
        sa.ForeignKeyConstraint(['granted_by_id'], ['persons.id'], name=op.f('fk_mandates_granted_by_id_persons')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mandates')),
        sa.UniqueConstraint('public_id', name=op.f('uq_mandates_public_id')),
    )
    with op.batch_alter_table('mandates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mandates_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mandates_enterprise_id'), ['enterprise_id'], unique=False)
    for table in _NAMED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('mandate_id', sa.Integer(), nullable=True))
            batch_op.create_foreign_key(
                batch_op.f(f'fk_{table}_mandate_id_mandates'), 'mandates', ['mandate_id'], ['id']
            )
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tokens_mandate_id'), ['mandate_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tokens_mandate_id'))
    for table in reversed(_NAMED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'fk_{table}_mandate_id_mandates'), type_='foreignkey')
            batch_op.drop_column('mandate_id')
    with op.batch_alter_table('mandates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mandates_enterprise_id'))
        batch_op.drop_index(batch_op.f('ix_mandates_agent_id'))
    op.drop_table('mandates')
