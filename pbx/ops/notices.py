"""Outage notices: a tenant's notice contacts, and the notices a fault's opening or
resolution owes them. Notices are rows written in the fault's own transaction (one per
contact, channel and event, unique: nobody is told twice), sent afterwards by
pbx/ops/sender.py, so a crash between the two loses none."""
from __future__ import annotations

from sqlalchemy import delete, insert, select

from pbx.db.base import utcnow
from pbx.db.models import Tenant
from pbx.db.ops_tables import Fault, FaultTenant, Notice, NoticeContact
from pbx.db.unit import Unit
from pbx.ops.deadlines import PRIORITIES
from pbx.services.tenants import visible_tenant

PRIORITY_NAMES = dict(zip(PRIORITIES, ("Kritik", "Yüksek", "Normal", "Düşük")))


def check_channels(channels: list[str], phone: str | None, email: str | None) -> None:
    """Seed 001: an IVR call only together with SMS and/or e-mail. Raises ValueError."""
    if "ivr" in channels and not {"sms", "email"} & set(channels):
        raise ValueError("ivr only together with sms or email")
    if {"sms", "ivr"} & set(channels) and not phone:
        raise ValueError("sms and ivr need a phone")
    if "email" in channels and not email:
        raise ValueError("email needs an email address")


async def replace_contacts(unit: Unit, principal, tenant_id: int, contacts: list[dict]) -> list[NoticeContact]:
    await visible_tenant(unit.session, principal, tenant_id)
    await unit.session.execute(delete(NoticeContact).where(NoticeContact.tenant_id == tenant_id))
    rows = [NoticeContact(tenant_id=tenant_id, **contact) for contact in contacts]
    unit.session.add_all(rows)
    await unit.session.flush()
    return rows


async def list_contacts(session, principal, tenant_id: int) -> list[NoticeContact]:
    await visible_tenant(session, principal, tenant_id)
    return list(await session.scalars(select(NoticeContact).where(NoticeContact.tenant_id == tenant_id)
                                      .order_by(NoticeContact.id)))


async def queue_notices(unit: Unit, fault: Fault, event: str) -> int:
    """Every affected tenant's contacts, by each channel they chose; returns how many. One
    bulk insert: a fault on the default outbound trunk owes thousands."""
    session = unit.session
    contacts = (await session.execute(
        select(NoticeContact.id, NoticeContact.tenant_id, NoticeContact.phone, NoticeContact.email,
               NoticeContact.channels)
        .join(FaultTenant, FaultTenant.tenant_id == NoticeContact.tenant_id)
        .where(FaultTenant.fault_id == fault.id))).all()
    now = utcnow()
    rows = [{"fault_id": fault.id, "event": event, "tenant_id": tenant_id, "contact_id": contact_id,
             "channel": channel, "address": email if channel == "email" else phone, "status": "pending",
             "attempts": 0, "next_attempt_at": now, "created_at": now}
            for contact_id, tenant_id, phone, email, channels in contacts for channel in channels]
    if rows:
        await session.execute(insert(Notice), rows)
    return len(rows)


def text(fault: Fault, event: str, tenant_name: str) -> tuple[str, str]:
    """(subject, body) in Turkish."""
    priority = PRIORITY_NAMES[fault.priority]
    if event == "opened":
        return (f"Arıza bildirimi #{fault.id}: {fault.title}",
                f"Sayın {tenant_name}, hizmetinizi etkileyen {priority} öncelikli bir arıza kaydı açıldı "
                f"(#{fault.id}): {fault.title}. Ekiplerimiz çalışıyor; giderildiğinde bilgilendirileceksiniz.")
    return (f"Arıza giderildi #{fault.id}: {fault.title}",
            f"Sayın {tenant_name}, #{fault.id} numaralı arıza giderildi: {fault.title}. "
            f"Sebep: {(fault.cause or '-').rstrip('.')}.")


def speech(fault: Fault, event: str) -> str:
    if event == "opened":
        return (f"Merhaba. Bu bir arıza bildirimidir. {fault.id} numaralı arıza kaydı açıldı. "
                f"{fault.title}. Ekiplerimiz sorunu gidermek için çalışıyor.")
    return f"Merhaba. {fault.id} numaralı arıza giderildi. {fault.title}. İyi günler dileriz."


async def tenant_name(session, tenant_id: int) -> str:
    tenant = await session.get(Tenant, tenant_id)
    return tenant.name if tenant else ""
