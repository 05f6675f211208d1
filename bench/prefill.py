"""Extensions written straight into a SQLite database, as the product writes them (the
extension row and its realtime rows, pbx/asterisk/endpoints.py): filling 100,000 through
the API would take most of an hour. Used by bench/registration.py --prefill and
bench/asterisk_boot.py. Every extension gets the same password (PASSWORD)."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from pbx.asterisk import endpoints

PASSWORD = "bench-password-1234"


def prefill(database: Path, tenant_ids: list[int], per_tenant: int, realm: str) -> list[str]:
    """per_tenant extensions (numbers 10000...) in each tenant; returns their SIP ids."""
    rows = [(t, str(10000 + n), f"{10000 + n}-b{t:04d}{n:05d}") for t in tenant_ids for n in range(per_tenant)]
    with sqlite3.connect(database) as db:
        db.executemany("INSERT INTO extensions (tenant_id, number, name, voicemail, record_calls, sip_username, "
                       "created_at) VALUES (?, ?, 'Bench', 0, 0, ?, '2026-12-01 00:00:00')", rows)
        db.executemany("INSERT INTO ps_auths (id, auth_type, username, realm, md5_cred) VALUES (?, 'md5', ?, ?, ?)",
                       ((s, s, realm, endpoints.md5_credential(s, realm, PASSWORD)) for _, _, s in rows))
        aor = endpoints.aor_values()
        db.executemany(f"INSERT INTO ps_aors (id, {', '.join(aor)}) VALUES (?{', ?' * len(aor)})",
                       ((s, *aor.values()) for _, _, s in rows))
        endpoint = endpoints.endpoint_values()
        db.executemany(f"INSERT INTO ps_endpoints (id, aors, auth, callerid, {', '.join(endpoint)}) "
                       f"VALUES (?, ?, ?, ?{', ?' * len(endpoint)})",
                       ((s, s, s, endpoints.callerid("Bench", n), *endpoint.values()) for _, n, s in rows))
    return [s for _, _, s in rows]


def sqlite_path(url: str) -> Path:
    return Path(url.split("///", 1)[1])
