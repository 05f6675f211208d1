"""Job kinds that create extensions: `extensions.import` into an existing tenant, and the
operator's `tenant.import` (the tenant first, then its extensions, in one job).

A row is checked by the API's own request model (`ExtensionCreate`, strict), then by the
extension service's admission rules (recording feature, free number, plan quota); the
same service inserts it (ExtensionService.create_many), so a row imported here and one
POSTed alone are one and the same code path."""
from __future__ import annotations

from collections import OrderedDict

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.api.schemas import ExtensionCreate
from pbx.db.models import Job, JobRow, Tenant
from pbx.db.unit import Unit
from pbx.domain.errors import Conflict, Invalid, PbxError
from pbx.jobs.sealing import Sealer
from pbx.jobs.store import RowOutcome
from pbx.services import tenants
from pbx.services.extensions import ExtensionService
from pbx.services.tokens import Principal

OPERATOR = Principal(None)
PARSED_JOBS_KEPT = 4


def row_fields(raw) -> dict:
    """The row as ExtensionService takes it; Invalid names the field that is wrong."""
    if not isinstance(raw, dict):
        raise Invalid("a row must be an object with number and name")
    try:
        return ExtensionCreate.model_validate(raw).model_dump()
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"]) or "row"
        raise Invalid(f"{where}: {error['msg']}") from exc


def parse_rows(rows: list[JobRow]) -> tuple[list[tuple[int, dict]], list[RowOutcome]]:
    """(row number, fields) of the well-formed rows; an outcome for each bad or repeated one."""
    good, bad, seen = [], [], {}
    for row in rows:
        try:
            fields = row_fields(row.input)
        except Invalid as exc:
            bad.append(RowOutcome(row.row, exc))
            continue
        if (first := seen.setdefault(fields["number"], row.row)) != row.row:
            bad.append(RowOutcome(row.row, Conflict(f"extension {fields['number']} is also on row {first}")))
            continue
        good.append((row.row, fields))
    return good, bad


class ExtensionImport:
    def __init__(self, extensions: ExtensionService, sealer: Sealer, batch_rows: int):
        self.extensions = extensions
        self.sealer = sealer
        self.batch_rows = batch_rows
        # Rows as the check parsed them, so the batches do not parse (and validate e-mail
        # addresses, the costliest part) a second time; a resumed job parses afresh.
        self._parsed: OrderedDict[int, dict[int, dict]] = OrderedDict()

    async def check(self, session: AsyncSession, job: Job, rows: list[JobRow]) -> list[RowOutcome]:
        good, bad = parse_rows(rows)
        refusals = await self.extensions.check_many(session, OPERATOR, job.tenant_id, [f for _, f in good])
        self._remember(job.id, good)
        return sorted(bad + _failures(good, refusals), key=lambda o: o.row)

    def _remember(self, job_id: int, good: list[tuple[int, dict]]) -> None:
        self._parsed[job_id] = dict(good)
        while len(self._parsed) > PARSED_JOBS_KEPT:
            self._parsed.popitem(last=False)

    def _parse(self, job_id: int, rows: list[JobRow]) -> tuple[list[tuple[int, dict]], list[RowOutcome]]:
        parsed = self._parsed.get(job_id, {})
        if not all(row.row in parsed for row in rows):
            return parse_rows(rows)
        return [(row.row, parsed.pop(row.row)) for row in rows], []

    async def prepare(self, unit: Unit, job: Job) -> None:
        pass

    async def run_batch(self, unit: Unit, job: Job, rows: list[JobRow]) -> list[RowOutcome]:
        good, outcomes = self._parse(job.id, rows)
        created = await self.extensions.create_many(unit, OPERATOR, job.tenant_id, [f for _, f in good])
        for (number, _fields), result in zip(good, created):
            if isinstance(result, PbxError):
                outcomes.append(RowOutcome(number, result))
                continue
            extension, password = result
            outcomes.append(RowOutcome(number, object_id=extension.id, sip_username=extension.sip_username,
                                       secret=self.sealer.seal(password, f"{job.id}:{number}")))
        return outcomes


class TenantImport(ExtensionImport):
    """params: {"tenant": TenantCreate fields}. The tenant is made in the first batch's unit,
    which also stores its id on the job: a replay finds it there and makes no second one.
    An atomic job whose check fails never gets that far: no tenant either."""

    accounts = None  # the billing service (pbx/app.py sets it): opens the new tenant's account

    async def check(self, session: AsyncSession, job: Job, rows: list[JobRow]) -> list[RowOutcome]:
        if job.tenant_id is not None:
            return await super().check(session, job, rows)
        good, bad = parse_rows(rows)
        fields, _terms = _tenant_and_terms(job)
        refusals = self.extensions.check_for_new_tenant(Tenant(**fields), [f for _, f in good])
        return sorted(bad + _failures(good, refusals), key=lambda o: o.row)

    async def prepare(self, unit: Unit, job: Job) -> None:
        """Also with no valid row (mode each): the tenant itself was valid."""
        if job.tenant_id is None:
            fields, terms = _tenant_and_terms(job)
            tenant = await tenants.create_tenant(unit, OPERATOR, fields)
            if self.accounts is not None:  # its billing account, as POST /tenants opens one
                await self.accounts.open_account(unit, tenant, **terms)
            job.tenant_id = tenant.id


BILLING_TERMS = ("trial", "circuit_pricing")  # TenantCreate's terms: the billing account's, not the tenant's


def _tenant_and_terms(job: Job) -> tuple[dict, dict]:
    fields = dict(job.params["tenant"])
    return fields, {name: bool(fields.pop(name, False)) for name in BILLING_TERMS}


def _failures(good: list[tuple[int, dict]], refusals: list[PbxError | None]) -> list[RowOutcome]:
    return [RowOutcome(number, error) for (number, _), error in zip(good, refusals) if error is not None]
