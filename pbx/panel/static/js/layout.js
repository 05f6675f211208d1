// The frame around every screen: navigation, language switch, sign-out.
import { html } from "./lib.js";
import { t, currentLang, setLang } from "./i18n.js";
import { signOut } from "./session.js";
import { tenantScreens } from "./router.js";
import { ScreenPop } from "./screenpop.js";

function Nav({ user, tenantId, screen }) {
  const links = [];
  if (user.role === "operator") {
    links.push(["#/operator/tenants", "nav.tenants", "tenants"], ["#/operator/trunks", "nav.trunks", "trunks"],
      ["#/operator/allocations", "nav.allocations", "allocations"]);
  }
  const tid = tenantId ?? user.tenant_id;
  if (tid) for (const name of tenantScreens(user)) links.push([`#/t/${tid}/${name}`, `nav.${name}`, name]);
  return html`<nav aria-label=${t("nav.label")}><ul>
    ${links.map(([href, key, name]) => html`<li><a href=${href}
      aria-current=${name === screen ? "page" : undefined}>${t(key)}</a></li>`)}
  </ul></nav>`;
}

export function Layout({ user, onSignedOut, relang, params, children }) {
  const other = currentLang() === "tr" ? "en" : "tr";
  const switchLang = () => { setLang(other); relang(); };
  const leave = async () => { try { await signOut(); } finally { onSignedOut(); location.hash = ""; } };
  return html`
    <a class="skip" href="#main">${t("layout.skip")}</a>
    <header>
      <strong class="brand">${t("app.title")}</strong>
      <span class="who">${user.name} · ${t(`role.${user.role}`)}</span>
      <button type="button" id="lang-switch" lang=${other} onClick=${switchLang}>${t("layout.other_language")}</button>
      <button type="button" id="sign-out" onClick=${leave}>${t("layout.sign_out")}</button>
    </header>
    <${Nav} user=${user} tenantId=${params.tenantId} screen=${params.screen} />
    ${user.role === "agent" && user.extension && html`<${ScreenPop} user=${user} />`}
    <main id="main" tabindex="-1">${children}</main>`;
}
