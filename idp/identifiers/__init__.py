"""Validation and decoding of Chinese identity numbers and organisation codes.

Pure functions over python-stdnum, kept free of Flask and the database so that every
layer (forms, API, import jobs) applies exactly the same rules.
"""

from .errors import InvalidIdentifier, Reason
from .gb2260 import region_name
from .gb11643 import (
    DocumentType,
    ResidentId,
    Sex,
    normalise_resident_id,
    parse_resident_id,
    upgrade_legacy_15,
)
from .gb32100 import Uscc, parse_uscc
from .iso7064 import mod_11_2_check_character, mod_37_36_check_character
from .masking import mask_identifier
from .mobile import mask_mobile, parse_mobile
from .names import same_name

__all__ = [
    "DocumentType",
    "InvalidIdentifier",
    "Reason",
    "ResidentId",
    "Sex",
    "Uscc",
    "mask_identifier",
    "mask_mobile",
    "mod_11_2_check_character",
    "mod_37_36_check_character",
    "normalise_resident_id",
    "parse_mobile",
    "parse_resident_id",
    "parse_uscc",
    "region_name",
    "same_name",
    "upgrade_legacy_15",
]
