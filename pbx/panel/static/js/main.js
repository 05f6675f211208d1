// Entry point: loads the catalogues and the session, then renders the screen the hash names.
import { html, render, useState, useEffect } from "./lib.js";
import { loadCatalogues } from "./i18n.js";
import { currentUser } from "./session.js";
import { Layout } from "./layout.js";
import { SignIn } from "./screens/signin.js";
import { route } from "./router.js";

function useHash() {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const changed = () => setHash(location.hash);
    addEventListener("hashchange", changed);
    return () => removeEventListener("hashchange", changed);
  }, []);
  return hash;
}

function App({ initialUser }) {
  const [user, setUser] = useState(initialUser);
  const [, setLangTick] = useState(0);
  const hash = useHash();
  const relang = () => setLangTick((n) => n + 1);
  if (!user) return html`<${SignIn} onSignedIn=${setUser} relang=${relang} />`;
  const { Screen, params } = route(hash, user);
  return html`<${Layout} user=${user} onSignedOut=${() => setUser(null)} relang=${relang} params=${params}>
    <${Screen} user=${user} ...${params} key=${hash} />
  </${Layout}>`;
}

const [, user] = await Promise.all([loadCatalogues(), currentUser()]);
render(html`<${App} initialUser=${user} />`, document.getElementById("app"));
