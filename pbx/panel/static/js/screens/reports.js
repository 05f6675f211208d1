// Reports: calls per day, answered against missed (every plan); per hour and per extension
// (KOBİ and up: shown with the plan that has them otherwise). Bars are plain SVG/HTML.
import { html } from "../lib.js";
import { t } from "../i18n.js";
import { get } from "../api.js";
import { TenantPage, useLoad, ErrorBox, PlanGate, planHas } from "../components.js";

// Stacked bars: answered (dark) and missed (light) per label, with the figures as text for screen readers.
function Bars({ rows, label, caption, id }) {
  const max = Math.max(1, ...rows.map((r) => r.calls));
  const width = Math.max(rows.length * 28, 600);  // a few days still draw narrow bars
  return html`<figure id=${id}><figcaption>${caption}</figcaption>
    <svg viewBox=${`0 0 ${width} 130`} role="img" aria-label=${caption} class="chart">
      ${rows.map((r, i) => {
        const answered = (r.answered / max) * 100, missed = (r.missed / max) * 100;
        return html`<g key=${i}><title>${t("reports.bar", { label: label(r), answered: r.answered, missed: r.missed })}</title>
          <rect x=${i * 28 + 4} y=${110 - answered} width="20" height=${answered} class="answered" />
          <rect x=${i * 28 + 4} y=${110 - answered - missed} width="20" height=${missed} class="missed" />
          <text x=${i * 28 + 14} y="125" text-anchor="middle">${label(r)}</text></g>`;
      })}
    </svg>
    <p class="legend"><span class="key answered"></span>${t("disposition.answered")}
      <span class="key missed"></span>${t("reports.missed")}</p>
  </figure>`;
}

function Table({ rows, first, heading }) {
  return html`<table><thead><tr><th scope="col">${heading}</th><th scope="col">${t("reports.calls")}</th>
    <th scope="col">${t("disposition.answered")}</th><th scope="col">${t("reports.missed")}</th>
    <th scope="col">${t("reports.minutes")}</th></tr></thead>
    <tbody>${rows.map((r) => html`<tr><td>${r[first]}</td><td>${r.calls}</td><td>${r.answered}</td>
      <td>${r.missed}</td><td>${r.minutes}</td></tr>`)}</tbody></table>`;
}

function Report({ tenant }) {
  const detailed = planHas(tenant, "detailed_reports");
  const report = useLoad(() => get(`/tenants/${tenant.id}/reports/${detailed ? "detailed" : "basic"}`), [tenant.id]);
  if (!report.data) return html`<${ErrorBox} error=${report.error} />`;
  const days = report.data.days;
  const day = (r) => r.day.slice(8, 10) + "." + r.day.slice(5, 7);
  return html`<${Bars} id="chart-days" rows=${days} label=${day} caption=${t("reports.per_day")} />
    <${Table} rows=${days.map((r) => ({ ...r, day: `${day(r)}.${r.day.slice(0, 4)}` }))} first="day"
      heading=${t("reports.day")} />
    <${PlanGate} tenant=${tenant} feature="detailed_reports">
      ${detailed && html`<${Bars} id="chart-hours" rows=${report.data.per_hour} label=${(r) => String(r.hour)}
          caption=${t("reports.per_hour")} />
        <h2>${t("reports.per_extension")}</h2>
        <${Table} rows=${report.data.per_extension} first="extension" heading=${t("ext.number")} />`}
    <//>`;
}

export function Reports({ tenantId }) {
  return html`<${TenantPage} tenantId=${tenantId} title=${t("nav.reports")}>
    ${(tenant) => html`<${Report} tenant=${tenant} />`}<//>`;
}
