// Operator: every tenant, a new one, and each tenant's panel opened as support.
import { html, useState } from "../lib.js";
import { t, sortBy, formatTime } from "../i18n.js";
import { get, post } from "../api.js";
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

export function Tenants() {
  const list = useLoad(() => get("/tenants"), []);
  const rows = list.data ? sortBy(list.data.items, "name") : [];
  return html`<section aria-labelledby="page-title"><h1 id="page-title">${t("nav.tenants")}</h1>
    <${ErrorBox} error=${list.error} />
    <table id="tenants"><caption>${t("nav.tenants")}</caption>
      <thead><tr><th scope="col">${t("tenant.name")}</th><th scope="col">${t("tenant.plan")}</th>
        <th scope="col">${t("tenant.created")}</th><th scope="col">${t("common.actions")}</th></tr></thead>
      <tbody>${rows.map((row) => html`<tr key=${row.id}><td>${row.name}</td><td>${t(`plan.${row.plan}`)}</td>
        <td>${formatTime(row.created_at)}</td>
        <td><a href=${`#/t/${row.id}/dashboard`}>${t("tenant.open")}</a></td></tr>`)}</tbody></table>
    <${NewTenant} onCreated=${list.reload} />
  </section>`;
}
