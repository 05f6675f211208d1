// Business hours and holidays (KOBİ and up), with Turkey's public holidays offered.
import { html, useState } from "../lib.js";
import { t, sortBy, currentLang } from "../i18n.js";
import { get, post, del } from "../api.js";
import { TenantPage, useLoad, ErrorBox, Field, PlanGate } from "../components.js";

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const WORKDAYS = new Set(DAYS.slice(0, 5));
const dotted = (iso) => `${iso.slice(8, 10)}.${iso.slice(5, 7)}.${iso.slice(0, 4)}`;

function ScheduleForm({ tenant, onSaved }) {
  const year = new Date().getFullYear() + 1;
  const offered = useLoad(() => get(`/holidays/tr?year=${year}&lang=${currentLang()}`), [year]);
  const [error, setError] = useState(null);
  const submit = async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const holidays = (offered.data?.items ?? []).filter((h) => form.getAll("holiday").includes(h.date));
    try {
      await post(`/tenants/${tenant.id}/schedules`, { name: form.get("name"), timezone: "Europe/Istanbul",
        weekly: [{ days: form.getAll("day"), open: form.get("open"), close: form.get("close") }], holidays });
      event.target.reset();
      setError(null);
      onSaved();
    } catch (exc) { setError(exc); }
  };
  return html`<form onSubmit=${submit} id="schedule-form" aria-labelledby="sch-new">
    <h2 id="sch-new">${t("sch.new")}</h2>
    <${Field} label=${t("sch.name")}><input name="name" required maxlength="100" /><//>
    <fieldset><legend>${t("sch.days")}</legend>${DAYS.map((d) => html`<label class="check">
      <input type="checkbox" name="day" value=${d} checked=${WORKDAYS.has(d)} /> ${t(`day.${d}`)}</label>`)}</fieldset>
    <${Field} label=${t("sch.open")}><input name="open" type="time" value="09:00" required /><//>
    <${Field} label=${t("sch.close")}><input name="close" type="time" value="18:00" required /><//>
    <fieldset id="holidays"><legend>${t("sch.holidays", { year })}</legend>
      ${(offered.data?.items ?? []).map((h) => html`<label class="check"><input type="checkbox" name="holiday"
        value=${h.date} checked /> ${dotted(h.date)} ${h.name}</label>`)}</fieldset>
    <${ErrorBox} error=${error || offered.error} />
    <button type="submit">${t("common.create")}</button>
  </form>`;
}

function ScheduleList({ tenant }) {
  const list = useLoad(() => get(`/tenants/${tenant.id}/schedules`), [tenant.id]);
  const [error, setError] = useState(null);
  const remove = async (row) => {
    if (!confirm(t("sch.delete_confirm", { name: row.name }))) return;
    try { await del(`/tenants/${tenant.id}/schedules/${row.id}`); list.reload(); } catch (exc) { setError(exc); }
  };
  const hours = (row) => row.weekly.map((w) => `${w.days.map((d) => t(`day.${d}`)).join(", ")} ${w.open}–${w.close}`).join("; ");
  return html`<${ErrorBox} error=${list.error || error} />
    <table id="schedules"><caption>${t("nav.schedules")}</caption>
      <thead><tr><th scope="col">${t("sch.name")}</th><th scope="col">${t("sch.hours")}</th>
        <th scope="col">${t("sch.holiday_count")}</th><th scope="col">${t("common.actions")}</th></tr></thead>
      <tbody>${sortBy(list.data?.items ?? [], "name").map((row) => html`<tr key=${row.id}><td>${row.name}</td>
        <td>${hours(row)}</td><td>${row.holidays.length}</td>
        <td><button type="button" onClick=${() => remove(row)}>${t("common.delete")}</button></td></tr>`)}</tbody></table>
    <${ScheduleForm} tenant=${tenant} onSaved=${list.reload} />`;
}

export function Schedules({ tenantId }) {
  return html`<${TenantPage} tenantId=${tenantId} title=${t("nav.schedules")}>
    ${(tenant) => html`<${PlanGate} tenant=${tenant} feature="schedules"><${ScheduleList} tenant=${tenant} /><//>`}<//>`;
}
