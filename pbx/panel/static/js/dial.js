// Click-to-call (POST /tenants/{tid}/calls): the caller's own phone rings first and, once
// answered, the number is dialled by the tenant's rules. An agent calls from its own
// extension; an admin picks the extension in the dial box (remembered per tenant). Numbers
// in the call history are buttons that call through the same box, which shows the outcome.
import { html, useState, useEffect } from "./lib.js";
import { t, sortBy } from "./i18n.js";
import { get, post } from "./api.js";
import { useLoad, ErrorBox, Field } from "./components.js";

const listeners = new Set();
const fromKey = (tenantId) => `pbx.dial_from.${tenantId}`;

function callerOf(user, tenantId) {
  return user.role === "agent" ? user.extension : localStorage.getItem(fromKey(tenantId));
}

export async function dial(user, tenantId, to) {
  const extension = callerOf(user, tenantId);
  const report = (outcome) => listeners.forEach((listener) => listener(outcome));
  if (!extension) return report({ error: { message: t("dial.choose_extension") } });
  report({ pending: true });
  try {
    await post(`/tenants/${tenantId}/calls`, { extension, to });
    report({ calling: { extension, to } });
  } catch (error) { report({ error }); }
}

function FromPicker({ tenantId }) {
  const list = useLoad(() => get(`/tenants/${tenantId}/extensions`), [tenantId]);
  const [from, setFrom] = useState(localStorage.getItem(fromKey(tenantId)));
  const rows = list.data ? sortBy(list.data.items, "number") : [];
  const choose = (number) => { localStorage.setItem(fromKey(tenantId), number); setFrom(number); };
  useEffect(() => {  // the remembered one, while it exists; else the first
    if (rows.length && !rows.some((e) => e.number === from)) choose(rows[0].number);
  }, [list.data]);
  if (list.error) return html`<${ErrorBox} error=${list.error} />`;
  return html`<${Field} label=${t("dial.from")}><select name="from" value=${from ?? ""}
      onChange=${(e) => choose(e.target.value)}>
    ${rows.map((e) => html`<option value=${e.number}>${e.number} ${e.name}</option>`)}</select><//>`;
}

function Outcome({ outcome }) {
  if (!outcome) return null;
  if (outcome.error) return html`<${ErrorBox} error=${outcome.error} />`;
  const text = outcome.pending ? t("dial.pending") : t("dial.calling", outcome.calling);
  return html`<p class="ok" id="dial-status" role="status">${text}</p>`;
}

export function DialBox({ tenant, user }) {
  const [outcome, setOutcome] = useState(null);
  useEffect(() => { listeners.add(setOutcome); return () => listeners.delete(setOutcome); }, []);
  const submit = (event) => {
    event.preventDefault();
    dial(user, tenant.id, new FormData(event.target).get("to").trim());
  };
  return html`<form onSubmit=${submit} id="dial-box" class="filter" aria-labelledby="dial-title">
      <h2 id="dial-title">${t("dial.title")}</h2>
      ${user.role === "agent" ? html`<p>${t("dial.from_own", { extension: user.extension })}</p>`
        : html`<${FromPicker} tenantId=${tenant.id} />`}
      <${Field} label=${t("dial.number")}><input name="to" type="tel" required maxlength="32" autocomplete="off" /><//>
      <button type="submit">${t("dial.call")}</button>
    </form>
    <div aria-live="polite"><${Outcome} outcome=${outcome} /></div>`;
}

// Who the other party of a call is: the one to call back (not the agent's own extension).
function otherSide(call, user) {
  if (call.direction === "outbound") return "callee";
  return user.role === "agent" && call.caller === user.extension ? "callee" : "caller";
}

// One party of a call in the history: a button that calls it when it is the other party.
export function Party({ tenantId, call, side, user }) {
  const number = call[side];
  if (!number || side !== otherSide(call, user) || !/^\+?[0-9]{2,20}$/.test(number)) return number ?? "";
  return html`<button type="button" class="dial" data-dial=${number} onClick=${() => dial(user, tenantId, number)}
    aria-label=${t("dial.call_number", { number })}>${number}</button>`;
}
