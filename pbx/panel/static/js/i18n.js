// Turkish by default, English on a switch. Catalogues are JSON (i18n/*.json); a unit test
// checks both hold every key the code uses. Sorting and casing follow the language (İ/i, I/ı).
export const LANGS = ["tr", "en"];
const catalogues = {};
let lang = localStorage.getItem("pbx.lang") || "tr";

export async function loadCatalogues() {
  await Promise.all(LANGS.map(async (code) => {
    catalogues[code] = await (await fetch(`/panel/i18n/${code}.json`)).json();
  }));
  document.documentElement.lang = lang;
}

export function currentLang() { return lang; }

export function setLang(code) {
  lang = code;
  localStorage.setItem("pbx.lang", code);
  document.documentElement.lang = code;
}

export function t(key, vars = {}) {
  const text = catalogues[lang][key] ?? catalogues.tr[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

const locale = () => (lang === "tr" ? "tr-TR" : "en-GB");
export const compare = (a, b) => new Intl.Collator(locale(), { numeric: true }).compare(a, b);
export const sortBy = (rows, field) => [...rows].sort((a, b) => compare(String(a[field]), String(b[field])));

export const TENANT_TZ = "Europe/Istanbul";

function zoneParts(date, tz) {
  const fmt = new Intl.DateTimeFormat("en-GB", { timeZone: tz, year: "numeric", month: "2-digit",
    day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
  return Object.fromEntries(fmt.formatToParts(date).map((p) => [p.type, p.value]));
}

// "01.12.2026 14:05" in the tenant's time zone, whatever the browser's.
export function formatTime(iso, tz = TENANT_TZ) {
  if (!iso) return "";
  const p = zoneParts(new Date(iso), tz);
  return `${p.day}.${p.month}.${p.year} ${p.hour}:${p.minute}`;
}

// A <input type="datetime-local"> value read as the tenant's wall clock, as RFC 3339 (UTC).
export function wallClockToIso(value, tz = TENANT_TZ) {
  const guess = new Date(value + ":00Z");
  const p = zoneParts(guess, tz);
  const shown = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
  return new Date(guess.getTime() - (shown - guess.getTime())).toISOString();
}

// Today's midnight in the tenant's zone, as RFC 3339.
export function startOfToday(tz = TENANT_TZ) {
  const p = zoneParts(new Date(), tz);
  return wallClockToIso(`${p.year}-${p.month}-${p.day}T00:00`, tz);
}

// The tenant's calendar day `offset` days from today ("2026-11-30" for -1), for date inputs.
export function tenantDay(offset = 0, tz = TENANT_TZ) {
  const p = zoneParts(new Date(), tz);
  return new Date(Date.UTC(+p.year, +p.month - 1, +p.day + offset)).toISOString().slice(0, 10);
}
