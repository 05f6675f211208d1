"""Plans (tenant packages) from the knowledge base: pure data and rules."""
from __future__ import annotations

from dataclasses import dataclass

from pbx.domain.errors import FeatureNotInPlan, PlanLimit


@dataclass(frozen=True)
class Plan:
    code: str
    included_extensions: int | None  # None = unlimited
    recording_retention_days: int | None  # None = no recording
    schedules: bool
    nested_ivr: bool
    detailed_reports: bool

    @property
    def recording(self) -> bool:
        return self.recording_retention_days is not None


PLANS: dict[str, Plan] = {
    "girisimci": Plan("girisimci", 5, None, schedules=False, nested_ivr=False, detailed_reports=False),
    "kobi": Plan("kobi", 20, 30, schedules=True, nested_ivr=False, detailed_reports=True),
    "enterprise": Plan("enterprise", None, 365, schedules=True, nested_ivr=True, detailed_reports=True),
}


def extension_limit(plan: Plan, extra_extensions: int) -> int | None:
    if plan.included_extensions is None:
        return None
    return plan.included_extensions + extra_extensions


def check_extension_quota(plan: Plan, extra_extensions: int, current_count: int) -> None:
    limit = extension_limit(plan, extra_extensions)
    if limit is not None and current_count >= limit:
        raise PlanLimit(f"the {plan.code} plan allows {limit} extensions; this tenant has {current_count}")


_FEATURES = {"recording": "call recording is", "schedules": "schedules are",
             "nested_ivr": "menus that lead to other menus are", "detailed_reports": "detailed reports are"}


def require_feature(plan: Plan, feature: str) -> None:
    """FeatureNotInPlan (403) unless the plan has it; feature is a Plan attribute."""
    if not getattr(plan, feature):
        raise FeatureNotInPlan(f"{_FEATURES[feature]} not part of the {plan.code} plan")
