"""Response shapes and JSON Schemas of users and sessions."""
from __future__ import annotations

from pbx.api.present import timestamp
from pbx.api.responses import INT, STR, TIME, nullable, obj
from pbx.db.user_tables import User, WebSession
from pbx.services.tokens import Principal

ROLE = {"type": "string", "enum": ["operator", "tenant_admin", "agent"]}
USER = obj(id=INT, email=STR, name=STR, role=ROLE, tenant_id=nullable(INT), extension=nullable(STR),
           extension_id=nullable(INT), created_at=TIME, password_changed_at=TIME)
SESSION = obj(via={"type": "string", "enum": ["session", "token"]}, user=nullable(USER),
              role={"type": "string", "enum": ["operator", "tenant_admin", "agent", "tenant"]},
              tenant_id=nullable(INT), extension=nullable(STR), extension_id=nullable(INT),
              csrf_token=nullable(STR), expires_at=nullable(TIME))


def user(row: User, extension: str | None) -> dict:
    return {"id": row.id, "email": row.email, "name": row.name, "role": row.role, "tenant_id": row.tenant_id,
            "extension": extension, "extension_id": row.extension_id if extension else None,
            "created_at": timestamp(row.created_at), "password_changed_at": timestamp(row.password_changed_at)}


def session(principal: Principal, row: User | None, web_session: WebSession | None, csrf: str | None) -> dict:
    """Who is asking: a signed-in user, or a token (role "tenant" for a tenant's token)."""
    role = principal.role or ("operator" if principal.is_operator else "tenant")
    return {"via": "session" if web_session else "token", "user": user(row, principal.extension) if row else None,
            "role": role, "tenant_id": principal.tenant_id, "extension": principal.extension,
            "extension_id": principal.extension_id, "csrf_token": csrf,
            "expires_at": timestamp(web_session.expires_at) if web_session else None}
