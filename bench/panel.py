"""The web panel in headless Chromium: the dashboard's first load, and a call's way to it.

    PBX_TEST_PORT_OFFSET=500 PYTHONPATH=. .venv/bin/python bench/panel.py [--runs 5] [--calls 5]

1. First load: a signed-in tenant admin opens the dashboard in a fresh browser profile
   (no cache). Bytes = every response's transferSize (Resource Timing, the document
   included); time to interactive = navigation start until the dashboard has drawn today's
   figures from the call records and its event stream is open (inside the page, performance.now()).
2. Ringing to dashboard: extension 102 (a pjsua2 phone) calls 101; from the moment 101's
   phone is offered the call (INVITE in) until the dashboard's live table shows it
   (both clocks on this machine: time.time() against the page's Date.now()).
Prints figures; asserts nothing. See bench/README.md.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_parser, bench_run, machine, offset_ports, print_machine, start_stack  # noqa: E402
from tests.support.browser import Browser  # noqa: E402
from tests.support.phone import Phones  # noqa: E402

PORTS = offset_ports({"api_port": 40080, "sip_port": 40060, "ami_port": 40038, "agi_port": 40073,
                      "rtp_start": 41000, "rtp_end": 41499})
PASSWORD = "Bench-Parola-2026"
_DRAWN = """
const done = arguments[arguments.length - 1];
const ready = () => document.querySelector('.figures[data-loaded]') && document.body.dataset.live === 'open';
const finish = () => {
  const bytes = performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
    .reduce((sum, e) => sum + (e.transferSize || 0), 0);
  const resources = performance.getEntriesByType('resource');
  const end = (filter) => Math.max(0, ...resources.filter(filter).map((e) => e.responseEnd));
  done({ms: performance.now(), bytes, requests: resources.length + 1,
        static_ms: end((e) => e.name.includes('/panel/')), api_ms: end((e) => e.name.includes('/api/v1/')),
        document_ms: performance.getEntriesByType('navigation')[0].responseEnd,
        api: resources.filter((e) => e.name.includes('/api/v1/'))
          .map((e) => [e.name.split('/api/v1')[1], Math.round(e.startTime), Math.round(e.responseEnd)])});
};
if (ready()) finish(); else new MutationObserver((_m, o) => { if (ready()) { o.disconnect(); finish(); } })
  .observe(document.documentElement, {subtree: true, childList: true, attributes: true});
"""
_SHOWN = """
window.__shownAt = null;
new MutationObserver((_m, o) => { if (document.querySelector('#live-calls tbody tr')) {
  window.__shownAt = Date.now(); o.disconnect(); } })
  .observe(document.querySelector('#live-calls'), {subtree: true, childList: true});
"""


def first_load(base: str, email: str, tenant_id: int) -> dict:
    """A fresh profile: sign in, then load the dashboard cold (a new profile per run: no cache)."""
    browser = Browser(base)
    try:
        browser.driver.set_script_timeout(30)
        browser.sign_in(email, PASSWORD)
        browser.driver.execute_cdp_cmd("Network.enable", {})
        browser.driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
        browser.driver.get("about:blank")  # else the hash change below is a same-document navigation
        browser.open(f"#/t/{tenant_id}/dashboard")
        return browser.driver.execute_async_script(_DRAWN)
    finally:
        browser.close()


def ring_to_dashboard(stack, phones, email: str, tenant_id: int, calls: int) -> list[float]:
    api = stack.operator
    desks = {}
    for number in ("101", "102"):
        ext = api.ok("POST", f"/tenants/{tenant_id}/extensions", {"number": number, "name": f"Masa {number}"})
        desks[number] = phones.add_phone(ext["sip"]["username"], ext["sip"]["password"], port=stack.sip_port)
        assert desks[number].wait_registered(timeout=10) == 200
    browser = Browser(stack.operator.base.removesuffix("/api/v1"))
    delays = []
    try:
        browser.sign_in(email, PASSWORD)
        browser.go(f"#/t/{tenant_id}/dashboard")
        browser.wait(lambda: browser.driver.execute_script("return document.body.dataset.live") == "open")
        for _ in range(calls):
            browser.driver.execute_script(_SHOWN)
            call = desks["102"].call("101")
            incoming = desks["101"].wait_incoming(timeout=10)
            rang = time.time()
            shown = browser.wait(lambda: browser.driver.execute_script("return window.__shownAt"), timeout=10)
            delays.append(shown / 1000 - rang)
            call.hangup()
            incoming.wait_disconnected()
            browser.wait(lambda: not browser.all("#live-calls tbody tr"), timeout=15)
    finally:
        browser.close()
        for desk in desks.values():
            desk.remove()
    return delays


def main() -> int:
    parser = bench_parser(__doc__)
    parser.add_argument("--runs", type=int, default=5, help="cold first loads")
    parser.add_argument("--calls", type=int, default=5, help="calls rung to the dashboard")
    args = parser.parse_args()
    with bench_run("pbx-bench-panel-", args.keep) as tmp:
        stack = start_stack(tmp, PORTS)
        tenant = stack.operator.ok("POST", "/tenants", {"name": "Panel Bench", "plan": "kobi"})
        email = f"admin.{tenant['id']}@example.com"
        stack.operator.ok("POST", "/users", {"email": email, "name": "Bench", "role": "tenant_admin",
                                             "tenant_id": tenant["id"], "password": PASSWORD})
        base = stack.operator.base.removesuffix("/api/v1")
        loads = [first_load(base, email, tenant["id"]) for _ in range(args.runs)]
        with Phones() as phones:
            delays = ring_to_dashboard(stack, phones, email, tenant["id"], args.calls)
        print_machine(machine(stack.asterisk))
    kib = [load["bytes"] / 1024 for load in loads]
    ms = [load["ms"] for load in loads]
    print(f"first load of the dashboard, {args.runs} cold runs: {statistics.median(kib):.1f} KiB transferred "
          f"(max {max(kib):.1f}), {loads[0]['requests']} requests; time to interactive median "
          f"{statistics.median(ms):.0f} ms (min {min(ms):.0f}, max {max(ms):.0f}); of which: document in "
          f"{statistics.median(load['document_ms'] for load in loads):.0f} ms, last static file "
          f"{statistics.median(load['static_ms'] for load in loads):.0f} ms, last API answer "
          f"{statistics.median(load['api_ms'] for load in loads):.0f} ms")
    print("API requests of the last load (path, start ms, end ms):", loads[-1]["api"])
    print(f"ringing to dashboard, {len(delays)} calls: median {statistics.median(delays) * 1000:.0f} ms "
          f"(min {min(delays) * 1000:.0f}, max {max(delays) * 1000:.0f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
