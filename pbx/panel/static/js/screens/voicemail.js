// Voicemail, played in the page: an agent's own box; an admin picks any extension's.
import { html, useState } from "../lib.js";
import { t, sortBy, formatTime } from "../i18n.js";
import { get, del } from "../api.js";
import { TenantPage, useLoad, ErrorBox, Field } from "../components.js";

function Messages({ tenantId, extensionId }) {
  const base = `/tenants/${tenantId}/extensions/${extensionId}/voicemail`;
  const list = useLoad(() => get(base), [extensionId]);
  const [error, setError] = useState(null);
  const remove = async (m) => {
    try { await del(`${base}/${m.id}`); list.reload(); } catch (exc) { setError(exc); }
  };
  const items = list.data?.items ?? [];
  return html`<${ErrorBox} error=${list.error || error} />
    ${list.data && !items.length && html`<p id="no-messages">${t("vm.none")}</p>`}
    ${items.length > 0 && html`<table id="voicemail"><caption>${t("nav.voicemail")}</caption>
      <thead><tr><th scope="col">${t("calls.time")}</th><th scope="col">${t("calls.caller")}</th>
        <th scope="col">${t("prompt.audio")}</th><th scope="col">${t("common.actions")}</th></tr></thead>
      <tbody>${items.map((m) => html`<tr key=${m.id}><td>${formatTime(m.created_at)}</td><td>${m.caller}</td>
        <td><audio controls preload="none" src=${`/api/v1${base}/${m.id}/audio`}
          aria-label=${t("vm.listen", { caller: m.caller })}></audio></td>
        <td><button type="button" onClick=${() => remove(m)}>${t("common.delete")}</button></td></tr>`)}</tbody></table>`}`;
}

function AdminBoxes({ tenant }) {
  const list = useLoad(() => get(`/tenants/${tenant.id}/extensions`), [tenant.id]);
  const [chosen, setChosen] = useState(null);
  const boxes = sortBy((list.data?.items ?? []).filter((e) => e.voicemail), "number");
  return html`<${ErrorBox} error=${list.error} />
    <${Field} label=${t("vm.extension")}><select id="vm-extension" onChange=${(e) => setChosen(e.target.value || null)}>
      <option value="">${t("ivr.no_option")}</option>
      ${boxes.map((e) => html`<option value=${e.id}>${e.number} ${e.name}</option>`)}</select><//>
    ${chosen && html`<${Messages} key=${chosen} tenantId=${tenant.id} extensionId=${chosen} />`}`;
}

export function Voicemail({ tenantId, user }) {
  return html`<${TenantPage} tenantId=${tenantId} title=${t("nav.voicemail")}>
    ${(tenant) => user.role === "agent"
      ? html`<${Messages} tenantId=${tenant.id} extensionId=${user.extension_id} />`
      : html`<${AdminBoxes} tenant=${tenant} />`}<//>`;
}
