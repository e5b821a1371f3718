"""The authorization interaction (RFC 6749 3.1, OIDC Core 3.1.2) as a named list of steps.

``pipeline.STEPS`` runs in order over one typed ``Interaction`` (``state.py``); each step either
lets the request through or stops it with what has to happen next: a page the person must see
(sign in, choose an enterprise, consent), an error page, or the response to the client. The pages
(``idp/web/authorize.py``) record the person's answer on the interaction (``answers.py``) and
resume it, and the steps run again from the top: a rule checked once per run has one home.
"""
