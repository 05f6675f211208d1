// Extensions: list with registration status, create (the SIP password and its QR code are
// shown once), edit name, delete.
import { html, useState, useEffect } from "../lib.js";
import { t, sortBy } from "../i18n.js";
import { get, post, patch, del, call } from "../api.js";
import { TenantPage, useLoad, ErrorBox, Field, PlanGate } from "../components.js";

function Status({ tenantId, ext }) {
  const { data, error } = useLoad(() => get(`/tenants/${tenantId}/extensions/${ext.id}/status`), [ext.id]);
  if (error) return html`<span class="off" title=${error.message}>${t("ext.status_unknown")}</span>`;
  if (!data) return html`<span>…</span>`;
  return html`<span class=${data.registered ? "ok" : "off"}>${t(data.registered ? "ext.registered" : "ext.unregistered")}</span>`;
}

function Credentials({ tenantId, created }) {
  const [qr, setQr] = useState(null);
  useEffect(() => {
    let url;
    call("POST", `/tenants/${tenantId}/extensions/${created.id}/qr`, { json: { password: created.sip.password }, raw: true })
      .then((r) => r.blob()).then((blob) => { url = URL.createObjectURL(blob); setQr(url); });
    return () => url && URL.revokeObjectURL(url);
  }, [created.id]);
  return html`<div class="credentials" role="status" id="credentials">
    <h2>${t("ext.credentials", { number: created.number })}</h2>
    <dl><dt>${t("ext.username")}</dt><dd id="sip-username">${created.sip.username}</dd>
      <dt>${t("ext.password")}</dt><dd id="sip-password">${created.sip.password}</dd>
      <dt>${t("ext.server")}</dt><dd id="sip-server">${created.sip.server}</dd></dl>
    <p>${t("ext.password_once")}</p>
    ${qr && html`<img id="sip-qr" src=${qr} width="240" height="240" alt=${t("ext.qr_alt", { number: created.number })} />`}
  </div>`;
}

function CreateForm({ tenant, onCreated }) {
  const [error, setError] = useState(null);
  const submit = async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const body = { number: form.get("number"), name: form.get("name"), voicemail: form.get("voicemail") === "on" };
    if (form.get("record_calls") === "on") body.record_calls = true;
    try {
      onCreated(await post(`/tenants/${tenant.id}/extensions`, body));
      event.target.reset();
      setError(null);
    } catch (exc) { setError(exc); }
  };
  return html`<form onSubmit=${submit} id="extension-form" aria-labelledby="ext-new">
    <h2 id="ext-new">${t("ext.new")}</h2>
    <${Field} label=${t("ext.number")}><input name="number" required inputmode="numeric" pattern="[1-9][0-9]{1,5}" /><//>
    <${Field} label=${t("ext.name")}><input name="name" required maxlength="100" /><//>
    <${Field} label=${t("ext.voicemail")}><input name="voicemail" type="checkbox" /><//>
    <${PlanGate} tenant=${tenant} feature="recording">
      <${Field} label=${t("ext.record_calls")}><input name="record_calls" type="checkbox" /><//>
    <//>
    <${ErrorBox} error=${error} />
    <button type="submit">${t("common.create")}</button>
  </form>`;
}

function Row({ tenantId, ext, onChanged, onError }) {
  const rename = async () => {
    const name = prompt(t("ext.rename_prompt"), ext.name);
    if (!name || name === ext.name) return;
    try { await patch(`/tenants/${tenantId}/extensions/${ext.id}`, { name }); onChanged(); } catch (exc) { onError(exc); }
  };
  const remove = async () => {
    if (!confirm(t("ext.delete_confirm", { number: ext.number }))) return;
    try { await del(`/tenants/${tenantId}/extensions/${ext.id}`); onChanged(); } catch (exc) { onError(exc); }
  };
  return html`<tr data-number=${ext.number}><td>${ext.number}</td><td>${ext.name}</td>
    <td><${Status} tenantId=${tenantId} ext=${ext} /></td>
    <td><button type="button" onClick=${rename} aria-label=${t("ext.rename_label", { number: ext.number })}>${t("common.edit")}</button>
      <button type="button" onClick=${remove} aria-label=${t("ext.delete_label", { number: ext.number })}>${t("common.delete")}</button></td></tr>`;
}

function ExtensionList({ tenant }) {
  const list = useLoad(() => get(`/tenants/${tenant.id}/extensions`), [tenant.id]);
  const [created, setCreated] = useState(null);
  const [error, setError] = useState(null);
  const rows = list.data ? sortBy(list.data.items, "number") : [];
  return html`
    <${ErrorBox} error=${list.error || error} />
    ${created && html`<${Credentials} tenantId=${tenant.id} created=${created} />`}
    <table id="extensions"><caption>${t("nav.extensions")}</caption>
      <thead><tr><th scope="col">${t("ext.number")}</th><th scope="col">${t("ext.name")}</th>
        <th scope="col">${t("ext.status")}</th><th scope="col">${t("common.actions")}</th></tr></thead>
      <tbody>${rows.map((ext) => html`<${Row} key=${ext.id} tenantId=${tenant.id} ext=${ext}
        onChanged=${list.reload} onError=${setError} />`)}</tbody></table>
    <${CreateForm} tenant=${tenant} onCreated=${(row) => { setCreated(row); list.reload(); }} />`;
}

export function Extensions({ tenantId }) {
  return html`<${TenantPage} tenantId=${tenantId} title=${t("nav.extensions")}>
    ${(tenant) => html`<${ExtensionList} tenant=${tenant} />`}<//>`;
}
