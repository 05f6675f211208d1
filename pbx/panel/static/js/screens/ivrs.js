// IVR menus: a greeting, and per DTMF key a destination chosen from the tenant's own objects.
import { html, useState } from "../lib.js";
import { t, sortBy } from "../i18n.js";
import { get, post, del } from "../api.js";
import { TenantPage, useLoad, ErrorBox, Field, planHas } from "../components.js";

const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "*", "#"];

export async function loadChoices(tid) {
  const [extensions, prompts, ivrs, groups] = await Promise.all(
    ["extensions", "prompts", "ivrs", "ring_groups"].map((what) => get(`/tenants/${tid}/${what}`)));
  return { extensions: extensions.items, prompts: prompts.items, ivrs: ivrs.items, groups: groups.items };
}

// A destination as the contract writes it, from a picker value such as "extension:101".
export function destination(value) {
  const [type, ref] = value.split(":");
  if (type === "hangup") return { type };
  if (type === "extension" || type === "voicemail") return { type, extension: ref };
  if (type === "ivr") return { type, ivr_id: Number(ref) };
  if (type === "ring_group") return { type, ring_group_id: Number(ref) };
  return { type: "announcement", prompt_id: Number(ref) };
}

export function DestinationPicker({ choices, tenant, name, label, required = false }) {
  const option = (value, text) => html`<option value=${value}>${text}</option>`;
  return html`<${Field} label=${label}><select name=${name} required=${required}>
    <option value="">${t("ivr.no_option")}</option>
    <optgroup label=${t("dest.extension")}>${sortBy(choices.extensions, "number").map((e) =>
      option(`extension:${e.number}`, `${e.number} ${e.name}`))}</optgroup>
    <optgroup label=${t("dest.voicemail")}>${choices.extensions.filter((e) => e.voicemail).map((e) =>
      option(`voicemail:${e.number}`, `${e.number} ${e.name}`))}</optgroup>
    <optgroup label=${t("dest.ring_group")}>${sortBy(choices.groups, "name").map((g) => option(`ring_group:${g.id}`, g.name))}</optgroup>
    ${planHas(tenant, "nested_ivr") ? html`<optgroup label=${t("dest.ivr")}>${sortBy(choices.ivrs, "name").map((m) =>
      option(`ivr:${m.id}`, m.name))}</optgroup>` : html`<option disabled>${t("gate.needs", {
      feature: t("feature.nested_ivr"), plan: t("plan.enterprise") })}</option>`}
    <optgroup label=${t("dest.announcement")}>${sortBy(choices.prompts, "name").map((p) => option(`announcement:${p.id}`, p.name))}</optgroup>
    ${option("hangup", t("dest.hangup"))}
  </select><//>`;
}

function MenuForm({ tenant, choices, onSaved }) {
  const [error, setError] = useState(null);
  const submit = async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const options = {};
    for (const key of KEYS) if (form.get(`key-${key}`)) options[key] = destination(form.get(`key-${key}`));
    try {
      await post(`/tenants/${tenant.id}/ivrs`, { name: form.get("name"),
        greeting_prompt_id: Number(form.get("greeting")), options });
      event.target.reset();
      setError(null);
      onSaved();
    } catch (exc) { setError(exc); }
  };
  return html`<form onSubmit=${submit} id="ivr-form" aria-labelledby="ivr-new">
    <h2 id="ivr-new">${t("ivr.new")}</h2>
    <${Field} label=${t("ivr.name")}><input name="name" required maxlength="100" /><//>
    <${Field} label=${t("ivr.greeting")}><select name="greeting" required>
      ${sortBy(choices.prompts, "name").map((p) => html`<option value=${p.id}>${p.name}</option>`)}</select><//>
    <fieldset><legend>${t("ivr.options")}</legend>
      ${KEYS.map((key) => html`<${DestinationPicker} key=${key} choices=${choices} tenant=${tenant}
        name=${`key-${key}`} label=${t("ivr.key", { key })} />`)}</fieldset>
    <${ErrorBox} error=${error} />
    <button type="submit">${t("common.create")}</button>
  </form>`;
}

export function describe(dest, choices) {
  if (dest.type === "extension" || dest.type === "voicemail") return `${t(`dest.${dest.type}`)} ${dest.extension}`;
  const named = { ivr: [choices.ivrs, dest.ivr_id], ring_group: [choices.groups, dest.ring_group_id],
    announcement: [choices.prompts, dest.prompt_id] }[dest.type];
  const found = named && named[0].find((row) => row.id === named[1]);
  return `${t(`dest.${dest.type}`)}${found ? " " + found.name : ""}`;
}

function Menus({ tenant }) {
  const choices = useLoad(() => loadChoices(tenant.id), [tenant.id]);
  const [error, setError] = useState(null);
  if (!choices.data) return html`<${ErrorBox} error=${choices.error} />`;
  const remove = async (menu) => {
    if (!confirm(t("ivr.delete_confirm", { name: menu.name }))) return;
    try { await del(`/tenants/${tenant.id}/ivrs/${menu.id}`); choices.reload(); } catch (exc) { setError(exc); }
  };
  return html`<${ErrorBox} error=${error} />
    <table id="ivrs"><caption>${t("nav.ivrs")}</caption>
      <thead><tr><th scope="col">${t("ivr.name")}</th><th scope="col">${t("ivr.options")}</th><th scope="col">${t("common.actions")}</th></tr></thead>
      <tbody>${sortBy(choices.data.ivrs, "name").map((menu) => html`<tr key=${menu.id}><td>${menu.name}</td>
        <td><ul>${Object.entries(menu.options).map(([key, dest]) => html`<li>${key} → ${describe(dest, choices.data)}</li>`)}</ul></td>
        <td><button type="button" onClick=${() => remove(menu)}>${t("common.delete")}</button></td></tr>`)}</tbody></table>
    <${MenuForm} tenant=${tenant} choices=${choices.data} onSaved=${choices.reload} />`;
}

export function Ivrs({ tenantId }) {
  return html`<${TenantPage} tenantId=${tenantId} title=${t("nav.ivrs")}>
    ${(tenant) => html`<${Menus} tenant=${tenant} />`}<//>`;
}
