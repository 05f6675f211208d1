"""Provider name -> its module (pbx/crm/base.py's convention: PROVIDER, DEFAULT_BASE_URL,
REQUIRED_CREDENTIALS, connect), and which plan may use which."""
from __future__ import annotations

from types import ModuleType

from pbx.crm import dynamics, hubspot, salesforce, zoho
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


def registry() -> dict[str, ModuleType]:
    """Built once by the composition root (no work at import time)."""
    return {module.PROVIDER: module for module in (hubspot, zoho, salesforce, dynamics)}
