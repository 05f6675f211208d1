import pytest

from pbx.domain.errors import FeatureNotInPlan, PlanLimit
from pbx.domain.plans import PLANS, check_extension_quota, extension_limit, require_feature


@pytest.mark.parametrize("plan, extra, limit", [
    ("girisimci", 0, 5), ("girisimci", 1, 6), ("kobi", 0, 20), ("kobi", 5, 25),
    ("enterprise", 0, None), ("enterprise", 10, None),
])
def test_extension_limit(plan, extra, limit):
    assert extension_limit(PLANS[plan], extra) == limit


def test_quota_allows_up_to_the_limit_and_no_further():
    check_extension_quota(PLANS["girisimci"], 0, 4)
    with pytest.raises(PlanLimit):
        check_extension_quota(PLANS["girisimci"], 0, 5)
    check_extension_quota(PLANS["girisimci"], 1, 5)
    check_extension_quota(PLANS["enterprise"], 0, 10**6)


def test_recording_and_retention_per_plan():
    with pytest.raises(FeatureNotInPlan):
        require_feature(PLANS["girisimci"], "recording")
    require_feature(PLANS["kobi"], "recording")
    assert [PLANS[p].recording_retention_days for p in ("girisimci", "kobi", "enterprise")] == [None, 30, 365]
    assert [PLANS[p].nested_ivr for p in ("girisimci", "kobi", "enterprise")] == [False, False, True]
    assert [PLANS[p].schedules for p in ("girisimci", "kobi", "enterprise")] == [False, True, True]


@pytest.mark.parametrize("feature", ["recording", "schedules", "nested_ivr", "detailed_reports"])
def test_every_gated_feature_is_refused_on_girisimci_and_named(feature):
    with pytest.raises(FeatureNotInPlan, match="not part of the girisimci plan"):
        require_feature(PLANS["girisimci"], feature)
    require_feature(PLANS["enterprise"], feature)
