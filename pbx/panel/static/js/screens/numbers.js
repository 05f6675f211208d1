// The tenant's numbers (allocated by the operator), each with where its calls go.
import { html, useState } from "../lib.js";
import { t, sortBy } from "../i18n.js";
import { patch } from "../api.js";
import { TenantPage, useLoad, ErrorBox } from "../components.js";
import { DestinationPicker, loadChoices, describe, destination } from "./ivrs.js";
import { get } from "../api.js";

function NumberRow({ tenant, number, choices, onChanged }) {
  const [error, setError] = useState(null);
  const save = async (event) => {
    event.preventDefault();
    const value = new FormData(event.target).get("destination");
    try { await patch(`/tenants/${tenant.id}/numbers/${number.id}`, { destination: destination(value) }); onChanged(); }
    catch (exc) { setError(exc); }
  };
  return html`<tr data-number=${number.number}><td>${number.number}</td><td>${describe(number.destination, choices)}</td>
    <td><form class="inline" onSubmit=${save}>
      <${DestinationPicker} choices=${choices} tenant=${tenant} name="destination" required=${true}
        label=${t("numbers.new_destination", { number: number.number })} />
      <${ErrorBox} error=${error} />
      <button type="submit">${t("common.save")}</button></form></td></tr>`;
}

function NumberList({ tenant }) {
  const data = useLoad(async () => ({ numbers: (await get(`/tenants/${tenant.id}/numbers`)).items,
    choices: await loadChoices(tenant.id) }), [tenant.id]);
  if (!data.data) return html`<${ErrorBox} error=${data.error} />`;
  const rows = sortBy(data.data.numbers, "number");
  return html`<table id="numbers"><caption>${t("nav.numbers")}</caption>
    <thead><tr><th scope="col">${t("numbers.number")}</th><th scope="col">${t("numbers.destination")}</th>
      <th scope="col">${t("common.actions")}</th></tr></thead>
    <tbody>${rows.map((n) => html`<${NumberRow} key=${n.id} tenant=${tenant} number=${n}
      choices=${data.data.choices} onChanged=${data.reload} />`)}</tbody></table>
    ${rows.length === 0 && html`<p>${t("numbers.none")}</p>`}`;
}

export function Numbers({ tenantId }) {
  return html`<${TenantPage} tenantId=${tenantId} title=${t("nav.numbers")}>
    ${(tenant) => html`<${NumberList} tenant=${tenant} />`}<//>`;
}
