"""IVR menus: what a key (or no key) leads to. Pure."""
from __future__ import annotations

from dataclasses import dataclass

from pbx.routing.decision import Decision

INVALID_KEY_SOUND = "option-is-invalid"
GOODBYE_SOUND = "vm-goodbye"


@dataclass(frozen=True)
class Menu:
    ivr_id: int
    tenant_id: int
    greeting: str  # playback path of the greeting prompt
    timeout_seconds: int
    max_attempts: int
    options: dict  # DTMF key -> parsed destination
    timeout_destination: object | None


def enter(menu: Menu, attempt: int = 1, notice: str = "") -> Decision:
    return Decision("ivr", tenant_id=menu.tenant_id, playback=menu.greeting, ivr_id=menu.ivr_id,
                    attempt=attempt, timeout_s=menu.timeout_seconds, notice=notice)


def choose(menu: Menu, key: str, attempt: int):
    """The destination a key leads to; or a Decision when it leads back to the menu or out."""
    if key and key in menu.options:
        return menu.options[key]
    if attempt < menu.max_attempts:
        return enter(menu, attempt + 1, notice=INVALID_KEY_SOUND if key else "")
    if menu.timeout_destination is not None:
        return menu.timeout_destination
    return Decision("hangup", tenant_id=menu.tenant_id, notice=GOODBYE_SOUND)
