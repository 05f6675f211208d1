// Operator: the carriers (trunks) calls arrive from and leave through.
import { html } from "../lib.js";
import { t, sortBy } from "../i18n.js";
import { get } from "../api.js";
import { useLoad, ErrorBox } from "../components.js";

export function Trunks() {
  const list = useLoad(() => get("/trunks"), []);
  return html`<section aria-labelledby="page-title"><h1 id="page-title">${t("nav.trunks")}</h1>
    <${ErrorBox} error=${list.error} />
    <table id="trunks"><caption>${t("nav.trunks")}</caption>
      <thead><tr><th scope="col">${t("trunk.name")}</th><th scope="col">${t("trunk.address")}</th>
        <th scope="col">${t("trunk.match")}</th><th scope="col">${t("trunk.outbound")}</th></tr></thead>
      <tbody>${sortBy(list.data?.items ?? [], "name").map((row) => html`<tr key=${row.id}><td>${row.name}</td>
        <td>${row.host}:${row.port}</td><td>${row.match.join(", ")}</td>
        <td>${row.default_outbound ? t("trunk.default") : ""}</td></tr>`)}</tbody></table>
  </section>`;
}
