// Operator: every tenant, a new one, and each tenant's panel opened as support.
import { html, useState } from "../lib.js";
import { t, sortBy, formatTime } from "../i18n.js";
import { get, post, patch } from "../api.js";
import { useLoad, ErrorBox, Field } from "../components.js";

const PLANS = ["girisimci", "kobi", "enterprise"];

function NewTenant({ onCreated }) {
  const [error, setError] = useState(null);
  const submit = async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    try {
      await post("/tenants", { name: form.get("name"), plan: form.get("plan"),
        international_calls: form.get("international") === "on" });
      event.target.reset();
      setError(null);
      onCreated();
    } catch (exc) { setError(exc); }
  };
  return html`<form onSubmit=${submit} id="tenant-form" aria-labelledby="tenant-new">
    <h2 id="tenant-new">${t("tenant.new")}</h2>
    <${Field} label=${t("tenant.name")}><input name="name" required maxlength="100" /><//>
    <${Field} label=${t("tenant.plan")}><select name="plan">
      ${PLANS.map((p) => html`<option value=${p}>${t(`plan.${p}`)}</option>`)}</select><//>
    <${Field} label=${t("tenant.international")}><input name="international" type="checkbox" /><//>
    <${ErrorBox} error=${error} />
    <button type="submit">${t("common.create")}</button>
  </form>`;
}

// Plan, extra extensions and international calls, changed in place (a plan change applies at once).
function TenantRow({ row, onChanged, onError }) {
  const change = async (fields) => {
    try { await patch(`/tenants/${row.id}`, fields); onChanged(); } catch (exc) { onError(exc); }
  };
  return html`<tr data-tenant=${row.id}><td>${row.name}</td>
    <td><select aria-label=${t("tenant.plan_of", { name: row.name })} value=${row.plan}
      onChange=${(e) => change({ plan: e.target.value })}>
      ${PLANS.map((p) => html`<option value=${p} selected=${p === row.plan}>${t(`plan.${p}`)}</option>`)}</select></td>
    <td><input type="number" min="0" class="narrow" value=${row.extra_extensions}
      aria-label=${t("tenant.extra_of", { name: row.name })}
      onChange=${(e) => change({ extra_extensions: Number(e.target.value) })} /></td>
    <td><input type="checkbox" checked=${row.international_calls}
      aria-label=${t("tenant.international_of", { name: row.name })}
      onChange=${(e) => change({ international_calls: e.target.checked })} /></td>
    <td>${formatTime(row.created_at)}</td>
    <td><a href=${`#/t/${row.id}/dashboard`}>${t("tenant.open")}</a></td></tr>`;
}

export function Tenants() {
  const list = useLoad(() => get("/tenants"), []);
  const [error, setError] = useState(null);
  const rows = list.data ? sortBy(list.data.items, "name") : [];
  return html`<section aria-labelledby="page-title"><h1 id="page-title">${t("nav.tenants")}</h1>
    <${ErrorBox} error=${list.error || error} />
    <table id="tenants"><caption>${t("nav.tenants")}</caption>
      <thead><tr><th scope="col">${t("tenant.name")}</th><th scope="col">${t("tenant.plan")}</th>
        <th scope="col">${t("tenant.extra")}</th><th scope="col">${t("tenant.international")}</th>
        <th scope="col">${t("tenant.created")}</th><th scope="col">${t("common.actions")}</th></tr></thead>
      <tbody>${rows.map((row) => html`<${TenantRow} key=${row.id} row=${row} onChanged=${list.reload}
        onError=${setError} />`)}</tbody></table>
    <${NewTenant} onCreated=${list.reload} />
  </section>`;
}
