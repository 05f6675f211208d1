"""Provider name -> its module (pbx/crm/base.py's convention: PROVIDER, DEFAULT_BASE_URL,
REQUIRED_CREDENTIALS, connect). Salesforce and Dynamics are registered when their modules
are present; until then a tenant cannot choose them (422)."""
from __future__ import annotations

import importlib
from types import ModuleType

from pbx.crm import hubspot, zoho
from pbx.domain.errors import FeatureNotInPlan

# KOBİ has the basic CRMs; the advanced ones are Enterprise's (the contract's CRM section).
ENTERPRISE_ONLY = frozenset({"salesforce", "dynamics"})
KNOWN = ("hubspot", "zoho", "salesforce", "dynamics")


def check_plan(plan: str, provider: str) -> None:
    """KOBİ has HubSpot and Zoho; Enterprise adds Salesforce and Dynamics; Girişimci has none."""
    if plan == "girisimci":
        raise FeatureNotInPlan("CRM integration is not part of the girisimci plan")
    if provider in ENTERPRISE_ONLY and plan != "enterprise":
        raise FeatureNotInPlan(f"{provider} needs the enterprise plan")


def plan_allows(plan: str, provider: str) -> bool:
    try:
        check_plan(plan, provider)
    except FeatureNotInPlan:
        return False
    return True


def _optional(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(f"pbx.crm.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"pbx.crm.{name}":
            raise  # the module is there but something it needs is not: that is a bug, not "absent"
        return None


def registry() -> dict[str, ModuleType]:
    """Built once by the composition root (no work at import time)."""
    modules = {hubspot.PROVIDER: hubspot, zoho.PROVIDER: zoho}
    for name in ("salesforce", "dynamics"):
        module = _optional(name)
        if module is not None:
            modules[module.PROVIDER] = module
    return modules
