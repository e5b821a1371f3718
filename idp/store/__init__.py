"""Persistence: SQLAlchemy models, field encryption and migrations. Knows nothing of HTTP."""
