// Hash routes (#/t/5/calls): deep links work with one page served at /.
import { home } from "./session.js";
import { Dashboard } from "./screens/dashboard.js";
import { Extensions } from "./screens/extensions.js";
import { Prompts } from "./screens/prompts.js";
import { Ivrs } from "./screens/ivrs.js";
import { Calls } from "./screens/calls.js";
import { Tenants } from "./screens/tenants.js";
import { NotFound } from "./screens/notfound.js";

const TENANT_SCREENS = { dashboard: Dashboard, extensions: Extensions, prompts: Prompts, ivrs: Ivrs, calls: Calls };
const ADMIN_ONLY = new Set(["extensions", "prompts", "ivrs"]);

export const tenantScreens = (user) =>
  Object.keys(TENANT_SCREENS).filter((name) => user.role !== "agent" || !ADMIN_ONLY.has(name));

export function route(hash, user) {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean);
  if (parts.length === 0) {
    location.replace(home(user));
    return { Screen: () => null, params: {} };
  }
  if (parts[0] === "t" && /^\d+$/.test(parts[1] || "") && tenantScreens(user).includes(parts[2])) {
    return { Screen: TENANT_SCREENS[parts[2]], params: { tenantId: Number(parts[1]), screen: parts[2] } };
  }
  if (parts[0] === "operator" && parts[1] === "tenants" && user.role === "operator") {
    return { Screen: Tenants, params: { screen: "tenants" } };
  }
  return { Screen: NotFound, params: {} };
}
