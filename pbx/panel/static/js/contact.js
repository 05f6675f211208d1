// A CRM contact (call.ringing's `contact`, or a test lookup) as plain text. Everything in it
// comes from outside, from whoever typed into the tenant's CRM: it is only ever a text node
// (Preact escapes it), on one line (a newline or control character could fake another line of
// the card), isolated from the page's text direction (<bdi>), and linked only over http(s).
import { html } from "./lib.js";
import { t, formatTime } from "./i18n.js";

const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]+/g;

export const oneLine = (value) => String(value ?? "").replace(CONTROLS, " ").replace(/ {2,}/g, " ").trim();

export function safeLink(url) {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
  } catch (exc) { return null; }
}

// An order's date as the CRM gives it: a day (2026-11-20) or a moment (shown in the tenant's zone).
function orderDay(value) {
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value || "");
  if (day) return `${day[3]}.${day[2]}.${day[1]}`;
  return value && !Number.isNaN(Date.parse(value)) ? formatTime(value) : oneLine(value);
}

function Order({ order }) {
  if (!order) return t("contact.no_order");
  return t("contact.order_line", { id: oneLine(order.id), date: orderDay(order.date),
    total: oneLine(order.total ?? "—"), status: oneLine(order.status ?? "—") });
}

export function ContactCard({ contact, id }) {
  const link = contact.url ? safeLink(contact.url) : null;
  return html`<dl class="contact" id=${id}>
    <dt>${t("contact.name")}</dt><dd class="contact-name"><bdi>${oneLine(contact.name)}</bdi></dd>
    <dt>${t("contact.company")}</dt><dd class="contact-company"><bdi>${oneLine(contact.company) || "—"}</bdi></dd>
    <dt>${t("contact.last_order")}</dt><dd class="contact-order"><bdi><${Order} order=${contact.last_order} /></bdi></dd>
    ${link && html`<dt>${t("contact.record")}</dt><dd><a class="contact-link" href=${link} target="_blank"
      rel="noopener noreferrer">${t("contact.open")}</a></dd>`}
  </dl>`;
}
