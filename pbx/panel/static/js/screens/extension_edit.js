// The extension editor: every field the API's PATCH takes, and a new SIP password.
import { html, useState, useEffect, useRef } from "../lib.js";
import { t } from "../i18n.js";
import { post, patch } from "../api.js";
import { ErrorBox, Field, PlanGate, planHas } from "../components.js";

// The new password is shown once, with its QR code, by the caller (extensions.js Credentials).
function NewPassword({ tenant, ext, onPassword, onError }) {
  const issue = async () => {
    if (!confirm(t("ext.new_password_confirm", { number: ext.number }))) return;
    try { onPassword(await post(`/tenants/${tenant.id}/extensions/${ext.id}/sip-password`)); } catch (exc) { onError(exc); }
  };
  return html`<button type="button" id="new-sip-password" onClick=${issue}>${t("ext.new_password")}</button>`;
}

// What the form holds that differs from the extension (an empty e-mail clears it); record_calls
// only where the plan records (else its field is not there).
function changedFields(form, tenant, ext) {
  const wanted = { number: form.get("number"), name: form.get("name"), email: form.get("email").trim() || null,
    voicemail: form.get("voicemail") === "on" };
  if (planHas(tenant, "recording")) wanted.record_calls = form.get("record_calls") === "on";
  return Object.fromEntries(Object.entries(wanted).filter(([key, value]) => value !== (ext[key] ?? null)));
}

// Every field the API's PATCH takes; only what changed is sent. A new SIP password (and its
// QR code) on demand: POST .../sip-password, shown once like at creation.
export function EditForm({ tenant, ext, onSaved, onPassword, onClose }) {
  const [error, setError] = useState(null);
  const first = useRef(null);
  useEffect(() => { first.current?.focus(); }, []);  // the keyboard goes where the form opened
  const submit = async (event) => {
    event.preventDefault();
    const body = changedFields(new FormData(event.target), tenant, ext);
    try {
      if (Object.keys(body).length) await patch(`/tenants/${tenant.id}/extensions/${ext.id}`, body);
      setError(null);
      onSaved();
    } catch (exc) { setError(exc); }
  };
  return html`<form onSubmit=${submit} id="extension-edit" aria-labelledby="ext-edit-title" data-extension=${ext.id}>
    <h2 id="ext-edit-title">${t("ext.edit_title", { number: ext.number })}</h2>
    <${Field} label=${t("ext.number")}><input name="number" required inputmode="numeric" pattern="[1-9][0-9]{1,5}"
      value=${ext.number} ref=${first} /><//>
    <${Field} label=${t("ext.name")}><input name="name" required maxlength="100" value=${ext.name} /><//>
    <${Field} label=${t("ext.email")}><input name="email" type="email" maxlength="254" value=${ext.email ?? ""} /><//>
    <${Field} label=${t("ext.voicemail")}><input name="voicemail" type="checkbox" checked=${ext.voicemail} /><//>
    <${PlanGate} tenant=${tenant} feature="recording">
      <${Field} label=${t("ext.record_calls")}><input name="record_calls" type="checkbox" checked=${ext.record_calls} /><//>
    <//>
    <${ErrorBox} error=${error} />
    <button type="submit">${t("common.save")}</button>
    <${NewPassword} tenant=${tenant} ext=${ext} onPassword=${onPassword} onError=${setError} />
    <button type="button" onClick=${onClose}>${t("common.cancel")}</button>
  </form>`;
}
