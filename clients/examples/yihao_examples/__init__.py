"""Reference relying services: what a government service needs to adopt Yihao in an afternoon.

Each app uses only the SDK (``yihao``) and the provider's public endpoints; nothing here imports
the provider. Run them all with ``make demo``.
"""
