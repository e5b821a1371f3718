"""What an operator watches: Prometheus metrics and the JSON log lines.

Every other package may import this one; it imports nothing of ours, so counting a sign-in or a
token never drags the protocol or the web layer into the store or the key code.
"""
