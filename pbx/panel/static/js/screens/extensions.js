// Extensions: list with registration status, create (the SIP password and its QR code are
// shown once), edit every field, a new SIP password on demand, delete.
import { html, useState, useEffect } from "../lib.js";
import { t, sortBy } from "../i18n.js";
import { get, post, del, call } from "../api.js";
import { TenantPage, useLoad, ErrorBox, Field, PlanGate } from "../components.js";
import { EditForm } from "./extension_edit.js";

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

function Row({ tenantId, ext, onEdit, onChanged, onError }) {
  const remove = async () => {
    if (!confirm(t("ext.delete_confirm", { number: ext.number }))) return;
    try { await del(`/tenants/${tenantId}/extensions/${ext.id}`); onChanged(); } catch (exc) { onError(exc); }
  };
  return html`<tr data-number=${ext.number}><td>${ext.number}</td><td>${ext.name}</td><td>${ext.email ?? ""}</td>
    <td>${ext.voicemail ? t("common.yes") : t("common.no")}</td><td>${ext.record_calls ? t("common.yes") : t("common.no")}</td>
    <td><${Status} tenantId=${tenantId} ext=${ext} /></td>
    <td><button type="button" class="edit" onClick=${() => onEdit(ext.id)} aria-label=${t("ext.rename_label", { number: ext.number })}>${t("common.edit")}</button>
      <button type="button" onClick=${remove} aria-label=${t("ext.delete_label", { number: ext.number })}>${t("common.delete")}</button></td></tr>`;
}

function ExtensionList({ tenant }) {
  const list = useLoad(() => get(`/tenants/${tenant.id}/extensions`), [tenant.id]);
  const [created, setCreated] = useState(null);
  const [editing, setEditing] = useState(null);
  const [error, setError] = useState(null);
  const rows = list.data ? sortBy(list.data.items, "number") : [];
  const edited = rows.find((ext) => ext.id === editing);
  const headers = ["ext.number", "ext.name", "ext.email", "ext.voicemail", "ext.record_calls", "ext.status", "common.actions"];
  return html`
    <${ErrorBox} error=${list.error || error} />
    ${created && html`<${Credentials} key=${created.sip.password} tenantId=${tenant.id} created=${created} />`}
    <table id="extensions"><caption>${t("nav.extensions")}</caption>
      <thead><tr>${headers.map((key) => html`<th scope="col">${t(key)}</th>`)}</tr></thead>
      <tbody>${rows.map((ext) => html`<${Row} key=${ext.id} tenantId=${tenant.id} ext=${ext}
        onEdit=${(id) => { setCreated(null); setEditing(id); }} onChanged=${list.reload} onError=${setError} />`)}</tbody></table>
    ${edited && html`<${EditForm} key=${edited.id} tenant=${tenant} ext=${edited} onClose=${() => setEditing(null)}
      onSaved=${() => { setEditing(null); list.reload(); }} onPassword=${(row) => { setEditing(null); setCreated(row); }} />`}
    <${CreateForm} tenant=${tenant} onCreated=${(row) => { setCreated(row); list.reload(); }} />`;
}

export function Extensions({ tenantId }) {
  return html`<${TenantPage} tenantId=${tenantId} title=${t("nav.extensions")}>
    ${(tenant) => html`<${ExtensionList} tenant=${tenant} />`}<//>`;
}
