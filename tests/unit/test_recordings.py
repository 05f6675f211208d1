"""Pure parts of call recording: dates, plan changes, the access-log chain, spool
names, the archive cipher, WAV header repair, erasure numbers."""
from __future__ import annotations

import io
import os
import struct
from datetime import datetime, timedelta, timezone

import pytest

from pbx.domain.errors import Invalid
from pbx.domain.plans import PLANS
from pbx.domain.recording import new_spool_name, parse_stem, retention_deadline
from pbx.recordings import access_log, wav
from pbx.recordings.archive import spool_files
from pbx.recordings.crypto import CHUNK, Cipher, Corrupt, load_or_create_key
from pbx.recordings.retention import expiry_after_plan_change
from pbx.recordings.service import number_variants

T0 = datetime(2026, 11, 23, 10, 0, 0, tzinfo=timezone.utc)
KOBI, ENTERPRISE, GIRISIMCI = PLANS["kobi"], PLANS["enterprise"], PLANS["girisimci"]


def test_retention_deadlines():
    assert retention_deadline(T0, KOBI) == T0 + timedelta(days=30)
    assert retention_deadline(T0, ENTERPRISE) == T0 + timedelta(days=365)
    assert retention_deadline(T0, GIRISIMCI) is None


@pytest.mark.parametrize("plan, age_days, expected_days", [
    (KOBI, 0, 30),  # enterprise -> kobi: 365 shrinks to 30 from the start
    (KOBI, 100, 30),  # already past the new retention: expires (in the past) at once
    (ENTERPRISE, 0, 365),  # unchanged
])
def test_downgrade_shortens_and_upgrade_never_lengthens(plan, age_days, expected_days):
    started = T0 - timedelta(days=age_days)
    now = T0
    current = started + timedelta(days=365)
    assert expiry_after_plan_change(started, current, plan, now) == started + timedelta(days=expected_days)
    kobi_expiry = started + timedelta(days=30)
    assert expiry_after_plan_change(started, kobi_expiry, ENTERPRISE, now) == kobi_expiry  # upgrade


def test_plan_without_recording_expires_everything_now():
    started = T0 - timedelta(days=3)
    assert expiry_after_plan_change(started, started + timedelta(days=30), GIRISIMCI, T0) == T0
    already = T0 - timedelta(days=1)
    assert expiry_after_plan_change(started, already, GIRISIMCI, T0) == already


def _entries(n: int) -> list[access_log.Entry]:
    return [access_log.Entry(7, i, f"{i:032x}", "read", "token:3", T0 + timedelta(seconds=i)) for i in range(n)]


def test_chain_links_each_entry_to_the_one_before():
    rows = access_log.chained(access_log.GENESIS, _entries(3))
    assert rows[0]["prev_hash"] == access_log.GENESIS
    assert [r["prev_hash"] for r in rows[1:]] == [r["hash"] for r in rows[:-1]]
    assert rows[1]["hash"] == access_log.chain_hash(rows[0]["hash"], _entries(3)[1])


def test_chain_hash_depends_on_every_field_and_on_the_zone_not_at_all():
    entry = _entries(1)[0]
    base = access_log.chain_hash(access_log.GENESIS, entry)
    for change in ({"actor": "token:4"}, {"action": "delete"}, {"recording_id": 99}, {"tenant_id": 8},
                   {"file_id": "f" * 32}, {"at": T0 + timedelta(microseconds=1)}):
        assert access_log.chain_hash(access_log.GENESIS, access_log.Entry(**{**entry.__dict__, **change})) != base
    local = access_log.Entry(**{**entry.__dict__, "at": T0.astimezone(timezone(timedelta(hours=3)))})
    assert access_log.chain_hash(access_log.GENESIS, local) == base


def test_stem_round_trip_and_hostile_names():
    name = new_spool_name(12, "+90 (532) 111-22-33", "101", now=T0)
    assert parse_stem(name.stem) == name
    for hostile in ("../t1_20261123T100000Z_1_2_" + "a" * 32, "t1_20261123T100000Z_1_2_" + "A" * 32,
                    name.stem + "\n", name.stem + "/x", "", "t1_x_1_2_" + "a" * 32, name.stem + ".wav"):
        assert parse_stem(hostile) is None


