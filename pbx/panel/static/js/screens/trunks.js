// Operator: the carriers (trunks) calls arrive from and leave through, with their state:
// reachability (SIP OPTIONS) since when and RTT, and the last hour's calls, polled.
import { html, useState, useEffect } from "../lib.js";
import { t, sortBy, formatTime } from "../i18n.js";
import { get } from "../api.js";
import { useLoad, ErrorBox } from "../components.js";

const POLL_MS = 5000;

// One trunk's status and figures, read together; a failed read keeps the last good one.
async function readState(trunk) {
  const [status, figures] = await Promise.all([get(`/trunks/${trunk.id}/status`), get(`/trunks/${trunk.id}/figures`)]);
  return { status, figures };
}

function usePolledStates(trunks) {
  const [states, setStates] = useState({});
  const [error, setError] = useState(null);
  useEffect(() => {
    if (!trunks) return undefined;
    let live = true;
    const poll = async () => {
      try {
        const read = await Promise.all(trunks.map(async (trunk) => [trunk.id, await readState(trunk)]));
        if (live) { setStates(Object.fromEntries(read)); setError(null); }
      } catch (exc) { if (live) setError(exc); }
    };
    poll();
    const timer = setInterval(poll, POLL_MS);
    return () => { live = false; clearInterval(timer); };
  }, [trunks]);
  return { states, error };
}

const shown = (value, digits = 1) => (value === null || value === undefined ? "–" : Number(value).toFixed(digits));

function Reachability({ status }) {
  if (!status || status.reachable === null) return html`<span class="off">${t("trunk.state_unknown")}</span>`;
  return html`<span class=${status.reachable ? "ok" : "bad"}>${t(status.reachable ? "trunk.reachable" : "trunk.unreachable")}</span>`;
}

const percent = (ratio) => (ratio === null || ratio === undefined ? "–" : `${Math.round(ratio * 100)} %`);
const quality = (f) => (f?.jitter_ms == null && f?.loss_percent == null ? "–"
  : t("trunk.quality_figures", { jitter: shown(f.jitter_ms), loss: shown(f.loss_percent) }));

// The columns: heading key, cell class, what the cell shows. On a phone the headings are hidden,
// so each cell carries its own as data-label (panel.css).
const COLUMNS = [
  ["trunk.name", "", (row) => row.name],
  ["trunk.address", "", (row) => `${row.host}:${row.port}`],
  ["trunk.match", "", (row) => row.match.join(", ")],
  ["trunk.outbound", "", (row) => (row.default_outbound ? t("trunk.default") : "")],
  ["trunk.state", "trunk-state", (_row, s) => html`<${Reachability} status=${s?.status} />`],
  ["trunk.since", "trunk-since", (_row, s) => (s?.status?.since ? formatTime(s.status.since) : "–")],
  ["trunk.rtt", "trunk-rtt", (_row, s) => shown(s?.status?.rtt_ms)],
  ["trunk.calls", "trunk-calls", (_row, s) => (s ? s.figures.calls : "–")],
  ["trunk.answer_rate", "trunk-answer", (_row, s) => percent(s?.figures.answer_ratio)],
  ["trunk.failures", "trunk-failures", (_row, s) => (s ? s.figures.setup_failures : "–")],
  ["trunk.quality", "trunk-quality", (_row, s) => quality(s?.figures)],
];

function TrunkRow({ row, state }) {
  const reachable = state ? String(state.status.reachable) : undefined;
  return html`<tr key=${row.id} data-trunk=${row.id} data-reachable=${reachable}>
    ${COLUMNS.map(([key, cls, cell]) => html`<td class=${cls || undefined} data-label=${t(key)}>${cell(row, state)}</td>`)}
  </tr>`;
}

export function Trunks() {
  const list = useLoad(() => get("/trunks"), []);
  const trunks = list.data ? sortBy(list.data.items, "name") : null;
  const { states, error } = usePolledStates(trunks);
  return html`<section aria-labelledby="page-title"><h1 id="page-title">${t("nav.trunks")}</h1>
    <p class="note">${t("trunk.window_note")}</p>
    <${ErrorBox} error=${list.error || error} />
    <table id="trunks"><caption>${t("nav.trunks")}</caption>
      <thead><tr>${COLUMNS.map(([key]) => html`<th scope="col">${t(key)}</th>`)}</tr></thead>
      <tbody>${(trunks ?? []).map((row) => html`<${TrunkRow} key=${row.id} row=${row} state=${states[row.id]} />`)}</tbody></table>
  </section>`;
}
