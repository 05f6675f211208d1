"""IVR prompts through the API and into a real call."""
from __future__ import annotations

import io
import struct
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.support.audio import dominant_frequency, rms_dbfs

pytestmark = [pytest.mark.asterisk]


def tone(seconds: float = 2.0, rate: int = 44100, freq: float = 1000.0, channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    mono = 0.4 * np.sin(2 * np.pi * freq * t)
    return np.column_stack([mono] * channels) if channels > 1 else mono


def encode(fmt: str, seconds: float = 2.0, rate: int = 44100, subtype: str | None = None, **kw) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, tone(seconds, rate, **kw), rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


def upload(api, tenant_id: int, data: bytes, name: str = "Karşılama", filename: str = "prompt.mp3",
           content_type: str = "application/octet-stream"):
    return api.post(f"/tenants/{tenant_id}/prompts", files={"file": (filename, data, content_type)},
                    data={"name": name})


def tenant_files(stack, tenant_id: int) -> list[Path]:
    folder = stack.settings.audio_dir / str(tenant_id)
    return sorted(folder.iterdir()) if folder.exists() else []


def incoming_files(stack) -> list[Path]:
    folder = stack.settings.audio_dir / ".incoming"
    return list(folder.iterdir()) if folder.exists() else []


def test_upload_list_listen_delete(stack):
    tenant, api = stack.new_tenant("kobi")
    created = upload(api, tenant["id"], encode("MP3"))
    assert created.status_code == 201, created.text
    prompt = created.json()
    assert prompt["name"] == "Karşılama" and prompt["source_format"] == "mp3"
    assert abs(prompt["duration_ms"] - 2000) <= 60
    assert api.ok("GET", f"/tenants/{tenant['id']}/prompts")["items"] == [prompt]
    audio = api.get(f"/tenants/{tenant['id']}/prompts/{prompt['id']}/audio")
    assert audio.status_code == 200 and audio.headers["Content-Type"] == "audio/wav"
    info = sf.info(io.BytesIO(audio.content))
    assert (info.samplerate, info.channels, info.subtype) == (8000, 1, "PCM_16")
    wide = api.get(f"/tenants/{tenant['id']}/prompts/{prompt['id']}/audio?rate=16000")
    assert sf.info(io.BytesIO(wide.content)).samplerate == 16000
    assert len(tenant_files(stack, tenant["id"])) == 2
    api.ok("DELETE", f"/tenants/{tenant['id']}/prompts/{prompt['id']}", status=204)
    assert tenant_files(stack, tenant["id"]) == []
    assert api.get(f"/tenants/{tenant['id']}/prompts/{prompt['id']}").status_code == 404


def lying_wav() -> bytes:
    data = encode("WAV", seconds=0.5, subtype="PCM_16")
    return data[:40] + struct.pack("<I", 50_000_000) + data[44:]


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("prompt.mp3", encode("MP3"))
    return buffer.getvalue()


PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x00" * 40
BAD_FILES = {
    "empty": (b"", 415),
    "truncated mp3": (encode("MP3")[:300], 415),
    "the first third of an mp3": (encode("MP3")[:len(encode("MP3")) // 3], 415),
    "random bytes named .mp3": (np.random.default_rng(1).bytes(50_000), 415),
    "wav header lying about its length": (lying_wav(), 415),
    "zip": (zip_bytes(), 415),
    "png": (PNG, 415),
    "ogg is not accepted": (encode("OGG", subtype="VORBIS"), 415),
}


@pytest.mark.parametrize("label", list(BAD_FILES))
def test_bad_files_are_rejected_and_leave_nothing(stack, label):
    data, status = BAD_FILES[label]
    tenant, api = stack.new_tenant("kobi")
    response = upload(api, tenant["id"], data, filename="x.mp3", content_type="audio/mpeg")
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == {413: "too_large", 415: "unsupported_media"}[status]
    assert api.ok("GET", f"/tenants/{tenant['id']}/prompts")["items"] == []
    assert tenant_files(stack, tenant["id"]) == [] and incoming_files(stack) == []


def test_too_large_and_too_long(stack):
    tenant, api = stack.new_tenant("kobi")
    huge = b"\xff\xfb\x90\x00" + b"\x00" * (stack.settings.prompt_max_bytes + 10)
    response = upload(api, tenant["id"], huge)
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"
    long_wav = encode("WAV", seconds=stack.settings.prompt_max_seconds + 5, rate=8000, subtype="PCM_U8")
    response = upload(api, tenant["id"], long_wav)
    assert response.status_code == 413
    assert tenant_files(stack, tenant["id"]) == [] and incoming_files(stack) == []


@pytest.mark.parametrize("filename", ["../../etc/passwd", "a\x00b.mp3", "a\nb.mp3", "..", "x;rm -rf.mp3"])
def test_client_file_names_never_reach_the_disk(stack, filename):
    tenant, api = stack.new_tenant("kobi")
    response = upload(api, tenant["id"], encode("WAV", subtype="PCM_16"), filename=filename)
    if "\x00" in filename:  # a NUL in a part's header makes the body malformed
        assert response.status_code == 422 and tenant_files(stack, tenant["id"]) == []
        return
    assert response.status_code == 201, response.text
    assert response.json()["source_format"] == "wav"  # from the content, not the name
    names = [p.name for p in tenant_files(stack, tenant["id"])]
    assert len(names) == 2 and all(n.replace(".wav16", "").replace(".wav", "").isalnum() for n in names)


def test_bad_form_fields(stack):
    tenant, api = stack.new_tenant("kobi")
    path = f"/tenants/{tenant['id']}/prompts"
    wav = encode("WAV", subtype="PCM_16")
    assert api.post(path, files={"file": ("a.wav", wav)}).status_code == 422  # no name
    assert api.post(path, data={"name": "x"}).status_code in (415, 422)  # no file
    for name in ("a\nb", "", "x" * 101, "a\x00b"):
        assert api.post(path, files={"file": ("a.wav", wav)}, data={"name": name}).status_code == 422
    assert api.post(path, json={"name": "x"}).status_code == 415
    assert api.ok("GET", path)["items"] == []


def test_fifty_concurrent_uploads(stack):
    tenant, api = stack.new_tenant("kobi")
    data = encode("MP3", seconds=1.0)
    with ThreadPoolExecutor(16) as pool:
        responses = list(pool.map(lambda i: upload(api.as_token(api.token), tenant["id"], data, name=f"p{i}"),
                                  range(50)))
    assert [r.status_code for r in responses] == [201] * 50
    items = api.ok("GET", f"/tenants/{tenant['id']}/prompts")["items"]
    assert sorted(p["name"] for p in items) == sorted(f"p{i}" for i in range(50))
    assert len(tenant_files(stack, tenant["id"])) == 100


def test_prompts_are_tenant_scoped(stack):
    tenant, api = stack.new_tenant("kobi")
    prompt = upload(api, tenant["id"], encode("MP3")).json()
    other, intruder = stack.new_tenant("enterprise")
    base = f"/tenants/{tenant['id']}/prompts"
    for method, path in (("GET", base), ("GET", f"{base}/{prompt['id']}"), ("GET", f"{base}/{prompt['id']}/audio"),
                         ("DELETE", f"{base}/{prompt['id']}")):
        assert intruder.request(method, path).status_code == 404, (method, path)
    assert intruder.get(f"/tenants/{other['id']}/prompts/{prompt['id']}/audio").status_code == 404
    assert upload(intruder, tenant["id"], encode("MP3")).status_code == 404
    assert len(api.ok("GET", base)["items"]) == 1


def test_a_prompt_in_use_cannot_be_deleted(stack):
    tenant, api = stack.new_tenant("kobi")
    prompt = upload(api, tenant["id"], encode("MP3")).json()
    number = stack.operator.ok("POST", f"/tenants/{tenant['id']}/numbers", {
        "number": "+908505550999", "destination": {"type": "announcement", "prompt_id": prompt["id"]}})
    refused = api.delete(f"/tenants/{tenant['id']}/prompts/{prompt['id']}")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "conflict"
    api.ok("DELETE", f"/tenants/{tenant['id']}/numbers/{number['id']}", status=204)
    api.ok("DELETE", f"/tenants/{tenant['id']}/prompts/{prompt['id']}", status=204)


@pytest.mark.phone
def test_a_caller_hears_the_uploaded_prompt(stack, phones, tmp_path):
    tenant, api = stack.new_tenant("kobi")
    prompt = upload(api, tenant["id"], encode("MP3", seconds=3.0, freq=1000.0)).json()
    stack.operator.ok("POST", f"/tenants/{tenant['id']}/numbers",
                      {"number": "0850 555 09 98", "destination": {"type": "announcement", "prompt_id": prompt["id"]}})
    ext = api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "101", "name": "A"})
    phone = phones.add_phone(ext["sip"]["username"], ext["sip"]["password"], port=stack.sip_port)
    try:
        assert phone.wait_registered() == 200
        call = phone.call("08505550998")
        call.wait_confirmed(timeout=10)
        heard = str(tmp_path / "heard.wav")
        call.start_recording(heard)
        call.wait_disconnected(timeout=15)  # the announcement destination hangs up after the prompt
        call.stop_recording()
        assert rms_dbfs(heard) > -30
        assert abs(dominant_frequency(heard, skip_seconds=0.5) - 1000.0) < 20
    finally:
        phone.remove()


def test_deleting_a_tenant_removes_its_prompts(stack, operator):
    tenant, api = stack.new_tenant("kobi")
    upload(api, tenant["id"], encode("MP3"))
    assert tenant_files(stack, tenant["id"])
    operator.ok("DELETE", f"/tenants/{tenant['id']}", status=204)
    assert not (stack.settings.audio_dir / str(tenant["id"])).exists()
