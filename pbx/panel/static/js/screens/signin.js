import { html, useState } from "../lib.js";
import { t, currentLang, setLang } from "../i18n.js";
import { signIn, home } from "../session.js";
import { ErrorBox, Field } from "../components.js";

export function SignIn({ onSignedIn, relang }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const other = currentLang() === "tr" ? "en" : "tr";
  const submit = async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    setBusy(true);
    try {
      const user = await signIn(form.get("email"), form.get("password"));
      if (!location.hash || location.hash === "#/signin") location.hash = home(user);
      onSignedIn(user);
    } catch (exc) {
      setError(exc);
      setBusy(false);
    }
  };
  return html`<main id="main" class="signin">
    <h1>${t("app.title")}</h1>
    <form onSubmit=${submit} aria-labelledby="signin-title">
      <h2 id="signin-title">${t("signin.title")}</h2>
      <${Field} label=${t("signin.email")}><input name="email" type="email" autocomplete="username" required /><//>
      <${Field} label=${t("signin.password")}><input name="password" type="password"
        autocomplete="current-password" required /><//>
      <${ErrorBox} error=${error} />
      <button type="submit" id="sign-in" disabled=${busy}>${t("signin.submit")}</button>
    </form>
    <button type="button" id="lang-switch" lang=${other}
      onClick=${() => { setLang(other); relang(); }}>${t("layout.other_language")}</button>
  </main>`;
}
