// IVR prompts: upload MP3 or WAV, and listen in the page to what callers hear.
import { html, useState } from "../lib.js";
import { t, sortBy, formatTime } from "../i18n.js";
import { get, call, del } from "../api.js";
import { TenantPage, useLoad, ErrorBox, Field } from "../components.js";

const seconds = (ms) => (ms / 1000).toFixed(1);

function Upload({ tenantId, onUploaded }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    try {
      await call("POST", `/tenants/${tenantId}/prompts`, { form: new FormData(event.target) });
      event.target.reset();
      setError(null);
      onUploaded();
    } catch (exc) { setError(exc); } finally { setBusy(false); }
  };
  return html`<form onSubmit=${submit} id="prompt-form" aria-labelledby="prompt-new">
    <h2 id="prompt-new">${t("prompt.new")}</h2>
    <${Field} label=${t("prompt.name")}><input name="name" required maxlength="100" /><//>
    <${Field} label=${t("prompt.file")}><input name="file" type="file" accept=".mp3,.wav,audio/mpeg,audio/wav" required /><//>
    <${ErrorBox} error=${error} />
    <button type="submit" disabled=${busy}>${t("prompt.upload")}</button>
  </form>`;
}

function PromptRow({ tenantId, prompt, onChanged, onError }) {
  const remove = async () => {
    if (!confirm(t("prompt.delete_confirm", { name: prompt.name }))) return;
    try { await del(`/tenants/${tenantId}/prompts/${prompt.id}`); onChanged(); } catch (exc) { onError(exc); }
  };
  return html`<tr data-prompt=${prompt.id}><td>${prompt.name}</td><td>${seconds(prompt.duration_ms)} ${t("common.seconds")}</td>
    <td>${formatTime(prompt.created_at)}</td>
    <td><audio controls preload="metadata" src=${`/api/v1/tenants/${tenantId}/prompts/${prompt.id}/audio`}
      aria-label=${t("prompt.listen", { name: prompt.name })}></audio></td>
    <td><button type="button" onClick=${remove} aria-label=${t("prompt.delete_label", { name: prompt.name })}>${t("common.delete")}</button></td></tr>`;
}

function PromptList({ tenant }) {
  const list = useLoad(() => get(`/tenants/${tenant.id}/prompts`), [tenant.id]);
  const [error, setError] = useState(null);
  const rows = list.data ? sortBy(list.data.items, "name") : [];
  return html`<${ErrorBox} error=${list.error || error} />
    <table id="prompts"><caption>${t("nav.prompts")}</caption>
      <thead><tr><th scope="col">${t("prompt.name")}</th><th scope="col">${t("prompt.duration")}</th>
        <th scope="col">${t("prompt.created")}</th><th scope="col">${t("prompt.audio")}</th><th scope="col">${t("common.actions")}</th></tr></thead>
      <tbody>${rows.map((p) => html`<${PromptRow} key=${p.id} tenantId=${tenant.id} prompt=${p}
        onChanged=${list.reload} onError=${setError} />`)}</tbody></table>
    <${Upload} tenantId=${tenant.id} onUploaded=${list.reload} />`;
}

export function Prompts({ tenantId }) {
  return html`<${TenantPage} tenantId=${tenantId} title=${t("nav.prompts")}>
    ${(tenant) => html`<${PromptList} tenant=${tenant} />`}<//>`;
}
