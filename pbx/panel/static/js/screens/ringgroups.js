// Ring groups: extensions rung together or one after another.
import { html, useState } from "../lib.js";
import { t, sortBy } from "../i18n.js";
import { get, post, del } from "../api.js";
import { TenantPage, useLoad, ErrorBox, Field } from "../components.js";

function GroupForm({ tenant, extensions, onSaved }) {
  const [error, setError] = useState(null);
  const submit = async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    try {
      await post(`/tenants/${tenant.id}/ring_groups`, { name: form.get("name"), extensions: form.getAll("extensions"),
        strategy: form.get("strategy"), ring_seconds: Number(form.get("ring_seconds")) });
      event.target.reset();
      setError(null);
      onSaved();
    } catch (exc) { setError(exc); }
  };
  return html`<form onSubmit=${submit} id="ring-group-form" aria-labelledby="rg-new">
    <h2 id="rg-new">${t("rg.new")}</h2>
    <${Field} label=${t("rg.name")}><input name="name" required maxlength="100" /><//>
    <fieldset><legend>${t("rg.members")}</legend>
      ${sortBy(extensions, "number").map((e) => html`<label class="check"><input type="checkbox" name="extensions"
        value=${e.number} /> ${e.number} ${e.name}</label>`)}</fieldset>
    <${Field} label=${t("rg.strategy")}><select name="strategy">
      <option value="all">${t("rg.strategy_all")}</option><option value="sequential">${t("rg.strategy_sequential")}</option>
    </select><//>
    <${Field} label=${t("rg.ring_seconds")}><input name="ring_seconds" type="number" min="5" max="300" value="20" required /><//>
    <${ErrorBox} error=${error} />
    <button type="submit">${t("common.create")}</button>
  </form>`;
}

function Groups({ tenant }) {
  const data = useLoad(async () => ({ groups: (await get(`/tenants/${tenant.id}/ring_groups`)).items,
    extensions: (await get(`/tenants/${tenant.id}/extensions`)).items }), [tenant.id]);
  const [error, setError] = useState(null);
  if (!data.data) return html`<${ErrorBox} error=${data.error} />`;
  const remove = async (group) => {
    if (!confirm(t("rg.delete_confirm", { name: group.name }))) return;
    try { await del(`/tenants/${tenant.id}/ring_groups/${group.id}`); data.reload(); } catch (exc) { setError(exc); }
  };
  return html`<${ErrorBox} error=${error} />
    <table id="ring-groups"><caption>${t("nav.ring_groups")}</caption>
      <thead><tr><th scope="col">${t("rg.name")}</th><th scope="col">${t("rg.members")}</th>
        <th scope="col">${t("rg.strategy")}</th><th scope="col">${t("common.actions")}</th></tr></thead>
      <tbody>${sortBy(data.data.groups, "name").map((g) => html`<tr key=${g.id}><td>${g.name}</td>
        <td>${g.extensions.join(", ")}</td><td>${t(`rg.strategy_${g.strategy}`)}</td>
        <td><button type="button" onClick=${() => remove(g)}
          aria-label=${t("rg.delete_label", { name: g.name })}>${t("common.delete")}</button></td></tr>`)}</tbody></table>
    <${GroupForm} tenant=${tenant} extensions=${data.data.extensions} onSaved=${data.reload} />`;
}

export function RingGroups({ tenantId }) {
  return html`<${TenantPage} tenantId=${tenantId} title=${t("nav.ring_groups")}>
    ${(tenant) => html`<${Groups} tenant=${tenant} />`}<//>`;
}
