"""Billing: a month's invoice (JSON as the contract gives it, or the Turkish PDF by
Accept), issuing and credit notes, a tenant's commercial terms, the international rates."""
from __future__ import annotations

from typing import Annotated
from zoneinfo import available_timezones

from aiohttp import web
from pydantic import AfterValidator, EmailStr, StringConstraints

from pbx.api import responses
from pbx.api.context import BILLING, DATABASE, path_id, principal
from pbx.api.errors import json_body, json_response
from pbx.api.present import timestamp
from pbx.api.routes import Route
from pbx.api.schemas import Body, Name, changes
from pbx.billing import pdf, resellers
from pbx.billing.months import parse_month
from pbx.billing.rates import RateCsvError, parse_rates
from pbx.billing.service import present_invoice
from pbx.billing.terms import term_end
from pbx.db.billing_tables import BillingAccount
from pbx.domain.errors import Invalid, TooLarge
from pbx.services.tenants import require_operator, visible_tenant

PDF = "application/pdf"


def _month(value: str) -> str:
    parse_month(value)
    return value


def _zone(value: str) -> str:
    """An IANA zone the tenant's billing months follow (Europe/Istanbul unless set)."""
    if value not in available_timezones():
        raise ValueError("not an IANA time zone (e.g. Europe/Istanbul)")
    return value


Month = Annotated[str, StringConstraints(min_length=7, max_length=7), AfterValidator(_month)]
Amount = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,9}(\.[0-9]{1,2})?$")]


class InvoiceIssue(Body):
    month: Month


class CreditNoteCreate(Body):
    amount: Amount  # before KDV; KDV is credited with it
    reason: Name


class TermsPatch(Body):
    enterprise_monthly: Amount | None = None
    billing_email: Annotated[EmailStr, StringConstraints(max_length=254)] | None = None
    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(_zone)] = None


def query_month(request: web.Request) -> str:
    try:
        return _month(request.query.get("month", ""))
    except ValueError as exc:
        raise Invalid(str(exc)) from exc


async def get_invoice(request: web.Request) -> web.StreamResponse:
    tenant_id, month = path_id(request, "tenant_id"), query_month(request)
    async with request.app[DATABASE].read() as session:
        found = await request.app[BILLING].month(session, principal(request), tenant_id, month)
        tenant = await visible_tenant(session, principal(request), tenant_id)
        if (reseller_id := principal(request).reseller_id) is not None:  # its own price, not the customer's
            found = resellers.wholesale(found, await resellers.discount(session, reseller_id),
                                        request.app[BILLING].catalogue.kdv_rate)
    if PDF in request.headers.get("Accept", ""):
        return web.Response(body=pdf.render(found, tenant.name), content_type=PDF,
                            headers={"Content-Disposition": f'inline; filename="fatura-{tenant_id}-{month}.pdf"'})
    return json_response(found)


async def issue_invoice(request: web.Request) -> web.Response:
    tenant_id = path_id(request, "tenant_id")
    body = InvoiceIssue.model_validate(await json_body(request))
    async with request.app[DATABASE].unit() as unit:
        await request.app[BILLING].issue(unit, principal(request), tenant_id, body.month)
    async with request.app[DATABASE].read() as session:
        found = await request.app[BILLING].month(session, principal(request), tenant_id, body.month)
    return json_response(found, status=201)


async def create_credit_note(request: web.Request) -> web.Response:
    tenant_id, invoice_id = path_id(request, "tenant_id"), path_id(request, "invoice_id")
    body = CreditNoteCreate.model_validate(await json_body(request))
    async with request.app[DATABASE].unit() as unit:
        row = await request.app[BILLING].credit_note(unit, principal(request), tenant_id, invoice_id,
                                                     body.amount, body.reason)
    return json_response(present_invoice(row), status=201)


def present_terms(account: BillingAccount, commitment_months: int) -> dict:
    return {"tenant_id": account.tenant_id, "timezone": account.timezone, "circuit_pricing": account.circuit_pricing,
            "enterprise_monthly": account.enterprise_monthly, "trial_ends_at": timestamp(account.trial_ends_at),
            "trial_converted": account.trial_converted, "pending_plan": account.pending_plan,
            "billing_email": account.billing_email, "term_started_at": timestamp(account.term_started_at),
            "term_ends_at": timestamp(term_end(account.term_started_at, commitment_months)),
            "reseller_id": account.reseller_id}


async def get_terms(request: web.Request) -> web.Response:
    billing = request.app[BILLING]
    async with request.app[DATABASE].read() as session:
        tenant = await visible_tenant(session, principal(request), path_id(request, "tenant_id"))
        account = await billing.account(session, tenant)
    return json_response(present_terms(account, billing.catalogue.commitment_months))


async def patch_terms(request: web.Request) -> web.Response:
    billing, tenant_id = request.app[BILLING], path_id(request, "tenant_id")
    body = TermsPatch.model_validate(await json_body(request))
    async with request.app[DATABASE].unit() as unit:
        tenant = await visible_tenant(unit.session, principal(request), tenant_id)
        require_operator(principal(request))
        account = await billing.account(unit.session, tenant)
        for name, value in changes(body).items():
            setattr(account, name, value)
        unit.session.add(account)
    return json_response(present_terms(account, billing.catalogue.commitment_months))


async def put_rates(request: web.Request) -> web.Response:
    require_operator(principal(request))
    if request.content_type not in ("text/csv", "text/plain"):
        raise Invalid("send the rates as text/csv")
    try:
        data = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise TooLarge("the rate file is at most 1 MiB") from exc
    try:
        rates = parse_rates(data)
    except RateCsvError as exc:
        raise Invalid(str(exc)) from exc
    async with request.app[DATABASE].unit() as unit:
        loaded = await request.app[BILLING].replace_rates(unit, principal(request), rates)
    return json_response({"loaded": loaded})


async def list_rates(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        rates = await request.app[BILLING].rates(session)
    return json_response({"items": [{"prefix": r.prefix, "destination": r.destination,
                                     "per_minute": str(r.per_minute)} for r in rates]})


RATES_BODY = {"text/csv": {"schema": {"type": "string", "description":
                                      "header prefix,destination,per_minute; UTF-8; at most 20,000 rows, 1 MiB"}}}
BASE = "/tenants/{tenant_id}"
ROUTES = [
    Route("GET", BASE + "/invoices", get_invoice, "The month's invoice (issued, or the draft so far); "
          "Accept: application/pdf for the Turkish PDF", query=("month",), response=responses.INVOICE,
          also_produces=(PDF,)),
    Route("POST", BASE + "/invoices", issue_invoice, "Issue a finished month's invoice (then immutable)",
          body=InvoiceIssue, status=201, operator_only=True, response=responses.INVOICE),
    Route("POST", BASE + "/invoices/{invoice_id}/credit-notes", create_credit_note,
          "Correct an issued invoice with a credit note", body=CreditNoteCreate, status=201, operator_only=True,
          response=responses.CREDIT_NOTE),
    Route("GET", BASE + "/billing", get_terms, "The tenant's commercial terms", response=responses.BILLING_TERMS),
    Route("PATCH", BASE + "/billing", patch_terms, "Set an Enterprise tenant's agreed monthly price or where reminders go",
          body=TermsPatch, operator_only=True, response=responses.BILLING_TERMS),
    Route("PUT", "/billing/international-rates", put_rates, "Replace the international per-minute rates (CSV)",
          operator_only=True, raw_body=RATES_BODY, response=responses.RATES_LOADED),
    Route("GET", "/billing/international-rates", list_rates, "International per-minute rates by E.164 prefix",
          response=responses.items(responses.RATE)),
]
