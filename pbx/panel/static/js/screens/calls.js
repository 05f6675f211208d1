// Call history: filter by time range (the tenant's wall clock) and number; play or download
// a call's recording (each read lands in the recording's KVKK access log, server-side).
import { html, useState } from "../lib.js";
import { t, formatTime, wallClockToIso, tenantDay } from "../i18n.js";
import { get } from "../api.js";
import { TenantPage, ErrorBox, Field, PlanGate } from "../components.js";
import { DialBox, Party } from "../dial.js";

function query(form) {
  const params = new URLSearchParams({ limit: "200" });
  if (form.get("from")) params.set("from", wallClockToIso(form.get("from")));
  if (form.get("to")) params.set("to", wallClockToIso(form.get("to")));
  if (form.get("number")) params.set("number", form.get("number").trim());
  return params.toString();
}

function Recording({ tenantId, call }) {
  const [playing, setPlaying] = useState(false);
  if (!call.recording_id) return html`<span>—</span>`;
  const src = `/api/v1/tenants/${tenantId}/recordings/${call.recording_id}/audio`;
  return html`${playing
    ? html`<audio controls autoplay src=${src} class="recording" aria-label=${t("calls.recording_of", { caller: call.caller })}></audio>`
    : html`<button type="button" class="play" onClick=${() => setPlaying(true)}
        aria-label=${t("calls.play_label", { caller: call.caller })}>${t("calls.play")}</button>`}
    <a href=${src} download=${`recording-${call.recording_id}.wav`}>${t("calls.download")}</a>`;
}

// RTCP figures of the caller's leg (the worse direction), as the API reports them.
const quality = (q) => q ? t("calls.quality_figures", { jitter: q.jitter_ms ?? "–", loss: q.loss_percent ?? "–",
  rtt: q.rtt_ms ?? "–" }) : "—";

// An agent plays the recordings of its own calls, which are all it is shown (pbx/api/agents.py).
function Results({ tenant, items, user }) {
  return html`<table id="calls"><caption>${t("nav.calls")}</caption>
    <thead><tr><th scope="col">${t("calls.time")}</th><th scope="col">${t("calls.direction")}</th>
      <th scope="col">${t("calls.caller")}</th><th scope="col">${t("calls.callee")}</th>
      <th scope="col">${t("calls.state")}</th><th scope="col">${t("calls.duration")}</th>
      <th scope="col">${t("calls.quality")}</th>
      <th scope="col">${t("calls.recording")}</th></tr></thead>
    <tbody>${items.map((c) => html`<tr key=${c.id} data-call=${c.id}>
      <td>${formatTime(c.started_at)}</td><td>${t(`direction.${c.direction}`)}</td>
      <td><${Party} tenantId=${tenant.id} call=${c} side="caller" user=${user} /></td>
      <td><${Party} tenantId=${tenant.id} call=${c} side="callee" user=${user} /></td><td>${t(`disposition.${c.disposition}`)}</td><td>${c.billsec} ${t("common.seconds")}</td>
      <td>${quality(c.quality)}</td>
      <td><${PlanGate} tenant=${tenant} feature="recording"><${Recording} tenantId=${tenant.id} call=${c} /><//></td>
    </tr>`)}</tbody></table>`;
}

// A whole day of the tenant's wall clock, from its midnight to the next (-1: yesterday).
function fillDay(form, offset) {
  form.elements.from.value = `${tenantDay(offset)}T00:00`;
  form.elements.to.value = `${tenantDay(offset + 1)}T00:00`;
}

function History({ tenant, user }) {
  const [state, setState] = useState({ items: null, error: null });
  const search = async (event) => {
    event.preventDefault();
    try {
      const page = await get(`/tenants/${tenant.id}/calls?${query(new FormData(event.target))}`);
      setState({ items: page.items, error: null });
    } catch (error) { setState({ items: null, error }); }
  };
  return html`<${DialBox} tenant=${tenant} user=${user} />
    <form onSubmit=${search} id="call-filter" class="filter" aria-label=${t("calls.filter")}>
      <${Field} label=${t("calls.from")}><input name="from" type="datetime-local" /><//>
      <${Field} label=${t("calls.to")}><input name="to" type="datetime-local" /><//>
      <${Field} label=${t("calls.number")}><input name="number" type="tel" /><//>
      <button type="button" id="calls-yesterday" onClick=${(e) => fillDay(e.target.form, -1)}>${t("calls.yesterday")}</button>
      <button type="button" id="calls-today" onClick=${(e) => fillDay(e.target.form, 0)}>${t("calls.today")}</button>
      <button type="submit">${t("calls.search")}</button>
    </form>
    <${ErrorBox} error=${state.error} />
    ${state.items && (state.items.length ? html`<${Results} tenant=${tenant} items=${state.items} user=${user} />`
      : html`<p id="no-calls">${t("calls.none")}</p>`)}`;
}

export function Calls({ tenantId, user }) {
  return html`<${TenantPage} tenantId=${tenantId} title=${t("nav.calls")}>
    ${(tenant) => html`<${History} tenant=${tenant} user=${user} />`}<//>`;
}
