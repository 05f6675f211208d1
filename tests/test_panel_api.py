"""What the panel added to the API and the server: the provisioning QR code, Turkey's public
holidays, and the panel's own files at / (public, with a strict Content-Security-Policy)."""
from __future__ import annotations

import io

import pytest
import requests
import zxingcpp
from PIL import Image

pytestmark = [pytest.mark.asterisk]


def qr_text(svg: bytes) -> str:
    """Draws the SVG's module squares to a bitmap and reads it (no SVG renderer needed)."""
    import re

    size = int(float(re.search(rb'width="([\d.]+)mm"', svg).group(1)) * 10)  # 1 mm per box of 10 px
    boxes = re.findall(rb"M([\d.]+),([\d.]+)H([\d.]+)V([\d.]+)H([\d.]+)z", svg)
    image = Image.new("L", (size, size), 255)
    for x1, y1, x2, y2, _ in boxes:
        for y in range(int(float(y1) * 10), int(float(y2) * 10)):
            for x in range(int(float(x1) * 10), int(float(x2) * 10)):
                image.putpixel((x, y), 0)
    [found] = zxingcpp.read_barcodes(image)
    return found.text


def test_qr_code_holds_the_extensions_account_and_is_scoped_to_its_tenant(stack):
    tenant, api = stack.new_tenant("kobi")
    other, other_api = stack.new_tenant("kobi")
    ext = api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "101", "name": "Ayşe"})
    path = f"/tenants/{tenant['id']}/extensions/{ext['id']}/qr"
    answer = api.post(path, json={"password": ext["sip"]["password"]})
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "image/svg+xml"
    assert answer.headers["Cache-Control"] == "no-store"
    text = qr_text(answer.content)
    assert text == f"sip:{ext['sip']['username']}:{ext['sip']['password']}@{ext['sip']['server']};transport=udp"
    # Another tenant's extension, by its own path or ours, names nothing.
    assert other_api.post(path, json={"password": "x" * 12}).status_code == 404
    assert other_api.post(f"/tenants/{other['id']}/extensions/{ext['id']}/qr",
                          json={"password": "x" * 12}).status_code == 404
    for bad in ({"password": "short"}, {"password": "a\nb" * 5}, {"password": 12345678}, {}, {"password": "x" * 10, "y": 1}):
        refused = api.post(path, json=bad)
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid", bad
    assert stack.operator.as_token(None).post(path, json={"password": "x" * 12}).status_code == 401


def test_turkish_public_holidays_are_offered(stack):
    tenant, api = stack.new_tenant("kobi")
    days = {h["date"]: h["name"] for h in api.ok("GET", "/holidays/tr?year=2027")["items"]}
    assert days["2027-10-29"] == "Cumhuriyet Bayramı" and "2027-03-09" in days  # Ramazan Bayramı moves
    english = {h["date"]: h["name"] for h in api.ok("GET", "/holidays/tr?year=2027&lang=en")["items"]}
    assert english["2027-10-29"] == "Republic Day"
    for bad in ("year=27", "year=1999", "year=2027%0a", "lang=de", "year=٢٠٢٧"):
        refused = api.get(f"/holidays/tr?{bad}")
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid", bad
    assert stack.operator.as_token(None).get("/holidays/tr").status_code == 401


def test_the_panel_is_served_at_the_root_with_a_strict_policy(stack):
    root = stack.operator.base.removesuffix("/api/v1")
    page = requests.get(root + "/", timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self' 'sha256-" in policy and "http" not in policy
    assert 'rel="modulepreload" href="/panel/js/main.js"' in page.text
    assert requests.get(root + "/panel/vendor/preact.mjs", timeout=10).status_code == 200
    for path in ("/panel/../pyproject.toml", "/panel/%2e%2e/__init__.py", "/panel/nothing.js"):
        # A path that leaves the panel's files is not public (401), and not served even with a token.
        assert requests.get(root + path, timeout=10).status_code in (401, 403, 404), path
        authorised = requests.get(root + path, headers={"Authorization": f"Bearer {stack.operator.token}"}, timeout=10)
        assert authorised.status_code in (403, 404), path
    assert requests.get(root + "/api/v1/tenants", timeout=10).status_code == 401  # its data is not public
