"""What an extension's registration is, from what Asterisk reports (pure: no I/O).

Asterisk's registrar raises no documented AMI event for a realtime AOR: ContactStatus and
PeerStatus are published only through the endpoint state compositors of pjsip_options.c, and
those are made only for endpoints Asterisk can list whole (at start, on reload), which
`allow_unqualified_fetch=no` rules out for extensions, qualified or not (read in
res_pjsip/pjsip_options.c and seen on Asterisk 22.10: a qualified realtime AOR is pinged, and
no ContactStatus comes). The registrar's own `TestEvent`s (State AOR_CONTACT_ADDED, _REFRESHED,
_REMOVED; Debian's build has the test framework) are raised right after the contact is written
to or removed from astdb. They only say where to look: Asterisk's contacts (PJSIPShowEndpoint
for one AOR, astdb's `registrar` family, one JSON value per contact, for all) are the truth."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone

ADDED, REFRESHED, REMOVED = "AOR_CONTACT_ADDED", "AOR_CONTACT_REFRESHED", "AOR_CONTACT_REMOVED"
REGISTRAR_STATES = (ADDED, REFRESHED, REMOVED)
_AOR = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")  # ours: <number>-<8 chars> (pbx/services/extensions.py)


@dataclass(frozen=True)
class Contact:
    uri: str
    expires_at: datetime | None
    user_agent: str | None = None
    via: str | None = None  # the address the REGISTER came from, where Asterisk kept it


@dataclass(frozen=True)
class Report:
    """One registrar TestEvent: what happened to which AOR."""
    state: str
    aor: str
    expiration_s: int | None = None


def report_of(message) -> Report | None:
    """A registrar TestEvent -> Report; None for any other TestEvent or a malformed one."""
    state, aor = message.get("State"), message.get("AOR") or ""
    if state not in REGISTRAR_STATES or not _AOR.match(aor):
        return None
    expiration = message.get("Expiration")
    return Report(state, aor, int(expiration) if str(expiration or "").isdigit() else None)


def contacts_by_aor(tree: dict[str, str], now: datetime) -> dict[str, list[Contact]]:
    """astdb's registrar family (contact/<aor>;@<hash> -> JSON) -> each AOR's live contacts.
    An expired contact is not live even before Asterisk's expiry sweep removes it: Asterisk
    no longer uses it (res_pjsip/location.c drops it when it next reads the AOR)."""
    found: dict[str, list[Contact]] = {}
    for key, value in tree.items():
        aor = key.removeprefix("contact/").split(";@", 1)[0]
        contact = _contact(value)
        if key.startswith("contact/") and contact is not None and _live(contact, now):
            found.setdefault(aor, []).append(contact)
    return found


def contacts_from_ami(found: list[dict], now: datetime) -> list[Contact]:
    """An endpoint's contacts as Ami.contacts reads them (PJSIPShowEndpoint) -> the live ones."""
    contacts = [Contact(str(c["uri"]), datetime.fromtimestamp(c["expires_at"], timezone.utc)
                        if c.get("expires_at") else None, c.get("user_agent"), c.get("via"))
                for c in found if c.get("uri")]
    return [c for c in contacts if _live(c, now)]


def _contact(value: str) -> Contact | None:
    try:
        fields = json.loads(value)
        expires = int(fields.get("expiration_time") or 0)
    except (ValueError, TypeError, AttributeError):
        return None
    if not fields.get("uri"):
        return None
    via = f"{fields['via_addr']}:{fields.get('via_port') or 0}" if fields.get("via_addr") else None
    return Contact(str(fields["uri"]), datetime.fromtimestamp(expires, timezone.utc) if expires else None,
                   fields.get("user_agent") or None, via)


def _live(contact: Contact, now: datetime) -> bool:
    return contact.expires_at is None or contact.expires_at > now


def change(was_registered: bool, live: list[Contact]) -> str | None:
    """The event a look at the AOR's contacts makes: only a change of state is one (a refresh,
    or a phone's second contact, is not)."""
    if live and not was_registered:
        return "extension.registered"
    if was_registered and not live:
        return "extension.unregistered"
    return None


def differing(live: dict[str, list[Contact]], known: set[str]) -> list[str]:
    """AORs registered in Asterisk but not in the table, or the other way round."""
    return sorted(set(live).symmetric_difference(known))


def newest(live: list[Contact]) -> Contact:
    return max(live, key=lambda c: c.expires_at or datetime.max.replace(tzinfo=timezone.utc))


def registered_data(number: str, extension_id: int, contact: Contact) -> dict:
    return {"extension": number, "extension_id": extension_id, "contact": contact.uri,
            "user_agent": contact.user_agent, "via": contact.via,
            "expires_at": contact.expires_at.isoformat().replace("+00:00", "Z") if contact.expires_at else None}


def unregistered_reason(hint: str | None, last_expires_at: datetime | None, now: datetime) -> str:
    """hint: what made us look (REMOVED: the phone unregistered; the expiry timer: expired);
    without one (a look after a reconnect), expired if its registration has run out."""
    if hint:
        return hint
    return "expired" if last_expires_at is not None and last_expires_at <= now else "unregistered"