def test_spool_scan_ignores_everything_it_did_not_name(tmp_path):
    good = new_spool_name(1, "101", "102", now=T0)
    (tmp_path / f"{good.stem}.wav").write_bytes(b"x")
    (tmp_path / f"{good.stem}\n.wav").write_bytes(b"x")
    (tmp_path / "evil;rm -rf.wav").write_bytes(b"x")
    (tmp_path / "..wav").write_bytes(b"x")
    other = new_spool_name(1, "101", "103", now=T0)
    os.symlink("/etc/passwd", tmp_path / f"{other.stem}.wav")
    (tmp_path / f"{new_spool_name(1, '1', '2', now=T0).stem}.wav").mkdir()
    assert [f.name for f in spool_files(tmp_path)] == [good]
    assert spool_files(tmp_path / "missing") == []


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17])
def test_cipher_round_trip(size):
    cipher = Cipher(os.urandom(32))
    plain = os.urandom(size)
    sealed = io.BytesIO()
    cipher.encrypt(io.BytesIO(plain), sealed)
    assert b"".join(cipher.decrypt(io.BytesIO(sealed.getvalue()))) == plain
    assert size < 16 or plain[:16] not in sealed.getvalue()


def test_cipher_detects_tampering_truncation_and_the_wrong_key():
    cipher = Cipher(os.urandom(32))
    sealed = io.BytesIO()
    cipher.encrypt(io.BytesIO(os.urandom(2 * CHUNK + 5)), sealed)
    data = sealed.getvalue()
    flipped = bytearray(data)
    flipped[100] ^= 1
    cut_at_chunk = data[:24 + CHUNK + 16]  # whole first chunk, the rest gone
    for bad in (bytes(flipped), cut_at_chunk, data[:-1], data[:10]):
        with pytest.raises(Corrupt):
            b"".join(cipher.decrypt(io.BytesIO(bad)))
    with pytest.raises(Corrupt):
        b"".join(Cipher(os.urandom(32)).decrypt(io.BytesIO(data)))


def test_key_file_is_made_once_and_private(tmp_path):
    path = tmp_path / "recording.key"
    key = load_or_create_key(path)
    assert len(key) == 32 and load_or_create_key(path) == key
    assert path.stat().st_mode & 0o777 == 0o600


def _wav(path, data: bytes, riff: int, size: int) -> None:
    header = (b"RIFF" + struct.pack("<I", riff) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16)
              + b"data" + struct.pack("<I", size))
    path.write_bytes(header + data)


def test_wav_header_repair_from_the_file_size(tmp_path):
    import soundfile as sf

    path = tmp_path / "killed.wav"
    _wav(path, b"\x01\x00" * 8000 + b"\x07", riff=0, size=0)  # Asterisk killed: sizes never written
    assert wav.repair(str(path)) is True
    assert sf.info(str(path)).frames == 8000
    assert wav.repair(str(path)) is False  # idempotent
    header = path.read_bytes()[:44]
    assert struct.unpack_from("<I", header, 40)[0] == 16000 and struct.unpack_from("<I", header, 4)[0] == 16036
    assert wav.duration_s(header, 16000) == 1


def test_wav_repair_leaves_what_it_does_not_understand(tmp_path):
    path = tmp_path / "odd.wav"
    path.write_bytes(b"not a wav at all" * 10)
    assert wav.repair(str(path)) is False
    assert path.read_bytes() == b"not a wav at all" * 10


def test_erasure_numbers():
    assert number_variants("101") == {"101"}
    assert number_variants("0532 111 22 33") == {"+905321112233", "905321112233", "05321112233", "5321112233"}
    assert number_variants("+905321112233") == number_variants("05321112233")
    for hostile in ("", "1", "abc", "101; DROP TABLE recordings", "../../etc", "+90\n532", "١٠١"):
        with pytest.raises(Invalid):
            number_variants(hostile)


def test_only_a_recorded_calls_cdr_wakes_the_archive_sweep():
    from pbx.asterisk.recordings import recording_finished_handler

    pokes = []
    handler = recording_finished_handler(lambda: pokes.append(1))
    handler(None, {"PbxRecording": "0123456789abcdef0123456789abcdef"})
    handler(None, {"PbxRecording": ""})
    handler(None, {})
    assert pokes == [1]


@pytest.mark.parametrize("text", ["read", "token:3", 'quote " and \\ back', "Çağrı ş", "\u202e\n\t\x00", "=1+2;|,"])
def test_the_chain_serialisation_is_exactly_sorted_compact_json(text):
    entry = access_log.Entry(2**31 - 1, 0, text, text, text, T0 + timedelta(microseconds=7))
    assert access_log.canonical(entry) == access_log.canonical_reference(entry)
