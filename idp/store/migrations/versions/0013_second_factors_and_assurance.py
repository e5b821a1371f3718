"""second factors and levels of assurance

TOTP secrets (encrypted) and recovery codes (keyed digests); the session's acr and amr carried by
authorization codes and tokens (and the sid by tokens), so ID tokens from a code and from a
refresh say how the person signed in; a client's minimum level.

Codes and tokens made before this revision were all password sign-ins: they get amr "pwd".

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 14:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

_PASSWORD = {'acr': 'urn:yihao:acr:password', 'amr': 'pwd'}


def upgrade() -> None:
    op.create_table('totp_factors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('secret_cipher', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(), nullable=True),
    sa.Column('last_step', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_totp_factors_person_id_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_totp_factors')),
    sa.UniqueConstraint('person_id', name=op.f('uq_totp_factors_person_id'))
    )
    op.create_table('recovery_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_recovery_codes_person_id_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_codes')),
    sa.UniqueConstraint('digest', name=op.f('uq_recovery_codes_digest'))
    )
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_codes_person_id'), ['person_id'], unique=False)
    for table in ('authorization_codes', 'tokens'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('acr', sa.String(length=64), nullable=True))
            batch_op.add_column(sa.Column('amr', sa.String(length=64), nullable=True))
        rows = sa.table(table, sa.column('person_id'), sa.column('acr'), sa.column('amr'))
        op.execute(rows.update().where(rows.c.person_id.isnot(None)).values(**_PASSWORD))
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_id', sa.String(length=32), nullable=True))
    op.execute(
        'UPDATE tokens SET session_id = (SELECT c.session_id FROM authorization_codes c'
        ' WHERE c.grant_id = tokens.grant_id AND c.session_id IS NOT NULL LIMIT 1)'
    )
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('minimum_acr', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_column('minimum_acr')
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.drop_column('session_id')
    for table in ('tokens', 'authorization_codes'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('amr')
            batch_op.drop_column('acr')
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_codes_person_id'))
    op.drop_table('recovery_codes')
    op.drop_table('totp_factors')
