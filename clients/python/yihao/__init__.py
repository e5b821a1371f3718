"""Yihao client SDK.

``yihao.wire`` is the one implementation of the e-certificate format (the provider imports it);
``yihao.verifier`` checks a QR offline; ``yihao.holder`` presents a credential the way the wallet
page does.
"""
