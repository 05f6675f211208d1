// Today's calls and missed calls (the call records), and the calls in progress, live from
// the tenant's event stream (an agent's stream carries only its own extension).
import { html, useState } from "../lib.js";
import { t, formatTime, startOfToday } from "../i18n.js";
import { get } from "../api.js";
import { TenantPage, useLoad, ErrorBox } from "../components.js";
import { useEventStream } from "../stream.js";

const MISSED = new Set(["no_answer", "busy", "failed"]);

// Calls in progress by call_id; a call that ended leaves, and today's list is read again.
function useLiveCalls(tenantId, user, onEnded) {
  const [live, setLive] = useState({});
  const extension = user.role === "agent" ? user.extension : null;
  useEventStream(tenantId, extension, (event) => {
    const id = event.data.call_id;
    if (event.type === "call.ringing") setLive((calls) => ({ ...calls, [id]: { ...event.data, state: "ringing", at: event.at } }));
    if (event.type === "call.answered") setLive((calls) => calls[id] ? { ...calls, [id]: { ...calls[id], state: "answered" } } : calls);
    if (event.type === "call.ended") {
      setLive((calls) => { const { [id]: _gone, ...rest } = calls; return rest; });
      onEnded();
    }
  }, () => document.body.setAttribute("data-live", "open"));
  return Object.values(live);
}

function CallTable({ calls, caption, id }) {
  return html`<table id=${id}><caption>${caption}</caption>
    <thead><tr><th scope="col">${t("calls.time")}</th><th scope="col">${t("calls.caller")}</th>
      <th scope="col">${t("calls.callee")}</th><th scope="col">${t("calls.state")}</th></tr></thead>
    <tbody>${calls.map((c) => html`<tr key=${c.id ?? c.call_id}>
      <td>${formatTime(c.started_at ?? c.at)}</td><td>${c.caller}</td><td>${c.callee}</td>
      <td>${t(`disposition.${c.disposition ?? c.state}`)}</td></tr>`)}</tbody></table>`;
}

function Board({ tenant, user }) {
  const today = useLoad(() => get(`/tenants/${tenant.id}/calls?limit=500&from=${encodeURIComponent(startOfToday())}`), [tenant.id]);
  const live = useLiveCalls(tenant.id, user, today.reload);
  const calls = today.data?.items ?? [];
  const missed = calls.filter((c) => c.direction !== "outbound" && MISSED.has(c.disposition));
  return html`
    <${ErrorBox} error=${today.error} />
    <ul class="figures" data-loaded=${today.data ? "yes" : undefined}>
      <li><span class="figure" id="count-today">${calls.length}</span> ${t("dashboard.today")}</li>
      <li><span class="figure" id="count-missed">${missed.length}</span> ${t("dashboard.missed")}</li>
      <li><span class="figure" id="count-live">${live.length}</span> ${t("dashboard.live")}</li>
    </ul>
    <div aria-live="polite"><${CallTable} id="live-calls" calls=${live} caption=${t("dashboard.live")} /></div>
    <${CallTable} id="missed-calls" calls=${missed} caption=${t("dashboard.missed")} />`;
}

export function Dashboard({ tenantId, user }) {
  return html`<${TenantPage} tenantId=${tenantId} title=${t("nav.dashboard")}>
    ${(tenant) => html`<${Board} tenant=${tenant} user=${user} />`}<//>`;
}
