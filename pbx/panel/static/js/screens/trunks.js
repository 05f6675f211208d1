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

function TrunkRow({ row, state }) {
  const status = state?.status, figures = state?.figures;
  const ratio = figures?.answer_ratio;
  return html`<tr key=${row.id} data-trunk=${row.id} data-reachable=${status ? String(status.reachable) : undefined}>
    <td>${row.name}</td><td>${row.host}:${row.port}</td><td>${row.match.join(", ")}</td>
    <td>${row.default_outbound ? t("trunk.default") : ""}</td>
    <td class="trunk-state"><${Reachability} status=${status} /></td>
    <td class="trunk-since">${status?.since ? formatTime(status.since) : "–"}</td>
    <td class="trunk-rtt">${shown(status?.rtt_ms)}</td>
    <td class="trunk-calls">${figures ? figures.calls : "–"}</td>
    <td class="trunk-answer">${ratio === null || ratio === undefined ? "–" : `${Math.round(ratio * 100)} %`}</td>
    <td class="trunk-failures">${figures ? figures.setup_failures : "–"}</td>
    <td class="trunk-quality">${figures?.jitter_ms == null && figures?.loss_percent == null ? "–"
      : t("trunk.quality_figures", { jitter: shown(figures.jitter_ms), loss: shown(figures.loss_percent) })}</td>
  </tr>`;
}

export function Trunks() {
  const list = useLoad(() => get("/trunks"), []);
  const trunks = list.data ? sortBy(list.data.items, "name") : null;
  const { states, error } = usePolledStates(trunks);
  const head = ["trunk.name", "trunk.address", "trunk.match", "trunk.outbound", "trunk.state", "trunk.since",
    "trunk.rtt", "trunk.calls", "trunk.answer_rate", "trunk.failures", "trunk.quality"];
  return html`<section aria-labelledby="page-title"><h1 id="page-title">${t("nav.trunks")}</h1>
    <p class="note">${t("trunk.window_note")}</p>
    <${ErrorBox} error=${list.error || error} />
    <table id="trunks"><caption>${t("nav.trunks")}</caption>
      <thead><tr>${head.map((key) => html`<th scope="col">${t(key)}</th>`)}</tr></thead>
      <tbody>${(trunks ?? []).map((row) => html`<${TrunkRow} key=${row.id} row=${row} state=${states[row.id]} />`)}</tbody></table>
  </section>`;
}
