"""Masking of identifiers before they are shown or logged."""

_KEEP_HEAD_18 = 6
_KEEP_TAIL_18 = 4
_MAX_KEEP_OTHER = 2


def mask_identifier(s: str) -> str:
    """Hide the personal part of an identifier while keeping it recognisable.

    An 18-character number keeps its region code and its last four characters, the form
    clerks and users are used to (e.g. 110105********002X). Anything else may be garbage
    or a half-typed number, so it keeps at most two characters at each end, and fewer for
    short input, so that at least half of it is always hidden.
    """
    if len(s) == 18:
        return s[:_KEEP_HEAD_18] + "*" * (18 - _KEEP_HEAD_18 - _KEEP_TAIL_18) + s[-_KEEP_TAIL_18:]
    keep = min(_MAX_KEEP_OTHER, len(s) // 4)
    if keep == 0:
        return "*" * len(s)
    return s[:keep] + "*" * (len(s) - 2 * keep) + s[-keep:]
