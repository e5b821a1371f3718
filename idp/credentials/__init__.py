"""Electronic certificates (电子证照): registries in, signed QR credentials and status lists out.

The wire format itself lives in the SDK (``yihao.wire``); this package decides what to issue, to
whom, and records it.
"""
