"""Request bodies of users and sign-in (contract: "People and sign-in"). Strict, as schemas.py."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import EmailStr, Field, StringConstraints

from pbx.api.schemas import Body, ExtensionNumber, Name
from pbx.db.base import MAX_ID

Role = Literal["operator", "tenant_admin", "agent"]
TenantRole = Literal["tenant_admin", "agent"]
Email = Annotated[EmailStr, StringConstraints(max_length=254)]
# Long enough to resist guessing, short enough that hashing it costs nothing extra; any
# characters (a pass phrase in Turkish is fine): it is hashed, never shown or logged.
Password = Annotated[str, StringConstraints(min_length=10, max_length=256)]
# What a sign-in sends is checked against a hash, not against the rules of today.
GivenPassword = Annotated[str, StringConstraints(min_length=1, max_length=256)]
TenantId = Annotated[int, Field(ge=1, le=MAX_ID)]


class UserCreate(Body):
    email: Email
    name: Name
    role: Role
    tenant_id: TenantId | None = None  # a tenant's own users may leave it out
    extension: ExtensionNumber | None = None  # an agent's, and only an agent's
    password: Password


class UserPatch(Body):
    email: Email = None
    name: Name = None
    role: TenantRole = None  # within a tenant; nobody becomes or stops being an operator
    extension: ExtensionNumber = None
    password: Password = None  # a reset: the user's other sessions end


class SignIn(Body):
    email: Annotated[str, StringConstraints(min_length=1, max_length=254)]
    password: GivenPassword
