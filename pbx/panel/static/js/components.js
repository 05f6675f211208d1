// Small pieces every screen uses: loading data, showing the API's error, plan gates.
import { html, useState, useEffect, useCallback } from "./lib.js";
import { t } from "./i18n.js";
import { get } from "./api.js";
import { NotFound } from "./screens/notfound.js";

// The API's own message; a network failure or an empty message gets a general sentence.
export function ErrorBox({ error }) {
  if (!error) return null;
  const text = error.message || t("error.general");
  return html`<p class="error" role="alert">${text}</p>`;
}

export function useLoad(load, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const reload = useCallback(async () => {
    try {
      setState({ data: await load(), error: null, loading: false });
    } catch (error) {
      setState({ data: null, error, loading: false });
    }
  }, deps);
  useEffect(() => { reload(); }, [reload]);
  return { ...state, reload };
}

// Which plan first has a feature (pbx/domain/plans.py), to name it where the feature is missing.
// crm: HubSpot and Zoho; crm_advanced: Salesforce and Dynamics (pbx/crm/providers.py).
const FIRST_PLAN = { recording: "kobi", schedules: "kobi", nested_ivr: "enterprise", detailed_reports: "kobi",
  crm: "kobi", crm_advanced: "enterprise" };
const PLAN_HAS = {
  girisimci: new Set(),
  kobi: new Set(["recording", "schedules", "detailed_reports", "crm"]),
  enterprise: new Set(["recording", "schedules", "nested_ivr", "detailed_reports", "crm", "crm_advanced"]),
};

export const planHas = (tenant, feature) => PLAN_HAS[tenant.plan]?.has(feature) ?? false;

export function PlanGate({ tenant, feature, children }) {
  if (planHas(tenant, feature)) return children;
  return html`<p class="gate" role="note">${t("gate.needs", {
    feature: t(`feature.${feature}`), plan: t(`plan.${FIRST_PLAN[feature]}`) })}</p>`;
}

// A tenant's screen: the tenant is loaded first; one the user may not see is "not found".
export function TenantPage({ tenantId, title, children }) {
  const { data: tenant, error, loading } = useLoad(() => get(`/tenants/${tenantId}`), [tenantId]);
  if (loading) return html`<p aria-busy="true">${t("common.loading")}</p>`;
  if (error?.status === 404) return html`<${NotFound} />`;
  if (error) return html`<${ErrorBox} error=${error} />`;
  return html`<section aria-labelledby="page-title">
    <h1 id="page-title">${title}</h1>
    <p class="tenant">${tenant.name} · ${t(`plan.${tenant.plan}`)}</p>
    ${children(tenant)}
  </section>`;
}

export function Field({ label, children }) {
  return html`<label class="field"><span>${label}</span>${children}</label>`;
}
