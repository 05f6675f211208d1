// CRM: connect a provider (PUT /tenants/{tid}/crm; the credentials go in and never come
// back), its status, disconnect, and a test lookup by number showing the contact as a screen
// pop would. HubSpot and Zoho are KOBİ's, Salesforce and Dynamics Enterprise's (gates shown).
import { html, useState } from "../lib.js";
import { t, formatTime } from "../i18n.js";
import { get, put, del } from "../api.js";
import { TenantPage, useLoad, ErrorBox, Field, PlanGate, planHas } from "../components.js";
import { ContactCard } from "../contact.js";

// Each provider's credential fields (pbx/crm/<provider>.py), the secret ones never echoed.
const PROVIDERS = {
  hubspot: { label: "HubSpot", feature: "crm", fields: ["access_token", "portal_id"], required: ["access_token"] },
  zoho: { label: "Zoho CRM", feature: "crm", fields: ["client_id", "client_secret", "refresh_token", "accounts_url"],
    required: ["client_id", "client_secret", "refresh_token"] },
  salesforce: { label: "Salesforce", feature: "crm_advanced", fields: ["client_id", "client_secret", "refresh_token"],
    required: ["client_id", "client_secret", "refresh_token"] },
  dynamics: { label: "Microsoft Dynamics 365", feature: "crm_advanced", fields: ["tenant_id", "client_id", "client_secret"],
    required: ["tenant_id", "client_id", "client_secret"], base_url_required: true },
};
const SECRET = new Set(["access_token", "client_secret", "refresh_token"]);

function Status({ tenant, connection, onChanged }) {
  const [error, setError] = useState(null);
  const disconnect = async () => {
    if (!confirm(t("crm.disconnect_confirm", { provider: PROVIDERS[connection.provider].label }))) return;
    try { await del(`/tenants/${tenant.id}/crm`); onChanged(); } catch (exc) { setError(exc); }
  };
  return html`<section aria-labelledby="crm-status-title" id="crm-status" data-provider=${connection.provider}>
    <h2 id="crm-status-title">${t("crm.connected", { provider: PROVIDERS[connection.provider].label })}</h2>
    <dl class="facts"><dt>${t("crm.base_url")}</dt><dd>${connection.base_url}</dd>
      <dt>${t("crm.state")}</dt><dd class=${connection.status === "failing" ? "off" : "ok"}>${t(`crmstate.${connection.status}`)}</dd>
      <dt>${t("crm.last_success")}</dt><dd>${formatTime(connection.last_success_at) || "—"}</dd>
      <dt>${t("crm.last_failure")}</dt><dd>${formatTime(connection.last_failure_at) || "—"}${connection.last_error
        ? ` (${connection.last_error})` : ""}</dd></dl>
    <${ErrorBox} error=${error} />
    <button type="button" id="crm-disconnect" onClick=${disconnect}>${t("crm.disconnect")}</button>
  </section>`;
}

function ConnectForm({ tenant, onChanged }) {
  const usable = Object.keys(PROVIDERS).filter((p) => planHas(tenant, PROVIDERS[p].feature));
  const [provider, setProvider] = useState(usable[0]);
  const [error, setError] = useState(null);
  const spec = PROVIDERS[provider];
  const submit = async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const credentials = Object.fromEntries(spec.fields.map((f) => [f, form.get(f).trim()]).filter(([, v]) => v));
    const body = { provider, credentials, ...(form.get("base_url").trim() ? { base_url: form.get("base_url").trim() } : {}) };
    try { await put(`/tenants/${tenant.id}/crm`, body); event.target.reset(); setError(null); onChanged(); }
    catch (exc) { setError(exc); }
  };
  return html`<form onSubmit=${submit} id="crm-form" aria-labelledby="crm-connect-title">
    <h2 id="crm-connect-title">${t("crm.connect_title")}</h2>
    <${Field} label=${t("crm.provider")}><select name="provider" value=${provider} onChange=${(e) => setProvider(e.target.value)}>
      ${usable.map((p) => html`<option value=${p}>${PROVIDERS[p].label}</option>`)}</select><//>
    ${!planHas(tenant, "crm_advanced") && html`<${PlanGate} tenant=${tenant} feature="crm_advanced" />`}
    <${Field} label=${t(spec.base_url_required ? "crm.base_url_needed" : "crm.base_url_optional")}>
      <input name="base_url" type="url" required=${!!spec.base_url_required} autocomplete="off" maxlength="2000" /><//>
    ${spec.fields.map((f) => html`<${Field} key=${provider + f} label=${t(`cred.${f}`)}>
      <input name=${f} type=${SECRET.has(f) ? "password" : "text"} required=${spec.required.includes(f)}
        autocomplete="off" maxlength="4000" /><//>`)}
    <p class="hint">${t("crm.never_shown")}</p>
    <${ErrorBox} error=${error} />
    <button type="submit">${t("crm.connect")}</button>
  </form>`;
}

// onDone: the connection's status is read again (the lookup just used it).
function TestLookup({ tenant, onDone }) {
  const [state, setState] = useState(null);
  const submit = async (event) => {
    event.preventDefault();
    const number = new FormData(event.target).get("number").trim();
    try { setState(await get(`/tenants/${tenant.id}/crm/lookup?number=${encodeURIComponent(number)}`)); }
    catch (error) { setState({ error }); }
    onDone();
  };
  return html`<form onSubmit=${submit} id="crm-lookup" class="filter" aria-labelledby="crm-lookup-title">
      <h2 id="crm-lookup-title">${t("crm.lookup_title")}</h2>
      <${Field} label=${t("crm.lookup_number")}><input name="number" type="tel" required maxlength="40" /><//>
      <button type="submit">${t("crm.lookup")}</button>
    </form>
    <div aria-live="polite">${state?.error ? html`<${ErrorBox} error=${state.error} />`
      : state && (state.contact ? html`<${ContactCard} contact=${state.contact} id="lookup-contact" />`
        : html`<p id="lookup-none">${t("crm.no_contact", { number: state.number })}</p>`)}</div>`;
}

function Crm({ tenant }) {
  const connection = useLoad(async () => {
    try { return await get(`/tenants/${tenant.id}/crm`); } catch (exc) { if (exc.status === 404) return null; throw exc; }
  }, [tenant.id]);
  if (connection.loading) return html`<p aria-busy="true">${t("common.loading")}</p>`;
  if (connection.error) return html`<${ErrorBox} error=${connection.error} />`;
  return html`${connection.data ? html`<${Status} tenant=${tenant} connection=${connection.data} onChanged=${connection.reload} />
      <${TestLookup} tenant=${tenant} onDone=${connection.reload} />` : html`<p id="crm-none">${t("crm.none")}</p>`}
    <${ConnectForm} tenant=${tenant} onChanged=${connection.reload} />`;
}

export function CrmSettings({ tenantId }) {
  return html`<${TenantPage} tenantId=${tenantId} title=${t("nav.crm")}>
    ${(tenant) => html`<${PlanGate} tenant=${tenant} feature="crm"><${Crm} tenant=${tenant} /><//>`}<//>`;
}
