// Webhooks: list, create (the secret is shown once, right after), enable or disable, delete,
// and one webhook's delivery log, read again every few seconds while it is open. The API's
// refusals (an address inside the network: 422) are shown as the API words them.
import { html, useState, useEffect } from "../lib.js";
import { t, formatTime } from "../i18n.js";
import { get, post, patch, del } from "../api.js";
import { TenantPage, useLoad, ErrorBox, Field } from "../components.js";

// pbx/eventing/types.py; "*" is every one, now and later.
const EVENT_TYPES = ["call.ringing", "call.answered", "call.ended", "voicemail.created", "extension.registered",
  "extension.unregistered", "job.finished", "fraud.suspected", "webhook.disabled"];
const DELIVERY_REFRESH_MS = 3000;

function CreateForm({ tenant, onCreated }) {
  const [error, setError] = useState(null);
  const submit = async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const events = form.getAll("events");
    if (!events.length) return setError({ message: t("hooks.pick_events") });
    try {
      onCreated(await post(`/tenants/${tenant.id}/webhooks`, { url: form.get("url").trim(), events }));
      event.target.reset();
      setError(null);
    } catch (exc) { setError(exc); }
  };
  return html`<form onSubmit=${submit} id="webhook-form" aria-labelledby="hook-new">
    <h2 id="hook-new">${t("hooks.new")}</h2>
    <${Field} label=${t("hooks.url")}><input name="url" type="url" required maxlength="2000" autocomplete="off"
      placeholder="https://" /><//>
    <fieldset><legend>${t("hooks.events")}</legend>
      <label class="check"><input type="checkbox" name="events" value="*" /> ${t("hooks.all_events")}</label>
      ${EVENT_TYPES.map((type) => html`<label class="check"><input type="checkbox" name="events" value=${type} />
        <code>${type}</code></label>`)}</fieldset>
    <${ErrorBox} error=${error} />
    <button type="submit">${t("common.create")}</button>
  </form>`;
}

function Secret({ hook }) {
  return html`<div class="credentials" role="status" id="webhook-secret">
    <h2>${t("hooks.secret_title")}</h2>
    <p><code id="webhook-secret-value">${hook.secret}</code></p>
    <p>${t("hooks.secret_once")}</p></div>`;
}

function Deliveries({ tenant, hook, onClose }) {
  const log = useLoad(() => get(`/tenants/${tenant.id}/webhooks/${hook.id}/deliveries`), [hook.id]);
  useEffect(() => { const timer = setInterval(log.reload, DELIVERY_REFRESH_MS); return () => clearInterval(timer); }, [log.reload]);
  const rows = log.data?.items ?? [];
  return html`<section aria-labelledby="deliveries-title">
    <h2 id="deliveries-title">${t("hooks.deliveries_of", { url: hook.url })}</h2>
    <${ErrorBox} error=${log.error} />
    <table id="deliveries" data-webhook=${hook.id}><caption>${t("hooks.deliveries")}</caption>
      <thead><tr><th scope="col">${t("hooks.event")}</th><th scope="col">${t("hooks.status")}</th>
        <th scope="col">${t("hooks.attempts")}</th><th scope="col">${t("hooks.answer")}</th>
        <th scope="col">${t("hooks.when")}</th></tr></thead>
      <tbody>${rows.map((d) => html`<tr key=${d.id} data-event-type=${d.event_type} data-status=${d.status}>
        <td><code>${d.event_type}</code> #${d.seq}</td><td>${t(`delivery.${d.status}`)}</td><td>${d.attempts}</td>
        <td>${d.last_status ?? ""} ${d.last_error ?? ""}</td>
        <td>${formatTime(d.delivered_at ?? d.next_attempt_at)}</td></tr>`)}</tbody></table>
    ${log.data && !rows.length && html`<p id="no-deliveries">${t("hooks.no_deliveries")}</p>`}
    <button type="button" onClick=${onClose}>${t("hooks.close_log")}</button>
  </section>`;
}

function Row({ tenant, hook, onChanged, onError, onShowLog }) {
  const toggle = async (event) => {
    try { await patch(`/tenants/${tenant.id}/webhooks/${hook.id}`, { enabled: event.target.checked }); onChanged(); }
    catch (exc) { onError(exc); }
  };
  const remove = async () => {
    if (!confirm(t("hooks.delete_confirm", { url: hook.url }))) return;
    try { await del(`/tenants/${tenant.id}/webhooks/${hook.id}`); onChanged(); } catch (exc) { onError(exc); }
  };
  return html`<tr data-webhook=${hook.id}><td><bdi>${hook.url}</bdi></td>
    <td>${hook.events.map((e) => (e === "*" ? t("hooks.all_events") : e)).join(", ")}</td>
    <td><input type="checkbox" checked=${hook.enabled} onChange=${toggle}
      aria-label=${t("hooks.enabled_of", { url: hook.url })} /></td>
    <td><button type="button" class="show-log" onClick=${() => onShowLog(hook)}
        aria-label=${t("hooks.deliveries_of", { url: hook.url })}>${t("hooks.deliveries")}</button>
      <button type="button" onClick=${remove} aria-label=${t("hooks.delete_label", { url: hook.url })}>${t("common.delete")}</button></td></tr>`;
}

function Webhooks({ tenant }) {
  const list = useLoad(() => get(`/tenants/${tenant.id}/webhooks`), [tenant.id]);
  const [created, setCreated] = useState(null);
  const [error, setError] = useState(null);
  const [shown, setShown] = useState(null);
  const rows = list.data?.items ?? [];
  return html`<${ErrorBox} error=${list.error || error} />
    ${created && html`<${Secret} hook=${created} />`}
    <table id="webhooks"><caption>${t("nav.webhooks")}</caption>
      <thead><tr><th scope="col">${t("hooks.url")}</th><th scope="col">${t("hooks.events")}</th>
        <th scope="col">${t("hooks.enabled")}</th><th scope="col">${t("common.actions")}</th></tr></thead>
      <tbody>${rows.map((hook) => html`<${Row} key=${hook.id} tenant=${tenant} hook=${hook} onChanged=${list.reload}
        onError=${setError} onShowLog=${setShown} />`)}</tbody></table>
    ${list.data && !rows.length && html`<p id="no-webhooks">${t("hooks.none")}</p>`}
    ${shown && html`<${Deliveries} key=${shown.id} tenant=${tenant} hook=${shown} onClose=${() => setShown(null)} />`}
    <${CreateForm} tenant=${tenant} onCreated=${(hook) => { setCreated(hook); setError(null); list.reload(); }} />`;
}

export function WebhookSettings({ tenantId }) {
  return html`<${TenantPage} tenantId=${tenantId} title=${t("nav.webhooks")}>
    ${(tenant) => html`<${Webhooks} tenant=${tenant} />`}<//>`;
}
