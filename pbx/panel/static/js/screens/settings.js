// Settings: the recording default of new extensions and the KVKK notice callers hear
// (GET|PATCH /tenants/{tid}/settings). A plan without recording names the plan that has it.
import { html, useState } from "../lib.js";
import { t } from "../i18n.js";
import { get, patch } from "../api.js";
import { TenantPage, useLoad, ErrorBox, Field, PlanGate, planHas } from "../components.js";

// The boxes are controlled (state here): a re-render must not put back what was loaded.
function SettingsForm({ tenant, settings }) {
  const [values, setValues] = useState(settings);
  const [state, setState] = useState({ saved: false, error: null });
  const records = planHas(tenant, "recording");
  const toggle = (name) => (event) => {
    setValues({ ...values, [name]: event.target.checked });
    setState({ saved: false, error: null });
  };
  const submit = async (event) => {
    event.preventDefault();
    const body = { recording_notice: values.recording_notice, ...(records ? { record_calls: values.record_calls } : {}) };
    try { setValues(await patch(`/tenants/${tenant.id}/settings`, body)); setState({ saved: true, error: null }); }
    catch (error) { setState({ saved: false, error }); }
  };
  return html`<form onSubmit=${submit} id="settings-form" aria-labelledby="settings-recording">
    <h2 id="settings-recording">${t("settings.recording")}</h2>
    <${PlanGate} tenant=${tenant} feature="recording">
      <${Field} label=${t("settings.record_calls")}><input name="record_calls" type="checkbox"
        checked=${values.record_calls} onChange=${toggle("record_calls")} aria-describedby="record-calls-hint" /><//>
      <p class="hint" id="record-calls-hint">${t("settings.record_calls_hint", { days: tenant.recording_retention_days })}</p>
    <//>
    <${Field} label=${t("settings.recording_notice")}><input name="recording_notice" type="checkbox"
      checked=${values.recording_notice} onChange=${toggle("recording_notice")} aria-describedby="notice-hint" /><//>
    <p class="hint" id="notice-hint">${t("settings.notice_hint")}</p>
    <${ErrorBox} error=${state.error} />
    <button type="submit">${t("common.save")}</button>
    ${state.saved && html`<p class="ok" role="status" id="settings-saved">${t("settings.saved")}</p>`}
  </form>`;
}

function Settings({ tenant }) {
  const data = useLoad(() => get(`/tenants/${tenant.id}/settings`), [tenant.id]);
  if (!data.data) return html`<${ErrorBox} error=${data.error} />`;
  return html`<${SettingsForm} tenant=${tenant} settings=${data.data} />
    <ul class="links">${["crm", "webhooks", "users"].map((screen) => html`<li>
      <a href=${`#/t/${tenant.id}/${screen}`}>${t(`nav.${screen}`)}</a></li>`)}</ul>`;
}

export function TenantSettings({ tenantId }) {
  return html`<${TenantPage} tenantId=${tenantId} title=${t("nav.settings")}>
    ${(tenant) => html`<${Settings} tenant=${tenant} />`}<//>`;
}
