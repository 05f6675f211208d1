// Operator: the platform's numbers. Which tenant holds each (GET /number-allocations), the free
// pool, allocating a number to a tenant and taking one back; the API's refusals are shown as sent.
import { html, useState } from "../lib.js";
import { t, sortBy, formatTime, compare } from "../i18n.js";
import { get, post, del } from "../api.js";
import { useLoad, ErrorBox, Field } from "../components.js";

const MAX_PAGES = 20;  // 20 × 500 numbers; a platform beyond that needs the search the API pages by

async function allAllocations() {
  const items = [];
  let after = null;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const answer = await get(`/number-allocations?limit=500${after ? `&after=${encodeURIComponent(after)}` : ""}`);
    items.push(...answer.items);
    if (!answer.next) break;
    after = answer.next;
  }
  return items;
}

async function loadAll() {
  const [held, tenants, pool] = await Promise.all([allAllocations(), get("/tenants"), get("/number-pool")]);
  return { held, tenants: sortBy(tenants.items, "name"), pool: pool.items };
}

function AllocateForm({ tenants, pool, onDone }) {
  const [error, setError] = useState(null);
  const submit = async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    try {
      await post(`/tenants/${form.get("tenant")}/number-allocations`, { number: form.get("number").trim() });
      event.target.reset();
      setError(null);
      onDone();
    } catch (exc) { setError(exc); }
  };
  return html`<form onSubmit=${submit} id="allocate-form" aria-labelledby="allocate-title">
    <h2 id="allocate-title">${t("alloc.new")}</h2>
    <${Field} label=${t("alloc.number")}><input name="number" type="tel" required maxlength="32" list="pool-numbers"
      autocomplete="off" /><//>
    <datalist id="pool-numbers">${pool.map((p) => html`<option value=${p.number} />`)}</datalist>
    <${Field} label=${t("alloc.tenant")}><select name="tenant" required>
      ${tenants.map((row) => html`<option value=${row.id}>${row.name}</option>`)}</select><//>
    <${ErrorBox} error=${error} />
    <button type="submit">${t("alloc.allocate")}</button>
  </form>`;
}

function HeldRow({ row, onDone, onError }) {
  const takeBack = async () => {
    if (!confirm(t("alloc.release_confirm", { number: row.number, tenant: row.tenant_name }))) return;
    try { await del(`/tenants/${row.tenant_id}/number-allocations/${row.id}`); onDone(); } catch (exc) { onError(exc); }
  };
  return html`<tr data-number=${row.number} data-tenant=${row.tenant_id}>
    <td data-label=${t("alloc.number")}>${row.number}</td>
    <td data-label=${t("alloc.tenant")}><a href=${`#/t/${row.tenant_id}/numbers`}>${row.tenant_name}</a></td>
    <td data-label=${t("alloc.routing")}>${t(row.routed ? "alloc.routed" : "alloc.not_routed")}</td>
    <td data-label=${t("alloc.since")}>${formatTime(row.created_at)}</td>
    <td><button type="button" onClick=${takeBack} aria-label=${t("alloc.release_label", { number: row.number })}>
      ${t("alloc.release")}</button></td></tr>`;
}

function HeldTable({ held, onDone, onError }) {
  const [filter, setFilter] = useState("");
  const needle = filter.trim().toLocaleLowerCase();
  const rows = held.filter((r) => !needle || r.number.includes(needle) || r.tenant_name.toLocaleLowerCase().includes(needle))
    .sort((a, b) => compare(a.number, b.number));
  return html`<${Field} label=${t("alloc.filter")}><input type="search" id="alloc-filter" value=${filter}
      onInput=${(e) => setFilter(e.target.value)} /><//>
    <table id="allocations"><caption>${t("alloc.held")}</caption>
      <thead><tr><th scope="col">${t("alloc.number")}</th><th scope="col">${t("alloc.tenant")}</th>
        <th scope="col">${t("alloc.routing")}</th><th scope="col">${t("alloc.since")}</th>
        <th scope="col">${t("common.actions")}</th></tr></thead>
      <tbody>${rows.map((row) => html`<${HeldRow} key=${row.id} row=${row} onDone=${onDone} onError=${onError} />`)}</tbody>
    </table>
    ${rows.length === 0 && html`<p id="no-allocations">${t("alloc.none")}</p>`}`;
}

export function Allocations() {
  const data = useLoad(loadAll, []);
  const [error, setError] = useState(null);
  const done = () => { setError(null); data.reload(); };
  return html`<section aria-labelledby="page-title"><h1 id="page-title">${t("nav.allocations")}</h1>
    <${ErrorBox} error=${data.error || error} />
    ${data.data && html`
      <${AllocateForm} tenants=${data.data.tenants} pool=${data.data.pool} onDone=${done} />
      <${HeldTable} held=${data.data.held} onDone=${done} onError=${setError} />
      <table id="pool"><caption>${t("alloc.pool")}</caption>
        <thead><tr><th scope="col">${t("alloc.number")}</th><th scope="col">${t("alloc.area")}</th></tr></thead>
        <tbody>${data.data.pool.map((p) => html`<tr key=${p.number}><td>${p.number}</td><td>${p.area}</td></tr>`)}</tbody>
      </table>
      ${data.data.pool.length === 0 && html`<p>${t("alloc.pool_empty")}</p>`}`}
  </section>`;
}
