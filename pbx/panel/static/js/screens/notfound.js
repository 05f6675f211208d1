import { html } from "../lib.js";
import { t } from "../i18n.js";

export function NotFound() {
  return html`<section class="not-found" aria-labelledby="nf-title">
    <h1 id="nf-title">${t("notfound.title")}</h1>
    <p>${t("notfound.text")}</p>
    <p><a href="#/">${t("notfound.home")}</a></p>
  </section>`;
}
