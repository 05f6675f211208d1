// Settings → users: the tenant's admins and agents (an agent is tied to one extension).
import { html, useState } from "../lib.js";
import { t, sortBy } from "../i18n.js";
import { get, post, del } from "../api.js";
import { TenantPage, useLoad, ErrorBox, Field } from "../components.js";

function UserForm({ tenant, extensions, onSaved }) {
  const [error, setError] = useState(null);
  const [role, setRole] = useState("agent");
  const submit = async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const body = { email: form.get("email"), name: form.get("name"), role, tenant_id: tenant.id,
      password: form.get("password") };
    if (role === "agent") body.extension = form.get("extension");
    try { await post("/users", body); event.target.reset(); setError(null); onSaved(); } catch (exc) { setError(exc); }
  };
  return html`<form onSubmit=${submit} id="user-form" aria-labelledby="user-new">
    <h2 id="user-new">${t("users.new")}</h2>
    <${Field} label=${t("users.name")}><input name="name" required maxlength="100" /><//>
    <${Field} label=${t("signin.email")}><input name="email" type="email" required autocomplete="off" /><//>
    <${Field} label=${t("users.role")}><select name="role" onChange=${(e) => setRole(e.target.value)}>
      <option value="agent">${t("role.agent")}</option><option value="tenant_admin">${t("role.tenant_admin")}</option>
    </select><//>
    ${role === "agent" && html`<${Field} label=${t("users.extension")}><select name="extension" required>
      ${sortBy(extensions, "number").map((e) => html`<option value=${e.number}>${e.number} ${e.name}</option>`)}</select><//>`}
    <${Field} label=${t("users.password")}><input name="password" type="password" minlength="10" required
      autocomplete="new-password" /><//>
    <${ErrorBox} error=${error} />
    <button type="submit">${t("common.create")}</button>
  </form>`;
}

function UserList({ tenant, me }) {
  const data = useLoad(async () => ({ users: (await get(`/users?tenant_id=${tenant.id}`)).items,
    extensions: (await get(`/tenants/${tenant.id}/extensions`)).items }), [tenant.id]);
  const [error, setError] = useState(null);
  if (!data.data) return html`<${ErrorBox} error=${data.error} />`;
  const remove = async (row) => {
    if (!confirm(t("users.delete_confirm", { name: row.name }))) return;
    try { await del(`/users/${row.id}`); data.reload(); } catch (exc) { setError(exc); }
  };
  return html`<${ErrorBox} error=${error} />
    <table id="users"><caption>${t("nav.users")}</caption>
      <thead><tr><th scope="col">${t("users.name")}</th><th scope="col">${t("signin.email")}</th>
        <th scope="col">${t("users.role")}</th><th scope="col">${t("users.extension")}</th>
        <th scope="col">${t("common.actions")}</th></tr></thead>
      <tbody>${sortBy(data.data.users, "name").map((row) => html`<tr key=${row.id}><td>${row.name}</td>
        <td>${row.email}</td><td>${t(`role.${row.role}`)}</td><td>${row.extension ?? ""}</td>
        <td>${row.id !== me.id && html`<button type="button" onClick=${() => remove(row)}
          aria-label=${t("users.delete_label", { name: row.name })}>${t("common.delete")}</button>`}</td></tr>`)}</tbody></table>
    <${UserForm} tenant=${tenant} extensions=${data.data.extensions} onSaved=${data.reload} />`;
}

export function Users({ tenantId, user }) {
  return html`<${TenantPage} tenantId=${tenantId} title=${t("nav.users")}>
    ${(tenant) => html`<${UserList} tenant=${tenant} me=${user} />`}<//>`;
}
