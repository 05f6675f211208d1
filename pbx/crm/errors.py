"""A CRM that answers something other than what its documentation promises."""
from __future__ import annotations


class CrmError(Exception):
    pass
