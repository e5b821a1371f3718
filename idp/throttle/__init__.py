"""Throttling password sign-in without handing out a denial of service (issue 11).

``counters`` is the interface (one atomic statement per change), ``table`` and ``redis_counters``
its two backends, ``keys`` what a counter is about, and ``policy`` the rules: a growing delay per
account and client address, a looser one per account, and a cap per client address, all decided
before a password is hashed.
"""
