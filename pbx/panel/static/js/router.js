// Hash routes (#/t/5/calls): deep links work with one page served at /.
import { home } from "./session.js";
import { Dashboard } from "./screens/dashboard.js";
import { Extensions } from "./screens/extensions.js";
import { Prompts } from "./screens/prompts.js";
import { Ivrs } from "./screens/ivrs.js";
import { Calls } from "./screens/calls.js";
import { Numbers } from "./screens/numbers.js";
import { RingGroups } from "./screens/ringgroups.js";
import { Reports } from "./screens/reports.js";
import { Schedules } from "./screens/schedules.js";
import { Voicemail } from "./screens/voicemail.js";
import { Trunks } from "./screens/trunks.js";
import { Users } from "./screens/users.js";
import { Tenants } from "./screens/tenants.js";
import { Allocations } from "./screens/allocations.js";
import { TenantSettings } from "./screens/settings.js";
import { CrmSettings } from "./screens/crm.js";
import { WebhookSettings } from "./screens/webhooks.js";
import { NotFound } from "./screens/notfound.js";

const TENANT_SCREENS = { dashboard: Dashboard, extensions: Extensions, prompts: Prompts, ivrs: Ivrs,
  ring_groups: RingGroups, schedules: Schedules, numbers: Numbers, calls: Calls, voicemail: Voicemail, reports: Reports, users: Users,
  settings: TenantSettings, crm: CrmSettings, webhooks: WebhookSettings };
const AGENT_SCREENS = new Set(["dashboard", "calls", "voicemail"]);  // what an agent's session may read (pbx/api/agents.py)

export const tenantScreens = (user) =>
  Object.keys(TENANT_SCREENS).filter((name) => user.role !== "agent" || AGENT_SCREENS.has(name));

export function route(hash, user) {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean);
  if (parts.length === 0) {
    location.replace(home(user));
    return { Screen: () => null, params: {} };
  }
  if (parts[0] === "t" && /^\d+$/.test(parts[1] || "") && tenantScreens(user).includes(parts[2])) {
    return { Screen: TENANT_SCREENS[parts[2]], params: { tenantId: Number(parts[1]), screen: parts[2] } };
  }
  const operatorScreens = { tenants: Tenants, trunks: Trunks, allocations: Allocations };
  if (parts[0] === "operator" && operatorScreens[parts[1]] && user.role === "operator") {
    return { Screen: operatorScreens[parts[1]], params: { screen: parts[1] } };
  }
  return { Screen: NotFound, params: {} };
}
