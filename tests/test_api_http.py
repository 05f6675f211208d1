"""Issue 13, items 5 and 6, at the HTTP level with raw sockets against the real
control plane: slow headers, uploads refused before they are read, malformed
requests, and what the server says about itself."""
from __future__ import annotations

import json
import socket
import time

import pytest

from pbx.api.server import HEADER_SECONDS

pytestmark = [pytest.mark.asterisk]


def connect(stack) -> socket.socket:
    return socket.create_connection((stack.settings.api_host, stack.settings.api_port), timeout=5)


def read_response(sock: socket.socket, timeout: float = 10.0) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of the one response the server sends, then closes."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < _length(data):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def _length(data: bytes) -> int:
    for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 0


def closed_by_server(sock: socket.socket, within: float) -> bool:
    sock.settimeout(within)
    try:
        return sock.recv(1) == b""
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


def test_a_client_trickling_header_lines_is_disconnected(stack):
    socks = [connect(stack) for _ in range(5)]
    try:
        for sock in socks:
            sock.sendall(b"GET /api/v1/tenants HTTP/1.1\r\nHost: pbx\r\n")
        deadline = time.monotonic() + HEADER_SECONDS + 20  # bounded wait, not a timing assertion
        open_socks = list(socks)
        while open_socks and time.monotonic() < deadline:
            for sock in list(open_socks):
                try:
                    sock.sendall(b"X-Slow: 1\r\n")
                except OSError:
                    open_socks.remove(sock)
                    continue
                if closed_by_server(sock, 0.2):
                    open_socks.remove(sock)
            time.sleep(2)
        assert open_socks == []
    finally:
        for sock in socks:
            sock.close()
    assert stack.operator.get("/tenants").status_code == 200


def upload_head(stack, tenant_id: int, token: str, length: int, boundary: str = "b0undary") -> bytes:
    return (f"POST /api/v1/tenants/{tenant_id}/prompts HTTP/1.1\r\nHost: pbx\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {length}\r\n\r\n").encode()


def part(name: str, data: bytes, boundary: str = "b0undary") -> bytes:
    return (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"x\"\r\n\r\n").encode() \
        + data + b"\r\n"


def incoming(stack) -> list:
    folder = stack.settings.audio_dir / ".incoming"
    return list(folder.iterdir()) if folder.exists() else []


def test_an_upload_for_another_tenant_is_refused_before_its_body_is_read(stack):
    _, api = stack.new_tenant("kobi")
    other, _ = stack.new_tenant("kobi")
    with connect(stack) as sock:
        sock.sendall(upload_head(stack, other["id"], api.token, 15 * 1024 * 1024))
        sock.sendall(part("file", b"\xff\xfb\x90\x00" * 65536)[:256 * 1024])  # of 15 MB announced
        status, _, body = read_response(sock)  # answered with most of the body never sent
    assert status == 404 and json.loads(body)["error"]["code"] == "not_found"
    assert incoming(stack) == []


def test_extra_multipart_parts_are_refused_at_once(stack):
    tenant, api = stack.new_tenant("kobi")
    junk = b"".join(part(f"junk{i}", b"x") for i in range(2000))  # as the issue's 2,000 junk parts
    with connect(stack) as sock:
        sock.sendall(upload_head(stack, tenant["id"], api.token, 15 * 1024 * 1024))
        sock.sendall(part("name", b"Karsilama") + junk)
        status, _, body = read_response(sock)
    assert status == 422 and json.loads(body)["error"]["code"] == "invalid"
    with connect(stack) as sock:
        sock.sendall(upload_head(stack, tenant["id"], api.token, 10 * 1024 * 1024))
        sock.sendall(part("name", b"Karsilama") + part("file", b"RIFF") + part("file", b"\0" * 1024 * 1024))
        status, _, body = read_response(sock)
    assert status == 422 and incoming(stack) == []
    assert api.ok("GET", f"/tenants/{tenant['id']}/prompts")["items"] == []


def test_an_upload_announcing_more_than_the_limit_is_refused_unread(stack):
    tenant, api = stack.new_tenant("kobi")
    with connect(stack) as sock:
        sock.sendall(upload_head(stack, tenant["id"], api.token, stack.settings.prompt_max_bytes * 2))
        status, _, body = read_response(sock)
    assert status == 413 and json.loads(body)["error"]["code"] == "too_large"


@pytest.mark.parametrize("request_bytes", [
    b"GET /api/v1/tenants HTTP/1.1\r\nHost: pbx\r\nBad\x01Header: <script>secret</script>\r\n\r\n",
    b"GET /api/v1/tenants HTTP/1.1\r\nHost: pbx\r\nContent-Length: -5\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n",
    b"GET /api/v1/tenants HTTP/1.1\r\nHost: pbx\r\nX-Long: " + b"A" * 20000 + b"\r\n\r\n",
])
def test_a_malformed_request_gets_the_error_envelope_without_echo(stack, request_bytes):
    with connect(stack) as sock:
        sock.sendall(request_bytes)
        status, headers, body = read_response(sock)
    assert 400 <= status < 500 and headers["content-type"].startswith("application/json")
    error = json.loads(body)["error"]
    assert error["code"] and b"script" not in body and b"AAAA" not in body and b"http at all" not in body
    assert "server" not in headers


def test_no_server_header_and_no_pydantic_internals(stack):
    tenant, api = stack.new_tenant("kobi")
    for response in (api.get("/health"), api.get(f"/tenants/{tenant['id']}"), api.get("/nothing-here"),
                     api.post(f"/tenants/{tenant['id']}/extensions", json={"number": 5})):
        assert "Server" not in response.headers, response.headers
    bad_bodies = [(f"/tenants/{tenant['id']}/numbers", {"number": "+908505550000", "destination": {"type": 1}}),
                  (f"/tenants/{tenant['id']}/extensions", {"number": "101", "name": "x", "email": "bad"}),
                  (f"/tenants/{tenant['id']}/schedules", {"name": "x", "timezone": "Europe/Istanbul",
                                                          "weekly": [{"days": ["mon"], "open": 9}]})]
    for path, body in bad_bodies:
        response = api.post(path, json=body)
        assert response.status_code == 422, response.text
        message = response.json()["error"]["message"]
        for internal in ("pydantic", "tagged-union", "function-after", "[", "errors.pydantic.dev"):
            assert internal not in message, message
    prompt = api.post(f"/tenants/{tenant['id']}/prompts", files={"file": ("a", b"RIFF")}, data={"name": "a\nb"})
    assert prompt.status_code == 422 and "pydantic" not in prompt.text
