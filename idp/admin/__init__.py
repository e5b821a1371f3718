"""What operators do, one function per task, shared by the admin API and the admin console.

Each task is a function over an ``Operator`` (``roles.py``) that checks its permission first
(``roles.needs``), does the change, and records it (``actions.record``) in the same transaction,
so that no door (API, console, a future one) can skip the check or the record. Functions raise
``errors.AdminError``; the web layer turns that into RFC 9457 problem details or a page.
Depends on ``store``, ``oauth``, ``auth``, ``credentials`` and ``keys``; knows nothing of HTTP.
"""
