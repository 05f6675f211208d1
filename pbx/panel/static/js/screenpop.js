// An agent's screen pop: when call.ringing arrives for its extension (its stream carries only
// that extension), who is calling and what the tenant's CRM knows of them, over whichever
// screen is open, before the phone is answered. Calls the agent places (click-to-call,
// outbound) pop nothing: the agent knows whom it called.
import { html, useState } from "./lib.js";
import { t } from "./i18n.js";
import { useEventStream } from "./stream.js";
import { ContactCard, oneLine } from "./contact.js";

const STATE = { "call.ringing": "ringing", "call.answered": "answered", "call.ended": "ended" };

export function ScreenPop({ user }) {
  const [pop, setPop] = useState(null);
  useEventStream(user.tenant_id, user.extension, (event) => {
    const state = STATE[event.type];
    if (!state || event.data.extension !== user.extension) return;
    if (state === "ringing" && event.data.direction !== "outbound") setPop({ ...event.data, state });
    else setPop((shown) => shown && shown.call_id === event.data.call_id ? { ...shown, state } : shown);
  });
  if (!pop) return null;
  return html`<aside class="screen-pop" id="screen-pop" role="alert" aria-labelledby="pop-title"
      data-call=${pop.call_id} data-state=${pop.state}>
    <h2 id="pop-title">${t("pop.title", { number: oneLine(pop.caller) })}</h2>
    <p class="pop-state">${t(`pop.${pop.state}`)}</p>
    ${pop.contact ? html`<${ContactCard} contact=${pop.contact} id="pop-contact" />` : html`<p>${t("pop.unknown")}</p>`}
    <button type="button" id="pop-close" onClick=${() => setPop(null)}>${t("pop.close")}</button>
  </aside>`;
}
