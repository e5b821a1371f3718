"""Alembic environment: the target metadata is the models' own, the URL comes from the caller."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from idp.store import models  # noqa: F401  (registers the tables)
from idp.store.db import db

config = context.config
target_metadata = db.metadata


def run() -> None:
    engine = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
